/**
 * Goal: the pure pub/sub pieces behave as Redis 7.0: who a PUBLISH reaches (channel subscribers,
 * one delivery per matching pattern), names and counts for PUBSUB, the canonical forms of
 * notify-keyspace-events and client-output-buffer-limit, and when a slow client must be closed.
 * Method: direct calls with small inputs, checked against the answers redis-server 7.0 gives.
 */
import { describe, expect, it } from 'vitest';
import { SubscriptionRegistry } from '../../src/pubsub/subscription-registry.js';
import { PubSubHub, type Subscriber } from '../../src/pubsub/pubsub-hub.js';
import { ClientSubscriptions } from '../../src/pubsub/client-subscriptions.js';
import { formatNotifyFlags, parseNotifyFlags, NOTIFY } from '../../src/core/notify-flags.js';
import { formatOutputLimits, outputLimitVerdict, parseOutputLimits, DEFAULT_OUTPUT_LIMITS } from '../../src/core/output-limits.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('subscription registry', () => {
  it('reaches channel subscribers, and each subscriber once per matching pattern', () => {
    const r = new SubscriptionRegistry<string>();
    expect(r.add('channel', b('news'), 'A')).toBe(true);
    expect(r.add('channel', b('news'), 'A')).toBe(false);
    r.add('pattern', b('n*'), 'A');
    r.add('pattern', b('ne?s'), 'A');
    r.add('pattern', b('x*'), 'B');
    r.add('pattern', b('n*'), 'B');
    const got = r.recipients(b('news')).map((x) => `${x.subscriber}:${x.pattern?.toString() ?? '-'}`).sort();
    expect(got).toEqual(['A:-', 'A:n*', 'A:ne?s', 'B:n*']);
    expect(r.recipients(b('other'))).toEqual([]);
    expect(r.count('channel', b('news'))).toBe(1);
    expect(r.size('pattern')).toBe(3);
  });

  it('forgets names whose last subscriber left, and lists names by glob', () => {
    const r = new SubscriptionRegistry<number>();
    r.add('channel', b('a1'), 1);
    r.add('channel', b('a2'), 1);
    r.add('channel', b('b1'), 2);
    expect(r.names('channel', b('a*')).map(String).sort()).toEqual(['a1', 'a2']);
    expect(r.remove('channel', b('a1'), 1)).toBe(true);
    expect(r.remove('channel', b('a1'), 1)).toBe(false);
    expect(r.names('channel').map(String).sort()).toEqual(['a2', 'b1']);
    expect(r.size('channel')).toBe(2);
  });

  it('keeps binary names apart (bytes, not text)', () => {
    const r = new SubscriptionRegistry<number>();
    r.add('shard', Buffer.from([0xff, 0x00]), 1);
    r.add('shard', Buffer.from([0xc3, 0xbf, 0x00]), 2);
    expect(r.shardRecipients(Buffer.from([0xff, 0x00]))).toEqual([1]);
    expect(r.shardRecipients(Buffer.from([0xc3, 0xbf, 0x00]))).toEqual([2]);
  });

  it('glob patterns as Redis: classes, negation, escapes', () => {
    const r = new SubscriptionRegistry<string>();
    r.add('pattern', b('h[ae]llo'), 'class');
    r.add('pattern', b('h[^e]llo'), 'neg');
    r.add('pattern', b('h\\*llo'), 'esc');
    const who = (ch: string): string[] => r.recipients(b(ch)).map((x) => x.subscriber).sort();
    expect(who('hello')).toEqual(['class']);
    expect(who('hallo')).toEqual(['class', 'neg']);
    expect(who('h*llo')).toEqual(['esc', 'neg']);
  });

  it('an empty channel name matches no pattern but the empty one, as Redis\'s stringmatchlen', () => {
    const r = new SubscriptionRegistry<string>();
    r.add('pattern', b('*'), 'star');
    r.add('pattern', b(''), 'empty');
    r.add('channel', b(''), 'direct');
    expect(r.recipients(b('')).map((x) => x.subscriber).sort()).toEqual(['direct', 'empty']);
    expect(r.names('channel', b('*'))).toEqual([]);
  });
});

