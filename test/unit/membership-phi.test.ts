/**
 * Goal: the phi-accrual detector turns heartbeat gaps into a suspicion level that grows with
 * silence, follows the observed rate, suspects steady peers sooner than jittery ones, and never
 * yields NaN or Infinity.
 * Method: feed scripted and seeded heartbeat sequences, then read phi at chosen gaps and compare
 * with the normal tail the detector approximates (phi 0.301 at the mean, about 8 at 5.6 deviations).
 */
import { describe, expect, it } from 'vitest';
import { PhiAccrual } from '../../src/cluster/phi.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Heartbeats at t = 0, interval, 2·interval, …; returns the last arrival time. */
function steady(d: PhiAccrual, intervalMs: number, beats: number): number {
  let t = 0;
  for (let i = 0; i < beats; i++) {
    d.heartbeat(t);
    if (i < beats - 1) t += intervalMs;
  }
  return t;
}

describe('PhiAccrual', () => {
  it('is 0 before any heartbeat and -log10(0.5) at the mean gap', () => {
    const d = new PhiAccrual({ minStdDevMs: 50, firstHeartbeatEstimateMs: 1000 });
    expect(d.phi(123_456)).toBe(0);
    d.heartbeat(10_000);
    // Bootstrap: mean = estimate, deviation = estimate / 4.
    expect(d.mean()).toBe(1000);
    expect(d.stdDev()).toBe(250);
    expect(d.phi(11_000)).toBeCloseTo(Math.log10(2), 6);
  });

  it('grows monotonically with silence and stays finite for any gap', () => {
    const d = new PhiAccrual({ minStdDevMs: 100, firstHeartbeatEstimateMs: 1000 });
    const last = steady(d, 1000, 20);
    let previous = -1;
    for (let gap = 0; gap <= 20_000; gap += 250) {
      const phi = d.phi(last + gap);
      expect(Number.isFinite(phi)).toBe(true);
      expect(phi).toBeGreaterThanOrEqual(previous);
      previous = phi;
    }
    for (const gap of [1e6, 1e9, 1e12]) expect(Number.isFinite(d.phi(last + gap))).toBe(true);
    expect(d.phi(last + 1e12)).toBeGreaterThan(1000);
  });

  it('reaches phi 8 near 5.6 standard deviations past the mean, as the normal tail does', () => {
    const d = new PhiAccrual({ minStdDevMs: 100, firstHeartbeatEstimateMs: 1000, windowSize: 10 });
    // Enough identical intervals to push the bootstrap pair out: mean 1000, deviation 0 → floor 100.
    const last = steady(d, 1000, 12);
    expect(d.mean()).toBe(1000);
    expect(d.stdDev()).toBe(0);
    expect(d.phi(last + 1000 + 5.2 * 100)).toBeLessThan(8);
    expect(d.phi(last + 1000 + 6.0 * 100)).toBeGreaterThan(8);
    // One deviation: the normal tail is 0.1587, i.e. phi 0.80.
    expect(d.phi(last + 1100)).toBeCloseTo(-Math.log10(0.1587), 1);
  });

  it('suspects a steady peer sooner than a jittery one', () => {
    const options = { minStdDevMs: 20, firstHeartbeatEstimateMs: 200 };
    const calm = new PhiAccrual(options);
    const noisy = new PhiAccrual(options);
    const rng = lcg(7);
    let tCalm = 0;
    let tNoisy = 0;
    for (let i = 0; i < 200; i++) {
      calm.heartbeat(tCalm);
      noisy.heartbeat(tNoisy);
      tCalm += 195 + Math.floor(rng() * 10);
      tNoisy += 50 + Math.floor(rng() * 300);
    }
    const threshold = (d: PhiAccrual, last: number): number => {
      let gap = 0;
      while (d.phi(last + gap) <= 8) gap += 10;
      return gap;
    };
    const calmGap = threshold(calm, tCalm - 200);
    const noisyGap = threshold(noisy, tNoisy - 200);
    expect(calmGap).toBeLessThan(noisyGap);
    expect(calmGap).toBeLessThan(500);
  });

  it('forgets intervals older than the window, so the estimate follows a new rate', () => {
    const d = new PhiAccrual({ minStdDevMs: 10, firstHeartbeatEstimateMs: 1000, windowSize: 50 });
    let t = steady(d, 1000, 60);
    for (let i = 0; i < 50; i++) {
      t += 100;
      d.heartbeat(t);
    }
    expect(d.samples()).toBe(50);
    expect(d.mean()).toBeCloseTo(100, 9);
    expect(d.stdDev()).toBeCloseTo(0, 6);
    expect(d.phi(t + 500)).toBeGreaterThan(8);
  });

  it('keeps running sums exact over many laps of the window with fractional intervals', () => {
    const d = new PhiAccrual({ minStdDevMs: 1, firstHeartbeatEstimateMs: 100, windowSize: 16 });
    const rng = lcg(3);
    let t = 0;
    const recent: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const interval = 90 + rng() * 20;
      t += interval;
      d.heartbeat(t);
      recent.push(interval);
      if (recent.length > 16) recent.shift();
    }
    const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
    expect(d.mean()).toBeCloseTo(mean, 6);
  });

  it('treats a clock stepping back as no time passing', () => {
    const d = new PhiAccrual({ minStdDevMs: 50, firstHeartbeatEstimateMs: 1000 });
    const last = steady(d, 1000, 5);
    d.heartbeat(last - 5000);
    expect(d.lastHeartbeat()).toBe(last);
    expect(d.phi(last - 10_000)).toBeLessThan(1);
    expect(Number.isNaN(d.phi(last - 10_000))).toBe(false);
  });

  it('rejects options outside their bounds', () => {
    expect(() => new PhiAccrual({ minStdDevMs: 0, firstHeartbeatEstimateMs: 1 })).toThrow(RangeError);
    expect(() => new PhiAccrual({ minStdDevMs: 1, firstHeartbeatEstimateMs: 0 })).toThrow(RangeError);
    expect(() => new PhiAccrual({ minStdDevMs: 1, firstHeartbeatEstimateMs: 1, windowSize: 1 })).toThrow(RangeError);
    expect(() => new PhiAccrual({ minStdDevMs: 1, firstHeartbeatEstimateMs: 1, windowSize: 10_001 })).toThrow(RangeError);
  });
});
