/**
 * The parts of Lua 5.1's string.format that fengari (Lua 5.3, 32-bit integers, a JS sprintf) does
 * not reproduce: the integer conversions, which Lua 5.1 passes to sprintf as a C `long` (`%d %i`),
 * `unsigned long` (`%o %u %x %X`) or `int` (`%c`) cast from the double; the double conversions
 * (`%e %E %f %g %G`, printed from the exact binary value, ties to even, as glibc does); and `%q`'s
 * quoting. Under fengari, `string.format('%d', ms_timestamp)` failed with "number has no integer
 * representation". Pure: numbers and bytes in, bytes out; lib-format.ts puts them in front of
 * fengari's string.format.
 */

export interface FormatItem {
  /** The flags among "-+ #0", as written. */
  flags: string;
  width: number | undefined;
  precision: number | undefined;
  /** The conversion character. */
  conversion: string;
  /** Index just past the item in the format string. */
  end: number;
}

const FLAGS = '-+ #0';

export type ScanResult = FormatItem | { error: string };

/**
 * Reads the format item whose `%` is at `start - 1`, as Lua 5.1's scanformat: at most five flag
 * characters, two digits of width and two of precision.
 */
export function scanItem(fmt: Uint8Array, start: number): ScanResult {
  let p = start;
  while (p < fmt.length && FLAGS.includes(String.fromCharCode(fmt[p]!))) p++;
  if (p - start >= FLAGS.length + 1) return { error: 'invalid format (repeated flags)' };
  const flags = Buffer.from(fmt.subarray(start, p)).toString('latin1');
  const digits = (): number | undefined => {
    const from = p;
    if (isDigit(fmt[p])) p++;
    if (isDigit(fmt[p])) p++;
    return p > from ? Number(Buffer.from(fmt.subarray(from, p)).toString('latin1')) : undefined;
  };
  const width = digits();
  let precision: number | undefined;
  if (fmt[p] === 0x2e) {
    p++;
    precision = digits() ?? 0;
  }
  if (isDigit(fmt[p])) return { error: 'invalid format (width or precision too long)' };
  const c = fmt[p];
  return { flags, width, precision, conversion: c === undefined || c === 0 ? '' : String.fromCharCode(c), end: p + 1 };
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

const INT64_MIN = -(1n << 63n);
const TWO_63 = 2 ** 63;

/** C's `(long)x` on x86-64 (cvttsd2si): truncation toward zero; NaN and out of range give INT64_MIN. */
export function toLong(x: number): bigint {
  if (Number.isNaN(x) || x >= TWO_63 || x < -TWO_63) return INT64_MIN;
  return BigInt(Math.trunc(x));
}

/** C's `(unsigned long)x` as gcc compiles it on x86-64: below 2^63 as `(long)`, above by subtracting 2^63 first. */
export function toUnsignedLong(x: number): bigint {
  if (x >= TWO_63) return x - TWO_63 >= TWO_63 ? 0n : BigInt(Math.trunc(x));
  return BigInt.asUintN(64, toLong(x));
}

/** C's `(int)x`: NaN and values outside int give INT_MIN. */
function toInt(x: number): number {
  if (Number.isNaN(x) || x >= 2 ** 31 || x < -(2 ** 31)) return -(2 ** 31);
  return Math.trunc(x);
}

/** sprintf of one `%d %i %o %u %x %X` item with its flags, width and precision. */
export function formatInteger(item: FormatItem, x: number): string {
  const signed = item.conversion === 'd' || item.conversion === 'i';
  const v = signed ? toLong(x) : toUnsignedLong(x);
  const negative = v < 0n;
  const magnitude = negative ? -v : v;
  const base = item.conversion === 'o' ? 8 : item.conversion === 'x' || item.conversion === 'X' ? 16 : 10;
  let digits = magnitude.toString(base);
  if (item.conversion === 'X') digits = digits.toUpperCase();
  if (item.precision !== undefined) digits = item.precision === 0 && magnitude === 0n ? '' : digits.padStart(item.precision, '0');
  const alternate = item.flags.includes('#');
  if (item.conversion === 'o' && alternate && !digits.startsWith('0')) digits = `0${digits}`;
  let prefix = '';
  if (signed) prefix = negative ? '-' : item.flags.includes('+') ? '+' : item.flags.includes(' ') ? ' ' : '';
  else if (alternate && magnitude !== 0n && (item.conversion === 'x' || item.conversion === 'X')) prefix = item.conversion === 'x' ? '0x' : '0X';
  const pad = (item.width ?? 0) - prefix.length - digits.length;
  if (pad <= 0) return prefix + digits;
  if (item.flags.includes('-')) return prefix + digits + ' '.repeat(pad);
  // The 0 flag pads after the sign, and is ignored once a precision is given.
  if (item.flags.includes('0') && item.precision === undefined) return prefix + '0'.repeat(pad) + digits;
  return ' '.repeat(pad) + prefix + digits;
}

/** sprintf of one `%c` item: the byte `(int)x` ends in, padded; Lua 5.1 keeps what precedes a zero byte. */
export function formatChar(item: FormatItem, x: number): Uint8Array {
  const byte = toInt(x) & 0xff;
  const pad = Math.max(0, (item.width ?? 0) - 1);
  const left = item.flags.includes('-');
  const bytes = left ? [byte, ...Array<number>(pad).fill(0x20)] : [...Array<number>(pad).fill(0x20), byte];
  const zero = bytes.indexOf(0);
  return Uint8Array.from(zero < 0 ? bytes : bytes.slice(0, zero));
}

/** Lua 5.1's `%q`: double quotes; `"`, `\` and newline escaped with a backslash, `\r` as `\r`, a zero byte as `\000`. */
export function quote51(s: Uint8Array): Uint8Array {
  const out: number[] = [0x22];
  for (const c of s) {
    if (c === 0x22 || c === 0x5c || c === 0x0a) out.push(0x5c, c);
    else if (c === 0x0d) out.push(0x5c, 0x72);
    else if (c === 0) out.push(0x5c, 0x30, 0x30, 0x30);
    else out.push(c);
  }
  out.push(0x22);
  return Uint8Array.from(out);
}

/** A finite double as m × 2^e exactly (m a non-negative integer). */
function decompose(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return exponent === 0 ? { m: fraction, e: -1074 } : { m: fraction | (1n << 52n), e: exponent - 1075 };
}

/** round(|x| × 10^k) to the nearest integer, ties to even, computed exactly (glibc's printf rounding). */
function scaledRound(x: number, k: number): bigint {
  const { m, e } = decompose(x);
  let num = m;
  let den = 1n;
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  if (k >= 0) num *= 10n ** BigInt(k);
  else den *= 10n ** BigInt(-k);
  const q = num / den;
  const r2 = (num % den) * 2n;
  return r2 > den || (r2 === den && (q & 1n) === 1n) ? q + 1n : q;
}

/** |x| with `p` digits after the point, as %f prints it. */
function fixedDigits(x: number, p: number, alternate: boolean): string {
  const digits = scaledRound(x, p).toString().padStart(p + 1, '0');
  const point = digits.length - p;
  return p === 0 ? digits + (alternate ? '.' : '') : `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** |x| as d.ddd with `p` digits after the point and its decimal exponent, as %e finds them. */
function scientific(x: number, p: number): { digits: string; exponent: number } {
  if (x === 0) return { digits: '0'.repeat(p + 1), exponent: 0 };
  let exponent = Math.floor(Math.log10(Math.abs(x)));
  for (;;) {
    const digits = scaledRound(x, p - exponent).toString();
    if (digits.length > p + 1) exponent++;
    else if (digits.length < p + 1) exponent--;
    else return { digits, exponent };
  }
}

function exponentText(exponent: number, upper: boolean): string {
  return `${upper ? 'E' : 'e'}${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

function mantissaText(digits: string, alternate: boolean): string {
  return digits.length > 1 || alternate ? `${digits[0]}.${digits.slice(1)}` : digits;
}

/** sprintf of one `%e %E %f %g %G` item of a double, as glibc prints it (nan with its x86 sign, see formatLuaNumber). */
export function formatFloat(item: FormatItem, x: number): string {
  const c = item.conversion;
  const upper = c === 'E' || c === 'G';
  const alternate = item.flags.includes('#');
  const negative = x < 0 || Object.is(x, -0) || Number.isNaN(x);
  let body: string;
  if (!Number.isFinite(x)) {
    body = Number.isNaN(x) ? 'nan' : 'inf';
    if (upper) body = body.toUpperCase();
  } else if (c === 'f') {
    body = fixedDigits(x, item.precision ?? 6, alternate);
  } else if (c === 'e' || c === 'E') {
    const p = item.precision ?? 6;
    const s = scientific(x, p);
    body = mantissaText(s.digits, alternate) + exponentText(s.exponent, upper);
  } else {
    const p = item.precision === 0 ? 1 : (item.precision ?? 6);
    const s = scientific(x, p - 1);
    if (p > s.exponent && s.exponent >= -4) body = fixedDigits(x, p - 1 - s.exponent, alternate);
    else body = mantissaText(s.digits, alternate) + exponentText(s.exponent, upper);
    if (!alternate) {
      // %g drops trailing zeros of the fraction, and the point when nothing follows it.
      const at = body.search(/[eE]/);
      const [mant, exp] = at < 0 ? [body, ''] : [body.slice(0, at), body.slice(at)];
      body = (mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant) + exp;
    }
  }
  const sign = negative ? '-' : item.flags.includes('+') ? '+' : item.flags.includes(' ') ? ' ' : '';
  const pad = (item.width ?? 0) - sign.length - body.length;
  if (pad <= 0) return sign + body;
  if (item.flags.includes('-')) return sign + body + ' '.repeat(pad);
  if (item.flags.includes('0') && Number.isFinite(x)) return sign + '0'.repeat(pad) + body;
  return ' '.repeat(pad) + sign + body;
}
