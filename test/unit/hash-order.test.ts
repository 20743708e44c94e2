/**
 * Goal: the hash type keeps Redis 7.0's listpack field order (a new field last, a changed one in
 * place, a deleted and re-added one last), reads hashes written before stamps in byte order and
 * stamps them on their first new field, and never reads a hashtable whole to order it.
 * Method: HashType over an in-memory keyspace (element records in byte order, as LMDB keeps them),
 * driven by seeded random writes and checked against a plain model of a listpack (an array in
 * insertion order); the stamp layout's codec on its own; element reads counted to bound costs.
 */
import { describe, expect, it } from 'vitest';
import { HashType, type HashLimits } from '../../src/collections/hash-type.js';
import { Collection } from '../../src/collections/collection.js';
import { decodeHashOrder, encodeHashOrder, sortByInsertion, stampOf, stampValue, valueOf } from '../../src/collections/hash-order.js';
import { ElementKind } from '../../src/collections/record-keys.js';
import { ValueType } from '../../src/storage/types.js';
import { Prng } from '../sim/prng.js';
import { MemoryKeyspace } from '../helpers/memory-keyspace.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const LIMITS: HashLimits = { entries: 128, value: 64 };

function listing(h: HashType): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  h.each((f, v) => out.push([f.toString('latin1'), v.toString('latin1')]) > 0);
  return out;
}

