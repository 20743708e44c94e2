import { globMatch } from '../commands/glob.js';

/** The three kinds of subscription Redis 7.0 has: channels, patterns, and shard channels. */
export type SubscriptionKind = 'channel' | 'pattern' | 'shard';

/** One subscriber a published message reaches, and through which pattern (pmessage) if any. */
export interface Recipient<S> {
  subscriber: S;
  pattern?: Buffer;
}

interface Entry<S> {
  name: Buffer;
  subscribers: Set<S>;
}

/**
 * Redis's stringmatchlen as pub/sub uses it: unlike KEYS and SCAN, which treat a lone `*` as
 * "everything", it never matches an empty channel name with a non-empty pattern (not even `*`).
 */
function patternMatches(pattern: Buffer, channel: Buffer): boolean {
  if (channel.length === 0) return pattern.length === 0;
  return globMatch(pattern, channel);
}

/** Names are binary; latin1 maps every byte to one char, so it is a lossless map key. */
function keyOf(name: Buffer): string {
  return name.toString('latin1');
}

/**
 * Who is subscribed to what, on one node: the node-wide side of Redis's pubsub dictionaries. Pure
 * bookkeeping (no sockets): subscribe and unsubscribe answer whether anything changed, and
 * `recipients` lists who a message reaches. A publish costs one map lookup plus one glob match per
 * distinct pattern, as in Redis; memory grows only with live subscriptions, which are dropped when
 * their connection ends.
 */
export class SubscriptionRegistry<S> {
  private readonly byKind: Record<SubscriptionKind, Map<string, Entry<S>>> = {
    channel: new Map(),
    pattern: new Map(),
    shard: new Map(),
  };

  /** Adds `subscriber` to `name`; false when it was already subscribed. */
  add(kind: SubscriptionKind, name: Buffer, subscriber: S): boolean {
    const map = this.byKind[kind];
    const key = keyOf(name);
    let entry = map.get(key);
    if (entry === undefined) {
      entry = { name: Buffer.from(name), subscribers: new Set() };
      map.set(key, entry);
    }
    if (entry.subscribers.has(subscriber)) return false;
    entry.subscribers.add(subscriber);
    return true;
  }

  /** Removes `subscriber` from `name`; false when it was not subscribed. Empty names are forgotten. */
  remove(kind: SubscriptionKind, name: Buffer, subscriber: S): boolean {
    const map = this.byKind[kind];
    const key = keyOf(name);
    const entry = map.get(key);
    if (entry === undefined || !entry.subscribers.delete(subscriber)) return false;
    if (entry.subscribers.size === 0) map.delete(key);
    return true;
  }

  /**
   * Everyone a PUBLISH on `channel` reaches: the channel's subscribers, then one recipient per
   * matching pattern and subscriber of it (a client subscribed to the channel and to two matching
   * patterns gets three messages and counts three times, as in Redis).
   */
  recipients(channel: Buffer): Array<Recipient<S>> {
    const out: Array<Recipient<S>> = [];
    const direct = this.byKind.channel.get(keyOf(channel));
    if (direct !== undefined) for (const subscriber of direct.subscribers) out.push({ subscriber });
    for (const entry of this.byKind.pattern.values()) {
      if (!patternMatches(entry.name, channel)) continue;
      for (const subscriber of entry.subscribers) out.push({ subscriber, pattern: entry.name });
    }
    return out;
  }

  /** The subscribers of a shard channel (SPUBLISH: shard channels have no patterns). */
  shardRecipients(channel: Buffer): S[] {
    const entry = this.byKind.shard.get(keyOf(channel));
    return entry === undefined ? [] : [...entry.subscribers];
  }

  /** Subscribers of one channel or shard channel, patterns excluded (PUBSUB NUMSUB / SHARDNUMSUB). */
  count(kind: SubscriptionKind, name: Buffer): number {
    return this.byKind[kind].get(keyOf(name))?.subscribers.size ?? 0;
  }

  /** Names with at least one subscriber, optionally only those matching a glob (PUBSUB CHANNELS). */
  names(kind: SubscriptionKind, pattern?: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (const entry of this.byKind[kind].values()) if (pattern === undefined || patternMatches(pattern, entry.name)) out.push(entry.name);
    return out;
  }

  /** Distinct names with subscribers (PUBSUB NUMPAT, INFO pubsub_channels). */
  size(kind: SubscriptionKind): number {
    return this.byKind[kind].size;
  }
}
