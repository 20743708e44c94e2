/**
 * Goal: the JS XXH64 gives the native xxhash-addon digest bit for bit, at every length class (the
 * 32-byte stripes, 8- and 4-byte tails, single bytes), since replicas compare Merkle digests
 * across releases.
 * Method: random inputs of every length from 0 to 200 plus a few long ones, against XXHash64.hash.
 */
import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-addon';
import { XXH64_OUT, xxh64 } from '../../src/cluster/xxh64.js';

const { XXHash64 } = xxhash;

function js(b: Buffer): string {
  xxh64(b, b.length);
  return XXH64_OUT[0]!.toString(16).padStart(8, '0') + XXH64_OUT[1]!.toString(16).padStart(8, '0');
}

describe('xxh64', () => {
  it('matches the native digest at every length', () => {
    for (let len = 0; len <= 200; len++) {
      for (let k = 0; k < 20; k++) {
        const b = Buffer.alloc(len);
        for (let i = 0; i < len; i++) b[i] = Math.floor(Math.random() * 256);
        expect(js(b), `length ${len}`).toBe(XXHash64.hash(b).toString('hex'));
      }
    }
    for (const len of [1000, 4096, 65537]) {
      const b = Buffer.alloc(len, 0xff);
      expect(js(b)).toBe(XXHash64.hash(b).toString('hex'));
    }
  });

  it('hashes only the first `length` bytes of a larger buffer', () => {
    const b = Buffer.from('key-and-version-bytes-and-then-garbage');
    xxh64(b, 21);
    expect(XXH64_OUT[0]!.toString(16).padStart(8, '0') + XXH64_OUT[1]!.toString(16).padStart(8, '0')).toBe(XXHash64.hash(b.subarray(0, 21)).toString('hex'));
  });
});
