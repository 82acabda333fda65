import { basename } from 'node:path'
import sharp from 'sharp'
import { invalidFields } from '../../shared/errors.js'

export type ImageType = 'jpg' | 'jpeg' | 'png' | 'gif' | 'bmp'

const MAX_BYTES = 3 * 1024 * 1024
// Alipay shows card images at most ~1,000 px wide; a larger pixel count is a decompression bomb.
const MAX_PIXELS = 25_000_000
const FORMAT_OF: Record<Exclude<ImageType, 'bmp'>, 'jpeg' | 'png' | 'gif'> = {
  jpg: 'jpeg',
  jpeg: 'jpeg',
  png: 'png',
  gif: 'gif',
}

const refuse = (message: string, field = 'contentBase64') =>
  invalidFields('IMAGE_INVALID', [{ field, message }])

/**
 * Decodes the image with libvips (sharp) and encodes it again, so what reaches Alipay is pixels
 * only: a file that merely starts like an image, or carries a script or metadata (EXIF location)
 * after its pixels, is refused or stripped. BMP is refused: libvips does not read it.
 */
export async function cleanImage(type: ImageType, content: Buffer): Promise<Buffer> {
  if (content.length > MAX_BYTES) {
    throw refuse('is larger than 3 MB')
  }
  if (type === 'bmp') {
    throw refuse('BMP is not accepted: save the image as PNG or JPG', 'type')
  }
  const format = FORMAT_OF[type]
  const input = sharp(content, {
    limitInputPixels: MAX_PIXELS,
    animated: format === 'gif',
    failOn: 'error',
  })
  let actual: string | undefined
  try {
    actual = (await input.metadata()).format
  } catch {
    throw refuse(`is not a ${type} image (it cannot be decoded)`)
  }
  if (actual !== format) {
    throw refuse(`is not a ${type} image (it is ${actual ?? 'not an image'})`)
  }
  try {
    const encoded =
      format === 'jpeg' ? input.jpeg({ quality: 92 }) : format === 'png' ? input.png() : input.gif()
    return await encoded.toBuffer()
  } catch {
    throw refuse(`is not a ${type} image (its pixels cannot be decoded)`)
  }
}

/**
 * The name kept for an uploaded image: the last path segment, letters, digits, CJK, `.`, `-`, `_`
 * and spaces only, so a name like `../../x` or one with control characters never reaches a log,
 * a page or Alipay as given.
 */
export function safeImageName(name: string, type: ImageType): string {
  const last = basename(name.replace(/\\/g, '/'))
  const kept = last
    .replace(/[^\p{L}\p{N}._\- ]/gu, '')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 64)
  return kept || `image.${type}`
}
