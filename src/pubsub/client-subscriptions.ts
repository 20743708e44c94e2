import type { SubscriptionKind } from './subscription-registry.js';

/**
 * What one connection is subscribed to, in subscription order (UNSUBSCRIBE without arguments
 * answers one reply per channel in this order). Names are kept as latin1 strings of their bytes.
 */
export class ClientSubscriptions {
  readonly channel = new Set<string>();
  readonly pattern = new Set<string>();
  readonly shard = new Set<string>();

  of(kind: SubscriptionKind): Set<string> {
    return kind === 'channel' ? this.channel : kind === 'pattern' ? this.pattern : this.shard;
  }

  /** The count SUBSCRIBE and PSUBSCRIBE replies carry: channels plus patterns (Redis 7.0). */
  get classic(): number {
    return this.channel.size + this.pattern.size;
  }

  /** Anything at all: the connection is in subscribed mode (CLIENT LIST flag P, pubsub output class). */
  get active(): boolean {
    return this.channel.size + this.pattern.size + this.shard.size > 0;
  }
}
