/**
 * INCRBYFLOAT and HINCRBYFLOAT arithmetic as Redis does it on x86-64: the value and the increment
 * are read with strtold into an 80-bit long double (64-bit significand), added in that precision,
 * and printed with "%.17Lf" before trailing zeros are cut. JS doubles give different text for
 * everyday input (0.1 added three times is 0.3 in Redis, 0.30000000000000004 in doubles), so the
 * significand is kept in a bigint and every step rounds to nearest, ties to even, as the FPU does.
 */

/** sign × significand × 2^exp; a finite non-zero significand is normalised to [2^63, 2^64). */
export type LongDouble =
  | { finite: true; negative: boolean; significand: bigint; exp: number }
  | { finite: false; negative: boolean };

const SIGNIFICAND_BITS = 64;
const TOP = 1n << 64n;
const HIGH_BIT = 1n << 63n;
/** Largest binary exponent of a normal long double (LDBL_MAX_EXP - 1) and smallest subnormal bit. */
const EXP_MAX = 16383;
const EXP_MIN_SUBNORMAL = -16445;
/** Redis refuses float strings this long or longer (MAX_LONG_DOUBLE_CHARS). */
const TEXT_MAX = 5 * 1024;
/** Decimal exponents beyond these are out of long double range whatever the digits. */
const DECIMAL_EXP_MAX = 4940;
const DECIMAL_EXP_MIN = -4970;

const ZERO = (negative: boolean): LongDouble => ({ finite: true, negative, significand: 0n, exp: 0 });
export const LONG_DOUBLE_ZERO: LongDouble = ZERO(false);

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * The long double nearest to sign × num / den (ties to even); infinite past LDBL_MAX, zero below
 * the smallest subnormal.
 */
function fromRatio(negative: boolean, num: bigint, den: bigint): LongDouble {
  if (num === 0n) return ZERO(negative);
  let exp = bitLength(num) - bitLength(den) - SIGNIFICAND_BITS;
  let q = 0n;
  let r = 0n;
  let d = den;
  for (let attempt = 0; attempt < 3; attempt++) {
    const n = exp < 0 ? num << BigInt(-exp) : num;
    d = exp > 0 ? den << BigInt(exp) : den;
    q = n / d;
    r = n % d;
    if (q >= TOP) exp++;
    else if (q < HIGH_BIT) exp--;
    else break;
  }
  const twice = r * 2n;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
  if (q === TOP) {
    q = HIGH_BIT;
    exp++;
  }
  if (exp + SIGNIFICAND_BITS - 1 > EXP_MAX) return { finite: false, negative };
  if (exp + SIGNIFICAND_BITS - 1 < EXP_MIN_SUBNORMAL) return ZERO(negative);
  return { finite: true, negative, significand: q, exp };
}

function fromBinary(negative: boolean, mantissa: bigint, exp2: number): LongDouble {
  return exp2 >= 0 ? fromRatio(negative, mantissa << BigInt(exp2), 1n) : fromRatio(negative, mantissa, 1n << BigInt(-exp2));
}

/**
 * Redis's string2ld: strtold must read every byte (a NUL byte inside is refused), the text must
 * not start with a space, and NaN, overflow and underflow to zero are refused.
 */
export function parseLongDouble(buf: Buffer): LongDouble | undefined {
  if (buf.length === 0 || buf.length >= TEXT_MAX || buf.includes(0)) return undefined;
  const s = buf.toString('latin1').toLowerCase();
  const sign = /^[+-]/.test(s) ? s[0] : '';
  const negative = sign === '-';
  const body = s.slice(sign.length);
  if (body === 'inf' || body === 'infinity') return { finite: false, negative };

  const hex = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/.exec(body);
  if (hex !== null) {
    const [, whole = '', frac = '', exp = '0'] = hex;
    if (whole === '' && frac === '') return undefined;
    const mantissa = BigInt(`0x${whole}${frac}`);
    if (mantissa === 0n) return ZERO(negative);
    const exp2 = Number(exp) - 4 * frac.length;
    const magnitude = exp2 + bitLength(mantissa);
    if (magnitude > EXP_MAX + 1) return undefined;
    if (magnitude < EXP_MIN_SUBNORMAL) return undefined;
    return fromBinary(negative, mantissa, exp2);
  }

  const dec = /^(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/.exec(body);
  if (dec === null) return undefined;
  const [, whole = '', frac = '', exp = '0'] = dec;
  if (whole === '' && frac === '') return undefined;
  const digits = `${whole}${frac}`.replace(/^0+/, '');
  if (digits === '') return ZERO(negative);
  const exp10 = Number(exp) - frac.length;
  // Position of the leading digit decides overflow and underflow before any big power is built.
  const magnitude = exp10 + digits.length;
  if (magnitude > DECIMAL_EXP_MAX) return undefined;
  if (magnitude < DECIMAL_EXP_MIN) return undefined;
  const mantissa = BigInt(digits);
  const v = exp10 >= 0 ? fromRatio(negative, mantissa * 10n ** BigInt(exp10), 1n) : fromRatio(negative, mantissa, 10n ** BigInt(-exp10));
  // strtold's ERANGE cases that Redis refuses: overflow to infinity and underflow to zero.
  if (!v.finite || v.significand === 0n) return undefined;
  return v;
}

/** a + b rounded to a long double. Infinite inputs give an infinite result (or NaN: undefined). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | undefined {
  if (!a.finite || !b.finite) {
    if (!a.finite && !b.finite && a.negative !== b.negative) return undefined;
    return a.finite ? b : a;
  }
  if (a.significand === 0n) return b.significand === 0n ? ZERO(a.negative && b.negative) : b;
  if (b.significand === 0n) return a;
  const low = Math.min(a.exp, b.exp);
  const sa = (a.negative ? -a.significand : a.significand) << BigInt(a.exp - low);
  const sb = (b.negative ? -b.significand : b.significand) << BigInt(b.exp - low);
  const sum = sa + sb;
  // An exact zero sum is +0 when rounding to nearest.
  if (sum === 0n) return ZERO(false);
  return fromBinary(sum < 0n, sum < 0n ? -sum : sum, low);
}

/**
 * Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf" (exact value, rounded half to even as glibc
 * does), then trailing zeros and a trailing '.' removed, and "-0" written as "0".
 */
export function formatLongDoubleHuman(v: LongDouble & { finite: true }): string {
  const scale = 10n ** 17n;
  let fixed: bigint;
  if (v.exp >= 0) {
    fixed = (v.significand << BigInt(v.exp)) * scale;
  } else {
    const d = 1n << BigInt(-v.exp);
    const n = v.significand * scale;
    fixed = n / d;
    const twice = (n % d) * 2n;
    if (twice > d || (twice === d && (fixed & 1n) === 1n)) fixed++;
  }
  let text = `${fixed / scale}.${(fixed % scale).toString().padStart(17, '0')}`.replace(/0+$/, '').replace(/\.$/, '');
  if (v.negative && text !== '0') text = `-${text}`;
  return text;
}
