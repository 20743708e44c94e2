/**
 * Goal: the pure anti-entropy decisions are right on their own: which records move which way
 * (newest wins, tombstones travel, dead records are not copied to replicas that dropped them),
 * which slots go first after a topology change and with which peer, and how work is batched,
 * scheduled and budgeted. Also the wire codecs and the config relation that keeps tombstones
 * longer than hints. Method: small hand-built inputs with the expected plan spelled out, real ring
 * topologies for membership changes.
 */
import { describe, expect, it } from 'vitest';
import {
  choosePeer,
  descentFor,
  differingSlots,
  expectedKeys,
  isDeadRecord,
  KeyBudget,
  MAX_PRIORITY_ATTEMPTS,
  packQueries,
  planExchange,
  RebalanceTracker,
  replicatedSlots,
  returnedPeerSlots,
  SlotScheduler,
  topologyChanges,
  type KeyVersion,
} from '../../src/cluster/anti-entropy-plan.js';
import {
  decodeBucketsResponse,
  decodeKeysResponse,
  decodeSlotsResponse,
  encodeCounts,
  encodeDigests,
  encodeKeyList,
  isKeysRequest,
  isSlotsRequest,
} from '../../src/cluster/anti-entropy-wire.js';
import { buildTopology } from '../../src/cluster/ring.js';
import { SLOT_COUNT } from '../../src/cluster/slot.js';
import { Config, ConfigError } from '../../src/core/config.js';
import { encodeVersion } from '../../src/core/version.js';
import { ValueType } from '../../src/storage/types.js';

const TAG = Buffer.from('0123456789abcdef', 'hex');
const ver = (wall: number): Buffer => encodeVersion(wall, 0, TAG);
const kv = (key: string, wall: number, dead = false): KeyVersion => ({ key: Buffer.from(key), version: ver(wall), dead });
const names = (keys: Buffer[]): string[] => keys.map((k) => k.toString()).sort();
const id = (c: string): string => c.repeat(40);

describe('planExchange', () => {
  it('pulls what only the peer has or has newer, pushes the reverse, leaves equal versions alone', () => {
    const plan = planExchange(
      [kv('same', 5), kv('ours-newer', 9), kv('only-ours', 3), kv('theirs-newer', 1)],
      [kv('same', 5), kv('ours-newer', 2), kv('only-theirs', 4), kv('theirs-newer', 8)],
    );
    expect(names(plan.pull)).toEqual(['only-theirs', 'theirs-newer']);
    expect(names(plan.push)).toEqual(['only-ours', 'ours-newer']);
    expect(plan.reap).toEqual([]);
  });

  it('moves tombstones like values, so a delete reaches a replica that missed it', () => {
    // A live tombstone is not dead: it travels to the replica holding the older value, and to one holding nothing.
    const plan = planExchange([kv('deleted', 10), kv('never-seen-there', 10)], [kv('deleted', 4)]);
    expect(names(plan.push)).toEqual(['deleted', 'never-seen-there']);
  });

  it('does not copy dead records to a replica without the key, and drops our own instead', () => {
    const plan = planExchange([kv('expired-here', 5, true)], [kv('expired-there', 5, true)]);
    expect(plan.pull).toEqual([]);
    expect(plan.push).toEqual([]);
    expect(names(plan.reap)).toEqual(['expired-here']);
  });

  it('a dead record newer than a live one still travels: it supersedes the older value', () => {
    const plan = planExchange([kv('a', 9, true), kv('b', 1)], [kv('a', 2), kv('b', 7, true)]);
    expect(names(plan.push)).toEqual(['a']);
    expect(names(plan.pull)).toEqual(['b']);
    expect(plan.reap).toEqual([]);
  });

  it('both dead with different versions: each side drops its own', () => {
    expect(names(planExchange([kv('a', 9, true)], [kv('a', 2, true)]).reap)).toEqual(['a']);
    expect(names(planExchange([kv('a', 2, true)], [kv('a', 9, true)]).reap)).toEqual(['a']);
  });

  it('a truncated peer list proves nothing about keys it does not show', () => {
    const plan = planExchange([kv('listed', 9), kv('not-listed', 9), kv('dead', 1, true)], [kv('listed', 1)], false);
    expect(names(plan.push)).toEqual(['listed']);
    expect(plan.reap).toEqual([]);
  });
});

