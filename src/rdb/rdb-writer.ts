/**
 * Writing RDB primitives (Redis's rdbSaveLen, rdbSaveRawString): lengths in the shortest form,
 * strings that are small integers as int8/16/32 (as Redis writes them), other strings raw. Redis
 * would LZF-compress strings over 20 bytes; uncompressed strings are equally valid to every
 * loader, so DUMP stays cheap.
 */
import { parseInt64 } from '../commands/args.js';

export class RdbWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;

  raw(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }

  byte(v: number): void {
    this.raw(Buffer.from([v & 0xff]));
  }

  length(n: number): void {
    if (n < 1 << 6) this.byte(n);
    else if (n < 1 << 14) this.raw(Buffer.from([0x40 | (n >> 8), n & 0xff]));
    else if (n <= 0xffffffff) {
      const b = Buffer.allocUnsafe(5);
      b[0] = 0x80;
      b.writeUInt32BE(n, 1);
      this.raw(b);
    } else {
      const b = Buffer.allocUnsafe(9);
      b[0] = 0x81;
      b.writeBigUInt64BE(BigInt(n), 1);
      this.raw(b);
    }
  }

  /** A length of the full 64 bits (stream ids and counters). */
  bigLength(n: bigint): void {
    if (n <= 0xffffffffn) return this.length(Number(n));
    const b = Buffer.allocUnsafe(9);
    b[0] = 0x81;
    b.writeBigUInt64BE(n, 1);
    this.raw(b);
  }

  string(s: Buffer): void {
    if (s.length <= 11) {
      const v = parseInt64(s);
      // rdbTryIntegerEncoding: only text that prints back the same (no "-0", no leading zeros).
      if (v !== undefined && v >= -(2n ** 31n) && v < 2n ** 31n) {
        const n = Number(v);
        if (n >= -128 && n <= 127) {
          const b = Buffer.allocUnsafe(2);
          b[0] = 0xc0;
          b.writeInt8(n, 1);
          return this.raw(b);
        }
        if (n >= -32768 && n <= 32767) {
          const b = Buffer.allocUnsafe(3);
          b[0] = 0xc1;
          b.writeInt16LE(n, 1);
          return this.raw(b);
        }
        const b = Buffer.allocUnsafe(5);
        b[0] = 0xc2;
        b.writeInt32LE(n, 1);
        return this.raw(b);
      }
    }
    this.length(s.length);
    this.raw(s);
  }

  binaryDouble(d: number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(d, 0);
    this.raw(b);
  }

  take(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }

  /** take(), and starts over empty: for writers that send what they have a page at a time. */
  drain(): Buffer {
    const b = this.take();
    this.parts.length = 0;
    this.size = 0;
    return b;
  }
}
