import { ERR, ReplyError } from '../core/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { ZEntry, ZSetLimits } from '../collections/zset-type.js';
import type { CommandContext } from './spec.js';
import { int64Arg } from './args.js';
import { formatScore } from './score-text.js';

/** Redis's addReplyDouble in 7.0: `%.17g` text, a RESP3 double or a RESP2 bulk. */
export function writeScore(out: ReplyWriter, score: number): void {
  const text = formatScore(score);
  if (out.proto === 3) out.raw(Buffer.from(`,${text}\r\n`, 'latin1'));
  else out.bulk(text);
}

/**
 * Members, with their scores when asked: RESP2 one flat array, RESP3 an array of [member, score]
 * pairs (Redis cannot use a map: the order matters).
 */
export function writeEntries(out: ReplyWriter, entries: readonly ZEntry[], withScores: boolean): void {
  if (!withScores) {
    out.arrayHeader(entries.length);
    for (const [m] of entries) out.bulk(m);
    return;
  }
  const nested = out.proto === 3;
  out.arrayHeader(nested ? entries.length : entries.length * 2);
  for (const [m, s] of entries) {
    if (nested) out.arrayHeader(2);
    out.bulk(m);
    writeScore(out, s);
  }
}

export function zsetLimits(ctx: CommandContext): ZSetLimits {
  return { entries: ctx.node.config.int('zset-max-listpack-entries'), value: ctx.node.config.int('zset-max-listpack-value') };
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Redis's getLongFromObjectOrReply, clamped to JS's safe integers: every index and count beyond
 * them means "past the end" to the commands that take one, as it does in Redis.
 */
export function longArg(buf: Buffer, error: string = ERR.notInteger): number {
  const v = int64Arg(buf, error);
  return Number(v > SAFE ? SAFE : v < -SAFE ? -SAFE : v);
}

/** getPositiveLongFromObjectOrReply: an integer >= 0; anything else answers `message`. */
export function positiveLongArg(buf: Buffer, message = 'value is out of range, must be positive'): number {
  const v = longArg(buf, `ERR ${message}`);
  if (v < 0) throw new ReplyError(`ERR ${message}`);
  return v;
}

/** Ascending (score, member bytes): the order of Redis's skiplist, -0 equal to 0. */
export function compareEntries(a: ZEntry, b: ZEntry): number {
  if (a[1] < b[1]) return -1;
  if (a[1] > b[1]) return 1;
  return Buffer.compare(a[0], b[0]);
}
