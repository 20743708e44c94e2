import { ERR, ReplyError } from '../core/errors.js';
import type { CommandContext } from './spec.js';
import { parseLongDouble } from './long-double.js';

const INT64_MAX = 2 ** 63 - 1;

/**
 * A blocking command's timeout in seconds (a double) to milliseconds, 0 = wait forever, with
 * Redis 7.0's errors. As Redis computes it: (long long)(seconds * 1000), so values below 1 ms
 * are 0 (forever), and what overflows that cast (inf, 1e400) comes out negative.
 */
export function parseBlockTimeout(arg: Buffer, nowMs: number): number {
  const v = parseLongDouble(arg);
  if (v === undefined) throw new ReplyError('ERR timeout is not a float or out of range');
  if (!v.finite) throw new ReplyError('ERR timeout is negative');
  const seconds = Number(v.significand) * 2 ** v.exp * (v.negative ? -1 : 1);
  const ms = Math.trunc(seconds * 1000);
  if (ms < 0 || ms >= INT64_MAX) throw new ReplyError('ERR timeout is negative');
  if (ms > INT64_MAX - nowMs) throw new ReplyError('ERR timeout is out of range');
  return ms === 0 ? 0 : ms;
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
