/**
 * C's `%.<precision>g` as glibc prints it: the exact binary value rounded half-to-even, inf / -inf /
 * nan / -0 spelled as glibc does. Lua's number formatting (%.14g) and Redis's score replies
 * (%.17g) both use it.
 */

/** The exact decimal value of a positive finite double: `digits` × 10^`exp10`. */
export function exactDecimal(x: number): { digits: string; exp10: number } {
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
  // m / 2^k = m * 5^k / 10^k: exact, no rounding anywhere.
  return { digits: (mantissa * 5n ** BigInt(-exp2)).toString(), exp10: exp2 };
}

/**
 * `precision` significant digits of x > 0 and the decimal exponent of the first, rounded as glibc
 * does (on the exact binary value, ties to even). toExponential rounds ties away from zero, so only
 * a text that may sit exactly on a tie is redone exactly.
 */
function significant(x: number, precision: number): { digits: string; exp: number } {
  const wide = x.toExponential(Math.min(precision, 100));
  if (precision < 100 && wide[precision + 1] !== '5') {
    const t = x.toExponential(precision - 1);
    const e = t.indexOf('e');
    return { digits: t[0]! + t.slice(2, e), exp: Number(t.slice(e + 1)) };
  }
  const { digits, exp10 } = exactDecimal(x);
  let exp = digits.length - 1 + exp10;
  if (digits.length <= precision) return { digits: digits.padEnd(precision, '0'), exp };
  let head = digits.slice(0, precision);
  const rest = digits.slice(precision);
  const above = rest[0]! > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1)));
  const tie = rest[0] === '5' && !above;
  const odd = (head.charCodeAt(precision - 1) - 48) % 2 === 1;
  if (above || (tie && odd)) {
    const up = (BigInt(head) + 1n).toString();
    if (up.length > precision) {
      exp += 1;
      head = up.slice(0, precision);
    } else head = up;
  }
  return { digits: head, exp };
}

export function formatG(n: number, precision: number): string {
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Number.isNaN(n)) return 'nan';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  // Whole numbers with fewer digits than the precision print as themselves.
  if (Number.isInteger(abs) && abs < 10 ** Math.min(precision, 15)) return sign + String(abs);
  const { digits, exp } = significant(abs, precision);
  if (exp < -4 || exp >= precision) {
    const mant = (digits[0]! + '.' + digits.slice(1)).replace(/\.?0+$/, '');
    const e = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  const intPart = exp >= 0 ? digits.slice(0, exp + 1) : '0';
  const frac = (exp >= 0 ? digits.slice(exp + 1) : '0'.repeat(-exp - 1) + digits).replace(/0+$/, '');
  return sign + intPart + (frac ? '.' + frac : '');
}
