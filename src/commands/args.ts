import { ERR, ReplyError } from '../core/errors.js';
import { EXPIRES_AT_MAX, ValueType, type Entry, type Keyspace } from './keyspace.js';
import { StringValue } from '../strings/fragmented-string.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Redis's string2ll: optional '-', digits, no leading zeros (so no "-0"), no spaces, within int64. */
export function parseInt64(buf: Buffer): bigint | undefined {
  const len = buf.length;
  if (len === 0 || len > 20) return undefined;
  let i = 0;
  const negative = buf[0] === 0x2d;
  if (negative) {
    i = 1;
    if (len === 1) return undefined;
  }
  if (buf[i] === 0x30 && (len - i > 1 || negative)) return undefined;
  for (let j = i; j < len; j++) {
    const c = buf[j]!;
    if (c < 0x30 || c > 0x39) return undefined;
  }
  // Small values parse exactly as numbers; only long ones need bigint.
  const v = len - i <= 15 ? BigInt(Number(buf.toString('latin1'))) : BigInt(buf.toString('latin1'));
  if (v < INT64_MIN || v > INT64_MAX) return undefined;
  return v;
}

export function inInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

/** An integer argument within JS's safe range, else `ERR value is not an integer or out of range`. */
export function intArg(buf: Buffer, error: string = ERR.notInteger): number {
  const v = parseInt64(buf);
  if (v === undefined) throw new ReplyError(error);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new ReplyError(error);
  return n;
}

export function int64Arg(buf: Buffer, error: string = ERR.notInteger): bigint {
  const v = parseInt64(buf);
  if (v === undefined) throw new ReplyError(error);
  return v;
}

/** Redis's strtold-based float parsing: accepts inf/-inf and exponents, rejects nan, spaces and empty. */
export function parseFloatArg(buf: Buffer): number | undefined {
  const s = buf.toString('latin1');
  if (s.length === 0 || s.length > 5000 || /\s/.test(s)) return undefined;
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  const hex = parseHexFloat(lower);
  if (hex !== undefined) return hex;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return undefined;
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}

/** strtold also reads C99 hex floats (`0x1p3` is 8, `0x1.8` is 1.5); INCRBYFLOAT takes them in Redis. */
function parseHexFloat(s: string): number | undefined {
  const m = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/.exec(s);
  if (m === null) return undefined;
  const [, sign, whole = '', frac = '', exp = '0'] = m;
  if (whole === '' && frac === '') return undefined;
  let mantissa = 0;
  for (const d of whole + frac) mantissa = mantissa * 16 + parseInt(d, 16);
  const v = mantissa * 2 ** (Number(exp) - 4 * frac.length);
  return sign === '-' ? -v : v;
}

export function floatArg(buf: Buffer, error: string = ERR.notFloat): number {
  const v = parseFloatArg(buf);
  if (v === undefined) throw new ReplyError(error);
  return v;
}

export function lower(buf: Buffer): string {
  return buf.toString('latin1').toLowerCase();
}

/** The key's entry when it is a string; undefined when missing; WRONGTYPE otherwise. */
export type StringEntry = Omit<Entry, 'value'> & { value: Buffer };

export function getString(ks: Keyspace, key: Buffer): StringEntry | undefined {
  const e = ks.get(key);
  if (e === undefined) return undefined;
  // A fragmented string (src/strings/fragmented-string.ts) is reassembled: O(length).
  if (e.type === ValueType.FragmentedString) return { ...e, value: StringValue.open(ks, key)!.all() };
  if (e.type !== ValueType.String) throw new ReplyError(ERR.wrongType);
  return e as StringEntry;
}

/** Relative or absolute expiry argument → absolute ms, or ReplyError `invalid expire time in '<cmd>'`. */
export function expiryFrom(unit: 'ex' | 'px' | 'exat' | 'pxat', arg: Buffer, now: number, cmd: string): number {
  const v = int64Arg(arg);
  const ms = unit === 'ex' || unit === 'exat' ? v * 1000n : v;
  const abs = unit === 'ex' || unit === 'px' ? ms + BigInt(now) : ms;
  if (v <= 0n || !inInt64(ms) || !inInt64(abs)) throw new ReplyError(ERR.invalidExpire(cmd));
  // Redis takes any time up to 2^63 ms; a record holds up to 2^53 (keyspace.ts EXPIRES_AT_MAX).
  return abs > BigInt(EXPIRES_AT_MAX) ? EXPIRES_AT_MAX : Number(abs);
}

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A SCAN-family cursor as Redis 7.0 reads it (strtoul, base 10): no leading space, an optional sign,
 * digits, nothing after them; a negative one wraps as C's unsigned long does ("-1" is 2^64-1), the
 * empty string is 0, and one above 2^64-1 is an error. The canonical decimal text, or undefined.
 */
export function scanCursorText(buf: Buffer): string | undefined {
  const m = /^([+-]?)(\d*)$/.exec(buf.toString('latin1'));
  if (m === null) return undefined;
  const [, sign, digits] = m;
  if (digits === '') return sign === '' ? '0' : undefined;
  const v = BigInt(digits!);
  if (v > UINT64_MAX) return undefined;
  return (sign === '-' && v !== 0n ? 2n ** 64n - v : v).toString();
}
