import { keySlot } from '../cluster/slot.js';
import { EXPIRES_AT_MAX, type Entry, type KeyType, type Keyspace } from '../commands/keyspace.js';
import { scanInChunks, type ElementStore, type ScanHints } from '../collections/element-store.js';
import type { WindowEntry } from '../storage/range-windows.js';
import { recordKey } from '../collections/record-keys.js';
import { decodeMeta } from '../collections/meta-codec.js';
import { streamWatchVersion } from '../collections/stream-codec.js';
import type { Store } from '../storage/store.js';
import type { RemovedRecord } from '../storage/removed-records.js';
import { StringForm, TOMBSTONE_OF_NOTHING, ValueType, type ClockEntry, type StoredRecord } from '../storage/types.js';
import type { ServerStats } from './stats.js';
import type { Versioner } from './versioner.js';

const EMPTY = Buffer.alloc(0);
/**
 * Writes made here never race another coordinator (standalone mode; cluster writes are stamped by
 * the coordinator), so they carry no vector clock and skip the lookup that advancing one needs.
 */
const NO_CLOCK: ClockEntry[] = [];
const GENERATION_BYTES = 8;

/** A live view of a stored record: missing when absent, a tombstone, or past its expiry. */
export function liveEntry(rec: StoredRecord | undefined, now: number): Entry | undefined {
  if (rec === undefined || rec.type === ValueType.Tombstone) return undefined;
  if (rec.expiresAt !== 0 && rec.expiresAt <= now) return undefined;
  return rec as Entry;
}

/**
 * What WATCH compares: the version of a live value or of a deletion; nothing for a key never
 * written. A value past its expiry answers its version marked as expired, unlike any live one, as
 * Redis 7 tells them apart: a key already expired when watched holds while it stays so or is
 * removed (WATCH records it as deleted), a key watched live that expired since breaks the watch,
 * and so does a new value written already past its expiry (SET … EXAT in the past), which Redis
 * counts as a write to the key.
 */
export function watchVersion(rec: StoredRecord | undefined, now: number): Buffer | undefined {
  if (rec === undefined) return undefined;
  return watchVersionOf(rec, rec.type !== ValueType.Tombstone && rec.expiresAt !== 0 && rec.expiresAt <= now);
}

/**
 * WATCH's version of a key whose record is gone (store.removed): a value removed locally (expired,
 * evicted) reads as expired, so a key removed between WATCH and EXEC breaks the watch unless it
 * was already expired when watched, as Redis marks a key it removes touched; a purged tombstone
 * reads as the deletion it was.
 */
export function removedWatchVersion(rec: RemovedRecord | undefined): Buffer | undefined {
  return rec === undefined ? undefined : watchVersionOf(rec, true);
}

/**
 * What WATCH compares for a key whose record (if any) is `rec`: the removed record's version
 * when the key reads as never touched (no record, or the deletion of nothing) and the node
 * removed or deleted it recently.
 */
export function watchVersionHere(rec: StoredRecord | undefined, now: number, removed: () => RemovedRecord | undefined): Buffer | undefined {
  const v = watchVersion(rec, now);
  return v !== undefined ? v : removedWatchVersion(removed());
}

function watchVersionOf(rec: Pick<StoredRecord, 'version' | 'type' | 'expiresAt'> & { value?: unknown }, gone: boolean): Buffer | undefined {
  if (rec.type === ValueType.Tombstone) return rec.expiresAt === TOMBSTONE_OF_NOTHING ? undefined : rec.version;
  const version = rec.type === ValueType.Stream && Buffer.isBuffer(rec.value) ? streamWatchVersion(decodeMeta(rec.value), rec.expiresAt) : rec.version;
  return gone ? expiredWatchVersion(version) : version;
}

/** One byte more than any version: the same version seen past its expiry compares unequal to it live. */
function expiredWatchVersion(version: Buffer): Buffer {
  const marked = Buffer.allocUnsafe(version.length + 1);
  version.copy(marked);
  marked[version.length] = 0xff;
  return marked;
}

/** The live value of an element record, if any. */
export function liveElement(rec: StoredRecord | undefined): Buffer | undefined {
  return rec !== undefined && rec.type === ValueType.Element ? (rec.value as Buffer) : undefined;
}

/** The keyspace backed by this node's own store: standalone mode. */
const VALUES_ONLY = { valuesOnly: true } as const;
const VALUES_ONLY_ONCE = { valuesOnly: true, once: true } as const;

