/**
 * Goal: the per-command latency distribution answers percentiles within its bucket width and
 * LATENCY HISTOGRAM's power-of-two cumulative buckets as Redis builds them; the latency monitor
 * keeps one sample per second (the second's highest), 160 of them, and the all-time maximum.
 * Method: known values recorded, answers checked against values computed here from the inputs.
 */
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, bucketTop, percentileName, parsePercentiles, powerOfTwoCdf, record, total, valueAtPercentile } from '../../src/server/command-latency.js';
import { LatencyMonitor, SAMPLES_PER_EVENT } from '../../src/server/latency-monitor.js';

describe('command latency distribution', () => {
  it('answers each percentile within 1.6 % above the true value', () => {
    const hist = new Uint32Array(BUCKETS);
    const values = Array.from({ length: 1000 }, (_, i) => 500 + i * i * 37);
    for (const v of values) record(hist, v);
    expect(total(hist)).toBe(1000);
    for (const p of [50, 99, 99.9, 100]) {
      const truth = values[Math.ceil((p / 100) * values.length) - 1]!;
      const got = valueAtPercentile(hist, p);
      expect(got).toBeGreaterThanOrEqual(truth);
      expect(got).toBeLessThanOrEqual(truth * 1.016);
    }
  });

  it('puts every value at or below its bucket top, and clamps to [1 ns, 1 s]', () => {
    for (const v of [1, 2, 63, 64, 65, 1023, 1024, 1025, 123_456, 999_999_999]) expect(bucketTop(bucketOf(v))).toBeGreaterThanOrEqual(v);
    expect(bucketOf(0)).toBe(bucketOf(1));
    expect(bucketOf(5e9)).toBe(bucketOf(1e9));
  });

  it('gives cumulative counts under the power-of-two bucket names Redis uses, only where they grow', () => {
    const hist = new Uint32Array(BUCKETS);
    for (const ns of [500, 900, 3000, 3500, 40_000, 70_000]) record(hist, ns);
    expect(powerOfTwoCdf(hist)).toEqual([[1, 2], [4, 4], [66, 5], [132, 6]]);
  });

  it('reads and prints percentiles as Redis does', () => {
    expect(parsePercentiles('50 99 99.9')).toEqual([50, 99, 99.9]);
    expect(() => parsePercentiles('50 101')).toThrow();
    expect(() => parsePercentiles('abc')).toThrow();
    expect([50, 99.9, 99.99, 100].map(percentileName)).toEqual(['50', '99.9', '99.99', '100']);
  });
});

describe('latency monitor', () => {
  it('keeps the highest sample of a second, 160 seconds, and the all-time max until reset', () => {
    const m = new LatencyMonitor();
    m.add('command', 120, 1_000_000);
    m.add('command', 300, 1_000_500);
    m.add('command', 150, 1_000_900);
    expect(m.history('command')).toEqual([{ time: 1000, ms: 300 }]);
    for (let s = 1; s <= SAMPLES_PER_EVENT + 5; s++) m.add('command', 100 + s, 1_000_000 + s * 1000);
    const h = m.history('command');
    expect(h).toHaveLength(SAMPLES_PER_EVENT);
    expect(h[0]!.time).toBe(1006);
    expect(h[h.length - 1]).toEqual({ time: 1165, ms: 265 });
    expect(m.latest()).toEqual([['command', 1165, 265, 300]]);
    expect(m.reset(['command', 'nosuch'])).toBe(1);
    expect(m.latest()).toEqual([]);
  });
});
