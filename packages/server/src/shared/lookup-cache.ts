/**
 * A process-local cache for the few rows every signed CRM call reads (the template by its Alipay
 * id, the merchant's CRM key and replay rule): issue 12, lever 2.
 *
 * Consistency: the owning module drops everything on each write it makes (`invalidate`), so this
 * process sees its own changes at once; another process sharing the database (several kaguan on
 * one PostgreSQL) sees them within `ttlMs`. Only found rows are kept, never "not found": a row
 * created elsewhere is seen on the next call. Entries are per database handle, so two databases
 * in one process (the tests) never see each other's rows; a transaction handle is not cached.
 * A read racing a write of this process (the load began after `invalidate`, before the write
 * committed) can keep the old row, again for at most `ttlMs`.
 */
export class LookupCache<V> {
  private byDb = new WeakMap<object, Map<string, { value: V; until: number }>>()

  private readonly ttlMs: number
  /** Bounded: a burst of calls naming many templates must not grow memory. */
  private readonly maxEntries: number

  constructor(ttlMs: number, maxEntries = 1000) {
    this.ttlMs = ttlMs
    this.maxEntries = maxEntries
  }

  async get(db: object, key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    let entries = this.byDb.get(db)
    if (!entries) {
      entries = new Map()
      this.byDb.set(db, entries)
    }
    const now = Date.now()
    const hit = entries.get(key)
    if (hit && hit.until > now) {
      return hit.value
    }
    const value = await load()
    if (value !== undefined) {
      // `entries` is the map of before the load: after an invalidate it is no longer reachable.
      if (entries.size >= this.maxEntries) {
        entries.delete(entries.keys().next().value!)
      }
      entries.set(key, { value, until: now + this.ttlMs })
    } else {
      entries.delete(key)
    }
    return value
  }

  /** Forgets every entry of every database (writes are rare; the next reads fill it again). */
  invalidate(): void {
    this.byDb = new WeakMap()
  }
}
