import type { Compilable, CompiledQuery, QueryResult } from 'kysely'
import type { Executor } from './db.js'

/** One compiled text and where each of its parameters comes from. */
interface Compiled {
  query: CompiledQuery
  /** Per parameter: the name of a value, or a constant the builder put there itself. */
  slots: ({ name: string } | { constant: unknown })[]
}

/**
 * A statement that Kysely builds and compiles once per database and shape, then runs with new
 * values: for the statements every CRM update and every push runs, where building and compiling
 * the query (30-90 µs each, issue 12) costs more than SQLite executing it.
 *
 * `build` is an ordinary Kysely query over `values` (strings, numbers, null: what a parameter
 * holds). It is run once with a marker in place of each value, and each marker must come out as one
 * parameter of the SQL; the values of later runs take the markers' places. So the SQL must not depend on the values themselves: what changes the text
 * (which optional columns are set, `for update` or not) is either the presence of a value (absent
 * values give another shape, compiled separately) or the `shape` argument. A value the builder
 * transforms or combines (a list for `in`, a string it concatenates) cannot be a marker: that is
 * refused when the statement is first compiled.
 */
export function prepared<V extends object, R, S extends string = string>(
  build: (db: Executor, values: V, shape: S) => Compilable<R>,
): (db: Executor, values: V, shape?: S) => Promise<QueryResult<R>> {
  // Keyed by the database's dialect adapter: the same for a Kysely instance and its transactions.
  const byDatabase = new WeakMap<object, Map<string, Compiled>>()
  return async (db, values, shape = '' as S) => {
    const named = values as Record<string, unknown>
    const names = Object.keys(named).filter((name) => named[name] !== undefined)
    const key = `${shape}|${names.join(',')}`
    const adapter = db.getExecutor().adapter
    let compiledByShape = byDatabase.get(adapter)
    if (!compiledByShape) {
      compiledByShape = new Map()
      byDatabase.set(adapter, compiledByShape)
    }
    let compiled = compiledByShape.get(key)
    if (!compiled) {
      compiled = compile(build, db, names, shape)
      compiledByShape.set(key, compiled)
    }
    const parameters = compiled.slots.map((slot) =>
      'name' in slot ? named[slot.name] : slot.constant,
    )
    return db.executeQuery<R>({ ...compiled.query, parameters })
  }
}

function compile<V extends object, R, S extends string>(
  build: (db: Executor, values: V, shape: S) => Compilable<R>,
  db: Executor,
  names: string[],
  shape: S,
): Compiled {
  const marker = (name: string) => `\u0000prepared:${name}\u0000`
  const markers = Object.fromEntries(names.map((name) => [name, marker(name)])) as unknown as V
  const query = build(db, markers, shape).compile()
  const byMarker = new Map(names.map((name) => [marker(name), name]))
  const seen = new Set<string>()
  const slots = query.parameters.map((parameter) => {
    const name = typeof parameter === 'string' ? byMarker.get(parameter) : undefined
    if (name !== undefined) {
      seen.add(name)
      return { name }
    }
    if (typeof parameter === 'string' && parameter.includes('\u0000prepared:')) {
      throw new Error(`prepared statement: a value was transformed by the builder: ${query.sql}`)
    }
    return { constant: parameter }
  })
  const unused = names.filter((name) => !seen.has(name))
  if (unused.length) {
    throw new Error(`prepared statement: ${unused.join(', ')} not a parameter of: ${query.sql}`)
  }
  return { query, slots }
}
