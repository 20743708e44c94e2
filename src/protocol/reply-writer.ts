import type { Protocol } from './types.js';

const CRLF = '\r\n';
const INITIAL_CAPACITY = 16 * 1024;

/** Pre-encoded replies that hot paths send often. */
const OK = Buffer.from('+OK\r\n');
const NULL_BULK = Buffer.from('$-1\r\n');
const NULL_ARRAY = Buffer.from('*-1\r\n');
const RESP3_NULL = Buffer.from('_\r\n');
const SMALL_INTS: Buffer[] = Array.from({ length: 1024 }, (_, i) => Buffer.from(`:${i}\r\n`));

/**
 * Encodes replies for one connection into a growing buffer, RESP2 or RESP3 as the connection
 * negotiated. Commands write through this interface only, so the same handler serves both protocols.
 */
export class ReplyWriter {
  proto: Protocol;
  private buf: Buffer;
  private len = 0;

  constructor(proto: Protocol = 2, capacity = INITIAL_CAPACITY) {
    this.proto = proto;
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Bytes written since the last take(). */
  get length(): number {
    return this.len;
  }

  /** Drops what was written after `length` (a command that failed half-way through its reply). */
  truncate(length: number): void {
    if (length >= 0 && length < this.len) this.len = length;
  }

  /** The bytes written so far, in place: valid until the next write, truncate or release. */
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** Starts over without handing the bytes out (a big buffer is let go, as take() does). */
  release(): void {
    this.len = 0;
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  }

  /** Returns the encoded bytes (a copy-free view when possible) and starts over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    return out;
  }

  private ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.len);
    this.len += bytes.length;
  }

  private ascii(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }

  ok(): void {
    this.raw(OK);
  }

  /** Simple string; must not contain CR or LF. */
  simple(s: string): void {
    this.ascii('+' + s + CRLF);
  }

  /** Error reply; `message` starts with its code (`ERR …`, `WRONGTYPE …`). CR/LF are replaced as Redis does. */
  error(message: string): void {
    const safe = /[\r\n]/.test(message) ? message.replace(/[\r\n]+/g, ' ') : message;
    this.ensure(Buffer.byteLength(safe) + 3);
    this.buf[this.len++] = 0x2d; // '-'
    this.len += this.buf.write(safe, this.len, 'utf8');
    this.buf[this.len++] = 0x0d;
    this.buf[this.len++] = 0x0a;
  }

  int(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < SMALL_INTS.length && Number.isInteger(n)) {
      this.raw(SMALL_INTS[n]!);
      return;
    }
    this.ascii(':' + n.toString() + CRLF);
  }

  bulk(value: Buffer | string): void {
    if (typeof value === 'string') {
      const n = Buffer.byteLength(value);
      const header = '$' + n + CRLF;
      this.ensure(header.length + n + 2);
      this.len += this.buf.write(header, this.len, 'latin1');
      this.len += this.buf.write(value, this.len, 'utf8');
    } else {
      // Header digits and small values written byte by byte: a header string, Buffer#write and
      // Buffer#copy are three native calls, most of what a short bulk reply cost (LRANGE, GET).
      const n = value.length;
      this.ensure(n + 24);
      const b = this.buf;
      let o = this.len;
      b[o++] = 0x24; // '$'
      o = writeDecimal(b, o, n);
      b[o++] = 0x0d;
      b[o++] = 0x0a;
      if (n <= SMALL_COPY) for (let i = 0; i < n; i++) b[o + i] = value[i]!;
      else value.copy(b, o);
      this.len = o + n;
    }
    this.buf[this.len++] = 0x0d;
    this.buf[this.len++] = 0x0a;
  }

  /** A missing value: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    this.raw(this.proto === 3 ? RESP3_NULL : NULL_BULK);
  }

  /** A missing aggregate: `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    this.raw(this.proto === 3 ? RESP3_NULL : NULL_ARRAY);
  }

  arrayHeader(n: number): void {
    this.ascii('*' + n + CRLF);
  }

  /** A map of n pairs: `%n` in RESP3, a flat array of 2n elements in RESP2. */
  mapHeader(n: number): void {
    this.ascii(this.proto === 3 ? '%' + n + CRLF : '*' + 2 * n + CRLF);
  }

  /** A set: `~n` in RESP3, an array in RESP2. */
  setHeader(n: number): void {
    this.ascii(this.proto === 3 ? '~' + n + CRLF : '*' + n + CRLF);
  }

  /** Push frame (RESP3 out-of-band messages); an array in RESP2. */
  pushHeader(n: number): void {
    this.ascii(this.proto === 3 ? '>' + n + CRLF : '*' + n + CRLF);
  }

  /** A double: `,<d>` in RESP3, a bulk string in RESP2 (formatted as Redis does). */
  double(d: number): void {
    const text = formatDouble(d);
    if (this.proto === 3) this.ascii(',' + text + CRLF);
    else this.bulk(text);
  }

  bool(b: boolean): void {
    if (this.proto === 3) this.ascii(b ? '#t\r\n' : '#f\r\n');
    else this.int(b ? 1 : 0);
  }

  /** Text reports (INFO, CLUSTER NODES …): verbatim `txt` in RESP3, bulk in RESP2. */
  verbatim(text: string): void {
    if (this.proto !== 3) {
      this.bulk(text);
      return;
    }
    const body = Buffer.from(text, 'utf8');
    const header = '=' + (body.length + 4) + '\r\ntxt:';
    this.ensure(header.length + body.length + 2);
    this.len += this.buf.write(header, this.len, 'latin1');
    body.copy(this.buf, this.len);
    this.len += body.length;
    this.buf[this.len++] = 0x0d;
    this.buf[this.len++] = 0x0a;
  }

  /** Array of bulk strings (null entries become null bulks). */
  bulkArray(items: ReadonlyArray<Buffer | string | null>): void {
    this.arrayHeader(items.length);
    for (const item of items) {
      if (item === null) this.nullBulk();
      else this.bulk(item);
    }
  }
}

/** Redis's `%.17g`-style double text with inf/nan spelled as Redis spells them. */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  return String(d);
}

/** Values up to this many bytes are copied by a loop rather than Buffer#copy (a native call). */
const SMALL_COPY = 32;

/** Writes a non-negative safe integer in decimal at `o`; returns the offset after it. */
function writeDecimal(b: Buffer, o: number, n: number): number {
  if (n < 10) {
    b[o] = 0x30 + n;
    return o + 1;
  }
  if (n < 100) {
    b[o] = 0x30 + Math.floor(n / 10);
    b[o + 1] = 0x30 + (n % 10);
    return o + 2;
  }
  let digits = 3;
  for (let m = 1000; m <= n; m *= 10) digits++;
  for (let i = digits - 1, v = n; i >= 0; i--, v = Math.floor(v / 10)) b[o + i] = 0x30 + (v % 10);
  return o + digits;
}
