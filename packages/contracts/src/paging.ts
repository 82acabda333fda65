import { Type, type Static, type TSchema } from '@sinclair/typebox'

/** The largest page a list answers; a console table never shows more at once. */
export const MAX_PAGE_SIZE = 200
export const DEFAULT_PAGE_SIZE = 20

export const SortOrder = Type.Union([Type.Literal('asc'), Type.Literal('desc')])
export type SortOrder = Static<typeof SortOrder>

/**
 * The query of a paged list: `page` from 1, `pageSize` up to {@link MAX_PAGE_SIZE}, `sort` one of
 * the list's sortable fields, `order` asc or desc. Lists add their own filters beside these.
 */
export function PageQuery<S extends string>(sortFields: readonly [S, ...S[]]) {
  return {
    page: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Page number, from 1 (default 1)' }),
    ),
    pageSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_PAGE_SIZE,
        description: `Items per page (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE})`,
      }),
    ),
    sort: Type.Optional(
      Type.Union(
        sortFields.map((f) => Type.Literal(f)),
        { description: `Sort field: ${sortFields.join(', ')} (default ${sortFields[0]})` },
      ),
    ),
    order: Type.Optional(SortOrder),
  }
}

/** A page of a list: the items of the page and the total the filters match. */
export function Paged<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    total: Type.Integer({ minimum: 0, description: 'Items matching the filters, on every page' }),
    page: Type.Integer({ minimum: 1 }),
    pageSize: Type.Integer({ minimum: 1 }),
  })
}

/** The static type of a page of `T`. */
export interface Page<T> {
  items: T[]
  total: number
  page: number
  pageSize: number
}
