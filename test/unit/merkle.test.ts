/**
 * Goal: per-slot Merkle digests summarise exactly the set of (key, version) entries, so two
 * replicas agree on a digest if and only if (up to hash collisions) they hold the same entries,
 * and a difference points at the right bucket.
 * Method: build the same final state by incremental updates (inserts, overwrites, purges) and by
 * inserting the final entries from scratch, in shuffled orders, and compare every digest; then
 * change one key and check diffBuckets names exactly its bucket.
 */
import xxhash from 'xxhash-addon';
import { describe, expect, it } from 'vitest';
import { MerkleIndex, bucketOf } from '../../src/cluster/merkle.js';
import { SLOT_COUNT, keySlot } from '../../src/cluster/slot.js';
import { encodeVersion } from '../../src/core/version.js';

const { XXHash64 } = xxhash;
const TAG = Buffer.from('0123456789abcdef', 'hex');
const v = (wall: number): Buffer => encodeVersion(wall, 0, TAG);
const key = (i: number): Buffer => Buffer.from(`key:${i}`);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const next = rng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function fromScratch(entries: ReadonlyMap<number, number>): MerkleIndex {
  const index = new MerkleIndex();
  for (const [i, wall] of entries) index.update(keySlot(key(i)), key(i), undefined, v(wall));
  return index;
}

function expectSameDigests(a: MerkleIndex, b: MerkleIndex): void {
  expect(a.rootDigest()).toBe(b.rootDigest());
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    if (a.slotDigest(slot) !== b.slotDigest(slot)) expect.fail(`slot ${slot} differs`);
  }
}

describe('bucketOf', () => {
  it('is stable and spreads keys over all buckets', () => {
    expect(bucketOf(key(1))).toBe(bucketOf(Buffer.from('key:1')));
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[bucketOf(key(i))]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
    expect(bucketOf(key(7), 5)).toBeLessThan(5);
  });
});

describe('MerkleIndex', () => {
  it('gives the same digests incrementally as when rebuilt from scratch', () => {
    const next = rng(42);
    const incremental = new MerkleIndex();
    const live = new Map<number, number>(); // key index -> wall of its current version
    for (let step = 0; step < 20_000; step++) {
      const i = Math.floor(next() * 3000);
      const current = live.get(i);
      const k = key(i);
      if (current !== undefined && next() < 0.2) {
        incremental.update(keySlot(k), k, v(current), undefined); // purge
        live.delete(i);
      } else {
        const wall = 1000 + step;
        incremental.update(keySlot(k), k, current === undefined ? undefined : v(current), v(wall));
        live.set(i, wall);
      }
    }
    expectSameDigests(incremental, fromScratch(live));
  });

  it('does not depend on insertion order', () => {
    const entries = new Map<number, number>(Array.from({ length: 2000 }, (_, i) => [i, 5000 + (i % 17)]));
    const a = fromScratch(entries);
    const b = fromScratch(new Map(shuffled([...entries], 7)));
    expectSameDigests(a, b);
    expect(a.rootDigest()).not.toBe(0n);
  });

  it('finds exactly the bucket of a changed key', () => {
    const entries = new Map<number, number>(Array.from({ length: 5000 }, (_, i) => [i, 100]));
    const ours = fromScratch(entries);
    const theirs = fromScratch(entries);
    const changed = key(1234);
    const slot = keySlot(changed);
    theirs.update(slot, changed, v(100), v(101));

    expect(ours.diffBuckets(slot, theirs.bucketDigests(slot))).toEqual([bucketOf(changed)]);
    expect(ours.slotDigest(slot)).not.toBe(theirs.slotDigest(slot));
    expect(ours.rootDigest()).not.toBe(theirs.rootDigest());
    const otherSlot = keySlot(key(1));
    expect(ours.diffBuckets(otherSlot, theirs.bucketDigests(otherSlot))).toEqual([]);
  });

  it('finds a key missing on one side', () => {
    const ours = new MerkleIndex();
    const theirs = new MerkleIndex();
    for (const i of [1, 2, 3]) {
      ours.update(7, key(i), undefined, v(10));
      if (i !== 2) theirs.update(7, key(i), undefined, v(10));
    }
    expect(ours.diffBuckets(7, theirs.bucketDigests(7))).toEqual([bucketOf(key(2))]);
  });

  it('restricts the root digest to the given slots, in any order', () => {
    const index = fromScratch(new Map(Array.from({ length: 500 }, (_, i) => [i, 1])));
    const slots = [...new Set(Array.from({ length: 500 }, (_, i) => keySlot(key(i))))].slice(0, 50);
    expect(index.rootDigest(slots)).toBe(index.rootDigest([...slots].reverse()));
    expect(index.rootDigest(slots)).not.toBe(index.rootDigest());
    expect(index.rootDigest([])).toBe(0n);
  });

  it('frees a slot when its last entry goes, returning to the empty digests', () => {
    const index = new MerkleIndex();
    index.update(5, key(1), undefined, v(1));
    index.update(5, key(1), v(1), v(2));
    expect(index.entryCount(5)).toBe(1);
    expect(index.slotDigest(5)).not.toBe(0n);
    index.update(5, key(1), v(2), undefined);
    expect(index.entryCount(5)).toBe(0);
    expect(index.slotDigest(5)).toBe(0n);
    expect(index.bucketDigests(5).every((d) => d === 0n)).toBe(true);
    expect(index.rootDigest()).toBe(0n);
  });

  it('stores xxh64(key ‖ version) in the key\'s bucket, for short, middling and long keys', () => {
    // Short entries are hashed in JS, longer ones natively, those past the scratch buffer from a
    // concatenation; every path must produce the same hash.
    for (const k of [Buffer.from('short'), Buffer.alloc(500, 0x62), Buffer.alloc(10_000, 0x61)]) {
      const index = new MerkleIndex();
      index.update(9, k, undefined, v(1));
      index.update(9, k, v(1), v(2));
      const expected = XXHash64.hash(Buffer.concat([k, v(2)])).readBigUInt64BE(0);
      expect(index.bucketDigests(9)[bucketOf(k)]).toBe(expected);
    }
  });

  it('rejects misuse', () => {
    const index = new MerkleIndex({ buckets: 16 });
    expect(() => index.update(SLOT_COUNT, key(1), undefined, v(1))).toThrow(RangeError);
    expect(() => index.update(1, key(1), undefined, Buffer.alloc(8))).toThrow(RangeError);
    expect(() => index.update(1, key(1), v(1), v(2))).toThrow(/has none/);
    expect(() => index.diffBuckets(1, new Array<bigint>(64).fill(0n))).toThrow(/mismatch/);
    expect(() => new MerkleIndex({ buckets: 0 })).toThrow(RangeError);
  });
});
