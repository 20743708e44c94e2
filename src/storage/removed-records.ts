import { TOMBSTONE_OF_NOTHING, ValueType, type StoredRecord } from './types.js';

/** What is kept of a key record that is gone: enough for WATCH to tell it from absence. */
export interface RemovedRecord {
  version: Buffer;
  type: number;
  expiresAt: number;
  /** A stream's metadata (WATCH compares a stream's content, not its record version). */
  value?: Buffer;
}

/** Keys remembered; the oldest are forgotten first. */
const REMOVED_RECORDS_MAX = 8192;

/**
 * The last record of each recently removed key record: removed locally (active or lazy expiry,
 * eviction, a tombstone's purge) or deleted (a tombstone, which standalone mode drops at the next
 * checkpoint). WATCH compares versions, where Redis marks a watched key touched; a record that
 * left no trace would let a key written and then expired or purged between WATCH and EXEC read as
 * never touched (a key set already past its expiry is gone at the next active-expiry tick). Only
 * consulted for a key that is absent now: a newer record, while there, is what WATCH reads, and
 * its own removal replaces the entry (newest version wins). Bounded: a key forgotten reads as
 * absent, as every key did before.
 */
export class RemovedRecords {
  private readonly byId = new Map<string, RemovedRecord>();

  constructor(private readonly max = REMOVED_RECORDS_MAX) {}

  get size(): number {
    return this.byId.size;
  }

  /**
   * Notes `rec` as the key's last record, unless a newer one is noted already. The deletion of
   * nothing is not noted: it changes nothing a WATCH sees, so it must not hide the removal before it.
   */
  note(id: string, rec: StoredRecord): void {
    if (rec.type === ValueType.Tombstone && rec.expiresAt === TOMBSTONE_OF_NOTHING) return;
    const had = this.byId.get(id);
    if (had !== undefined) {
      if (Buffer.compare(had.version, rec.version) >= 0) return;
      // Re-inserted: the map's order is the order of removal.
      this.byId.delete(id);
    } else if (this.byId.size >= this.max) {
      this.byId.delete(this.byId.keys().next().value!);
    }
    // Copies: a record read from the memtable views bytes of a chunk this must not keep alive.
    const kept: RemovedRecord = { version: Buffer.from(rec.version), type: rec.type, expiresAt: rec.expiresAt };
    if (rec.type === ValueType.Stream && Buffer.isBuffer(rec.value)) kept.value = Buffer.from(rec.value);
    this.byId.set(id, kept);
  }

  get(id: string): RemovedRecord | undefined {
    return this.byId.get(id);
  }

  clear(): void {
    this.byId.clear();
  }
}
