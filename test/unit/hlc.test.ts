/**
 * Goal: versions from the hybrid logical clock strictly increase and order after everything
 * observed, whatever physical time does, and version helpers decode the 16-byte layout.
 * Method: scripted physical-time sequences (steady, stalled, stepping back), logical-counter
 * overflow, remote timestamps inside and beyond the drift limit, restart from a high-water mark,
 * and a seeded random walk of now/observe calls checked against the monotonicity invariant.
 */
import { describe, expect, it } from 'vitest';
import { HybridClock } from '../../src/core/hlc.js';
import {
  ZERO_VERSION,
  compareVersions,
  encodeVersion,
  formatVersion,
  versionLogical,
  versionNode,
  versionWall,
} from '../../src/core/version.js';

const TAG_A = Buffer.from('00000000000000aa', 'hex');
const TAG_B = Buffer.from('00000000000000bb', 'hex');

describe('version helpers', () => {
  it('round-trips the layout and orders by bytes', () => {
    const v = encodeVersion(1_700_000_000_123, 7, TAG_A);
    expect(v.length).toBe(16);
    expect(versionWall(v)).toBe(1_700_000_000_123);
    expect(versionLogical(v)).toBe(7);
    expect(versionNode(v)).toBe('00000000000000aa');
    expect(formatVersion(v)).toBe('1700000000123.7@00000000000000aa (2023-11-14T22:13:20.123Z)');
    expect(compareVersions(v, encodeVersion(1_700_000_000_123, 8, TAG_A))).toBe(-1);
    expect(compareVersions(v, encodeVersion(1_700_000_000_122, 65535, TAG_B))).toBe(1);
    expect(compareVersions(v, encodeVersion(1_700_000_000_123, 7, TAG_B))).toBe(-1);
    expect(compareVersions(v, Buffer.from(v))).toBe(0);
    expect(compareVersions(ZERO_VERSION, encodeVersion(0, 0, Buffer.from('0000000000000001', 'hex')))).toBe(-1);
  });

  it('throws on malformed versions and fields', () => {
    expect(() => compareVersions(Buffer.alloc(15), ZERO_VERSION)).toThrow(RangeError);
    expect(() => versionWall(Buffer.alloc(17))).toThrow(RangeError);
    expect(() => versionNode(Buffer.alloc(0))).toThrow(RangeError);
    expect(() => encodeVersion(2 ** 48, 0, TAG_A)).toThrow(RangeError);
    expect(() => encodeVersion(1, 65536, TAG_A)).toThrow(RangeError);
    expect(() => encodeVersion(1, 0, Buffer.alloc(4))).toThrow(RangeError);
  });
});

describe('HybridClock', () => {
  it('follows physical time and counts within a millisecond', () => {
    const clock = new HybridClock(TAG_A);
    const v1 = clock.now(1000);
    const v2 = clock.now(1000);
    const v3 = clock.now(1005);
    expect([versionWall(v1), versionLogical(v1)]).toEqual([1000, 0]);
    expect([versionWall(v2), versionLogical(v2)]).toEqual([1000, 1]);
    expect([versionWall(v3), versionLogical(v3)]).toEqual([1005, 0]);
    expect(versionNode(v3)).toBe('00000000000000aa');
  });

  it('never goes backwards when physical time steps back', () => {
    const clock = new HybridClock(TAG_A);
    const before = clock.now(5000);
    const after = clock.now(1000);
    expect(compareVersions(after, before)).toBe(1);
    expect([versionWall(after), versionLogical(after)]).toEqual([5000, 1]);
  });

  it('spills logical-counter overflow into the next millisecond', () => {
    const clock = new HybridClock(TAG_A, { wall: 1000, logical: 65534 });
    expect(versionLogical(clock.now(1000))).toBe(65535);
    const spilled = clock.now(1000);
    expect([versionWall(spilled), versionLogical(spilled)]).toEqual([1001, 0]);
    const next = clock.now(1001); // physical catches up with the borrowed ms: keep counting
    expect([versionWall(next), versionLogical(next)]).toEqual([1001, 1]);
  });

  it('orders its next version after an observed remote one', () => {
    const clock = new HybridClock(TAG_B);
    clock.now(1000);
    const remote = encodeVersion(1500, 9, TAG_A);
    expect(clock.observe(remote, 1000)).toBe(true);
    const local = clock.now(1000);
    expect(compareVersions(local, remote)).toBe(1);
    expect([versionWall(local), versionLogical(local)]).toEqual([1500, 10]);
  });

  it('ignores an observed version older than its own', () => {
    const clock = new HybridClock(TAG_B);
    clock.now(2000);
    expect(clock.observe(encodeVersion(1000, 3, TAG_A), 2000)).toBe(true);
    expect(clock.last()).toEqual({ wall: 2000, logical: 0 });
  });

  it('refuses remote timestamps beyond the drift limit', () => {
    const clock = new HybridClock(TAG_B, undefined, { maxDriftMs: 100 });
    clock.now(1000);
    expect(clock.observe(encodeVersion(1101, 0, TAG_A), 1000)).toBe(false);
    expect(clock.last()).toEqual({ wall: 1000, logical: 0 });
    expect(clock.observe(encodeVersion(1100, 0, TAG_A), 1000)).toBe(true);
    expect(clock.last()).toEqual({ wall: 1100, logical: 0 });
  });

  it('uses a 60 s drift limit by default', () => {
    const clock = new HybridClock(TAG_B);
    expect(clock.observe(encodeVersion(61_001, 0, TAG_A), 1000)).toBe(false);
    expect(clock.observe(encodeVersion(61_000, 0, TAG_A), 1000)).toBe(true);
  });

  it('resumes above its high-water mark after a restart with an earlier clock', () => {
    const clock = new HybridClock(TAG_A, { wall: 9000, logical: 4 });
    const v = clock.now(1000);
    expect([versionWall(v), versionLogical(v)]).toEqual([9000, 5]);
  });

  it('keeps its own copy of the node tag', () => {
    const tag = Buffer.from(TAG_A);
    const clock = new HybridClock(tag);
    tag.fill(0xff);
    expect(versionNode(clock.now(1))).toBe('00000000000000aa');
  });

  it('rejects bad inputs', () => {
    expect(() => new HybridClock(Buffer.alloc(7))).toThrow(RangeError);
    expect(() => new HybridClock(TAG_A, { wall: -1, logical: 0 })).toThrow(RangeError);
    const clock = new HybridClock(TAG_A);
    expect(() => clock.now(1.5)).toThrow(RangeError);
    expect(() => clock.now(Number.NaN)).toThrow(RangeError);
    expect(() => clock.observe(Buffer.alloc(8), 1)).toThrow(RangeError);
  });

  it('stays strictly increasing under a seeded random walk of time and messages', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const clock = new HybridClock(TAG_A, undefined, { maxDriftMs: 50 });
    let physical = 1_000_000;
    let prev = ZERO_VERSION;
    for (let step = 0; step < 20_000; step++) {
      physical += Math.floor(rand() * 42) - 20; // wanders back and forth, slowly forward
      if (rand() < 0.3) {
        const remote = encodeVersion(physical + Math.floor(rand() * 120) - 60, Math.floor(rand() * 65536), TAG_B);
        if (clock.observe(remote, physical)) {
          const next = clock.now(physical);
          expect(compareVersions(next, remote), `step ${step}`).toBe(1);
          expect(compareVersions(next, prev), `step ${step}`).toBe(1);
          prev = next;
        }
        continue;
      }
      const next = clock.now(physical);
      expect(compareVersions(next, prev), `step ${step}`).toBe(1);
      prev = next;
    }
  });
});
