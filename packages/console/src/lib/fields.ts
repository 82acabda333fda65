import type { FieldProblem } from '../api/client.js'

/** A form field's name as Ant Design's Form takes it: `['levels', 0, 'code']`. */
export type FieldPath = (string | number)[]

const CONTEXTS = new Set(['body', 'querystring', 'params', 'spec'])

/**
 * Turns a field the API blamed (`body.spec.levels.0.code`, `actions[1].text`) into the path of the
 * form field that holds it: the request context and the `spec` wrapper dropped, indexes numbers.
 */
export function formFieldPath(apiField: string): FieldPath {
  const parts = apiField
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean)
  while (parts.length > 1 && CONTEXTS.has(parts[0]!)) {
    parts.shift()
  }
  return parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p))
}

/**
 * The problems to mark on a form, each at the deepest path the form knows (`known` says which
 * exist): `levels.0.code` falls back to `levels` when the form has no such field. Problems no
 * field of the form holds are returned in `unplaced` for the message at the top.
 */
export function placeProblems(
  problems: readonly FieldProblem[],
  known: (path: FieldPath) => boolean,
): { placed: { name: FieldPath; errors: string[] }[]; unplaced: FieldProblem[] } {
  const byPath = new Map<string, { name: FieldPath; errors: string[] }>()
  const unplaced: FieldProblem[] = []
  for (const problem of problems) {
    let path = formFieldPath(problem.field)
    while (path.length > 0 && !known(path)) {
      path = path.slice(0, -1)
    }
    if (path.length === 0) {
      unplaced.push(problem)
      continue
    }
    const key = JSON.stringify(path)
    const entry = byPath.get(key) ?? { name: path, errors: [] }
    entry.errors.push(problem.message)
    byPath.set(key, entry)
  }
  return { placed: [...byPath.values()], unplaced }
}