describe('isDeadRecord', () => {
  const now = 1_700_000_000_000;
  it('expired values and tombstones past the grace are dead; the rest are not', () => {
    expect(isDeadRecord({ type: ValueType.String, expiresAt: now, version: ver(now - 10) }, now, 1000)).toBe(true);
    expect(isDeadRecord({ type: ValueType.String, expiresAt: now + 1, version: ver(now - 10) }, now, 1000)).toBe(false);
    expect(isDeadRecord({ type: ValueType.String, expiresAt: 0, version: ver(0) }, now, 1000)).toBe(false);
    expect(isDeadRecord({ type: ValueType.Tombstone, expiresAt: 0, version: ver(now - 1000) }, now, 1000)).toBe(true);
    expect(isDeadRecord({ type: ValueType.Tombstone, expiresAt: 0, version: ver(now - 999) }, now, 1000)).toBe(false);
  });
});

describe('slot comparison and batching', () => {
  it('differingSlots names the slots whose digests differ', () => {
    expect(differingSlots([3, 7, 9], [1n, 2n, 3n], [1n, 5n, 3n])).toEqual([7]);
    expect(() => differingSlots([1], [1n], [])).toThrow(RangeError);
  });

  it('small slots are listed at once, large ones compared by bucket first', () => {
    expect(descentFor(10, 64)).toBe('keys');
    expect(descentFor(65, 0)).toBe('buckets');
    expect(expectedKeys(100, 60, null, 64)).toBe(160);
    expect(expectedKeys(100, 60, 2, 64)).toBe(5);
  });

  it('packQueries keeps requests near the key limit and never splits a query', () => {
    const q = (slot: number, expected: number) => ({ slot, buckets: null, expected });
    const batches = packQueries([q(1, 3), q(2, 3), q(3, 3), q(4, 10), q(5, 1)], 6);
    expect(batches.map((b) => b.map((x) => x.slot))).toEqual([[1, 2], [3], [4], [5]]);
    expect(packQueries([], 6)).toEqual([]);
  });
});

describe('choosePeer', () => {
  const list = [id('a'), id('b'), id('c')];
  const allAlive = (): boolean => true;
  it('never picks itself, rotates among alive peers, skips dead ones', () => {
    const picks = new Set([0, 1, 2, 3].map((t) => choosePeer(list, id('a'), allAlive, t)));
    expect(picks).toEqual(new Set([id('b'), id('c')]));
    expect(choosePeer(list, id('a'), (x) => x !== id('b'), 0)).toBe(id('c'));
    expect(choosePeer(list, id('a'), (x) => x === id('a'), 0)).toBeUndefined();
  });
  it('prefers an alive preferred peer', () => {
    expect(choosePeer(list, id('a'), allAlive, 0, [id('c')])).toBe(id('c'));
    expect(choosePeer(list, id('a'), (x) => x !== id('c'), 1, [id('c')])).toBe(id('b'));
  });
});

/** Members of a three-node ring and of the same ring with a fourth node joined. */
const three = [{ id: id('a') }, { id: id('b') }, { id: id('c') }];
const four = [...three, { id: id('d') }];
const everyone = (): boolean => true;

