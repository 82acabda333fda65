import { describe, expect, it } from 'vitest'
import { cssColour, toCardPreview, type PreviewContext } from './card-preview.js'
import { newDraft } from './template-draft.js'

const ctx: PreviewContext = {
  imageUrl: (id) => ({ img_logo: 'http://x/logo.png', img_bg: 'http://x/bg.png' })[id],
  shopName: (id) => ({ shop_1: '西湖店' })[id],
  sampleCardNo: '8888 0000 0001',
  placeholder: '—',
}

describe('toCardPreview', () => {
  it('shows what a new member sees: opening points, level name and balance in the cells', () => {
    const draft = {
      ...newDraft(),
      basic: {
        name: '会员卡',
        validity: { type: 'permanent' as const },
        shopIds: ['shop_1', 'gone'],
      },
      columns: [
        { kind: 'point' as const, title: '积分' },
        { kind: 'level' as const, title: '等级' },
        { kind: 'balance' as const, title: '余额' },
        { kind: 'text' as const, title: '会员日', value: '每周三' },
        { kind: 'link' as const, title: '权益', url: 'https://x' },
      ],
      levels: [
        { code: 'SILVER', name: '银卡' },
        { code: 'GOLD', name: '金卡' },
      ],
      defaults: { point: 10, level: 'GOLD', balance: '5.00' },
    }
    const p = toCardPreview(draft, ctx)
    expect(p.title).toBe('会员卡')
    expect(p.cells).toEqual([
      { title: '积分', value: '10', link: false },
      { title: '等级', value: '金卡', link: false },
      { title: '余额', value: '¥5.00', link: false },
      { title: '会员日', value: '每周三', link: false },
      { title: '权益', value: '›', link: true },
    ])
    expect(p.shopNames).toEqual(['西湖店'])
  })

  it('uses the wallet name over the card name, and the images and colours of the style', () => {
    const draft = newDraft()
    draft.basic.name = '内部名'
    draft.style = {
      displayName: '钱包里的名字',
      logoImageId: 'img_logo',
      backgroundImageId: 'img_bg',
      fontColor: '#000000',
      backgroundColor: 'rgb(10, 20, 30)',
      code: { type: 'dynamicBarcode', refreshSeconds: 90 },
    }
    const p = toCardPreview(draft, ctx)
    expect(p.title).toBe('钱包里的名字')
    expect(p.logoUrl).toBe('http://x/logo.png')
    expect(p.backgroundUrl).toBe('http://x/bg.png')
    expect(p.fontColor).toBe('#000000')
    expect(p.backgroundColor).toBe('rgb(10, 20, 30)')
    expect(p.code).toEqual({ kind: 'barcode', dynamic: true, refreshSeconds: 90 })
  })

  it('copes with a half-filled draft: placeholders, first level, default colours, no code', () => {
    const p = toCardPreview(
      {
        style: { fontColor: '#12', code: { type: 'none' } },
        columns: [{ kind: 'level', title: '' }],
        levels: [{ code: 'A', name: '普通' }],
        actions: [{ code: 'x', text: '', target: { kind: 'url', url: 'u' }, showInCardBag: true }],
      },
      ctx,
    )
    expect(p.title).toBe('—')
    expect(p.fontColor).toBe('#ffffff')
    expect(p.cells).toEqual([{ title: '—', value: '普通', link: false }])
    expect(p.code.kind).toBe('none')
    expect(p.actions).toEqual([])
    expect(p.validity).toEqual({ kind: 'permanent' })
  })

  it('lists actions with whether the card list shows them, and the validity', () => {
    const draft = newDraft()
    draft.basic.validity = { type: 'afterClaim', days: 365 }
    draft.actions = [
      {
        code: 'shop',
        text: '去商城',
        target: { kind: 'url', url: 'https://x' },
        showInCardBag: true,
      },
      {
        code: 'mp',
        text: '小程序',
        target: { kind: 'miniProgram', appId: '2021000000000001' },
        showInCardBag: false,
      },
    ]
    const p = toCardPreview(draft, ctx)
    expect(p.actions).toEqual([
      { text: '去商城', inCardBag: true },
      { text: '小程序', inCardBag: false },
    ])
    expect(p.validity).toEqual({ kind: 'afterClaim', days: 365 })
  })
})

describe('cssColour', () => {
  it('accepts what the API accepts and falls back on anything else', () => {
    expect(cssColour('#abc', 'x')).toBe('#abc')
    expect(cssColour('#A1B2C3', 'x')).toBe('#A1B2C3')
    expect(cssColour('rgb(1,2,3)', 'x')).toBe('rgb(1,2,3)')
    expect(cssColour('red', 'x')).toBe('x')
    expect(cssColour(undefined, 'x')).toBe('x')
  })
})
