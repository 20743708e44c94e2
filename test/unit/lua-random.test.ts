import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lrand48, LRAND48_MAX, randomState, setRandomState, srand48, toCInt } from '../../src/scripting/lua-random.js';

/** math.random(m) as Redis computes it from one draw. */
const draw = (m: number): number => Math.floor(((lrand48() % LRAND48_MAX) / LRAND48_MAX) * m) + 1;

describe("Redis's math.random generator", () => {
  let saved: [number, number];
  beforeEach(() => { saved = randomState(); });
  afterEach(() => setRandomState(saved));

  it('starts where a fresh redis-server starts (math.random(100) gives 40, 85, 36, 45, 32)', () => {
    setRandomState([0xcd330e, 0x1234ab]);
    expect(Array.from({ length: 5 }, () => draw(100))).toEqual([40, 85, 36, 45, 32]);
  });

  it('reseeds as redisSrand48: randomseed(42) then random(1000) is 745, 343, 112', () => {
    srand48(42);
    expect(Array.from({ length: 3 }, () => draw(1000))).toEqual([745, 343, 112]);
    srand48(-1);
    expect(draw(1000)).toBe(301);
    srand48(0);
    expect(draw(1000)).toBe(171);
  });

  it('returns 31-bit values and keeps the state within 48 bits', () => {
    srand48(7);
    for (let i = 0; i < 10000; i++) {
      const v = lrand48();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(2 ** 31);
    }
  });

  it('converts numbers as a C (int)(long) cast', () => {
    expect([toCInt(1.9), toCInt(-1.9), toCInt(2 ** 31), toCInt(2 ** 32 + 5), toCInt(2 ** 40), toCInt(NaN), toCInt(1e300)]).toEqual([1, -1, -(2 ** 31), 5, 0, 0, 0]);
  });
});
