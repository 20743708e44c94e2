/**
 * Scores as text, the way Redis 7.0 reads and writes them: replies print `%.17g` (so 0.1 is
 * "0.10000000000000001"), arguments go through strtod, with the checks each command adds.
 */

/** C's isspace in the C locale. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

interface Strtod {
  value: number;
  /** Characters consumed; 0 when nothing was converted (strtod then points at the start). */
  end: number;
  /** errno ERANGE: the text overflows a double, or underflows to zero. */
  range: boolean;
}

const INF_RE = /^[+-]?(infinity|inf)/i;
const NAN_RE = /^[+-]?nan(\([0-9a-z_]*\))?/i;
const HEX_RE = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?/i;
const DEC_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i;

/** glibc's strtod on a latin1 string: leading white space, inf/nan, hex and decimal floats. */
export function strtod(s: string): Strtod {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  const rest = s.slice(i);
  const negative = rest.startsWith('-');
  const inf = INF_RE.exec(rest);
  if (inf) return { value: negative ? -Infinity : Infinity, end: i + inf[0].length, range: false };
  const nan = NAN_RE.exec(rest);
  if (nan) return { value: NaN, end: i + nan[0].length, range: false };
  const hex = HEX_RE.exec(rest);
  if (hex && ((hex[2] ?? '') !== '' || (hex[3] ?? '') !== '')) {
    const [, , whole = '', frac = '', exp = '0'] = hex;
    let mantissa = 0;
    for (const d of whole + frac) mantissa = mantissa * 16 + parseInt(d, 16);
    const v = mantissa * 2 ** (Number(exp) - 4 * frac.length);
    return { value: negative ? -v : v, end: i + hex[0].length, range: !Number.isFinite(v) || (v === 0 && /[1-9a-f]/i.test(whole + frac)) };
  }
  const dec = DEC_RE.exec(rest);
  if (!dec) return { value: 0, end: 0, range: false };
  const v = Number(dec[0]);
  const digits = dec[1]!;
  return { value: v, end: i + dec[0].length, range: !Number.isFinite(v) || (v === 0 && /[1-9]/.test(digits)) };
}

/**
 * A score argument (ZADD, ZINCRBY, WEIGHTS), Redis's string2d: the whole text a number, no leading
 * space, not NaN, not out of a double's range. undefined when Redis refuses it.
 */
export function parseScore(buf: Buffer): number | undefined {
  if (buf.length === 0 || buf.length > 5000 || isSpace(buf[0]!)) return undefined;
  const s = buf.toString('latin1');
  const r = strtod(s);
  if (r.end !== s.length || r.range || Number.isNaN(r.value)) return undefined;
  return r.value;
}

/**
 * One bound of a score range (zslParseRange): "(" makes it exclusive; the rest goes to strtod as a
 * C string, so leading space and an empty text (0) pass and out-of-range values become ±inf.
 */
export function parseScoreBound(buf: Buffer): { value: number; exclusive: boolean } | undefined {
  const nul = buf.indexOf(0);
  const text = (nul >= 0 ? buf.subarray(0, nul) : buf).toString('latin1');
  const exclusive = text.startsWith('(');
  const s = exclusive ? text.slice(1) : text;
  // Nothing converted leaves strtod at the start: only an empty text then ends there (and is 0).
  const r = strtod(s);
  if (r.end !== s.length || Number.isNaN(r.value)) return undefined;
  return { value: r.value, exclusive };
}

/** The exact decimal value of a positive finite double: `digits` × 10^`exp10`. */
function exactDecimal(x: number): { digits: string; exp10: number } {
  const buf = Buffer.allocUnsafe(8);
  buf.writeDoubleBE(x);
  const bits = buf.readBigUInt64BE();
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exp2 = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exp2 = biased - 1075;
  }
  if (exp2 >= 0) return { digits: (mantissa << BigInt(exp2)).toString(), exp10: 0 };
  return { digits: (mantissa * 5n ** BigInt(-exp2)).toString(), exp10: exp2 };
}

const PRECISION = 17;

/**
 * 17 significant digits of x > 0 and the decimal exponent of the first, rounded as glibc does
 * (on the exact binary value, ties to even). toExponential rounds ties away from zero, so the
 * rare text that may sit exactly on a tie is redone exactly.
 */
function significant(x: number): { digits: string; exp: number } {
  const wide = x.toExponential(PRECISION);
  if (wide[PRECISION + 1] !== '5') {
    const t = x.toExponential(PRECISION - 1);
    const e = t.indexOf('e');
    return { digits: t[0]! + t.slice(2, e), exp: Number(t.slice(e + 1)) };
  }
  const { digits, exp10 } = exactDecimal(x);
  let exp = digits.length - 1 + exp10;
  if (digits.length <= PRECISION) return { digits: digits.padEnd(PRECISION, '0'), exp };
  let head = digits.slice(0, PRECISION);
  const rest = digits.slice(PRECISION);
  const above = rest[0]! > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1)));
  const tie = rest[0] === '5' && !above;
  const odd = (head.charCodeAt(PRECISION - 1) - 48) % 2 === 1;
  if (above || (tie && odd)) {
    const up = (BigInt(head) + 1n).toString();
    if (up.length > PRECISION) {
      exp += 1;
      head = up.slice(0, PRECISION);
    } else head = up;
  }
  return { digits: head, exp };
}

/** A score as Redis 7.0 replies it: `%.17g`, with inf, -inf and -0 spelled as glibc prints them. */
export function formatScore(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  // Integers below 2^53 print whole in both (at most 16 digits).
  if (Number.isInteger(d) && Math.abs(d) < 2 ** 53) return String(d);
  const sign = d < 0 ? '-' : '';
  const { digits, exp } = significant(Math.abs(d));
  if (exp < -4 || exp >= PRECISION) {
    const mant = (digits[0]! + '.' + digits.slice(1)).replace(/\.?0+$/, '');
    const e = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  const intPart = exp >= 0 ? digits.slice(0, exp + 1) : '0';
  const frac = (exp >= 0 ? digits.slice(exp + 1) : '0'.repeat(-exp - 1) + digits).replace(/0+$/, '');
  return sign + intPart + (frac ? '.' + frac : '');
}
