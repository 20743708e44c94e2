import { isBytesType, ValueType, type HashValue, type StoredRecord } from './types.js';

/**
 * What one stored record costs in the node's memory budget (docs/decisions.md, "Eviction: what
 * memory means"): the key, the value, and a fixed overhead per record.
 *
 * The overhead stands for what every record carries besides its payload: the 16-byte version, the
 * type, the expiry and the index entries in LMDB and the memtable. 64 bytes is close to what
 * Redis 7.0 itself reports for a short string (MEMORY USAGE of a 1-byte key holding "1" is 48-56
 * bytes), so a cache sized for redis-server is sized the same way here. Vector-clock entries are
 * counted at their encoded 12 bytes each.
 */
export const RECORD_OVERHEAD_BYTES = 64;
const CLOCK_ENTRY_BYTES = 12;

/** Logical bytes of `rec` stored under a key of `keyBytes` bytes. */
export function recordBytes(keyBytes: number, rec: StoredRecord): number {
  return RECORD_OVERHEAD_BYTES + keyBytes + rec.clock.length * CLOCK_ENTRY_BYTES + valueBytes(rec);
}

function valueBytes(rec: StoredRecord): number {
  if (rec.type === ValueType.Tombstone) return 0;
  if (isBytesType(rec.type)) return (rec.value as Buffer).length;
  let n = 0;
  for (const [field, value] of rec.value as HashValue) n += field.length + value.length;
  return n;
}

/**
 * Bytes of a record as LMDB holds it, from the stored sizes alone (no decoding): used once at
 * start-up. The encoded record carries about 30 bytes of header the in-memory estimate counts
 * inside RECORD_OVERHEAD_BYTES, so the two agree to within those bytes per record.
 */
export function storedRecordBytes(keyBytes: number, encodedBytes: number): number {
  return RECORD_OVERHEAD_BYTES + keyBytes + Math.max(0, encodedBytes - ENCODED_HEADER_BYTES);
}

/** format, type, version, expiry, clock count, value length (record-codec.ts). */
const ENCODED_HEADER_BYTES = 1 + 1 + 16 + 8 + 2 + 4;
