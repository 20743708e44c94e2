/**
 * The generator behind Redis's math.random: Redis swaps Lua's (libc rand(), which differs between
 * machines) for its own rand.c, an lrand48-style 48-bit linear congruential generator
 * x' = (0x5DEECE66D * x + 0xB) mod 2^48, whose output is x's top 31 bits. The state is one per
 * process, shared by EVAL and FUNCTION scripts and never reset between runs (Redis 7.0 does not
 * reseed before a script), so a node gives the same numbers as a redis-server that ran the same
 * scripts.
 *
 * The 48-bit state lives in two 24-bit halves so every product stays an exact double.
 */
const TWO24 = 0x1000000;
const A_LO = 0xece66d;
const A_HI = 0x5de;
const C = 0xb;

/** Initial state: rand.c's static x[] = {0x330E, 0xABCD, 0x1234}. */
let lo = 0xcd330e;
let hi = 0x1234ab;

/** redisLrand48: advances the state and returns its top 31 bits. */
export function lrand48(): number {
  const low = A_LO * lo + C;
  const carry = Math.floor(low / TWO24);
  const high = (A_LO * hi + A_HI * lo + carry) % TWO24;
  lo = low % TWO24;
  hi = high;
  return hi * 128 + Math.floor(lo / 131072);
}

/** redisSrand48: the state becomes seed (as a 32-bit value) << 16 | 0x330E. */
export function srand48(seed: number): void {
  const s = seed >>> 0;
  lo = (s & 0xff) * 0x10000 + 0x330e;
  hi = Math.floor(s / 256);
}

/** Snapshot and restore, for tests that must not disturb the process-wide sequence. */
export function randomState(): [number, number] {
  return [lo, hi];
}
export function setRandomState(state: [number, number]): void {
  [lo, hi] = state;
}

/** REDIS_LRAND48_MAX: math.random divides by it (after a modulo that turns the maximum into 0). */
export const LRAND48_MAX = 2147483647;

/**
 * A C `(int)(lua_Integer)d` cast as Lua 5.1's luaL_checkint does it on x86-64: truncate to 64
 * bits (out of range or NaN gives INT64_MIN, whose low half is 0), then keep the low 32 bits.
 */
export function toCInt(d: number): number {
  if (!Number.isFinite(d) || Math.abs(d) >= 2 ** 63) return 0;
  const t = Math.trunc(d);
  if (Math.abs(t) < 2 ** 31) return t;
  return Number(BigInt.asIntN(32, BigInt(t)));
}
