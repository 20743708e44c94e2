/**
 * Redis's ziplist (ziplist.c), the compact encoding of DUMP payloads from Redis before 7.0 (and of
 * RDB files a 7.0 server may still hold):
 *   u32 total bytes LE ‖ u32 tail offset LE ‖ u16 count LE ‖ entries ‖ 0xFF
 *   entry = prevlen (1 byte, or 0xFE + u32 LE) ‖ encoding ‖ data
 * Encodings: 00xxxxxx string up to 63; 01xxxxxx + 1 byte string up to 16383 (big-endian);
 * 0x80 + u32 BE string; 0xC0 int16, 0xD0 int32, 0xE0 int64, 0xF0 int24, 0xFE int8 (LE);
 * 0xF1..0xFD the integers 0..12.
 */
import { check } from './rdb-errors.js';

export function parseZiplist(z: Buffer): Buffer[] {
  check(z.length >= 11, 'ziplist too short');
  check(z.readUInt32LE(0) === z.length, 'ziplist size mismatch');
  const out: Buffer[] = [];
  let p = 10;
  const need = (n: number): void => check(p + n <= z.length - 1, 'ziplist entry runs past the end');
  for (;;) {
    check(p < z.length, 'ziplist without its end byte');
    if (z[p] === 0xff) break;
    need(1);
    p += z[p] === 0xfe ? 5 : 1;
    need(1);
    const b = z[p]!;
    const kind = b >> 6;
    if (kind === 0 || kind === 1 || b === 0x80) {
      let len: number;
      if (kind === 0) {
        len = b & 0x3f;
        p += 1;
      } else if (kind === 1) {
        need(2);
        len = ((b & 0x3f) << 8) | z[p + 1]!;
        p += 2;
      } else {
        need(5);
        len = z.readUInt32BE(p + 1);
        p += 5;
      }
      need(len);
      out.push(Buffer.from(z.subarray(p, p + len)));
      p += len;
      continue;
    }
    let v: string;
    if (b === 0xc0) { need(3); v = String(z.readInt16LE(p + 1)); p += 3; }
    else if (b === 0xd0) { need(5); v = String(z.readInt32LE(p + 1)); p += 5; }
    else if (b === 0xe0) { need(9); v = z.readBigInt64LE(p + 1).toString(); p += 9; }
    else if (b === 0xf0) { need(4); v = String((z.readIntLE(p + 1, 3))); p += 4; }
    else if (b === 0xfe) { need(2); v = String(z.readInt8(p + 1)); p += 2; }
    else if (b >= 0xf1 && b <= 0xfd) { v = String((b & 0x0f) - 1); p += 1; }
    else { check(false, `unknown ziplist encoding 0x${b.toString(16)}`); }
    out.push(Buffer.from(v));
  }
  check(p === z.length - 1, 'bytes after the ziplist end');
  return out;
}
