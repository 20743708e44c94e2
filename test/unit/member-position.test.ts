// Goal: a member's stored position is the native XXH64 digest's first 8 bytes followed by the
// member, whichever way it is hashed (JS for short members, native for long ones): positions are
// on disk and on other replicas, so they must not change. Method: seeded random members of every
// length from 0 to 400, and views into a larger buffer, against xxhash-addon directly.
import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-addon';
import { memberOf, memberPosition } from '../../src/collections/record-keys.js';
import { mulberry32 as rng } from '../sim/prng.js';

const { XXHash64 } = xxhash;

describe('memberPosition', () => {
  it('is the native digest and the member, at every length', () => {
    const r = rng(77);
    for (let len = 0; len <= 400; len++) {
      const big = Buffer.alloc(len + 10);
      for (let i = 0; i < big.length; i++) big[i] = Math.floor(r() * 256);
      const member = big.subarray(5, 5 + len);
      const want = Buffer.concat([XXHash64.hash(Buffer.from(member)).subarray(0, 8), member]);
      const got = memberPosition(member);
      expect(got.equals(want), `length ${len}`).toBe(true);
      expect(memberOf(got).equals(member)).toBe(true);
    }
  });
});
