/**
 * Redis's intset (intset.c), the DUMP encoding of a small set of integers:
 *   u32 encoding LE (2, 4 or 8 bytes per value) ‖ u32 count LE ‖ count sorted signed values LE
 */
import { check } from './rdb-errors.js';

export function parseIntset(b: Buffer): Buffer[] {
  check(b.length >= 8, 'intset too short');
  const enc = b.readUInt32LE(0);
  const count = b.readUInt32LE(4);
  check(enc === 2 || enc === 4 || enc === 8, `intset encoding ${enc}`);
  check(b.length === 8 + count * enc, 'intset size mismatch');
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const at = 8 + i * enc;
    const v = enc === 2 ? String(b.readInt16LE(at)) : enc === 4 ? String(b.readInt32LE(at)) : b.readBigInt64LE(at).toString();
    out.push(Buffer.from(v));
  }
  return out;
}
