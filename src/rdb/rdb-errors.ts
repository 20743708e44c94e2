/** A DUMP payload (or one of its parts) that does not follow the RDB format: RESTORE answers "Bad data format". */
export class RdbFormatError extends Error {}

export function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new RdbFormatError(what);
}

/** A read past the end of the bytes a reader was given (`buf`): the value may go on in what a streaming reader has not read yet. */
export class RdbTruncatedError extends RdbFormatError {
  constructor(what: string, readonly buf: Buffer) {
    super(what);
  }
}
