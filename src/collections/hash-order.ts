import { readU64, writeU64 } from './meta-codec.js';

/**
 * Insertion order of a hash's fields: the order Redis 7.0 replies in while a hash is a listpack
 * (HGETALL, HKEYS, HVALS, HSCAN, HRANDFIELD with a count of at least its size, DUMP). A new field
 * goes at the end; a change of an existing field's value keeps its place; a deleted field that is
 * added again goes at the end.
 *
 * Each field record carries an **insertion stamp**, taken from a counter in the hash's metadata
 * when the field is added and copied into every later value of the field, so the stamp travels
 * with the field through replication, hints, anti-entropy, COPY and RENAME: every replica and every
 * coordinator orders the same records the same way. The counter is exact for the same reason the
 * size is (one fenced coordinator writes a collection, from a complete view); two fields that
 * still share a stamp (two coordinators during a partition) are ordered by their bytes.
 *
 * Layouts (big-endian; docs/decisions.md "Hash field order"):
 *
 *   hash metadata, type's own part (meta-codec META_FORMAT_EXTRA):
 *     u8 format (HASH_ORDER_FORMAT) ‖ u64 next insertion stamp
 *   field record value of a hash whose metadata has that part ("ordered"):
 *     u64 insertion stamp ‖ value bytes
 *
 * A hash written before stamps existed has metadata without the part (META_FORMAT_V1) and field
 * values that are the value bytes alone, and still reads as before: its fields are the oldest,
 * ordered by their bytes. Whether a generation's fields carry stamps is decided when the
 * generation starts and never changes within it (hash-type.ts), so a value is never read in the
 * other layout.
 */

export const HASH_ORDER_FORMAT = 0x01;
const EXTRA_BYTES = 1 + 8;
export const STAMP_BYTES = 8;

/** The metadata part of an ordered hash. */
export function encodeHashOrder(nextStamp: number): Buffer {
  const b = Buffer.allocUnsafe(EXTRA_BYTES);
  b[0] = HASH_ORDER_FORMAT;
  writeU64(b, 1, nextStamp);
  return b;
}

/** The next insertion stamp of an ordered hash's metadata part. */
export function decodeHashOrder(extra: Buffer): number {
  if (extra.length !== EXTRA_BYTES || extra[0] !== HASH_ORDER_FORMAT) {
    throw new Error(`corrupt hash metadata (${extra.length} bytes of its own, format ${extra[0]})`);
  }
  return readU64(extra, 1);
}

/** A field's stored value in an ordered hash. */
export function stampValue(stamp: number, value: Buffer): Buffer {
  const b = Buffer.allocUnsafe(STAMP_BYTES + value.length);
  writeU64(b, 0, stamp);
  value.copy(b, STAMP_BYTES);
  return b;
}

function checkStamped(stored: Buffer): void {
  if (stored.length < STAMP_BYTES) throw new Error(`corrupt hash field record (${stored.length} bytes, no insertion stamp)`);
}

/** The insertion stamp of a stored value of an ordered hash. */
export function stampOf(stored: Buffer): number {
  checkStamped(stored);
  return readU64(stored, 0);
}

/** The field's value without its stamp (a view, no copy). */
export function valueOf(stored: Buffer): Buffer {
  checkStamped(stored);
  return stored.subarray(STAMP_BYTES);
}

export interface OrderedField {
  field: Buffer;
  value: Buffer;
  /** 0 for every field of a hash without stamps: the oldest, ordered by their bytes. */
  stamp: number;
}

/** Sorts into reply order: by insertion stamp, then by field bytes (the tie-break every replica shares). */
export function sortByInsertion(fields: OrderedField[]): OrderedField[] {
  return fields.sort((a, b) => a.stamp - b.stamp || Buffer.compare(a.field, b.field));
}
