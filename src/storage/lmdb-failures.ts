import fs from 'node:fs';
import os from 'node:os';

/**
 * How lmdb-js reports a write transaction that failed to commit, and how to hear it without a
 * rejection going unhandled (Node ends the process on one).
 *
 * Every write promise of the failed transaction rejects with `Commit failed (see commitError for
 * details)`, and the cause (an Error whose `code` is the errno as a number) arrives in a second
 * promise, `err.commitError`, which lmdb-js rejects right after without handling it. Writes queued
 * inside a batch return a shared promise that may reject too. So: every promise a write returns is
 * handled (QueuedWrites for the many inside a batch), and whoever handles the batch's own promise
 * takes the cause out of commitError (commitCause).
 *
 * LMDB gives a short write (a full disk) as EIO, not ENOSPC, so the cause is checked against the
 * free space of the filesystem (diskFull) before it is reported.
 */

const ERRNO_NAMES = new Map<number, string>(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));
/** How long to wait for commitError once a write's promise rejected (both are rejected at once). */
const CAUSE_WAIT_MS = 1000;
/** Below this many free bytes a failed LMDB write is taken for a full disk. */
export const DISK_FULL_BYTES = 1 << 20;

const ignore = (): void => undefined;

/**
 * Marks as handled the promises of writes whose failure something else reports (the batch they are
 * queued in, or a wait for `flushed` after them). lmdb-js hands most of them the same promise, so
 * only a new one costs a handler.
 */
export class QueuedWrites {
  private last: Promise<unknown> | undefined;

  add(p: Promise<unknown>): void {
    if (p === this.last) return;
    this.last = p;
    p.then(ignore, ignore);
  }
}

/**
 * The error that made an lmdb-js commit fail, with `code` as Node names errnos ('EIO', 'ENOSPC'),
 * for the rejection `err` of one of its writes. Handles commitError, so nothing is left unhandled.
 */
export async function commitCause(err: unknown): Promise<Error> {
  const detail = (err as { commitError?: unknown } | null)?.commitError;
  if (!(detail instanceof Promise)) return withErrnoName(err);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<unknown>((resolve) => (timer = setTimeout(() => resolve(err), CAUSE_WAIT_MS)));
  const cause = await Promise.race([detail.then(() => err, (e: unknown) => e), late]);
  clearTimeout(timer);
  return withErrnoName(cause);
}

/** Awaits an lmdb-js write; a failure rejects with its cause (commitCause). */
export function lmdbWrite<T>(p: Promise<T>): Promise<T> {
  return p.then(undefined, async (err: unknown) => {
    throw await commitCause(err);
  });
}

/**
 * `err`, reported as ENOSPC ("No space left on device") when the filesystem holding `dir` has less
 * than DISK_FULL_BYTES free: LMDB turns the short write of a full disk into EIO.
 */
export async function spaceAware(err: Error, dir: string): Promise<Error> {
  if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return err;
  const free = await freeBytes(dir);
  if (free === undefined || free >= DISK_FULL_BYTES) return err;
  const full: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device (${err.message}; ${free} bytes free)`);
  full.code = 'ENOSPC';
  return full;
}

/** Bytes an unprivileged writer may still use on the filesystem holding `dir`, if known. */
export async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await fs.promises.statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

function withErrnoName(e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') {
    const name = ERRNO_NAMES.get(code);
    if (name !== undefined) (err as NodeJS.ErrnoException).code = name;
  }
  return err;
}
