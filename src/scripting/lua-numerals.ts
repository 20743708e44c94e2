/**
 * Numerals as Redis's Lua 5.1 reads them, where fengari (Lua 5.3 with 32-bit integers) differs.
 * Lua 5.1 has only doubles and converts with the C library: a hexadecimal numeral goes through
 * glibc's strtod, and `tonumber(s, base)` through strtoul. Fengari keeps hexadecimal integers
 * modulo 2^32 (`0x100000000` is 0, `0xffffffff` is -1), so a BullMQ priority score
 * (`priority * 0x100000000 + counter`) became NaN. Pure: bytes in, a double or undefined out.
 */

/** glibc's isspace in the C locale. */
function isSpace(c: number | undefined): boolean {
  return c === 0x20 || (c !== undefined && c >= 0x09 && c <= 0x0d);
}

/** The digit's value in bases up to 36, else 36 or more. */
function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x5a) return c - 0x41 + 10;
  return 99;
}

/** Where a C function reading `s` stops: its end, or an embedded zero byte. */
function cEnd(s: Uint8Array): number {
  const z = s.indexOf(0);
  return z < 0 ? s.length : z;
}

/**
 * The value of a hexadecimal integer numeral (spaces, a sign, `0x`, hex digits, spaces), rounded
 * to the nearest double as strtod does; undefined for any other form (decimal, a hex fraction or
 * exponent), which fengari already reads as Lua 5.1 does.
 */
export function hexIntegerValue(s: Uint8Array): number | undefined {
  // Runs on every numeral and numeric string the engine reads: most are decimal and end here.
  let i = 0;
  while (isSpace(s[i])) i++;
  const negative = s[i] === 0x2d;
  if (negative || s[i] === 0x2b) i++;
  if (s[i] !== 0x30 || (s[i + 1] !== 0x78 && s[i + 1] !== 0x58)) return undefined;
  i += 2;
  const end = cEnd(s);
  const from = i;
  while (i < end && digitValue(s[i]!) < 16) i++;
  if (i === from) return undefined;
  const digits = Buffer.from(s.subarray(from, i)).toString('latin1');
  while (i < end && isSpace(s[i])) i++;
  if (i !== end) return undefined;
  // BigInt to Number rounds to nearest, ties to even: strtod's rounding.
  const value = Number(BigInt(`0x${digits}`));
  return negative ? -value : value;
}

const ULONG_MAX = (1n << 64n) - 1n;

/**
 * Lua 5.1's `tonumber(s, base)` for a base other than 10: strtoul (64-bit unsigned long), which
 * skips leading spaces, takes a sign (a negative result wraps modulo 2^64) and, in base 16, a
 * `0x` prefix, and saturates at 2^64 - 1; then only trailing spaces may follow. Undefined where
 * Lua answers nil.
 */
export function strtoulValue(s: Uint8Array, base: number): number | undefined {
  const end = cEnd(s);
  let i = 0;
  while (i < end && isSpace(s[i])) i++;
  const negative = s[i] === 0x2d;
  if (negative || s[i] === 0x2b) i++;
  if (base === 16 && s[i] === 0x30 && (s[i + 1] === 0x78 || s[i + 1] === 0x58) && i + 2 < end && digitValue(s[i + 2]!) < 16) i += 2;
  const from = i;
  let n = 0n;
  let overflow = false;
  const b = BigInt(base);
  for (; i < end; i++) {
    const d = digitValue(s[i]!);
    if (d >= base) break;
    if (overflow) continue;
    n = n * b + BigInt(d);
    if (n > ULONG_MAX) overflow = true;
  }
  if (i === from) return undefined;
  while (i < end && isSpace(s[i])) i++;
  if (i !== end) return undefined;
  if (overflow) return Number(ULONG_MAX);
  return Number(negative && n !== 0n ? (1n << 64n) - n : n);
}