describe('RebalanceTracker', () => {
  it('queues what a change moved, and reports the topology synced once every such slot was compared', () => {
    const before = buildTopology(three, { n: 3 });
    const after = buildTopology(four, { n: 3 });
    const scheduler = new SlotScheduler(0);
    const tracker = new RebalanceTracker(id('d'));
    tracker.start(before);
    // The topology it started with counts as seen: nothing to compare, nothing to report.
    expect(tracker.note(before, everyone, scheduler)).toEqual([]);
    expect(tracker.pending).toBe(0);
    const changes = tracker.note(after, everyone, scheduler);
    expect(changes.length).toBe(replicatedSlots(after, id('d')).length);
    expect(tracker.pending).toBe(changes.length);
    expect(tracker.progress(scheduler)).toBeUndefined();
    // A round compares some of them: still pending. Then the rest.
    const first = scheduler.next(10, () => true);
    for (const slot of first) scheduler.done(slot);
    expect(tracker.progress(scheduler)).toBeUndefined();
    expect(tracker.pending).toBe(changes.length - first.length);
    for (const slot of scheduler.next(SLOT_COUNT, () => true)) scheduler.done(slot);
    expect(tracker.progress(scheduler)).toBe(after);
    expect(tracker.pending).toBe(0);
  });

  it('keeps the slots of an unfinished change when another change comes', () => {
    const two = buildTopology(three.slice(0, 2), { n: 3 });
    const scheduler = new SlotScheduler(0);
    const tracker = new RebalanceTracker(id('a'));
    tracker.start(two);
    const firstChange = tracker.note(buildTopology(three, { n: 3 }), everyone, scheduler);
    expect(firstChange.length).toBeGreaterThan(0);
    const latest = buildTopology(four, { n: 3 });
    const secondChange = tracker.note(latest, everyone, scheduler);
    const expected = new Set([...firstChange, ...secondChange].map((c) => c.slot));
    expect(tracker.pending).toBe(expected.size);
    for (const slot of scheduler.next(SLOT_COUNT, () => true)) scheduler.done(slot);
    expect(tracker.progress(scheduler)).toBe(latest);
  });
});

describe('topologyChanges', () => {
  it('a joining node pulls from the owners that stay; every owner that stays pushes each slot to it', () => {
    const before = buildTopology(three, { n: 3 });
    const after = buildTopology(four, { n: 3 });
    const forD = topologyChanges(before, after, id('d'), everyone);
    const dSlots = replicatedSlots(after, id('d'));
    expect(forD.map((c) => c.slot)).toEqual(dSlots);
    // Checked in bulk: one expect per slot would dominate the test's run time.
    expect(forD.filter((c) => c.handoff || c.peers.length !== 2 || c.peers.includes(id('d')) || !c.peers.every((p) => before.preferenceList(c.slot).includes(p)))).toEqual([]);
    const pushes = new Uint8Array(SLOT_COUNT);
    for (const me of [id('a'), id('b'), id('c')]) {
      const changes = topologyChanges(before, after, me, everyone);
      expect(changes.filter((c) => c.handoff || c.peers.length !== 1 || c.peers[0] !== id('d') || !after.preferenceList(c.slot).includes(me))).toEqual([]);
      for (const c of changes) pushes[c.slot]!++;
    }
    // Both owners that stay (N = 3, one newcomer): a write acknowledged by one of them and by the
    // owner that left the list still reaches the new list twice.
    expect(dSlots.filter((s) => pushes[s] !== 2)).toEqual([]);
  });

  it('when an owner that stays is dead, the other one still pushes', () => {
    const before = buildTopology(three, { n: 3 });
    const after = buildTopology(four, { n: 3 });
    const dSlots = replicatedSlots(after, id('d'));
    const aliveButA = (x: string): boolean => x !== id('a');
    const pushes = new Uint8Array(SLOT_COUNT);
    for (const me of [id('b'), id('c')]) for (const c of topologyChanges(before, after, me, aliveButA)) pushes[c.slot]!++;
    expect(dSlots.filter((s) => pushes[s] < 1)).toEqual([]);
  });

  it('a node that started alone and then met the cluster compares all its slots with the others', () => {
    const alone = buildTopology([{ id: id('d') }], { n: 3 });
    const after = buildTopology(four, { n: 3 });
    const changes = topologyChanges(alone, after, id('d'), everyone);
    const owned = changes.filter((c) => !c.handoff);
    expect(owned.map((c) => c.slot)).toEqual(replicatedSlots(after, id('d')));
    expect(owned.filter((c) => c.peers.length !== 2 || c.peers.includes(id('d')))).toEqual([]);
    // The slots it held alone and no longer replicates are handed to their owners.
    expect(changes.length).toBe(SLOT_COUNT);
  });

  it('N = 1: the only holder of a moving slot hands it to the new owner', () => {
    const before = buildTopology(three, { n: 1 });
    const after = buildTopology(four, { n: 1 });
    const moved = topologyChanges(before, after, id('a'), everyone);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.filter((c) => !c.handoff || c.peers.length !== 1 || c.peers[0] !== id('d'))).toEqual([]);
  });

  it('no previous topology or the same one: nothing to prioritise', () => {
    const t = buildTopology(three, { n: 3 });
    expect(topologyChanges(undefined, t, id('a'), everyone)).toEqual([]);
    expect(topologyChanges(t, t, id('a'), everyone)).toEqual([]);
    expect(topologyChanges(t, buildTopology(three, { n: 3 }), id('a'), everyone)).toEqual([]);
  });
});

