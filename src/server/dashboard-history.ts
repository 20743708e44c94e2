import { bucketQuantile } from './latency-histogram.js';

/** One moment's cumulative counters: commands processed and command latencies (all families merged). */
export interface HistoryPoint {
  atMs: number;
  commands: number;
  latency: Float64Array;
}

/** Throughput and latency of one interval between two samples. */
export interface IntervalStats {
  atMs: number;
  opsPerSec: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}

/**
 * The last minutes of a node's throughput and latency for the dashboard: cumulative counters
 * sampled every few seconds, differences turned into ops/s and percentiles per interval. Pure:
 * the caller hands in the time and the counters.
 */
export class DashboardHistory {
  private readonly points: HistoryPoint[] = [];

  constructor(private readonly bounds: readonly number[], private readonly keep: number) {}

  add(point: HistoryPoint): void {
    this.points.push({ atMs: point.atMs, commands: point.commands, latency: Float64Array.from(point.latency) });
    while (this.points.length > this.keep) this.points.shift();
  }

  intervals(): IntervalStats[] {
    const out: IntervalStats[] = [];
    for (let i = 1; i < this.points.length; i++) out.push(this.between(this.points[i - 1]!, this.points[i]!));
    return out;
  }

  /** Percentiles and ops/s from the sample closest to `windowMs` ago up to `now`. */
  window(now: HistoryPoint, windowMs: number): { opsPerSec: number; p50Ms: number | undefined; p95Ms: number | undefined; p99Ms: number | undefined } {
    const from = this.points.find((p) => now.atMs - p.atMs <= windowMs) ?? this.points[this.points.length - 1];
    if (from === undefined || now.atMs <= from.atMs) return { opsPerSec: 0, p50Ms: undefined, p95Ms: undefined, p99Ms: undefined };
    const delta = diff(now.latency, from.latency);
    return {
      opsPerSec: ((now.commands - from.commands) * 1000) / (now.atMs - from.atMs),
      p50Ms: ms(bucketQuantile(0.5, this.bounds, delta)),
      p95Ms: ms(bucketQuantile(0.95, this.bounds, delta)),
      p99Ms: ms(bucketQuantile(0.99, this.bounds, delta)),
    };
  }

  private between(a: HistoryPoint, b: HistoryPoint): IntervalStats {
    const delta = diff(b.latency, a.latency);
    return {
      atMs: b.atMs,
      opsPerSec: b.atMs > a.atMs ? ((b.commands - a.commands) * 1000) / (b.atMs - a.atMs) : 0,
      p50Ms: ms(bucketQuantile(0.5, this.bounds, delta)),
      p99Ms: ms(bucketQuantile(0.99, this.bounds, delta)),
    };
  }
}

function diff(b: Float64Array, a: Float64Array): Float64Array {
  const out = new Float64Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[i]! - (a[i] ?? 0);
  return out;
}

const ms = (seconds: number | undefined): number | undefined => (seconds === undefined ? undefined : seconds * 1000);