export class LocalKeyspace implements Keyspace, ElementStore {
  now = Date.now();
  readonly elements: ElementStore = this;
  /** Told each key a lookup found past its TTL and removed (keyspace `expired` events). */
  onLazyExpire: ((key: Buffer) => void) | undefined = undefined;

  /** CLIENT PAUSE is in force: expired keys are not removed (node.ts sets it). */
  expiryPaused: () => boolean = () => false;

  constructor(
    private readonly store: Store,
    private readonly versioner: Versioner,
    private readonly stats: ServerStats,
  ) {}

  get(key: Buffer): Entry | undefined {
    const slot = keySlot(key);
    const rk = recordKey(key);
    const rec = this.store.get(slot, rk);
    if (rec === undefined || rec.type === ValueType.Tombstone) return undefined;
    if (rec.expiresAt !== 0 && rec.expiresAt <= this.now) {
      // While CLIENT PAUSE holds writes the key reads as gone but stays, as in Redis: nothing
      // changes the data set (or notifies) until the pause ends.
      if (this.expiryPaused()) return undefined;
      // Lazy expiry: every replica holds the same absolute expiry, so dropping locally is safe.
      this.store.drop(slot, rk);
      this.stats.expiredKeys++;
      this.onLazyExpire?.(key);
      return undefined;
    }
    return rec as Entry;
  }

  peek(key: Buffer): Entry | undefined {
    const rec = this.store.get(keySlot(key), recordKey(key));
    return rec === undefined || rec.type === ValueType.Tombstone ? undefined : (rec as Entry);
  }

  set(key: Buffer, type: KeyType, value: Buffer, expiresAt: number, form?: StringForm): void {
    expiresAt = Math.min(expiresAt, EXPIRES_AT_MAX);
    const rec: StoredRecord = { version: this.stamp(), clock: NO_CLOCK, type, expiresAt, value };
    if (type === ValueType.String && form !== undefined && form !== StringForm.Compact) rec.form = form;
    this.store.put(keySlot(key), recordKey(key), rec);
  }

  version(key: Buffer): Buffer | undefined {
    const slot = keySlot(key);
    const rk = recordKey(key);
    return watchVersionHere(this.store.get(slot, rk), this.now, () => this.store.removed(slot, rk));
  }

  del(key: Buffer): boolean {
    if (this.get(key) === undefined) return false;
    this.store.put(keySlot(key), recordKey(key), { version: this.stamp(), clock: NO_CLOCK, type: ValueType.Tombstone, expiresAt: 0, value: EMPTY });
    return true;
  }

  /** Runs `fn` (one command) so that its writes are logged as one entry: Store.atomically. */
  atomically<T>(fn: () => T): T {
    return this.store.atomically(fn);
  }

  /** Keeps a command's log entries held across event-loop turns until released (Store.hold). */
  hold(): () => void {
    return this.store.hold();
  }

  newGeneration(): Buffer {
    return Buffer.from(this.stamp().subarray(0, GENERATION_BYTES));
  }

  getElement(slot: number, rk: Buffer): Buffer | undefined {
    return liveElement(this.store.get(slot, rk));
  }

  putElement(slot: number, rk: Buffer, value: Buffer): void {
    this.store.put(slot, rk, { version: this.stamp(), clock: NO_CLOCK, type: ValueType.Element, expiresAt: 0, value });
  }

  deleteElement(slot: number, rk: Buffer): void {
    this.store.put(slot, rk, { version: this.stamp(), clock: NO_CLOCK, type: ValueType.Tombstone, expiresAt: 0, value: EMPTY });
  }

  /** In chunks (scanInChunks), each served from what the store holds in memory when it can. */
  scanElements(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (rk: Buffer, value: Buffer) => boolean, hints?: ScanHints): void {
    const options = hints?.once === true ? VALUES_ONLY_ONCE : VALUES_ONLY;
    scanInChunks((lo, hi, n) => this.store.readElements(slot, lo, hi, reverse, n, options), start, end, reverse, visit, hints);
  }

  smallRange(slot: number, start: Buffer, end: Buffer): readonly WindowEntry[] | undefined {
    return this.store.smallRange(slot, start, end);
  }

  private stamp(): Buffer {
    return this.versioner.hlc.now(this.now);
  }
}
