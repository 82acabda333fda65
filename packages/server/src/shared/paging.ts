import { DEFAULT_PAGE_SIZE, type Page, type SortOrder } from '@kaguan/contracts'

export type { Page, SortOrder } from '@kaguan/contracts'

/** A list request after defaults: which page, how big, ordered by which field. */
export interface PageRequest<S extends string = string> {
  page: number
  pageSize: number
  sort: S
  order: SortOrder
}

/** The request a list query names, with the list's own default order where it names none. */
export function pageRequest<S extends string>(
  query: { page?: number; pageSize?: number; sort?: S; order?: SortOrder },
  defaults: { sort: S; order: SortOrder },
): PageRequest<S> {
  return {
    page: query.page ?? 1,
    pageSize: query.pageSize ?? DEFAULT_PAGE_SIZE,
    sort: query.sort ?? defaults.sort,
    order: query.order ?? defaults.order,
  }
}

/** Rows to skip for the page. */
export function offsetOf(request: PageRequest): number {
  return (request.page - 1) * request.pageSize
}

export function pageOf<T>(items: T[], total: number, request: PageRequest): Page<T> {
  return { items, total, page: request.page, pageSize: request.pageSize }
}

// Chinese names sort by pinyin, as a person scanning a list of shops expects.
const collator = new Intl.Collator('zh-CN', { numeric: true })

/**
 * Sorts and cuts a list already in memory. For the configuration lists only (merchants, shops,
 * templates, images, links, components, accounts): a merchant has tens of them, so one query and
 * a sort here beat a count and an offset query; lists that grow with members use SQL paging.
 */
export function pageInMemory<T, S extends string>(
  all: readonly T[],
  request: PageRequest<S>,
  keys: Record<S, (item: T) => string | number | boolean | null>,
): Page<T> {
  const key = keys[request.sort]
  const sign = request.order === 'asc' ? 1 : -1
  const sorted = [...all].sort((a, b) => {
    const x = key(a)
    const y = key(b)
    if (x === y) {
      return 0
    }
    // Missing values last whichever the order, so "no Alipay shop id" rows do not lead the page.
    if (x === null) {
      return 1
    }
    if (y === null) {
      return -1
    }
    const c =
      typeof x === 'string' && typeof y === 'string' ? collator.compare(x, y) : x < y ? -1 : 1
    return sign * c
  })
  const start = offsetOf(request)
  return pageOf(sorted.slice(start, start + request.pageSize), all.length, request)
}
