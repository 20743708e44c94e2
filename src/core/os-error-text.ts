/**
 * The C library's text for a failed system call (strerror), which Redis puts in its MISCONF and
 * persistence errors; Node's own message ("EIO: i/o error, fdatasync") otherwise.
 */
const STRERROR: Readonly<Record<string, string>> = {
  EIO: 'Input/output error',
  ENOSPC: 'No space left on device',
  EDQUOT: 'Disk quota exceeded',
  EROFS: 'Read-only file system',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EBADF: 'Bad file descriptor',
  ENOENT: 'No such file or directory',
  EFBIG: 'File too large',
};

export function osErrorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined ? STRERROR[code] : undefined) ?? err.message;
}
