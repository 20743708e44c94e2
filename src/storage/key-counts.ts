import { isInternalStorageKey, SLOT_COUNT } from './key-layout.js';
import type { LmdbTables } from './lmdb-tables.js';
import { ValueType, type StoredRecord } from './types.js';
import { recordBytes, storedRecordBytes } from './data-size.js';

/** Index keys start with an 8-byte time (key-layout.ts indexKey). */
const TIME_BYTES = 8;

/**
 * Exact live-key and TTL-key counts, total and per slot, for DBSIZE, INFO keyspace and
 * CLUSTER COUNTKEYSINSLOT. Maintained on every change from the record being replaced, so they
 * never need a scan after start-up. "Live" means present and not a tombstone; records past
 * their expiry still count until reaped, as in Redis.
 */
export class KeyCounts {
  keys = 0;
  expires = 0;
  readonly slotKeys = new Int32Array(SLOT_COUNT);
  readonly slotExpires = new Int32Array(SLOT_COUNT);
  /**
   * Logical bytes of every record held (data-size.ts), total and per slot: the node's used memory
   * for maxmemory. Element records count; tombstones count only where they are kept (cluster mode:
   * `countTombstones`), since standalone ones vanish at the next checkpoint.
   */
  bytes = 0;
  readonly slotBytes = new Float64Array(SLOT_COUNT);

  constructor(private readonly countTombstones = false) {}

  /** Accounts for `previous` (what was visible) being replaced by `next` in `slot`. */
  change(slot: number, previous: StoredRecord | undefined, next: StoredRecord | undefined, keyBytes = 0): void {
    const d = this.sizeOf(keyBytes, next) - this.sizeOf(keyBytes, previous);
    if (d !== 0) {
      this.bytes += d;
      this.slotBytes[slot]! += d;
    }
    // Elements of a collection are not keys: their collection's metadata record is.
    if (previous?.type === ValueType.Element || next?.type === ValueType.Element) return;
    const wasLive = previous !== undefined && previous.type !== ValueType.Tombstone;
    const isLive = next !== undefined && next.type !== ValueType.Tombstone;
    if (wasLive !== isLive) {
      const d = isLive ? 1 : -1;
      this.keys += d;
      this.slotKeys[slot]! += d;
    }
    const hadTtl = wasLive && previous.expiresAt > 0;
    const hasTtl = isLive && next.expiresAt > 0;
    if (hadTtl !== hasTtl) {
      const d = hasTtl ? 1 : -1;
      this.expires += d;
      this.slotExpires[slot]! += d;
    }
  }

  private sizeOf(keyBytes: number, rec: StoredRecord | undefined): number {
    if (rec === undefined || (rec.type === ValueType.Tombstone && !this.countTombstones)) return 0;
    return recordBytes(keyBytes, rec);
  }

  reset(): void {
    this.bytes = 0;
    this.slotBytes.fill(0);
    this.keys = 0;
    this.expires = 0;
    this.slotKeys.fill(0);
    this.slotExpires.fill(0);
  }

  /**
   * Counts what LMDB holds from keys alone (no value decoding): every data key minus the
   * tombstones (each stored tombstone has exactly one tombstone-index entry, written in the same
   * transaction), and one expiry-index entry per live record with a TTL.
   */
  loadFrom(tables: LmdbTables): void {
    this.reset();
    for (const sk of tables.data.getKeys({ snapshot: false })) {
      if (isInternalStorageKey(sk)) continue;
      this.slotKeys[sk.readUInt16BE(0)]!++;
      this.keys++;
    }
    for (const ik of tables.tombstones.getKeys({ snapshot: false })) {
      if (isInternalStorageKey(ik.subarray(TIME_BYTES))) continue;
      this.slotKeys[ik.readUInt16BE(8)]!--;
      this.keys--;
    }
    for (const ik of tables.expiry.getKeys({ snapshot: false })) {
      this.slotExpires[ik.readUInt16BE(8)]!++;
      this.expires++;
    }
    // Sizes need the values' lengths (not their contents): one pass over LMDB at start-up. LMDB
    // holds tombstones only where they are kept, so every entry counts.
    for (const { key, value } of tables.data.getRange({ snapshot: false })) {
      const size = storedRecordBytes(key.length - 2, value.length);
      this.bytes += size;
      this.slotBytes[key.readUInt16BE(0)]! += size;
    }
  }
}