describe('returnedPeerSlots', () => {
  const all = Array.from({ length: SLOT_COUNT }, (_, s) => s);
  const everyone = (): boolean => true;

  it('queues the slots shared with a peer that came back, preferring it', () => {
    const t = buildTopology([{ id: id('a') }, { id: id('b') }, { id: id('c') }, { id: id('d') }], { n: 2 });
    const back = returnedPeerSlots(t, id('a'), [id('b'), id('a')], everyone);
    const shared = all.filter((s) => t.preferenceList(s).includes(id('a')) && t.preferenceList(s).includes(id('b')));
    expect(back.map((c) => c.slot)).toEqual(shared);
    expect(shared.length).toBeGreaterThan(0);
    expect(back.filter((c) => c.handoff || c.peers.length !== 1 || c.peers[0] !== id('b'))).toEqual([]);
    expect(returnedPeerSlots(t, id('a'), [id('a')], everyone)).toEqual([]);
  });

  it('exactly one of the replicas that stayed takes each slot on', () => {
    const t = buildTopology([{ id: id('a') }, { id: id('b') }, { id: id('c') }], { n: 3 });
    const count = new Uint8Array(SLOT_COUNT);
    for (const me of [id('a'), id('b')]) for (const c of returnedPeerSlots(t, me, [id('c')], everyone)) count[c.slot]!++;
    expect(all.filter((s) => count[s] !== 1)).toEqual([]);
    // The first replica in the list being dead, the next one takes over.
    const withoutA = returnedPeerSlots(t, id('b'), [id('c')], (x) => x !== id('a'));
    expect(withoutA.length).toBe(SLOT_COUNT);
  });
});

describe('SlotScheduler', () => {
  it('walks every wanted slot once per pass and reports the pass when the cursor wraps', () => {
    const s = new SlotScheduler(1000);
    const wanted = (slot: number): boolean => slot % 2 === 0;
    const seen: number[] = [];
    for (let round = 0; round < 10 && s.passes === 0; round++) {
      seen.push(...s.next(3000, wanted));
      s.roundFinished(1000 + (round + 1) * 100);
    }
    expect(seen).toEqual(Array.from({ length: SLOT_COUNT / 2 }, (_, i) => i * 2));
    expect(s.passes).toBe(1);
    expect(s.lastPassMs).toBe(300);
  });

  it('serves queued slots first, once each, and keeps hand-off slots it does not replicate', () => {
    const s = new SlotScheduler(0);
    s.prioritize(500, [id('d')]);
    s.prioritize(500);
    s.prioritize(7, [id('d')], true);
    s.prioritize(9);
    const owned = (slot: number): boolean => slot !== 7 && slot !== 9;
    expect(s.preference(7)).toEqual({ peers: [id('d')], handoff: true, attempts: 0 });
    expect(s.next(4, owned)).toEqual([500, 7, 0, 1]);
    expect(s.pending).toBe(0);
    s.done(7);
    expect(s.preference(7)).toBeUndefined();
    expect(s.preference(500)).toEqual({ peers: [id('d')], handoff: false, attempts: 0 });
  });

  it('a failed prioritised slot is retried a bounded number of times', () => {
    const s = new SlotScheduler(0);
    s.prioritize(42, [id('b')]);
    let tries = 0;
    for (;;) {
      const [slot] = s.next(1, () => true);
      if (slot !== 42) break;
      tries++;
      const p = s.preference(42)!;
      s.done(42);
      s.retry(42, p);
    }
    expect(tries).toBe(MAX_PRIORITY_ATTEMPTS);
    expect(s.pending).toBe(0);
  });
});

