import { EXPIRES_AT_MAX, type Entry, type Keyspace } from '../commands/keyspace.js';
import { ValueType, type HashValue, type StoredRecord } from '../storage/types.js';
import { liveEntry, watchVersion } from '../server/local-keyspace.js';

export interface PendingWrite {
  key: Buffer;
  type: ValueType;
  value: Buffer | HashValue;
  expiresAt: number;
}

const NO_VERSION = Buffer.alloc(16);
const EMPTY = Buffer.alloc(0);

/**
 * The keyspace a coordinated command runs against: records fetched from a read quorum, with the
 * command's own writes layered on top and collected for replication. A key that was not fetched is
 * a bug in key extraction, and fails loudly rather than reading as missing.
 */
export class OverlayKeyspace implements Keyspace {
  readonly writes = new Map<string, PendingWrite>();
  /** Writes made so far, counting each one (a run tells which of its commands wrote). */
  writeCount = 0;

  constructor(
    private readonly fetched: ReadonlyMap<string, StoredRecord | undefined>,
    readonly now: number,
  ) {}

  get(key: Buffer): Entry | undefined {
    const id = key.toString('latin1');
    const w = this.writes.get(id);
    if (w) {
      // A write in this run with an expiry already past (SET … EXAT in the past) is gone at once.
      if (w.type === ValueType.Tombstone || (w.expiresAt > 0 && w.expiresAt <= this.now)) return undefined;
      return { type: w.type as ValueType.String | ValueType.Hash, value: w.value, expiresAt: w.expiresAt, version: NO_VERSION };
    }
    if (!this.fetched.has(id)) throw new Error(`key was not fetched before the command ran: ${id.slice(0, 64)}`);
    return liveEntry(this.fetched.get(id), this.now);
  }

  version(key: Buffer): Buffer | undefined {
    const id = key.toString('latin1');
    if (this.writes.has(id)) return NO_VERSION;
    if (!this.fetched.has(id)) throw new Error(`key was not fetched before the command ran: ${id.slice(0, 64)}`);
    return watchVersion(this.fetched.get(id), this.now);
  }

  set(key: Buffer, type: ValueType.String | ValueType.Hash, value: Buffer | HashValue, expiresAt: number): void {
    this.writes.set(key.toString('latin1'), { key, type, value, expiresAt: Math.min(expiresAt, EXPIRES_AT_MAX) });
    this.writeCount++;
  }

  /**
   * Writes a tombstone even when the quorum read found nothing: a write that failed its quorum may
   * still sit on a replica outside that read, and only a newer tombstone keeps it from coming back.
   * The reply still says whether a live key was seen.
   */
  del(key: Buffer): boolean {
    const existed = this.get(key) !== undefined;
    this.writes.set(key.toString('latin1'), { key, type: ValueType.Tombstone, value: EMPTY, expiresAt: 0 });
    this.writeCount++;
    return existed;
  }
}
