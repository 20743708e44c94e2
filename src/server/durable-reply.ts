import type { DeferredReply } from './connection.js';

/** The reply to a write whose commit-log write or fdatasync failed (it is in memory, not on disk). */
export const NOT_DURABLE_ERROR = 'ERR write could not be made durable';

/**
 * Sends a deferred reply whose command wrote once the writes are durable, or NOT_DURABLE_ERROR in
 * its place when they cannot be. False when nothing was pending: the caller answers at once.
 */
export function replyWhenDurable(awaitDurable: (cb: (err?: Error) => void) => boolean, reply: DeferredReply): boolean {
  return awaitDurable((err) => {
    if (err) {
      reply.out.truncate(0);
      reply.out.error(NOT_DURABLE_ERROR);
    }
    reply.done();
  });
}
