/**
 * Goal: the set type module keeps Redis 7.0's encoding rules, reply order and exact counts, and
 * its operations cost what they touch.
 * Method: SetType and the set algebra over an in-memory keyspace (element records in byte
 * order, as LMDB keeps them), checked against the rules written out and against plain JS sets
 * on seeded random inputs; element reads are counted to bound costs.
 */
import { describe, expect, it } from 'vitest';
import { SetType, sortNumerically } from '../../src/collections/set-type.js';
import { diff, intersect, union } from '../../src/collections/set-algebra.js';
import { Prng } from '../sim/prng.js';
import { MemoryKeyspace } from '../helpers/memory-keyspace.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (xs: readonly Buffer[]): string[] => xs.map((x) => x.toString('latin1'));
const MAX = 512;

function setOf(ks: MemoryKeyspace, key: string, members: readonly string[], max = MAX): SetType {
  const s = SetType.openOrCreate(ks, b(key));
  for (const m of members) s.add(b(m), max);
  s.save();
  return SetType.open(ks, b(key))!;
}

describe('SetType encoding (OBJECT ENCODING as Redis 7.0)', () => {
  it('stays intset for canonical int64 texts only', () => {
    const ks = new MemoryKeyspace();
    expect(setOf(ks, 'ints', ['0', '-1', '9223372036854775807', '-9223372036854775808', '42']).intset).toBe(true);
    for (const odd of ['01', '-0', '+1', ' 1', '1 ', '9223372036854775808', '-9223372036854775809', '1.0', '', 'abc', '0x1']) {
      expect(setOf(ks, `odd${odd}`, ['1', odd]).intset, JSON.stringify(odd)).toBe(false);
    }
  });

  it('turns hashtable on the add past the limit, not on one that adds nothing, and never back', () => {
    const ks = new MemoryKeyspace();
    const s = setOf(ks, 'k', ['1', '2', '3', '4', '5']);
    expect(s.add(b('3'), 2)).toBe(false);
    expect(s.intset).toBe(true);
    expect(s.add(b('6'), 5)).toBe(true);
    expect(s.intset).toBe(false);
    for (const m of ['1', '2', '3', '4', '5']) s.remove(b(m));
    expect(s.intset).toBe(false);
    expect(s.size).toBe(1);
  });

  it('replies intset members in numeric order, hashtable ones in byte order', () => {
    const ks = new MemoryKeyspace();
    expect(text(setOf(ks, 'i', ['10', '9', '-5', '100', '-10']).members())).toEqual(['-10', '-5', '9', '10', '100']);
    expect(text(setOf(ks, 'h', ['10', '9', 'x']).members()).sort(), 'a hashtable set has no order to promise').toEqual(['10', '9', 'x']);
    expect(text(sortNumerically([b('9223372036854775807'), b('-9223372036854775808'), b('0')]))).toEqual(['-9223372036854775808', '0', '9223372036854775807']);
  });

  it('deletes the key once the last member goes', () => {
    const ks = new MemoryKeyspace();
    const s = setOf(ks, 'k', ['a']);
    s.remove(b('a'));
    s.save();
    expect(ks.get(b('k'))).toBeUndefined();
  });
});

describe('SetType random picks', () => {
  it.each([1, 10, 1000, 2400, 4999, 5000, 9000])('a 5000-member set gives exactly min(%i, size) distinct members', (count) => {
    const ks = new MemoryKeyspace();
    const s = setOf(ks, 'big', Array.from({ length: 5000 }, (_, i) => `m${i}`));
    const picked = text(s.randomDistinct(count));
    expect(picked).toHaveLength(Math.min(count, 5000));
    expect(new Set(picked).size).toBe(picked.length);
  });

  it('SPOP-style pops remove exactly what they return', () => {
    const ks = new MemoryKeyspace();
    const all = Array.from({ length: 3000 }, (_, i) => `m${i}`);
    const s = setOf(ks, 'big', all);
    const popped = [...text(s.pop(700)), ...text(s.pop(700)), ...text(s.pop(1))];
    s.save();
    const left = text(SetType.open(ks, b('big'))!.members());
    expect(new Set(popped).size).toBe(1401);
    expect(left).toHaveLength(3000 - 1401);
    expect([...left, ...popped].sort()).toEqual([...all].sort());
    expect(SetType.open(ks, b('big'))!.size).toBe(left.length);
  });
});

describe('set algebra', () => {
  function randomSets(rng: Prng, ks: MemoryKeyspace, n: number): Array<{ key: string; members: Set<string> }> {
    return Array.from({ length: n }, (_, i) => {
      const members = new Set(Array.from({ length: rng.int(0, 40) }, () => (rng.chance(0.8) ? String(rng.int(-20, 40)) : `s${rng.int(0, 10)}`)));
      const key = `r${i}`;
      if (members.size > 0) setOf(ks, key, [...members]);
      return { key, members };
    });
  }

  it('SINTER / SUNION / SDIFF agree with plain sets on seeded random inputs', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new Prng(seed);
      const ks = new MemoryKeyspace();
      const sets = randomSets(rng, ks, rng.int(1, 4));
      // Repeated keys too, as commands may name them.
      if (rng.chance(0.3)) sets.push(sets[0]!);
      const opened = sets.map((s) => SetType.open(ks, b(s.key)));
      const max = rng.pick([MAX, 3, 10]);
      const inter = [...sets[0]!.members].filter((m) => sets.every((s) => s.members.has(m)));
      const uni = new Set(sets.flatMap((s) => [...s.members]));
      const dif = [...sets[0]!.members].filter((m) => sets.slice(1).every((s) => s.key === sets[0]!.key ? false : !s.members.has(m)));
      const difExpected = sets.slice(1).some((s) => s.key === sets[0]!.key) ? [] : dif;
      expect(text(intersect(opened, max).members).sort(), `seed ${seed}`).toEqual(inter.sort());
      expect(text(union(opened, max).members).sort(), `seed ${seed}`).toEqual([...uni].sort());
      expect(text(diff(opened, max).members).sort(), `seed ${seed}`).toEqual(difExpected.sort());
    }
  });

  it("SDIFFSTORE's encoding follows the algorithm Redis 7.0 picks", () => {
    const ks = new MemoryKeyspace();
    const first = setOf(ks, 'a', [...Array.from({ length: 10 }, (_, i) => String(i + 1)), 'x']);
    const [bx, c1, e2] = [setOf(ks, 'b', ['x']), setOf(ks, 'c', ['1']), setOf(ks, 'e', ['2'])];
    // size(a) × 4 / 2 = 22 > 11 + 3: the second algorithm starts from all of a, string included.
    const second = diff([first, bx, c1, e2], MAX);
    expect(text(second.members).sort()).toEqual(['10', '3', '4', '5', '6', '7', '8', '9']);
    expect(second.intset).toBe(false);
    // 11 × 2 / 2 = 11 <= 12: the first algorithm adds only the result.
    expect(diff([first, bx], MAX).intset).toBe(true);
  });

  it('SINTER walks the smallest set and probes the others: cost independent of the big set', () => {
    const ks = new MemoryKeyspace();
    const big = setOf(ks, 'big', Array.from({ length: 20000 }, (_, i) => String(i)));
    const small = setOf(ks, 'small', ['5', '19999', '20000']);
    const before = ks.elements.reads;
    const r = intersect([big, small, big], MAX);
    expect(text(r.members)).toEqual(['5', '19999']);
    expect(ks.elements.reads - before).toBeLessThan(20);
  });
});
