/**
 * C's `%.<digits>f` as glibc prints it: the exact binary value rounded half-to-even, whole numbers
 * of any size written out in full (1e300 has 301 digits), inf / -inf / nan spelled as glibc does,
 * and the sign kept on negative values that round to zero ("-0.0000"). Redis formats geo distances
 * (%.4f) and the coordinates in its geo errors (%f) this way; Number.prototype.toFixed rounds ties
 * away from zero and switches to exponent notation from 1e21 on.
 */
import { exactDecimal } from './format-g.js';

export function formatFixed(x: number, digits: number): string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Number.isNaN(x)) return Object.is(x, NaN) ? 'nan' : '-nan';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const abs = Math.abs(x);
  let scaled: bigint;
  if (abs === 0) scaled = 0n;
  else {
    const { digits: d, exp10 } = exactDecimal(abs);
    const n = BigInt(d);
    const shift = exp10 + digits;
    if (shift >= 0) scaled = n * 10n ** BigInt(shift);
    else {
      const div = 10n ** BigInt(-shift);
      scaled = n / div;
      const twice = (n % div) * 2n;
      if (twice > div || (twice === div && scaled % 2n === 1n)) scaled += 1n;
    }
  }
  const text = scaled.toString().padStart(digits + 1, '0');
  if (digits === 0) return sign + text;
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
