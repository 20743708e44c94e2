/**
 * Start-up failures reach the operator as one line on stderr and exit code 1, never as a stack trace:
 * what failed, on which address or path, and what to do about it.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Node's system error shape (`code`, `syscall`, `path`, `address`, `port`). */
interface SystemError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
}

/** Plain words for the errno codes a start-up meets; the code itself stays in the line for searching. */
const ERRNO_WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a path component is not a directory',
  EEXIST: 'already exists',
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  EIO: 'input/output error',
};

/** The errno words for `err`, e.g. "permission denied (EACCES)"; the error's message when it has no code. */
export function errnoText(err: unknown): string {
  const e = err as SystemError;
  if (typeof e?.code === 'string' && ERRNO_WORDS[e.code] !== undefined) return `${ERRNO_WORDS[e.code]} (${e.code})`;
  return oneLine(e instanceof Error ? e.message : String(err));
}

/**
 * Wraps an error raised while opening the data directory's files (LMDB, commit log, hints): LMDB's
 * map-full and disk errors and a log it cannot read become one sentence that names the directory.
 */
export function storageOpenError(dir: string, err: unknown): StartupError {
  if (err instanceof StartupError) return err;
  const text = err instanceof Error ? err.message : String(err);
  if (/MDB_MAP_FULL|MAP_FULL/i.test(text)) {
    return new StartupError(`cannot open the store in ${dir}: the LMDB map is full (MDB_MAP_FULL); free disk space or move the data to a larger volume`);
  }
  const e = err as SystemError;
  const where = e?.path !== undefined ? ` (${e.path})` : '';
  return new StartupError(`cannot open the store in ${dir}${where}: ${errnoText(err)}`);
}

/** The line printed for any error that ends start-up. */
export function startupMessage(err: unknown): string {
  if (err instanceof StartupError) return err.message;
  const e = err as SystemError;
  if (e?.syscall === 'listen' || e?.syscall === 'bind') {
    return `cannot listen on ${e.address ?? '?'}:${e.port ?? '?'}: ${errnoText(err)}`;
  }
  if (typeof e?.code === 'string' && e.path !== undefined) return `${e.syscall ?? 'open'} ${e.path}: ${errnoText(err)}`;
  return oneLine(e instanceof Error ? e.message : String(err));
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}

/** A command line the CLI cannot run (an unknown option, a missing value): printed with a hint at --help. */
export class UsageError extends Error {
  /** `command`: the command whose --help to point at, e.g. 'status' or 'cluster start'. */
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}
