/** A DUMP payload (or one of its parts) that does not follow the RDB format: RESTORE answers "Bad data format". */
export class RdbFormatError extends Error {}

export function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new RdbFormatError(what);
}
