/**
 * Log-scaled latency histogram: bucket i holds latencies in (2^((i-1)/32), 2^(i/32)] µs, so a
 * percentile read from it is within about 2.2% of the exact value. Sparse, mergeable and small
 * enough to ship as JSON once per 100 ms slice from the load generator.
 */
const BUCKETS_PER_OCTAVE = 32;

/** [bucket index, count] pairs. */
export type SparseHistogram = Array<[number, number]>;

export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private n = 0;

  get count(): number {
    return this.n;
  }

  recordMicros(us: number): void {
    const idx = us <= 1 ? 0 : Math.ceil(Math.log2(us) * BUCKETS_PER_OCTAVE);
    this.counts.set(idx, (this.counts.get(idx) ?? 0) + 1);
    this.n++;
  }

  merge(sparse: SparseHistogram): void {
    for (const [idx, count] of sparse) {
      this.counts.set(idx, (this.counts.get(idx) ?? 0) + count);
      this.n += count;
    }
  }

  toSparse(): SparseHistogram {
    return [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** Upper bound of the bucket holding the p-th percentile (0 < p ≤ 100), in milliseconds. */
  percentileMs(p: number): number | null {
    if (this.n === 0) return null;
    const rank = Math.ceil((p / 100) * this.n);
    let seen = 0;
    for (const [idx, count] of this.toSparse()) {
      seen += count;
      if (seen >= rank) return 2 ** (idx / BUCKETS_PER_OCTAVE) / 1000;
    }
    return null;
  }
}
