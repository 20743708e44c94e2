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
