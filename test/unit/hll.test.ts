/**
 * Goal: the HyperLogLog encodings and hash are Redis 7.0's own, so values and counts match
 * redis-server's bit for bit.
 * Method: vectors computed with redis-server 7.0 (PFDEBUG GETREG after one PFADD gives an
 * element's register and value; GET gives whole values; PFCOUNT gives estimates), and
 * MurmurHash64A's 32-bit-halves arithmetic checked against a straightforward BigInt version of the
 * algorithm on seeded random inputs of every length up to 40 bytes.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { murmurHash64A } from '../../src/strings/murmur64a.js';
import { addElements, cachedCount, estimate, histogramOf, isHll, patternOf, withCachedCount } from '../../src/strings/hll.js';
import { createSparse, sparseDecode, sparseToDense } from '../../src/strings/hll-sparse.js';
import { denseGet, HLL_DENSE_SIZE } from '../../src/strings/hll-dense.js';
import { Prng } from '../sim/prng.js';

const M = 0xc6a4a7935bd1e995n;
const MASK = (1n << 64n) - 1n;

function murmurBig(data: Uint8Array, seed: bigint): bigint {
  let h = (seed ^ ((BigInt(data.length) * M) & MASK)) & MASK;
  const words = data.length - (data.length & 7);
  for (let i = 0; i < words; i += 8) {
    let k = 0n;
    for (let j = 7; j >= 0; j--) k = (k << 8n) | BigInt(data[i + j]!);
    k = (k * M) & MASK;
    k ^= k >> 47n;
    k = (k * M) & MASK;
    h ^= k;
    h = (h * M) & MASK;
  }
  const rest = data.length & 7;
  if (rest > 0) {
    for (let j = rest - 1; j >= 0; j--) h ^= BigInt(data[words + j]!) << BigInt(8 * j);
    h = (h * M) & MASK;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK;
  h ^= h >> 47n;
  return h;
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const sparseWith = (els: string[]): Buffer => addElements(createSparse(), els.map(latin1), 3000).value;

describe('MurmurHash64A', () => {
  it('matches a BigInt rendering of the algorithm on every length up to 40 bytes', () => {
    const rng = new Prng(11);
    for (let len = 0; len <= 40; len++) {
      for (let n = 0; n < 20; n++) {
        const data = Buffer.from(Array.from({ length: len }, () => rng.int(0, 255)));
        const h = murmurHash64A(data, 0xadc83b19);
        const got = (BigInt(h.hi) << 32n) | BigInt(h.lo);
        expect(got, `length ${len}`).toBe(murmurBig(data, 0xadc83b19n));
      }
    }
  });

  it('puts elements in the registers redis-server puts them in', () => {
    // [element, register, value] from redis-server 7.0: PFADD into a new key, PFDEBUG GETREG.
    const vectors: Array<[string, number, number]> = [
      ['', 5938, 2], ['a', 12711, 2], ['foo', 7348, 5], ['hello world', 9399, 4], ['12345678', 10579, 3],
      ['123456789', 9293, 2], ['x'.repeat(100), 15288, 1], ['\u0000\u00ff', 3937, 1],
    ];
    for (const [el, index, count] of vectors) expect(patternOf(latin1(el)), JSON.stringify(el)).toEqual({ index, count });
  });
});

describe('HyperLogLog values', () => {
  it('a new HLL is one XZERO over all registers, as Redis creates it', () => {
    const v = createSparse();
    expect(v.toString('hex')).toBe('48594c4c010000000000000000000000' + '7fff');
    expect(sparseDecode(v)).toBe('Z:16384');
  });

  it('sparse bytes after PFADD a…g equal redis-server\'s, stale cache then the cached count', () => {
    const v = sparseWith([...'abcdefg']);
    expect(v.toString('hex')).toBe('48594c4c010000000000000000000080466d80560c80443c84388050b184498c80426d80425a');
    expect(cachedCount(v)).toBeUndefined();
    const card = estimate(histogramOf(v)!);
    expect(card).toBe(7);
    expect(withCachedCount(v, card).toString('hex')).toBe('48594c4c010000000700000000000000466d80560c80443c84388050b184498c80426d80425a');
  });

  it('200 elements stay sparse and 5000 turn dense, with redis-server\'s exact bytes and counts', () => {
    const els = (n: number): string[] => Array.from({ length: n }, (_, i) => `el${i}`);
    const small = sparseWith(els(200));
    expect(small.length).toBe(515);
    expect(createHash('sha256').update(small).digest('hex')).toBe('71e665a0ae97a488a3b1c6f33fbf3d443398c85a934037324a2f73d2be622e8b');
    expect(estimate(histogramOf(small)!)).toBe(201);
    const big = sparseWith(els(5000));
    expect(big.length).toBe(HLL_DENSE_SIZE);
    expect(big[4]).toBe(0);
    expect(estimate(histogramOf(big)!)).toBe(5041);
    // redis-server's value after PFCOUNT, with the count cached.
    expect(createHash('sha256').update(withCachedCount(big, 5041)).digest('hex')).toBe('2a98857004151bc8b20c58c6a9d50970750a9d1f4a20a9c05895117677e7156f');
  });

  it('estimates as redis-server does from 1 to 100000 distinct elements', () => {
    const expected: Array<[number, number]> = [[1, 1], [10, 10], [100, 100], [1000, 999], [10000, 10092], [100000, 101048]];
    for (const [n, want] of expected) {
      let v = createSparse();
      for (let i = 0; i < n; i += 5000) v = addElements(v, Array.from({ length: Math.min(n, i + 5000) - i }, (_, j) => latin1(`c${i + j}`)), 3000).value;
      expect(estimate(histogramOf(v)!), `${n} elements`).toBe(want);
    }
  });

  it('the dense form of a sparse value holds the same registers and count', () => {
    const v = sparseWith(Array.from({ length: 300 }, (_, i) => `d${i}`));
    const dense = sparseToDense(v)!;
    expect(dense.length).toBe(HLL_DENSE_SIZE);
    for (const el of ['d0', 'd17', 'd299']) {
      const { index, count } = patternOf(latin1(el));
      expect(denseGet(dense, index)).toBeGreaterThanOrEqual(count);
    }
    expect(estimate(histogramOf(dense)!)).toBe(estimate(histogramOf(v)!));
  });

  it('tells valid values from invalid ones as isHLLObjectOrReply does', () => {
    expect(isHll(createSparse())).toBe(true);
    expect(isHll(Buffer.from('HYLL'))).toBe(false);
    const wrongEncoding = Buffer.from(createSparse());
    wrongEncoding[4] = 2;
    expect(isHll(wrongEncoding)).toBe(false);
    const shortDense = Buffer.from(createSparse());
    shortDense[4] = 0;
    expect(isHll(shortDense)).toBe(false);
    const corruptRun = Buffer.concat([createSparse().subarray(0, 16), Buffer.from([0x80, 0x80])]);
    expect(isHll(corruptRun)).toBe(true);
    expect(histogramOf(corruptRun)).toBeUndefined();
    expect(addElements(corruptRun, [latin1('zz')], 3000).corrupt).toBe(true);
  });
});
