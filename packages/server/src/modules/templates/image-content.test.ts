import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { cleanImage, safeImageName } from './image-content.js'

const pixels = (format: 'png' | 'jpeg' | 'gif') =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: '#c00' } })
    .toFormat(format)
    .toBuffer()

describe('image content', () => {
  it('keeps a real image, re-encoded in its own format', async () => {
    const png = await pixels('png')
    const cleaned = await cleanImage('png', png)
    expect((await sharp(cleaned).metadata()).format).toBe('png')
    expect((await sharp(await cleanImage('jpg', await pixels('jpeg'))).metadata()).format).toBe(
      'jpeg',
    )
  })

  it('strips a script carried after the pixels of a GIF', async () => {
    const payload = Buffer.from('<script>alert(document.cookie)</script>')
    const gif = Buffer.concat([await pixels('gif'), payload])
    const cleaned = await cleanImage('gif', gif)
    expect(cleaned.includes(payload)).toBe(false)
    expect((await sharp(cleaned).metadata()).format).toBe('gif')
  })

  it('refuses bytes that only start like an image, naming the field', async () => {
    const fake = Buffer.concat([Buffer.from('GIF89a'), Buffer.from('<script>x</script>')])
    await expect(cleanImage('gif', fake)).rejects.toMatchObject({
      code: 'IMAGE_INVALID',
      details: { fields: [{ field: 'contentBase64' }] },
    })
  })

  it('refuses an image of another type than declared, and BMP', async () => {
    await expect(cleanImage('png', await pixels('jpeg'))).rejects.toThrow(/is jpeg/)
    await expect(cleanImage('bmp', Buffer.from('BM....'))).rejects.toMatchObject({
      details: { fields: [{ field: 'type' }] },
    })
  })

  it('keeps only a safe file name', () => {
    expect(safeImageName('../../etc/passwd.png', 'png')).toBe('passwd.png')
    expect(safeImageName('..\\..\\logo.png', 'png')).toBe('logo.png')
    expect(safeImageName('会员卡 logo<img onerror=x>.png', 'png')).toBe(
      '会员卡 logoimg onerrorx.png',
    )
    expect(safeImageName('\u0000\u001b[31m', 'gif')).toBe('31m')
    expect(safeImageName('..', 'jpg')).toBe('image.jpg')
  })
})
