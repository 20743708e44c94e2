import { DISK_FULL_BYTES, freeBytes, spaceAware } from './lmdb-failures.js';
import type { StoreLogger } from './store-logger.js';

/**
 * Whether LMDB can be written: the last checkpoint (or FLUSHALL's clear of LMDB) failed, until a
 * later one succeeds. The node refuses writes with MISCONF meanwhile, as Redis does after a failed
 * background save, and the store retries once a checkpoint interval. One log line when an episode
 * starts and one when it ends; the failed retries between are only counted.
 */
export class LmdbHealth {
  private error: Error | null = null;
  private since = 0;

  constructor(
    /** The data directory, whose filesystem tells a full disk from other failures. */
    private readonly dir: string,
    private readonly logger: StoreLogger,
    private readonly retryMs: number,
  ) {}

  /** Why LMDB cannot be written, or null. */
  get failure(): Error | null {
    return this.error;
  }

  /** Records a failed write of LMDB; returns its cause, a full disk named as such (ENOSPC). */
  async failed(err: unknown, what: string, entries?: number): Promise<Error> {
    const cause = await spaceAware(err instanceof Error ? err : new Error(String(err)), this.dir);
    if (this.error === null) {
      this.since = Date.now();
      const code = (cause as NodeJS.ErrnoException).code;
      this.logger.error(
        { err: cause.message, code, entries, retryMs: this.retryMs },
        `store: ${what}; writes are refused until a checkpoint succeeds (retried every interval)`,
      );
    }
    this.error = cause;
    return cause;
  }

  /** A write of LMDB succeeded. */
  recovered(): void {
    if (this.error === null) return;
    this.logger.info({ failedMs: Date.now() - this.since, err: this.error.message }, 'store: checkpoint succeeded again; writes accepted');
    this.error = null;
  }

  /**
   * False while failing on a disk with less than DISK_FULL_BYTES free: a retry there would only
   * fail again, after writing what it could, and lmdb-js prints every failed commit to stderr.
   */
  async worthRetrying(): Promise<boolean> {
    if (this.error === null) return true;
    const free = await freeBytes(this.dir);
    return free === undefined || free >= DISK_FULL_BYTES;
  }
}