describe('KeyBudget', () => {
  it('refills at the rate up to one second of work and may go into debt', () => {
    const b = new KeyBudget(1000, 0);
    b.charge(1500);
    expect(b.available).toBe(-500);
    b.refill(250);
    expect(b.available).toBe(-250);
    b.refill(10_000);
    expect(b.available).toBe(1000);
    b.refill(10_000, 200);
    expect(b.available).toBe(200);
  });
});

describe('anti-entropy wire', () => {
  it('slot digests and counts round-trip', () => {
    const digests = [0n, 1n, 0xffffffffffffffffn];
    const r = decodeSlotsResponse({ d: encodeDigests(digests), c: encodeCounts([0, 5, 70000]) }, 3);
    expect(r).toEqual({ digests, counts: [0, 5, 70000] });
    expect(() => decodeSlotsResponse({ d: encodeDigests(digests), c: encodeCounts([1]) }, 3)).toThrow();
  });

  it('bucket digests must come in our bucket count', () => {
    const d = Buffer.concat([encodeDigests([1n, 2n]), encodeDigests([3n, 4n])]);
    expect(decodeBucketsResponse({ b: 2, d }, 2, 2)).toEqual([[1n, 2n], [3n, 4n]]);
    expect(() => decodeBucketsResponse({ b: 4, d }, 1, 2)).toThrow();
  });

  it('key lists round-trip with their dead flags and truncation', () => {
    const list = [kv('a', 1), kv('b', 2, true)];
    const [item] = decodeKeysResponse({ r: [encodeKeyList(list, true)] }, 1);
    expect(item!.complete).toBe(false);
    expect(item!.list).toEqual(list);
  });

  it('requests are checked', () => {
    expect(isSlotsRequest({ s: [0, 16383] })).toBe(true);
    expect(isSlotsRequest({ s: [16384] })).toBe(false);
    expect(isSlotsRequest({ s: 'x' })).toBe(false);
    expect(isKeysRequest({ q: [[1, null], [2, [0, 63]]] }, 64)).toBe(true);
    expect(isKeysRequest({ q: [[1, [64]]] }, 64)).toBe(false);
    expect(isKeysRequest({ q: [[1]] }, 64)).toBe(false);
  });
});

describe('config: tombstones outlive hints', () => {
  it('refuses tombstone-grace-ms <= hinted-handoff-window-ms, at start and at run time, naming the setting', () => {
    expect(() => new Config([['tombstone-grace-ms', '5000'], ['hinted-handoff-window-ms', '5000']])).toThrow(ConfigError);
    expect(() => new Config([['tombstone-grace-ms', '5000'], ['hinted-handoff-window-ms', '5000']])).toThrow(/'tombstone-grace-ms'.*hinted-handoff-window-ms/);
    // Order inside one source does not matter: the relation is checked once everything is applied.
    expect(new Config([['tombstone-grace-ms', '2000'], ['hinted-handoff-window-ms', '1000']]).int('tombstone-grace-ms')).toBe(2000);
    const c = new Config();
    expect(() => c.set('tombstone-grace-ms', String(c.int('hinted-handoff-window-ms')))).toThrow(/tombstone-grace-ms/);
    expect(() => c.set('hinted-handoff-window-ms', String(c.int('tombstone-grace-ms')))).toThrow(/tombstone-grace-ms/);
    expect(c.int('tombstone-grace-ms')).toBe(86_400_000);
  });
});
