import { unlink, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';

/** A written pid file, removed when the node stops (a no-op when none was written). */
export interface PidFile {
  remove(): Promise<void>;
}

/**
 * Writes this process's id to `path` (`pidfile`; empty = none). As in Redis, a file that cannot be
 * written is a warning, not a reason to stop serving.
 */
export async function writePidFile(path: string, logger: Logger): Promise<PidFile> {
  if (path === '') return { remove: async () => undefined };
  try {
    await writeFile(path, `${process.pid}\n`);
  } catch (err) {
    logger.warn({ pidfile: path, err: (err as Error).message }, 'Failed to write PID file');
    return { remove: async () => undefined };
  }
  return { remove: () => unlink(path).catch(() => undefined) };
}
