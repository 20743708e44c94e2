import { parseOutputLimits } from '../core/output-limits.js';
import { ReplyError } from '../core/errors.js';
import type { CommandContext } from './spec.js';

/**
 * SRANDMEMBER, HRANDFIELD and ZRANDMEMBER with a negative count: that many picks, repeats allowed,
 * from any collection, so the count alone sets the reply's size (-999999999 of a one-field hash is
 * 7 GB). The picks are made and written a chunk at a time, and the reply is weighed as it grows:
 * past the client's hard output limit (or, with none set, REPLY_BYTES_MAX) the client is closed,
 * as Redis closes it mid-run, instead of the node running out of memory.
 */
const PICK_CHUNK = 1024;
/** The largest reply written when the client's class has no hard output limit. */
const REPLY_BYTES_MAX = 256 * 1024 * 1024;

/** The command's reply outgrew what the client may be sent: the connection is closed, no reply. */
export class ReplyOverLimit extends ReplyError {
  constructor(readonly bytes: number) {
    super('ERR reply exceeds the client output buffer limit');
    this.name = 'ReplyOverLimit';
  }
}

function replyBudget(ctx: CommandContext): number {
  const limits = parseOutputLimits(ctx.node.config.str('client-output-buffer-limit'));
  const hard = (ctx.session.subscriptions.active ? limits.pubsub : limits.normal).hardBytes;
  return hard > 0 ? Math.min(hard, REPLY_BYTES_MAX) : REPLY_BYTES_MAX;
}

/** Writes `total` picks made by `pick(n)` (n at a time) with `write`, within the client's output budget. */
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
