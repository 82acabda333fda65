/** One page of a list endpoint: `?page=&pageSize=&sort=&order=` → `{ items, total, page, pageSize }`. */
export interface Page<T> {
  items: T[]
  total: number
  page: number
  pageSize: number
}

export interface PageQuery {
  page: number
  pageSize: number
  sort?: string
  order?: 'asc' | 'desc'
}

/**
 * Reads a list answer as a page. Endpoints that do not page yet answer a bare array (or
 * `{ items }`); those are shown as a single page holding everything.
 */
export function asPage<T>(answer: unknown, query: PageQuery): Page<T> {
  if (Array.isArray(answer)) {
    return {
      items: answer as T[],
      total: answer.length,
      page: 1,
      pageSize: Math.max(query.pageSize, answer.length),
    }
  }
  const a = (answer ?? {}) as Partial<Page<T>>
  const items = Array.isArray(a.items) ? a.items : []
  return {
    items,
    total: typeof a.total === 'number' ? a.total : items.length,
    page: typeof a.page === 'number' ? a.page : query.page,
    pageSize: typeof a.pageSize === 'number' ? a.pageSize : query.pageSize,
  }
}

/** The search term as the older member search takes it too: a mobile, an Alipay user id, or a card number. */
export function memberSearchParams(q: string): Record<string, string> {
  const term = q.trim()
  if (!term) {
    return {}
  }
  if (/^1\d{10}$/.test(term)) {
    return { q: term, mobile: term }
  }
  if (/^2088\d{12}$/.test(term)) {
    return { q: term, alipayUserId: term }
  }
  return { q: term, bizCardNo: term }
}

/**
 * Every item of a short list (shops, templates, images, claim links): one page of the largest
 * size the API answers, which these lists do not reach in practice.
 */
export async function listAll<T>(
  get: (path: string) => Promise<unknown>,
  path: string,
): Promise<T[]> {
  const query = { page: 1, pageSize: 200 }
  const sep = path.includes('?') ? '&' : '?'
  return asPage<T>(await get(`${path}${sep}page=1&pageSize=200`), query).items
}
