import type { Selectable } from 'kysely'

export interface CardTemplatesTable {
  id: string
  merchant_id: string
  /** The draft staff edit (TemplateSpec JSON). */
  spec_json: string
  /** Bumped on every draft save. */
  revision: number
  /** The spec as last published to Alipay. */
  published_json: string | null
  published_revision: number | null
  alipay_template_id: string | null
  /** Hash of the form last sent with formtemplate.set. */
  form_hash: string | null
  published_at: string | null
  /** Who holds the publish lease (a random token) and until when: one publish at a time. */
  publish_lease_by: string | null
  publish_lease_until: string | null
  created_at: string
  updated_at: string
}
export type CardTemplateRow = Selectable<CardTemplatesTable>

export interface ImagesTable {
  id: string
  merchant_id: string
  name: string
  sha256: string
  alipay_image_id: string
  url: string
  created_at: string
}
export type ImageRow = Selectable<ImagesTable>

export interface ClaimLinksTable {
  id: string
  merchant_id: string
  template_id: string
  out_string: string | null
  url: string
  created_at: string
}
export type ClaimLinkRow = Selectable<ClaimLinksTable>

export interface CardComponentsTable {
  id: string
  merchant_id: string
  template_id: string
  name: string
  out_string: string | null
  created_at: string
  updated_at: string
}
export type CardComponentRow = Selectable<CardComponentsTable>
