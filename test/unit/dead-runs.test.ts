// Goal: DeadRuns (src/storage/dead-runs.ts) never claims a live key is dead, whatever order scans
// teach it runs and writes make keys live again, and stays within its bounds. Method: a seeded model
// of one range's live keys; runs are taught only where the model holds nothing live (what a scan
// sees), keys become live (noteLive) or dead at random, and every answer (skipUp, skipDown, nextUp,
// nextDown) is checked against the model. Plus the plain cases: merging, splitting, eviction.
import { describe, expect, it } from 'vitest';
import { DeadRuns, rangeOfBounds, rangeOfKey } from '../../src/storage/dead-runs.js';
import { mulberry32 as rng } from '../sim/prng.js';

const k = (i: number): string => String(i).padStart(4, '0');

describe('DeadRuns', () => {
  it('merges runs that touch or overlap, and splits a run around a key made live', () => {
    const r = new DeadRuns();
    r.learn('a', k(10), k(20));
    r.learn('a', k(20), k(30));
    expect(r.size).toBe(1);
    expect(r.skipUp('a', k(12))).toBe(k(30));
    r.learn('a', k(25), k(40));
    r.learn('a', k(5), k(11));
    expect(r.size).toBe(1);
    expect(r.skipUp('a', k(5))).toBe(k(40));
    expect(r.skipDown('a', k(40))).toBe(k(5));
    // A ZADD of a score inside the run: the run no longer covers it.
    r.noteLive('a', k(17));
    expect(r.size).toBe(2);
    expect(r.skipUp('a', k(5))).toBe(k(17));
    expect(r.skipUp('a', k(17))).toBe(k(17));
    expect(r.skipUp('a', k(17) + '\0')).toBe(k(40));
    expect(r.skipDown('a', k(40))).toBe(k(17) + '\0');
    expect(r.nextUp('a', k(0))).toEqual([k(5), k(17)]);
    expect(r.nextDown('a', k(99))).toEqual([k(17) + '\0', k(40)]);
    // Another range is untouched; a key outside every run changes nothing.
    expect(r.skipUp('b', k(12))).toBe(k(12));
    r.noteLive('a', k(50));
    expect(r.size).toBe(2);
    r.clear();
    expect(r.size).toBe(0);
    expect(r.empty).toBe(true);
  });

  it('stays within its bounds: the least recently taught range goes first, a full range only merges', () => {
    const r = new DeadRuns(6, 3);
    for (let i = 0; i < 4; i++) r.learn('a', k(i * 10), k(i * 10 + 5));
    expect(r.size).toBe(3);
    r.learn('a', k(5), k(10));
    expect(r.size).toBe(2);
    for (let i = 0; i < 3; i++) r.learn('b', k(i * 10), k(i * 10 + 5));
    for (let i = 0; i < 3; i++) r.learn('c', k(i * 10), k(i * 10 + 5));
    expect(r.size).toBeLessThanOrEqual(6);
    // 'a' was taught first: forgotten.
    expect(r.skipUp('a', k(1))).toBe(k(1));
    expect(r.skipUp('c', k(1))).toBe(k(5));
  });

  it('never covers a live key (seeded model of one range)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const KEYS = 200;
      const live = new Set<number>();
      for (let i = 0; i < KEYS; i++) if (rand() < 0.5) live.add(i);
      const runs = new DeadRuns(64, 32);
      const liveIn = (lo: string, hi: string): number | undefined => {
        for (const i of live) if (k(i) >= lo && k(i) < hi) return i;
        return undefined;
      };
      const at = (): string => (rand() < 0.8 ? k(Math.floor(rand() * (KEYS + 2))) : k(Math.floor(rand() * KEYS)) + '\0');
      for (let step = 0; step < 600; step++) {
        const op = rand();
        if (op < 0.35) {
          // A scan from `from` saw nothing live up to the first live key (or the end).
          const from = at();
          let to = k(KEYS + 5);
          for (const i of live) if (k(i) >= from && k(i) < to) to = k(i);
          runs.learn('r', from, to);
        } else if (op < 0.55) {
          const i = Math.floor(rand() * KEYS);
          live.add(i);
          runs.noteLive('r', k(i));
        } else if (op < 0.75) {
          live.delete(Math.floor(rand() * KEYS));
        }
        const p = at();
        const up = runs.skipUp('r', p);
        expect(up >= p, `seed ${seed} step ${step}`).toBe(true);
        expect(liveIn(p, up), `seed ${seed} step ${step}: skipUp(${p}) = ${up}`).toBeUndefined();
        const down = runs.skipDown('r', p);
        expect(down <= p).toBe(true);
        expect(liveIn(down, p), `seed ${seed} step ${step}: skipDown(${p}) = ${down}`).toBeUndefined();
        const next = runs.nextUp('r', up);
        if (next !== undefined) {
          expect(next[0] > up).toBe(true);
          expect(liveIn(next[0], next[1])).toBeUndefined();
        }
        const prev = runs.nextDown('r', down);
        if (prev !== undefined) {
          expect(prev[1] < down).toBe(true);
          expect(liveIn(prev[0], prev[1])).toBeUndefined();
        }
        expect(runs.size).toBeLessThanOrEqual(64);
      }
    }
  });

  it('names the element range of bounds inside one range only', () => {
    const prefix = Buffer.concat([Buffer.from([0xff, 0x02, 0, 0, 0, 1, 0x71]), Buffer.alloc(7), Buffer.from([0xff])]);
    const end = Buffer.concat([Buffer.from([0xff, 0x02, 0, 0, 0, 1, 0x71]), Buffer.alloc(6), Buffer.from([1])]);
    const id = rangeOfKey(3, prefix);
    expect(id).toBeDefined();
    expect(rangeOfBounds(3, prefix, end, 1900)).toBe(id);
    expect(rangeOfBounds(3, Buffer.concat([prefix, Buffer.from('m')]), end, 1900)).toBe(id);
    expect(rangeOfKey(3, Buffer.concat([prefix, Buffer.from('m')]))).toBe(id);
    // Past the range's end, or a scan over the whole namespace: none.
    expect(rangeOfBounds(3, prefix, Buffer.concat([end, Buffer.from([0])]), 1900)).toBeUndefined();
    expect(rangeOfBounds(3, Buffer.from([0xff, 0x00]), Buffer.from([0xff, 0xff]), 1900)).toBeUndefined();
    // Bounds too long for exact ids.
    expect(rangeOfBounds(3, Buffer.concat([prefix, Buffer.alloc(2000)]), end, 1900)).toBeUndefined();
    expect(rangeOfKey(3, Buffer.from('plain'))).toBeUndefined();
  });
});
