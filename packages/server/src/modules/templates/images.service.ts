import { createHash } from 'node:crypto'
import type { AppDeps } from '../../deps.js'
import { recordAudit } from '../audit/index.js'
import { alipayContext, explainAlipayError } from '../merchants/index.js'
import { cleanImage, safeImageName, type ImageType } from './image-content.js'
import * as repo from './templates.repository.js'
import { type Actor, type TemplatesDeps } from './templates.service.js'
import type { ImageRow } from './templates.table.js'

export interface Image {
  id: string
  name: string
  alipayImageId: string
  url: string
  createdAt: string
}

const toImage = (r: ImageRow): Image => ({
  id: r.id,
  name: r.name,
  alipayImageId: r.alipay_image_id,
  url: r.url,
  createdAt: r.created_at,
})

/**
 * Uploads an image to Alipay (`alipay.offline.material.image.upload`) and remembers its Alipay id.
 * The same bytes uploaded twice reuse the first upload.
 */
export async function uploadImage(
  deps: TemplatesDeps & Pick<AppDeps, 'db'>,
  merchantId: string,
  input: { name: string; type: ImageType; content: Buffer },
  actor: Actor,
): Promise<Image> {
  const { db } = deps
  const content = await cleanImage(input.type, input.content)
  const name = safeImageName(input.name, input.type)
  const sha256 = createHash('sha256').update(content).digest('hex')
  const existing = await repo.findImageBySha(db, merchantId, sha256)
  if (existing) {
    return toImage(existing)
  }
  const ctx = await alipayContext(deps, merchantId)
  let uploaded
  try {
    uploaded = await ctx.client.uploadImage(
      { image_type: input.type, image_name: name, content },
      { appAuthToken: ctx.appAuthToken },
    )
  } catch (error) {
    throw explainAlipayError(error, 'image.upload')
  }
  const row: ImageRow = {
    id: deps.ids.next('img'),
    merchant_id: merchantId,
    name,
    sha256,
    alipay_image_id: uploaded.image_id,
    url: uploaded.image_url,
    created_at: deps.clock.nowIso(),
  }
  await repo.insertImage(db, row)
  await recordAudit(deps, {
    merchantId,
    ...actor,
    action: 'image.upload',
    target: { type: 'image', id: row.id },
    after: { name: row.name, alipayImageId: row.alipay_image_id },
  })
  return toImage(row)
}

export async function listImages(deps: Pick<AppDeps, 'db'>, merchantId: string): Promise<Image[]> {
  const { db } = deps
  return (await repo.listImages(db, merchantId)).map(toImage)
}
