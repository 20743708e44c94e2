/**
 * Per-command latency distributions for INFO latencystats and LATENCY HISTOGRAM, as Redis 7.0
 * keeps them (an HdrHistogram per command, 1 ns to 1 s, two significant digits). Here: one
 * Uint32Array per command, allocated on the command's first call; recording is an index
 * computation and an increment, nothing is allocated per call. Buckets are log-linear: 64
 * sub-buckets per power of two of nanoseconds (at most 1.6 % wide, finer than Redis's 2 digits),
 * exact below 128 ns.
 * Pure: no clock, no I/O.
 */

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const MAX_NS = 1_000_000_000;

/**
 * Values below 128 ns have a bucket each; above, each power of two [2^e, 2^(e+1)) has SUB
 * buckets. 1 s < 2^30, so the highest power is 29.
 */
export const BUCKETS = (29 - SUB_BITS + 2) * SUB;

/** Redis clamps to [1 ns, 1 s] before recording. */
export function bucketOf(ns: number): number {
  const v = ns < 1 ? 1 : ns > MAX_NS ? MAX_NS : Math.floor(ns);
  if (v < 2 * SUB) return v;
  const e = 31 - Math.clz32(v);
  return (e - SUB_BITS + 1) * SUB + ((v >>> (e - SUB_BITS)) & (SUB - 1));
}

/** The highest value a bucket stands for, in ns (what Redis's percentile lookups answer). */
export function bucketTop(b: number): number {
  if (b < 2 * SUB) return b;
  const e = Math.floor(b / SUB) + SUB_BITS - 1;
  return (SUB + (b % SUB) + 1) * 2 ** (e - SUB_BITS) - 1;
}

export function record(hist: Uint32Array, ns: number): void {
  hist[bucketOf(ns)]!++;
}

export function total(hist: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < hist.length; i++) n += hist[i]!;
  return n;
}

/** The value in ns at or below which `percentile` (0..100) of the calls fall; 0 with no calls. */
export function valueAtPercentile(hist: Uint32Array, percentile: number): number {
  const n = total(hist);
  if (n === 0) return 0;
  // HdrHistogram's rule: the count to reach, at least 1.
  const want = Math.max(1, Math.ceil((Math.min(percentile, 100) / 100) * n));
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    seen += hist[b]!;
    if (seen >= want) return bucketTop(b);
  }
  return bucketTop(hist.length - 1);
}

/**
 * LATENCY HISTOGRAM's buckets as Redis 7.0 lists them: its HdrHistogram (two significant digits:
 * 128 sub-buckets per power of two) iterated in powers of two from 1024 ns, each bucket named by
 * its highest equivalent value in whole µs (1, 2, 4, 8, 16, 33, 66, 132 …), with the cumulative
 * count up to it, listed only where the count grew.
 */
export function powerOfTwoCdf(hist: Uint32Array): Array<[usec: number, cumulative: number]> {
  const out: Array<[number, number]> = [];
  let cumulative = 0;
  let previous = 0;
  let b = 0;
  // 2^30 ns is past Redis's 1 s cap: k = 20 takes everything.
  for (let k = 0; k <= 20; k++) {
    const highest = 2 ** (10 + k) + 2 ** (3 + k) - 1;
    while (b < hist.length && (k === 20 || bucketTop(b) <= highest)) cumulative += hist[b++]!;
    if (cumulative > previous) out.push([Math.floor(highest / 1000), cumulative]);
    previous = cumulative;
  }
  return out;
}

/** `50 99 99.9` → [50, 99, 99.9]; throws on anything Redis would refuse. */
export function parsePercentiles(text: string): number[] {
  // Redis splits at single spaces (an extra space is an empty, invalid value) and names no value in its error.
  const parts = text === '' ? [] : text.split(' ');
  return parts.map((p) => {
    const v = Number(p);
    if (p === '' || !/^[0-9.eE+-]+$/.test(p) || !Number.isFinite(v)) throw new Error('Invalid latency-tracking-info-percentiles parameters');
    if (v < 0 || v > 100) throw new Error('latency-tracking-info-percentiles parameters should sit between [0.0,100.0]');
    return v;
  });
}

/** How Redis prints a percentile's name: `%f` with trailing zeros (and a bare point) removed. */
export function percentileName(p: number): string {
  return p.toFixed(6).replace(/\.?0+$/, '');
}
