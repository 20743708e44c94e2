import { osErrorText } from '../core/os-error-text.js';
import type { Store } from '../storage/store.js';

type PersistenceState = Pick<Store, 'logFailure' | 'lmdbFailure'>;

/**
 * The MISCONF error writes (and PING) are refused with while the node cannot persist, as Redis
 * refuses them, or undefined. The commit log is the AOF: its failure gets Redis's AOF text. A
 * checkpoint that cannot write LMDB is the RDB save of Redis's `stop-writes-on-bgsave-error yes`:
 * the log still holds every acknowledged write, but it would grow without bound, so writes stop
 * until a checkpoint succeeds; the text names the checkpoint and the cause instead of Redis's long
 * one about RDB snapshots, which speaks of an option ringkv does not have.
 */
export function persistenceRefusal(store: PersistenceState): string | undefined {
  const log = store.logFailure;
  if (log !== null) return `MISCONF Errors writing to the AOF file: ${osErrorText(log)}`;
  const lmdb = store.lmdbFailure;
  if (lmdb !== null) {
    return `MISCONF Errors writing a checkpoint to disk: ${osErrorText(lmdb)}. Commands that may modify the data set are disabled until a checkpoint succeeds.`;
  }
  return undefined;
}

/** INFO persistence's aof_last_write_status and rdb_last_bgsave_status: `ok` or `err`. */
export function persistenceStatus(store: PersistenceState): { aof: 'ok' | 'err'; checkpoint: 'ok' | 'err' } {
  return { aof: store.logFailure === null ? 'ok' : 'err', checkpoint: store.lmdbFailure === null ? 'ok' : 'err' };
}
