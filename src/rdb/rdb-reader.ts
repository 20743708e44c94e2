/**
 * Reading RDB primitives from a byte buffer (Redis's rdb.c): length encodings, strings (raw,
 * integer-encoded, LZF-compressed) and doubles. Every read is bounds-checked: a truncated or
 * corrupt payload throws RdbFormatError, never reads past the buffer.
 *
 * Lengths: 00xxxxxx (6 bits), 01xxxxxx xxxxxxxx (14 bits, big-endian), 0x80 + 4 bytes BE,
 * 0x81 + 8 bytes BE; 11xxxxxx marks a specially encoded string: 0 int8, 1 int16 LE, 2 int32 LE,
 * 3 LZF (compressed length, original length, data).
 */
import { check, RdbFormatError, RdbTruncatedError } from './rdb-errors.js';
import { LzfError, lzfDecompress } from './lzf.js';
import { strtod } from '../commands/score-text.js';

const RDB_ENCVAL = 3;
const ENC_INT8 = 0;
const ENC_INT16 = 1;
const ENC_INT32 = 2;
const ENC_LZF = 3;

export class RdbReader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly end = buf.length) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  byte(): number {
    if (this.pos >= this.end) throw new RdbTruncatedError('unexpected end of payload', this.buf);
    return this.buf[this.pos++]!;
  }

  bytes(n: number): Buffer {
    check(Number.isSafeInteger(n) && n >= 0, 'string length is not a length');
    if (this.pos + n > this.end) throw new RdbTruncatedError('string runs past the payload', this.buf);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** rdbLoadLenByRef: the length, or the special encoding when `encoded`. */
  private lengthOrEncoding(): { encoded: boolean; value: number } {
    const first = this.byte();
    const kind = (first & 0xc0) >> 6;
    if (kind === RDB_ENCVAL) return { encoded: true, value: first & 0x3f };
    if (kind === 0) return { encoded: false, value: first & 0x3f };
    if (kind === 1) return { encoded: false, value: ((first & 0x3f) << 8) | this.byte() };
    if (first === 0x80) return { encoded: false, value: this.bytes(4).readUInt32BE(0) };
    if (first === 0x81) {
      const v = this.bytes(8).readBigUInt64BE(0);
      check(v <= BigInt(Number.MAX_SAFE_INTEGER), 'length beyond 2^53');
      return { encoded: false, value: Number(v) };
    }
    throw new RdbFormatError(`unknown length encoding 0x${first.toString(16)}`);
  }

  /** A length of the full 64 bits (stream ids and counters). */
  bigLength(): bigint {
    const first = this.buf[this.pos];
    if (first === 0x81) {
      this.pos++;
      return this.bytes(8).readBigUInt64BE(0);
    }
    return BigInt(this.length());
  }

  length(): number {
    const l = this.lengthOrEncoding();
    check(!l.encoded, 'an encoded value where a length belongs');
    return l.value;
  }

  /** rdbGenericLoadStringObject: the string's bytes (integers as their decimal text). */
  string(): Buffer {
    const l = this.lengthOrEncoding();
    if (!l.encoded) return Buffer.from(this.bytes(l.value));
    switch (l.value) {
      case ENC_INT8: return Buffer.from(String(this.bytes(1).readInt8(0)));
      case ENC_INT16: return Buffer.from(String(this.bytes(2).readInt16LE(0)));
      case ENC_INT32: return Buffer.from(String(this.bytes(4).readInt32LE(0)));
      case ENC_LZF: {
        const clen = this.length();
        const len = this.length();
        check(len > 0, 'empty LZF string');
        // LZF expands at most 88 times (3 bytes for 264): a larger claim is corrupt, not allocated.
        check(len <= clen * 90 + 16, 'LZF length beyond what the data can hold');
        const data = this.bytes(clen);
        try {
          return lzfDecompress(data, len);
        } catch (err) {
          if (err instanceof LzfError) throw new RdbFormatError(err.message);
          throw err;
        }
      }
      default: throw new RdbFormatError(`unknown string encoding ${l.value}`);
    }
  }

  /** rdbLoadBinaryDoubleValue: 8 bytes little-endian. */
  binaryDouble(): number {
    return this.bytes(8).readDoubleLE(0);
  }

  /** rdbLoadDoubleValue (old ZSET type): a length byte, 253 nan, 254 +inf, 255 -inf, else ASCII. */
  textDouble(): number {
    const len = this.byte();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    const s = this.bytes(len).toString('latin1');
    const r = strtod(s);
    check(r.end === s.length && s.length > 0, 'score is not a number');
    return r.value;
  }
}
