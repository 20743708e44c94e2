import { ReplyOverLimit, replyBudget } from './reply-budget.js';
import type { CommandContext } from './spec.js';

/**
 * SRANDMEMBER, HRANDFIELD and ZRANDMEMBER with a negative count: that many picks, repeats allowed,
 * from any collection, so the count alone sets the reply's size (-999999999 of a one-field hash is
 * 7 GB). The picks are made and written a chunk at a time, within the reply budget (reply-budget.ts).
 */
const PICK_CHUNK = 1024;

/** Writes `total` picks made by `pick(n)` (n at a time) with `write`, within the client's reply budget. */
export function writeRepeatedPicks<T>(ctx: CommandContext, total: number, pick: (n: number) => readonly T[], write: (item: T) => void): void {
  const budget = replyBudget(ctx);
  const start = ctx.out.length;
  for (let done = 0; done < total;) {
    const n = Math.min(PICK_CHUNK, total - done);
    for (const item of pick(n)) write(item);
    done += n;
    const size = ctx.out.length - start;
    if (size > budget) throw new ReplyOverLimit(size);
  }
}

/**
 * writeRepeatedPicks where each pick may come with a second value (HRANDFIELD WITHVALUES,
 * ZRANDMEMBER WITHSCORES): one flat array in RESP2, an array of pairs in RESP3, as Redis answers.
 */
export function writeRepeatedPairs<T>(ctx: CommandContext, total: number, withSecond: boolean, pick: (n: number) => readonly T[], first: (item: T) => void, second: (item: T) => void): void {
  const { out } = ctx;
  const nested = withSecond && out.proto === 3;
  out.arrayHeader(withSecond && !nested ? total * 2 : total);
  writeRepeatedPicks(ctx, total, pick, (item) => {
    if (nested) out.arrayHeader(2);
    first(item);
    if (withSecond) second(item);
  });
}
