import type { Protocol } from '../protocol/types.js';
import type { ClientSubscriptions } from './client-subscriptions.js';
import { encodeFrame, FrameCache } from './messages.js';
import { SubscriptionRegistry, type SubscriptionKind } from './subscription-registry.js';

/** A connection as pub/sub sees it: its protocol, its subscriptions, and a way to hand it a frame. */
export interface Subscriber {
  readonly proto: Protocol;
  readonly subscriptions: ClientSubscriptions;
  /** Queues an out-of-band frame (already encoded for `proto`); never between the bytes of a reply. */
  deliver(frame: Buffer): void;
}

/**
 * The node's pub/sub: who listens to what (SubscriptionRegistry) and the delivery of messages to
 * this node's connections. Delivery is at most once and nothing is stored: a message reaches the
 * subscribers connected when it is published, and is gone.
 */
export class PubSubHub {
  readonly registry = new SubscriptionRegistry<Subscriber>();
  /** Messages delivered to local subscribers (one per recipient). */
  delivered = 0;

  /** Subscribes; false when the connection already was. */
  subscribe(sub: Subscriber, kind: SubscriptionKind, name: Buffer): boolean {
    if (!this.registry.add(kind, name, sub)) return false;
    sub.subscriptions.of(kind).add(name.toString('latin1'));
    return true;
  }

  /** Unsubscribes; false when the connection was not subscribed. */
  unsubscribe(sub: Subscriber, kind: SubscriptionKind, name: Buffer): boolean {
    if (!this.registry.remove(kind, name, sub)) return false;
    sub.subscriptions.of(kind).delete(name.toString('latin1'));
    return true;
  }

  /** Drops every subscription of a connection without telling it (RESET, connection closed). */
  dropAll(sub: Subscriber): void {
    for (const kind of ['channel', 'pattern', 'shard'] as const) {
      for (const name of [...sub.subscriptions.of(kind)]) this.unsubscribe(sub, kind, Buffer.from(name, 'latin1'));
    }
  }

  /** PUBLISH here: `message` to the channel's subscribers and `pmessage` per matching pattern; how many got it. */
  publish(channel: Buffer, message: Buffer): number {
    const recipients = this.registry.recipients(channel);
    if (recipients.length === 0) return 0;
    const plain = new FrameCache(['message', channel, message]);
    const byPattern = new Map<Buffer, FrameCache>();
    for (const r of recipients) {
      if (r.pattern === undefined) {
        r.subscriber.deliver(plain.for(r.subscriber.proto));
        continue;
      }
      let frame = byPattern.get(r.pattern);
      if (frame === undefined) byPattern.set(r.pattern, (frame = new FrameCache(['pmessage', r.pattern, channel, message])));
      r.subscriber.deliver(frame.for(r.subscriber.proto));
    }
    this.delivered += recipients.length;
    return recipients.length;
  }

  /** SPUBLISH here: `smessage` to the shard channel's subscribers; how many got it. */
  spublish(channel: Buffer, message: Buffer): number {
    const recipients = this.registry.shardRecipients(channel);
    if (recipients.length === 0) return 0;
    const frame = new FrameCache(['smessage', channel, message]);
    for (const sub of recipients) sub.deliver(frame.for(sub.proto));
    this.delivered += recipients.length;
    return recipients.length;
  }

  /**
   * Shard channels whose slot this node no longer serves: each subscriber is unsubscribed and told
   * with a `sunsubscribe` frame, as Redis 7 does when a slot leaves a shard. Returns how many
   * subscriptions ended.
   */
  dropShardChannels(stillServed: (channel: Buffer) => boolean): number {
    let dropped = 0;
    for (const channel of this.registry.names('shard')) {
      if (stillServed(channel)) continue;
      for (const sub of this.registry.shardRecipients(channel)) {
        this.unsubscribe(sub, 'shard', channel);
        sub.deliver(encodeFrame(sub.proto, ['sunsubscribe', channel, sub.subscriptions.shard.size]));
        dropped++;
      }
    }
    return dropped;
  }
}
