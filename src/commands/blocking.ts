import { ERR, ReplyError } from '../core/errors.js';
import type { CommandContext } from './spec.js';
import { parseLongDouble } from './long-double.js';

const INT64_MAX = 2n ** 63n - 1n;

/**
 * A blocking command's timeout in seconds (a long double) to milliseconds, 0 = wait forever, with
 * Redis 7.0's errors. As Redis computes it: (long long)ceill(seconds * 1000.0L), so any positive
 * value waits at least 1 ms, a negative one above -1 ms is 0 (forever), and what overflows the
 * cast (inf, 1e400, 2^63 ms or more) comes out negative. A finite value of any size is taken: past
 * Node's timer range the timer is re-armed (blocked-clients.ts).
 */
export function parseBlockTimeout(arg: Buffer): number {
  const v = parseLongDouble(arg);
  if (v === undefined) throw new ReplyError('ERR timeout is not a float or out of range');
  if (!v.finite) throw new ReplyError('ERR timeout is negative');
  const [product, exp] = roundTo64Bits(v.significand * 1000n, v.exp);
  let ms = exp >= 0 ? product << BigInt(exp) : product >> BigInt(-exp);
  // ceil: up for a positive fraction, towards zero for a negative one.
  if (!v.negative && exp < 0 && ms << BigInt(-exp) !== product) ms++;
  if (v.negative) {
    if (ms > 0n) throw new ReplyError('ERR timeout is negative');
    return 0;
  }
  if (ms > INT64_MAX) throw new ReplyError('ERR timeout is negative');
  return Number(ms);
}

/** x * 2^exp rounded to a 64-bit significand, ties to even: a long double multiplication's result. */
function roundTo64Bits(x: bigint, exp: number): [bigint, number] {
  const extra = x.toString(2).length - 64;
  if (extra <= 0) return [x, exp];
  const shift = BigInt(extra);
  let q = x >> shift;
  const rest = x - (q << shift);
  const half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (q & 1n) === 1n)) q++;
  return [q, exp + extra];
}

/**
 * A blocking command found nothing to serve. True when the client is to wait: the command then
 * writes no reply (the blocked-clients registry answers later). False inside MULTI, scripts and
 * relayed sessions, where the command answers as its non-blocking form would.
 */
export function blockOn(ctx: CommandContext, keys: Buffer[], timeoutMs: number): boolean {
  const attempt = ctx.session.blockAttempt;
  if (attempt === undefined) return false;
  attempt.wait = { keys, timeoutMs };
  return true;
}

/** Whether this run is a try after a wake-up, where a key of another type counts as empty. */
export function isRetry(ctx: CommandContext): boolean {
  return ctx.session.blockAttempt?.retry === true;
}

/** Opens a key for a blocking pop: on a retry a WRONGTYPE key reads as empty instead of failing. */
export function openForBlockingPop<T>(ctx: CommandContext, open: () => T | undefined): T | undefined {
  if (!isRetry(ctx)) return open();
  try {
    return open();
  } catch (err) {
    if (err instanceof ReplyError && err.message === ERR.wrongType) return undefined;
    throw err;
  }
}
