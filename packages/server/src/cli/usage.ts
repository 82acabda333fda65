/** Wrong use of the command line: printed with the help text, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}
