/**
 * sin, cos and asin rounded to the nearest double, for geo distances.
 *
 * Why: Redis computes distances with the C library's sin, cos and asin, and glibc's are rounded
 * to nearest (all but certain, within a few hundredths of an ulp). V8's Math.sin, Math.cos and
 * Math.asin are fdlibm's, good to within one ulp, so one distance in a few dozen came out one ulp
 * away from Redis's. GEODIST hides that behind four decimals, but GEORADIUS ... STOREDIST stores the
 * full double as a score, and ZSCORE then shows all seventeen digits. Here each function is
 * evaluated in double-double arithmetic (about 106 bits) and rounded once, which gives the value
 * glibc gives.
 *
 * Domain: the haversine's arguments, |x| up to a few π for sin and cos, [-1, 1] for asin. Larger
 * sin/cos arguments fall back to Math (no geo formula produces them).
 *
 * Pure: no I/O; results pass through one module-level scratch array.
 */

/**
 * The result of the last step, a double-double: the unevaluated sum O[0] + O[1] with
 * |O[1]| ≤ ulp(O[0]) / 2. A typed array rather than two module variables: a double stored in a
 * module variable is a heap object, so every step would allocate.
 */
const O = new Float64Array(2);

const SPLITTER = 134217729; // 2^27 + 1, Dekker's split

/** hi + lo = a + b exactly (Knuth's two-sum). */
function twoSum(a: number, b: number): void {
  const s = a + b;
  const bb = s - a;
  O[0] = s;
  O[1] = a - (s - bb) + (b - bb);
}

/** hi + lo = a * b exactly (Dekker's product). */
function twoProd(a: number, b: number): void {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  O[0] = p;
  O[1] = ah * bh - p + ah * bl + al * bh + al * bl;
}

/** (ah + al) * (bh + bl), normalized into O[0]!/O[1]!. */
function mulDD(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh);
  const ph = O[0]!;
  const pl = O[1]! + (ah * bl + al * bh);
  twoSum(ph, pl);
}

/** (ah + al) + (bh + bl), normalized into O[0]!/O[1]!. */
function addDD(ah: number, al: number, bh: number, bl: number): void {
  twoSum(ah, bh);
  const sh = O[0]!;
  let sl = O[1]!;
  twoSum(al, bl);
  sl += O[0]!;
  const th = sh + sl;
  const tl = sl - (th - sh) + O[1]!;
  twoSum(th, tl);
}

/** (ah + al) / b for a double b, normalized into O[0]!/O[1]!. */
function divDDByDouble(ah: number, al: number, b: number): void {
  const q1 = ah / b;
  twoProd(q1, b);
  const rh = ah - O[0]!;
  const rl = al - O[1]!;
  const q2 = (rh + rl) / b;
  twoSum(q1, q2);
}

/** π/2 in three parts: PIO2_1 + PIO2_2 + PIO2_3 to about 160 bits. */
const PIO2_1 = 1.5707963267948966;
const PIO2_2 = 6.123233995736766e-17;
const PIO2_3 = -1.4973849048591698e-33;

/**
 * 1/n! for the Taylor terms, as double-doubles, from 1/2! to 1/27!: beyond the last, a term is
 * below 2^-110 of the result for |r| ≤ π/4.
 */
const MAX_TERM = 27;
const INV_FACT_HI = new Float64Array(MAX_TERM + 1);
const INV_FACT_LO = new Float64Array(MAX_TERM + 1);
{
  let h = 1;
  let l = 0;
  INV_FACT_HI[0] = 1;
  INV_FACT_HI[1] = 1;
  for (let n = 2; n <= MAX_TERM; n++) {
    divDDByDouble(h, l, n);
    h = O[0]!;
    l = O[1]!;
    INV_FACT_HI[n] = h;
    INV_FACT_LO[n] = l;
  }
}

/**
 * sin(r) (odd = true) or cos(r) for |r| ≤ π/4 + a little, r = rh + rl, by Horner on the Taylor
 * series in double-double.
 */
function kernel(rh: number, rl: number, odd: boolean): void {
  mulDD(rh, rl, rh, rl);
  const r2h = O[0]!;
  const r2l = O[1]!;
  // Highest term first: sum = 1/k! - r²·(1/(k+2)! - r²·(...)).
  let top = odd ? MAX_TERM : MAX_TERM - 1;
  let sh = INV_FACT_HI[top]!;
  let sl = INV_FACT_LO[top]!;
  for (top -= 2; top >= (odd ? 1 : 0); top -= 2) {
    mulDD(sh, sl, r2h, r2l);
    addDD(INV_FACT_HI[top]!, INV_FACT_LO[top]!, -O[0]!, -O[1]!);
    sh = O[0]!;
    sl = O[1]!;
  }
  if (odd) mulDD(sh, sl, rh, rl);
  else {
    O[0] = sh;
    O[1] = sl;
  }
}

/** Reduces x by the nearest multiple of π/2: the remainder into O[0]!/O[1]!, the quadrant returned. */
function reduce(x: number): number {
  const k = Math.round(x / PIO2_1);
  // x - k·P1 is exact: k·P1 is a two-product and x is close to it.
  twoProd(k, PIO2_1);
  const ph = O[0]!;
  const pl = O[1]!;
  twoSum(x, -ph);
  let rh = O[0]!;
  let rl = O[1]! - pl;
  twoProd(k, PIO2_2);
  addDD(rh, rl, -O[0]!, -O[1]!);
  rh = O[0]!;
  rl = O[1]! - k * PIO2_3;
  twoSum(rh, rl);
  return ((k % 4) + 4) % 4;
}

/** Beyond this, the three-part π/2 no longer reduces exactly enough; geo never gets there. */
const REDUCE_LIMIT = 1 << 20;

/** sin(x) rounded to nearest. */
export function sinRounded(x: number): number {
  if (!(Math.abs(x) < REDUCE_LIMIT)) return Math.sin(x);
  if (x === 0) return x; // keeps -0
  const q = reduce(x);
  kernel(O[0]!, O[1]!, q % 2 === 0);
  const v = O[0]! + O[1]!;
  return q >= 2 ? -v : v;
}

/** cos(x) rounded to nearest. */
export function cosRounded(x: number): number {
  if (!(Math.abs(x) < REDUCE_LIMIT)) return Math.cos(x);
  const q = reduce(x);
  kernel(O[0]!, O[1]!, q % 2 === 1);
  const v = O[0]! + O[1]!;
  return q === 1 || q === 2 ? -v : v;
}

/**
 * asin(x) rounded to nearest: Math.asin's answer (within an ulp) corrected by one Newton step,
 * y − (sin y − x) / cos y, with sin y in double-double. The step's error is quadratic in Math's,
 * far below an ulp, so the rounded sum is the rounded true value.
 */
export function asinRounded(x: number): number {
  const y = Math.asin(x);
  if (!(Math.abs(x) < 1) || x === 0) return y; // ±1, 0, NaN: exact already
  const q = reduce(y);
  kernel(O[0]!, O[1]!, q % 2 === 0);
  let sh = O[0]!;
  let sl = O[1]!;
  if (q >= 2) {
    sh = -sh;
    sl = -sl;
  }
  const c = Math.cos(y);
  if (c === 0) return y;
  // sh - x is exact (Sterbenz): the two are within an ulp or two of each other.
  const delta = (sh - x + sl) / c;
  return y - delta;
}
