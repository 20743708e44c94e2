/**
 * Argument pools for the generator: values chosen so that commands collide on the edges Redis
 * defines (integer limits, float syntax, empty and binary strings, absolute times in the past).
 */
import type { Prng } from '../../sim/prng.js';

export const INT64_MAX = '9223372036854775807';
export const INT64_MIN = '-9223372036854775808';

const SMALL_INTS = ['0', '1', '2', '-1', '7', '42', '-300', '1000'];
const EDGE_INTS = [INT64_MAX, INT64_MIN, '9223372036854775806', '-9223372036854775807', '9223372036854775808', '4611686018427387904'];
/** Strings Redis does not take as integers: signs, spaces, leading zeros, hex, decimals. */
const NOT_INTS = ['+1', ' 1', '1 ', '01', '0x10', '1.0', '1e3', '', 'abc', '-0', '--1'];
const FLOATS = ['0.1', '1.5', '-0.25', '3e2', '2.5e-3', '1e308', '-1e308', '10.50', '.5', '5.', '0', '-0', '17', '1e-17', '3.0000000000000004'];
const NOT_FLOATS = ['inf', '-inf', '+inf', 'nan', '1e309', 'abc', '', ' 1', '1,5', '0x1p3'];
const TEXT = ['hello', '', 'a b c', 'ü', 'x'.repeat(40), 'line\r\nbreak', '{tag}', '*', 'OK'];

export function binary(rng: Prng): Buffer {
  return Buffer.from(Array.from({ length: rng.int(1, 12) }, () => rng.int(0, 255)));
}

/** A value for SET-like commands: mostly numbers (so INCR and friends have work), some text. */
export function value(rng: Prng): string | Buffer {
  const r = rng.next();
  if (r < 0.35) return rng.pick(SMALL_INTS);
  if (r < 0.45) return rng.pick(EDGE_INTS);
  if (r < 0.55) return rng.pick(FLOATS);
  if (r < 0.6) return rng.pick(NOT_INTS);
  if (r < 0.93) return rng.pick(TEXT);
  return binary(rng);
}

/** An INCRBY / DECRBY / HINCRBY amount. */
export function increment(rng: Prng): string {
  const r = rng.next();
  if (r < 0.6) return rng.pick(SMALL_INTS);
  if (r < 0.85) return rng.pick(EDGE_INTS);
  return rng.pick(NOT_INTS);
}

/** An INCRBYFLOAT / HINCRBYFLOAT amount. */
export function floatIncrement(rng: Prng): string {
  const r = rng.next();
  if (r < 0.55) return rng.pick(FLOATS);
  if (r < 0.75) return rng.pick(SMALL_INTS);
  if (r < 0.85) return rng.pick(EDGE_INTS);
  return rng.pick(NOT_FLOATS);
}

/** A non-negative count or offset, now and then a wrong one. */
export function index(rng: Prng, max: number): string {
  const r = rng.next();
  if (r < 0.7) return String(rng.int(0, max));
  if (r < 0.85) return String(-rng.int(1, max));
  if (r < 0.93) return rng.pick([INT64_MAX, INT64_MIN, '9223372036854775808']);
  return rng.pick(NOT_INTS);
}

/**
 * Clock readings for absolute expiry times. They are fixed when the scenario is generated, so the
 * same EXPIREAT reaches both servers; the runs happen together, so "now" differs only by the
 * time a pipeline takes.
 */
export interface Clock {
  nowSec: number;
  nowMs: number;
}

/** Relative seconds for EX / EXPIRE: long enough never to expire during a run, or at or below zero. */
export function seconds(rng: Prng): string {
  const r = rng.next();
  if (r < 0.7) return String(rng.int(100, 100000));
  if (r < 0.78) return rng.pick(['0', '-1', '-100']);
  if (r < 0.88) return rng.pick([INT64_MAX, '9223372036854775', '9223372036854776', INT64_MIN]);
  return rng.pick(NOT_INTS);
}

export function millis(rng: Prng): string {
  const r = rng.next();
  if (r < 0.7) return String(rng.int(100000, 100000000));
  if (r < 0.78) return rng.pick(['0', '-1', '-5000']);
  if (r < 0.88) return rng.pick([INT64_MAX, '9223372036854775807000', INT64_MIN]);
  return rng.pick(NOT_INTS);
}

/** Absolute Unix seconds: far in the future, or in the past (the key goes at once). */
export function unixSeconds(rng: Prng, clock: Clock): string {
  const r = rng.next();
  if (r < 0.65) return String(clock.nowSec + rng.int(1000, 1000000));
  if (r < 0.85) return String(rng.int(1, 1_000_000_000));
  if (r < 0.92) return rng.pick(['0', '-1']);
  return rng.pick([INT64_MAX, ...NOT_INTS]);
}

export function unixMillis(rng: Prng, clock: Clock): string {
  const r = rng.next();
  if (r < 0.65) return String(clock.nowMs + rng.int(1_000_000, 1_000_000_000));
  if (r < 0.85) return String(rng.int(1, 1_000_000_000_000));
  if (r < 0.92) return rng.pick(['0', '-1']);
  return rng.pick([INT64_MAX, ...NOT_INTS]);
}

/** Hash fields: few, so that HSET, HDEL and HINCRBY meet the same fields. */
export function field(rng: Prng): string {
  return rng.pick(['f1', 'f2', 'f3', 'f4', 'name', 'n']);
}
