/**
 * Redis's listpack (listpack.c), the compact encoding inside DUMP payloads of small hashes and
 * sorted sets and of quicklist nodes:
 *
 *   u32 total bytes LE ‖ u16 element count LE (65535 = unknown) ‖ entries ‖ 0xFF
 *   entry = encoding ‖ data ‖ backlen (the entry's length, 1-5 bytes, read right to left)
 *
 * Encodings: 0xxxxxxx 7-bit uint; 10xxxxxx string of up to 63 bytes; 110xxxxx + 1 byte 13-bit
 * signed int; 1110xxxx + 1 byte string of up to 4095 bytes; 0xF0 + u32 LE string length;
 * 0xF1 / 0xF2 / 0xF3 / 0xF4 16 / 24 / 32 / 64-bit signed int LE. Integers read as decimal text.
 */
import { check } from './rdb-errors.js';

const HEADER_BYTES = 6;
const EOF_BYTE = 0xff;

function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

function signed(u: bigint, bits: number): bigint {
  return BigInt.asIntN(bits, u);
}

/** Every element of a listpack, in order. */
export function parseListpack(lp: Buffer): Buffer[] {
  check(lp.length >= HEADER_BYTES + 1, 'listpack too short');
  check(lp.readUInt32LE(0) === lp.length, 'listpack size mismatch');
  const declared = lp.readUInt16LE(4);
  const out: Buffer[] = [];
  let p = HEADER_BYTES;
  const need = (n: number): void => check(p + n <= lp.length - 1, 'listpack entry runs past the end');
  for (;;) {
    check(p < lp.length, 'listpack without its end byte');
    const b = lp[p]!;
    if (b === EOF_BYTE) break;
    const start = p;
    let value: Buffer;
    if ((b & 0x80) === 0) {
      value = Buffer.from(String(b & 0x7f));
      p += 1;
    } else if ((b & 0xc0) === 0x80) {
      const len = b & 0x3f;
      need(1 + len);
      value = Buffer.from(lp.subarray(p + 1, p + 1 + len));
      p += 1 + len;
    } else if ((b & 0xe0) === 0xc0) {
      need(2);
      const u = ((b & 0x1f) << 8) | lp[p + 1]!;
      value = Buffer.from(String(u >= 1 << 12 ? u - (1 << 13) : u));
      p += 2;
    } else if ((b & 0xf0) === 0xe0) {
      need(2);
      const len = ((b & 0x0f) << 8) | lp[p + 1]!;
      need(2 + len);
      value = Buffer.from(lp.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    } else if (b === 0xf0) {
      need(5);
      const len = lp.readUInt32LE(p + 1);
      need(5 + len);
      value = Buffer.from(lp.subarray(p + 5, p + 5 + len));
      p += 5 + len;
    } else if (b === 0xf1) {
      need(3);
      value = Buffer.from(String(lp.readInt16LE(p + 1)));
      p += 3;
    } else if (b === 0xf2) {
      need(4);
      const u = BigInt(lp[p + 1]! | (lp[p + 2]! << 8) | (lp[p + 3]! << 16));
      value = Buffer.from(signed(u, 24).toString());
      p += 4;
    } else if (b === 0xf3) {
      need(5);
      value = Buffer.from(String(lp.readInt32LE(p + 1)));
      p += 5;
    } else if (b === 0xf4) {
      need(9);
      value = Buffer.from(lp.readBigInt64LE(p + 1).toString());
      p += 9;
    } else {
      check(false, `unknown listpack encoding 0x${b.toString(16)}`);
    }
    const entryLen = p - start;
    const bl = backlenSize(entryLen);
    need(bl);
    p += bl;
    out.push(value);
  }
  check(p === lp.length - 1, 'bytes after the listpack end');
  check(declared === 65535 || declared === out.length, 'listpack count mismatch');
  return out;
}

function backlen(l: number): Buffer {
  if (l <= 127) return Buffer.from([l]);
  if (l < 16383) return Buffer.from([l >> 7, (l & 127) | 128]);
  if (l < 2097151) return Buffer.from([l >> 14, ((l >> 7) & 127) | 128, (l & 127) | 128]);
  if (l < 268435455) return Buffer.from([l >> 21, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128]);
  return Buffer.from([Math.floor(l / 2 ** 28), ((l >> 21) & 127) | 128, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128]);
}

/** A listpack of `items`, every one string-encoded (valid for every listpack reader). */
export function buildListpack(items: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(HEADER_BYTES)];
  let total = HEADER_BYTES + 1;
  for (const s of items) {
    let head: Buffer;
    if (s.length < 64) head = Buffer.from([0x80 | s.length]);
    else if (s.length < 4096) head = Buffer.from([0xe0 | (s.length >> 8), s.length & 0xff]);
    else {
      head = Buffer.allocUnsafe(5);
      head[0] = 0xf0;
      head.writeUInt32LE(s.length, 1);
    }
    const tail = backlen(head.length + s.length);
    parts.push(head, s, tail);
    total += head.length + s.length + tail.length;
  }
  parts.push(Buffer.from([EOF_BYTE]));
  const lp = Buffer.concat(parts, total);
  lp.writeUInt32LE(total, 0);
  lp.writeUInt16LE(Math.min(items.length, 65535), 4);
  return lp;
}
