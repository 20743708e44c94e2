/**
 * Scores as text, the way Redis 7.0 reads and writes them: replies print `%.17g` (so 0.1 is
 * "0.10000000000000001"), arguments go through strtod, with the checks each command adds.
 */
import { formatG } from '../core/format-g.js';

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

/** A score as Redis 7.0 replies it: `%.17g`, with inf, -inf and -0 spelled as glibc prints them. */
export function formatScore(d: number): string {
  return formatG(d, 17);
}