describe('pub/sub hub', () => {
  const subscriber = (proto: 2 | 3): Subscriber & { frames: string[] } => {
    const frames: string[] = [];
    return { proto, subscriptions: new ClientSubscriptions(), frames, deliver: (f) => frames.push(f.toString('latin1')) };
  };

  it('encodes message and pmessage per protocol and counts deliveries', () => {
    const hub = new PubSubHub();
    const a = subscriber(2);
    const c = subscriber(3);
    hub.subscribe(a, 'channel', b('ch'));
    hub.subscribe(c, 'pattern', b('c*'));
    expect(hub.publish(b('ch'), b('hi'))).toBe(2);
    expect(a.frames).toEqual(['*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n']);
    expect(c.frames).toEqual(['>4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n']);
    hub.dropAll(a);
    hub.dropAll(c);
    expect(hub.publish(b('ch'), b('hi'))).toBe(0);
    expect(a.subscriptions.active || c.subscriptions.active).toBe(false);
  });

  it('tells shard subscribers when their slot leaves the node', () => {
    const hub = new PubSubHub();
    const a = subscriber(2);
    hub.subscribe(a, 'shard', b('s1'));
    hub.subscribe(a, 'shard', b('s2'));
    expect(hub.dropShardChannels((ch) => ch.toString() === 's2')).toBe(1);
    expect(a.frames).toEqual(['*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:1\r\n']);
    expect(hub.spublish(b('s1'), b('x'))).toBe(0);
    expect(hub.spublish(b('s2'), b('x'))).toBe(1);
  });
});

describe('notify-keyspace-events', () => {
  it.each([
    ['KEA', 'AKE'], ['KEAnm', 'AKEm'], ['Kg$lshzxetdnm', 'AKm'], ['E', 'E'], ['', ''], ['Elx', 'lxE'], ['Kn', 'nK'], ['$gK', 'g$K'],
  ])('%s is shown as %s', (given, shown) => {
    expect(formatNotifyFlags(parseNotifyFlags(given))).toBe(shown);
  });

  it('refuses an unknown letter with Redis\'s reason', () => {
    expect(() => parseNotifyFlags('KQ')).toThrow("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  });

  it('A leaves out key-miss and new-key events', () => {
    const f = parseNotifyFlags('A');
    expect(f & NOTIFY.keyMiss).toBe(0);
    expect(f & NOTIFY.newKey).toBe(0);
    expect(f & NOTIFY.expired).not.toBe(0);
  });
});

describe('client-output-buffer-limit', () => {
  it('changes only the classes given and shows every class in bytes', () => {
    const base = parseOutputLimits(DEFAULT_OUTPUT_LIMITS);
    expect(formatOutputLimits(base)).toBe('normal 268435456 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
    expect(formatOutputLimits(parseOutputLimits('pubsub 1mb 0 0', base))).toBe('normal 268435456 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0');
    expect(formatOutputLimits(parseOutputLimits('replica 1k 2k 3 normal 0 0 0', base))).toBe('normal 0 0 0 slave 1000 2000 3 pubsub 33554432 8388608 60');
  });

  it.each([
    ['pubsub 1mb 0', 'Wrong number of arguments in buffer limit configuration.'],
    ['foo 1mb 0 0', 'Invalid client class specified in buffer limit configuration.'],
    ['pubsub 1xb 0 0', 'Error in hard, soft or soft_seconds setting in buffer limit configuration.'],
  ])('%s is refused', (text, reason) => {
    expect(() => parseOutputLimits(text)).toThrow(reason);
  });

  it('closes over the hard limit at once, over the soft limit only after its seconds', () => {
    const limit = { hardBytes: 1000, softBytes: 100, softSeconds: 2 };
    expect(outputLimitVerdict(limit, 1000, undefined, 0).close).toBe(true);
    const first = outputLimitVerdict(limit, 200, undefined, 10_000);
    expect(first).toEqual({ close: false, overSoftSince: 10_000 });
    expect(outputLimitVerdict(limit, 200, first.overSoftSince, 12_000).close).toBe(false);
    expect(outputLimitVerdict(limit, 200, first.overSoftSince, 12_001).close).toBe(true);
    expect(outputLimitVerdict(limit, 50, first.overSoftSince, 20_000)).toEqual({ close: false, overSoftSince: undefined });
    expect(outputLimitVerdict({ hardBytes: 0, softBytes: 0, softSeconds: 0 }, 1e12, undefined, 0).close).toBe(false);
  });
});
