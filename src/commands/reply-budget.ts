import { limitOf } from '../core/output-limits.js';
import { ReplyError } from '../core/errors.js';
import type { CommandContext } from './spec.js';

/**
 * How big one reply may grow while a command builds it. A reply sized by an argument rather than by
 * the data (SRANDMEMBER -999999999) or by a whole keyspace that may be larger than memory (KEYS *)
 * is weighed as it grows: past the client's hard output limit (or, with none set, REPLY_BYTES_MAX)
 * the client is closed with no reply, as Redis closes it mid-run, instead of the node running out
 * of memory.
 */
export const REPLY_BYTES_MAX = 256 * 1024 * 1024;

/** The command's reply outgrew what the client may be sent: the connection is closed, no reply. */
export class ReplyOverLimit extends ReplyError {
  constructor(readonly bytes: number) {
    super('ERR reply exceeds the client output buffer limit');
    this.name = 'ReplyOverLimit';
  }
}

/** Bytes the running command's reply may take: the client's hard output limit, capped. */
export function replyBudget(ctx: CommandContext): number {
  const hard = limitOf(ctx.node.outputLimits, ctx.session.subscriptions.active).hardBytes;
  return hard > 0 ? Math.min(hard, REPLY_BYTES_MAX) : REPLY_BYTES_MAX;
}