describe('hash-order codec', () => {
  it('round-trips stamps and the metadata counter, and refuses what it did not write', () => {
    expect(decodeHashOrder(encodeHashOrder(0))).toBe(0);
    expect(decodeHashOrder(encodeHashOrder(2 ** 40 + 3))).toBe(2 ** 40 + 3);
    const stored = stampValue(77, b('value'));
    expect(stampOf(stored)).toBe(77);
    expect(valueOf(stored).toString()).toBe('value');
    expect(valueOf(stampValue(1, Buffer.alloc(0))).length).toBe(0);
    expect(() => decodeHashOrder(Buffer.from([1, 0, 0]))).toThrow(/corrupt hash metadata/);
    expect(() => decodeHashOrder(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/corrupt hash metadata/);
    expect(() => valueOf(b('short'))).toThrow(/corrupt hash field record/);
  });

  it('orders by stamp, then by field bytes (fields that share a stamp: every replica agrees)', () => {
    const f = (field: string, stamp: number): { field: Buffer; value: Buffer; stamp: number } => ({ field: b(field), value: b(''), stamp });
    const sorted = sortByInsertion([f('b', 2), f('z', 1), f('a', 2), f('\u00ff', 0), f('c', 0)]);
    expect(sorted.map((x) => x.field.toString('latin1'))).toEqual(['c', '\u00ff', 'z', 'a', 'b']);
  });
});

describe('HashType field order', () => {
  it('follows a listpack model through seeded random writes', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = new Prng(seed);
      const ks = new MemoryKeyspace();
      const model: Array<[string, string]> = [];
      for (let step = 0; step < 400; step++) {
        const field = `f${rng.int(0, 30)}`;
        const at = model.findIndex(([k]) => k === field);
        const h = HashType.openOrCreate(ks, b('h'));
        if (rng.chance(0.3)) {
          expect(h.delete(b(field))).toBe(at >= 0);
          if (at >= 0) model.splice(at, 1);
        } else {
          const value = String(rng.int(0, 1000));
          expect(h.set(b(field), b(value), LIMITS)).toBe(at < 0);
          if (at >= 0) model[at]![1] = value;
          else model.push([field, value]);
        }
        h.save();
        const read = HashType.open(ks, b('h'));
        expect(read?.size ?? 0, `seed ${seed} step ${step}`).toBe(model.length);
        if (read) expect(listing(read), `seed ${seed} step ${step}`).toEqual(model);
      }
    }
  });

  it('gives distinct random picks in insertion order, the whole hash for a count of its size', () => {
    const ks = new MemoryKeyspace();
    const h = HashType.openOrCreate(ks, b('h'));
    const order = Array.from({ length: 50 }, (_, i) => `k${(i * 7) % 50}`);
    for (const f of order) h.set(b(f), b(`v-${f}`), LIMITS);
    h.save();
    for (let i = 0; i < 20; i++) {
      const picked = h.random(9, true).map(([f]) => order.indexOf(f.toString()));
      expect(new Set(picked).size).toBe(9);
      expect(picked).toEqual([...picked].sort((x, y) => x - y));
    }
    expect(h.random(50, true).map(([f, v]) => [f.toString(), v.toString()])).toEqual(order.map((f) => [f, `v-${f}`]));
    expect(h.random(30, false).every(([f, v]) => v.toString() === `v-${f.toString()}`)).toBe(true);
    expect(h.randomOne()![1].toString()).toMatch(/^v-k/);
  });

  it('reads an unstamped hash in byte order and stamps it, in a new generation, on its first new field', () => {
    const ks = new MemoryKeyspace();
    // The layout before stamps: metadata without the order part, values alone.
    const c = Collection.create(ks, b('old'), ValueType.Hash, 0);
    for (const [f, v] of [['c', '3'], ['a', '1'], ['b', '2']]) c.put(ElementKind.Member, b(f!), b(v!));
    c.resize(3);
    c.save();
    const before = HashType.open(ks, b('old'))!;
    expect(before.stamped).toBe(false);
    expect(listing(before)).toEqual([['a', '1'], ['b', '2'], ['c', '3']]);
    // A change of an existing field keeps the layout.
    expect(before.set(b('b'), b('two'), LIMITS)).toBe(false);
    before.save();
    expect(HashType.open(ks, b('old'))!.stamped).toBe(false);

    const h = HashType.open(ks, b('old'))!;
    const generation = Buffer.from(h.c.meta.generation);
    expect(h.set(b('0'), b('zero'), LIMITS)).toBe(true);
    h.save();
    const after = HashType.open(ks, b('old'))!;
    expect(after.stamped).toBe(true);
    expect(after.c.meta.generation.equals(generation)).toBe(false);
    expect(listing(after)).toEqual([['a', '1'], ['b', 'two'], ['c', '3'], ['0', 'zero']]);
    expect(after.get(b('c'))?.toString()).toBe('3');
    expect(after.size).toBe(4);
  });

  it('leaves an unstamped hashtable as it is', () => {
    const ks = new MemoryKeyspace();
    const c = Collection.create(ks, b('big'), ValueType.Hash, 0);
    for (let i = 0; i < 200; i++) c.put(ElementKind.Member, b(`g${i}`), b(`v${i}`));
    c.resize(200);
    c.markLarge();
    c.save();
    const h = HashType.open(ks, b('big'))!;
    expect(h.set(b('new'), b('n'), LIMITS)).toBe(true);
    h.save();
    const after = HashType.open(ks, b('big'))!;
    expect(after.stamped).toBe(false);
    expect(after.get(b('new'))?.toString()).toBe('n');
    expect(after.get(b('g5'))?.toString()).toBe('v5');
  });

  it('streams a hashtable in stored order without reading it whole; orders only a listpack', () => {
    const ks = new MemoryKeyspace();
    const h = HashType.openOrCreate(ks, b('big'));
    for (let i = 0; i < 3000; i++) h.set(b(`g${i}`), b(String(i)), LIMITS);
    h.save();
    expect(h.listpack).toBe(false);
    ks.elements.reads = 0;
    let seen = 0;
    h.each(() => ++seen < 5);
    expect(seen).toBe(5);
    expect(ks.elements.reads).toBeLessThan(20);

    const small = HashType.openOrCreate(ks, b('small'));
    for (let i = 0; i < 100; i++) small.set(b(`s${99 - i}`), b(String(i)), LIMITS);
    small.save();
    expect(small.listpack).toBe(true);
    expect(listing(small).map(([f]) => f)).toEqual(Array.from({ length: 100 }, (_, i) => `s${99 - i}`));
  });

  it('turns hashtable past the entries limit or at a 65-byte field or value, as Redis, not at 64', () => {
    const ks = new MemoryKeyspace();
    const h = HashType.openOrCreate(ks, b('h'));
    h.set(b('k'.repeat(64)), b('v'.repeat(64)), LIMITS);
    expect(h.listpack).toBe(true);
    h.set(b('x'), b('v'.repeat(65)), LIMITS);
    expect(h.listpack).toBe(false);
    const n = HashType.openOrCreate(ks, b('n'));
    for (let i = 0; i < 128; i++) n.set(b(`f${i}`), b('1'), LIMITS);
    expect(n.listpack).toBe(true);
    n.set(b('f0'), b('2'), LIMITS);
    expect(n.listpack).toBe(true);
    n.set(b('f128'), b('1'), LIMITS);
    expect(n.listpack).toBe(false);
  });
});
