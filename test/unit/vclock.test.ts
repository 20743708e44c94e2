/**
 * Goal: vector clocks detect ordering and concurrency correctly, stay bounded, and never mutate
 * their inputs. Method: hand-built histories (sequential writes, a partition with two
 * coordinators, merge after repair), pruning limits including the keep-the-writer rule, input
 * validation, and frozen inputs to prove purity.
 */
import { describe, expect, it } from 'vitest';
import type { ClockEntry } from '../../src/storage/types.js';
import { CLOCK_ENTRIES_MAX, compareClocks, increment, mergeClocks, pruneClock } from '../../src/core/vclock.js';

const A = '000000000000000a';
const B = '000000000000000b';
const C = '000000000000000c';
const node = (i: number): string => i.toString(16).padStart(16, '0');

function frozen(clock: ClockEntry[]): readonly ClockEntry[] {
  return Object.freeze(clock.map((e) => Object.freeze({ ...e })));
}

describe('increment', () => {
  it('adds or bumps the node and keeps entries sorted by node', () => {
    const one = increment([], B);
    expect(one).toEqual([{ node: B, counter: 1 }]);
    const two = increment(one, A);
    expect(two).toEqual([{ node: A, counter: 1 }, { node: B, counter: 1 }]);
    expect(increment(two, B)).toEqual([{ node: A, counter: 1 }, { node: B, counter: 2 }]);
  });

  it('does not mutate its input and returns a new array', () => {
    const input = frozen([{ node: A, counter: 3 }]);
    const out = increment(input, A);
    expect(out).not.toBe(input);
    expect(input).toEqual([{ node: A, counter: 3 }]);
  });

  it('sorts unsorted input rather than trusting it', () => {
    expect(increment([{ node: C, counter: 1 }, { node: A, counter: 2 }], B).map((e) => e.node)).toEqual([A, B, C]);
  });

  it('keeps the incremented node even when its counter is the lowest', () => {
    const full = Array.from({ length: 3 }, (_, i) => ({ node: node(i + 1), counter: 100 }));
    const out = increment(full, node(99), 3);
    expect(out.length).toBe(3);
    expect(out.find((e) => e.node === node(99))?.counter).toBe(1);
  });
});

describe('compareClocks', () => {
  it('orders a history of sequential writes', () => {
    const v1 = increment([], A);
    const v2 = increment(v1, A);
    const v3 = increment(v2, B);
    expect(compareClocks(v1, v1)).toBe('equal');
    expect(compareClocks(v1, v2)).toBe('before');
    expect(compareClocks(v3, v1)).toBe('after');
    expect(compareClocks([], v1)).toBe('before');
    expect(compareClocks([], [])).toBe('equal');
  });

  it('detects two coordinators writing during a partition', () => {
    const base = increment([], A);
    const left = increment(base, A);
    const right = increment(base, B);
    expect(compareClocks(left, right)).toBe('concurrent');
    expect(compareClocks(right, left)).toBe('concurrent');
  });

  it('treats a zero counter like a missing entry', () => {
    expect(compareClocks([{ node: A, counter: 0 }], [])).toBe('equal');
  });

  it('rejects malformed entries', () => {
    expect(() => compareClocks([{ node: 'xyz', counter: 1 }], [])).toThrow(RangeError);
    expect(() => compareClocks([{ node: A, counter: -1 }], [])).toThrow(RangeError);
    expect(() => compareClocks([{ node: A, counter: 1 }, { node: A, counter: 2 }], [])).toThrow(/duplicate/);
  });
});

describe('mergeClocks', () => {
  it('takes the pairwise maximum and then dominates both inputs', () => {
    const a = frozen([{ node: A, counter: 3 }, { node: B, counter: 1 }]);
    const b = frozen([{ node: B, counter: 4 }, { node: C, counter: 2 }]);
    const m = mergeClocks(a, b);
    expect(m).toEqual([{ node: A, counter: 3 }, { node: B, counter: 4 }, { node: C, counter: 2 }]);
    expect(compareClocks(a, m)).toBe('before');
    expect(compareClocks(b, m)).toBe('before');
    expect(mergeClocks(b, a)).toEqual(m);
  });

  it('is bounded by the entry limit', () => {
    const a = Array.from({ length: 8 }, (_, i) => ({ node: node(i), counter: i + 1 }));
    const b = Array.from({ length: 8 }, (_, i) => ({ node: node(i + 8), counter: i + 1 }));
    expect(mergeClocks(a, b).length).toBe(CLOCK_ENTRIES_MAX);
  });
});

describe('pruneClock', () => {
  it('drops the lowest counters, breaking ties the same way on every replica', () => {
    const clock = [
      { node: node(1), counter: 5 },
      { node: node(2), counter: 1 },
      { node: node(3), counter: 9 },
      { node: node(4), counter: 1 },
    ];
    expect(pruneClock(clock, 2)).toEqual([{ node: node(1), counter: 5 }, { node: node(3), counter: 9 }]);
    expect(pruneClock(clock, 3)).toEqual([
      { node: node(1), counter: 5 },
      { node: node(2), counter: 1 },
      { node: node(3), counter: 9 },
    ]);
    expect(pruneClock([...clock].reverse(), 3)).toEqual(pruneClock(clock, 3));
  });

  it('returns a copy even when nothing is dropped', () => {
    const clock = frozen([{ node: A, counter: 1 }]);
    const out = pruneClock(clock);
    expect(out).toEqual(clock);
    expect(out).not.toBe(clock);
    expect(out[0]).not.toBe(clock[0]);
  });

  it('rejects a limit below one', () => {
    expect(() => pruneClock([], 0)).toThrow(RangeError);
  });
});
