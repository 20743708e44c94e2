import { compareVersions } from '../core/version.js';
import { ValueType, type StoredRecord } from '../storage/types.js';
import { tombstoneMs } from '../storage/tombstone-time.js';
import type { Topology } from './ring.js';
import { SLOT_COUNT } from './slot.js';

/**
 * Anti-entropy decisions, free of I/O: which slots to compare next and with whom, how deep to
 * descend, and which records to move once two replicas' (key, version) lists are side by side.
 * The shell (anti-entropy.ts) feeds in digests, lists, liveness and time and carries out the plans.
 */

/** One key as a replica lists it for comparison. */
export interface KeyVersion {
  key: Buffer;
  version: Buffer;
  /**
   * Past its TTL, or a tombstone older than the grace period: the holder may drop it at any time
   * (active expiry, purge), so its absence elsewhere is no divergence worth repairing.
   */
  dead: boolean;
}

export interface ExchangePlan {
  /** Keys whose newer record the peer holds. */
  pull: Buffer[];
  /** Keys whose newer record we hold. */
  push: Buffer[];
  /** Dead records of ours to drop locally now instead of copying them around. */
  reap: Buffer[];
}

/**
 * A record every replica may drop on its own: expired (all replicas hold the same absolute expiry),
 * or a tombstone past `graceMs` (the store purges those).
 */
export function isDeadRecord(rec: Pick<StoredRecord, 'type' | 'expiresAt' | 'version'>, now: number, graceMs: number): boolean {
  if (rec.type === ValueType.Tombstone) return tombstoneMs(rec) <= now - graceMs;
  return rec.expiresAt !== 0 && rec.expiresAt <= now;
}

/**
 * What to move between us and a peer for one set of buckets, given both sides' lists.
 *
 * Newer wins, tombstones included: a tombstone travels like a value, so a replica that missed a
 * delete gets it, and a replica holding an older value is overwritten rather than resurrecting it.
 * Dead records are the exception when the other side has nothing (or something dead too): copying an
 * expired value or a purgeable tombstone to a replica that already dropped it would only make it
 * drop it again, so the holder drops its own copy instead. A dead record that is newer than a live
 * one on the other side still travels: it supersedes that older value.
 *
 * `theirsComplete` false (the peer cut its list short): a key missing from their list proves
 * nothing, so only keys both sides listed are compared.
 */
export function planExchange(ours: readonly KeyVersion[], theirs: readonly KeyVersion[], theirsComplete = true): ExchangePlan {
  const plan: ExchangePlan = { pull: [], push: [], reap: [] };
  const mine = new Map<string, KeyVersion>();
  for (const o of ours) mine.set(o.key.toString('latin1'), o);
  const seen = new Set<string>();
  for (const t of theirs) {
    const id = t.key.toString('latin1');
    seen.add(id);
    const o = mine.get(id);
    if (o === undefined) {
      if (!t.dead) plan.pull.push(t.key);
      continue;
    }
    const order = compareVersions(o.version, t.version);
    if (order === 0) continue;
    const [newer, older] = order > 0 ? [o, t] : [t, o];
    if (newer.dead && older.dead) {
      if (o.dead) plan.reap.push(o.key);
    } else if (order > 0) plan.push.push(o.key);
    else plan.pull.push(t.key);
  }
  if (!theirsComplete) return plan;
  for (const o of ours) {
    if (seen.has(o.key.toString('latin1'))) continue;
    if (o.dead) plan.reap.push(o.key);
    else plan.push.push(o.key);
  }
  return plan;
}

/** Slots whose digests differ; `ours` and `theirs` are aligned with `slots`. */
export function differingSlots(slots: readonly number[], ours: readonly bigint[], theirs: readonly bigint[]): number[] {
  if (ours.length !== slots.length || theirs.length !== slots.length) throw new RangeError('digest lists must match the slot list');
  const out: number[] = [];
  for (let i = 0; i < slots.length; i++) if (ours[i] !== theirs[i]) out.push(slots[i]!);
  return out;
}

/**
 * Slots this small are listed whole: one round trip for up to this many (key, version) pairs beats
 * two (bucket digests, then keys) when most buckets would differ anyway.
 */
export const SMALL_SLOT_KEYS = 64;

export type Descent = 'keys' | 'buckets';

/** Whether to list a differing slot's keys at once or compare its bucket digests first. */
export function descentFor(ourEntries: number, theirEntries: number, small = SMALL_SLOT_KEYS): Descent {
  return Math.max(ourEntries, theirEntries) <= small ? 'keys' : 'buckets';
}

/** One slot's key listing to ask for: every bucket (null) or only these, or deeper leaves. */
export interface KeyQuery {
  slot: number;
  buckets: number[] | null;
  /** Leaves of the deeper digests (merkle-deep.ts) instead of buckets. */
  paths?: ReadonlyArray<readonly number[]>;
  /** Estimated keys both sides will list, for batching and budgeting. */
  expected: number;
}

/** Estimated keys both replicas list for `buckets` of a slot (of `total` buckets). */
export function expectedKeys(ourEntries: number, theirEntries: number, buckets: number | null, total: number): number {
  const all = ourEntries + theirEntries;
  return buckets === null ? all : Math.ceil((all * buckets) / total);
}

/** Splits queries into requests of about `maxKeys` expected keys each (at least one query per request). */
export function packQueries(queries: readonly KeyQuery[], maxKeys: number): KeyQuery[][] {
  const batches: KeyQuery[][] = [];
  let batch: KeyQuery[] = [];
  let keys = 0;
  for (const q of queries) {
    if (batch.length > 0 && keys + q.expected > maxKeys) {
      batches.push(batch);
      batch = [];
      keys = 0;
    }
    batch.push(q);
    keys += q.expected;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * The replica to compare a slot with. `preferred` (after a topology change: the members that need
 * the data, or that have it) wins when one is alive; otherwise the alive peers take turns, `turn`
 * rotating the choice between passes so every pair of replicas is compared over time.
 */
export function choosePeer(
  list: readonly string[],
  myId: string,
  alive: (id: string) => boolean,
  turn: number,
  preferred?: readonly string[],
): string | undefined {
  if (preferred) for (const id of preferred) if (id !== myId && alive(id)) return id;
  const peers = list.filter((id) => id !== myId && alive(id));
  if (peers.length === 0) return undefined;
  return peers[((turn % peers.length) + peers.length) % peers.length];
}

/** A slot whose preference list changed, and the peers to compare it with first. */
export interface SlotChange {
  slot: number;
  peers: string[];
  /** We left the slot's list: push what the new owners lack, keep nothing new. */
  handoff: boolean;
}

/**
 * Slots whose replica set changed from `prev` to `next`, as seen by `myId`, with the peers to
 * compare them with first:
 * - a new owner compares with the owners that stay (they have the data) and pulls;
 * - every owner that stays compares with the newcomers and pushes (this is also how a node that
 *   started alone, owning everything, meets its peers). Not only the first: a write acknowledged
 *   by W of the old owners may sit on one staying owner and on the one that left the list, and
 *   fed from another stayer alone the new list would hold it once, so a read at R could miss it
 *   (product simulation, finding 4). The comparisons are digest walks, so the second finds little;
 * - an owner that left hands its data to the newcomers only when no owner stays alive (e.g. N = 1),
 *   and then only the first alive of the leavers.
 */
export function topologyChanges(prev: Topology | undefined, next: Topology, myId: string, alive: (id: string) => boolean): SlotChange[] {
  if (prev === undefined || prev === next) return [];
  const out: SlotChange[] = [];
  const up = (id: string): boolean => id === myId || alive(id);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const before = prev.preferenceList(slot);
    const after = next.preferenceList(slot);
    if (before === after || sameMembers(before, after)) continue;
    const wasOwner = before.includes(myId);
    const isOwner = after.includes(myId);
    if (!wasOwner && !isOwner) continue;
    const stayers = after.filter((id) => before.includes(id));
    const newcomers = after.filter((id) => !before.includes(id) && id !== myId);
    if (isOwner && !wasOwner) {
      out.push({ slot, peers: stayers, handoff: false });
    } else if (isOwner) {
      if (newcomers.length > 0) out.push({ slot, peers: newcomers, handoff: false });
    } else if (newcomers.length > 0 && !stayers.some(up) && before.filter((id) => !after.includes(id)).find(up) === myId) {
      out.push({ slot, peers: newcomers, handoff: true });
    }
  }
  return out;
}

/**
 * Slots to compare first because peers came back (failure detector: dead → alive, or first heard
 * of), with the returning peer preferred. A replica that was away missed writes and deletes;
 * comparing with it right away beats waiting for the cursor. Of the replicas that stayed, only the
 * first alive one in the slot's list takes this on, so the returning node is not fed every record
 * once per surviving replica.
 */
export function returnedPeerSlots(topology: Topology, myId: string, returned: readonly string[], alive: (id: string) => boolean): SlotChange[] {
  const back = returned.filter((id) => id !== myId);
  if (back.length === 0) return [];
  const out: SlotChange[] = [];
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const list = topology.preferenceList(slot);
    if (!list.includes(myId)) continue;
    const peers = back.filter((id) => list.includes(id));
    if (peers.length === 0) continue;
    const first = list.find((id) => id === myId || (!back.includes(id) && alive(id)));
    if (first === myId) out.push({ slot, peers, handoff: false });
  }
  return out;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

/** Slots whose preference list holds `myId`. */
export function replicatedSlots(topology: Topology, myId: string): number[] {
  const out: number[] = [];
  for (let slot = 0; slot < SLOT_COUNT; slot++) if (topology.preferenceList(slot).includes(myId)) out.push(slot);
  return out;
}

/** Why a slot was queued: the peers to compare it with first, and how often that was tried. */
export interface SlotPreference {
  readonly peers: readonly string[];
  /** We are no longer an owner: only push. */
  readonly handoff: boolean;
  readonly attempts: number;
}

export const MAX_PRIORITY_ATTEMPTS = 5;

/**
 * Which slots anti-entropy looks at next: first the priority queue (slots whose replica set changed,
 * differing slots the last round had no budget for), then a cursor walking every slot in order. A
 * full pass is the cursor going once round; its duration is what INFO reports.
 */
export class SlotScheduler {
  private cursor = 0;
  private passStartedAt: number;
  private wrapped = false;
  private queue: number[] = [];
  private readonly queued = new Uint8Array(SLOT_COUNT);
  private readonly preferred = new Map<number, SlotPreference>();
  passes = 0;
  lastPassMs = 0;

  constructor(now: number) {
    this.passStartedAt = now;
  }

  /** Puts `slot` at the back of the priority queue (once); `peers` to compare with first, if any. */
  prioritize(slot: number, peers?: readonly string[], handoff = false): void {
    if (peers && peers.length > 0) this.preferred.set(slot, { peers: [...peers], handoff, attempts: 0 });
    this.enqueue(slot);
  }

  /**
   * A prioritised comparison failed (peer not ready yet, timed out): queue it again with the same
   * preference, at most MAX_PRIORITY_ATTEMPTS times, so a peer that keeps failing cannot hold the
   * front of the queue and starve the regular pass.
   */
  retry(slot: number, preference: SlotPreference): void {
    if (preference.attempts + 1 >= MAX_PRIORITY_ATTEMPTS) return;
    this.preferred.set(slot, { ...preference, attempts: preference.attempts + 1 });
    this.enqueue(slot);
  }

  private enqueue(slot: number): void {
    if (this.queued[slot]) return;
    this.queued[slot] = 1;
    this.queue.push(slot);
  }

  get pending(): number {
    return this.queue.length;
  }

  isQueued(slot: number): boolean {
    return this.queued[slot] === 1;
  }

  /** Preferred peers for a prioritised slot, and whether it is a hand-off (we are no longer an owner). */
  preference(slot: number): SlotPreference | undefined {
    return this.preferred.get(slot);
  }

  /** The slot was compared: its one-off preference is used up. */
  done(slot: number): void {
    this.preferred.delete(slot);
  }

  /**
   * Up to `max` slots: queued ones first (dropped if `wanted` refuses them and they are no hand-off),
   * then slots from the cursor that `wanted` accepts. Stops at the end of the slot range so a batch
   * never holds a slot twice.
   */
  next(max: number, wanted: (slot: number) => boolean): number[] {
    const out: number[] = [];
    const taken = new Set<number>();
    while (out.length < max && this.queue.length > 0) {
      const slot = this.queue.shift()!;
      this.queued[slot] = 0;
      if (!wanted(slot) && !this.preferred.get(slot)?.handoff) {
        this.preferred.delete(slot);
        continue;
      }
      out.push(slot);
      taken.add(slot);
    }
    while (out.length < max) {
      if (this.cursor >= SLOT_COUNT) {
        this.cursor = 0;
        this.wrapped = true;
        break;
      }
      const slot = this.cursor++;
      if (!taken.has(slot) && wanted(slot)) out.push(slot);
    }
    return out;
  }

  /** Call after carrying out a batch: if the cursor went round, a full pass ended now. */
  roundFinished(now: number): void {
    if (!this.wrapped) return;
    this.wrapped = false;
    this.passes++;
    this.lastPassMs = now - this.passStartedAt;
    this.passStartedAt = now;
  }
}

/**
 * Token bucket over "keys of work" (listed or moved): refilled at `rate` per second up to one
 * second's worth, and allowed to go into debt so one large slot can be finished; the next rounds
 * then wait until it is paid off.
 */
export class KeyBudget {
  private tokens: number;
  private last: number;

  constructor(private rate: number, now: number) {
    this.tokens = rate;
    this.last = now;
  }

  refill(now: number, rate = this.rate): void {
    this.rate = rate;
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.rate, this.tokens + (this.rate * elapsed) / 1000);
  }

  get available(): number {
    return this.tokens;
  }

  charge(keys: number): void {
    this.tokens -= keys;
  }
}

/**
 * The rebalance bookkeeping of one node, shared by AntiEntropy and the product simulation: which
 * slots a topology change leaves it to compare (queued in the caller's scheduler), and when every
 * one of them was compared, so the node reports the topology synced (which ends every member's
 * rebalance window). Pure: the caller brings the scheduler and says what it compared.
 */
export class RebalanceTracker {
  private seen: Topology | undefined;
  private rebalancing: { topology: Topology; slots: Set<number> } | undefined;

  constructor(private readonly myId: string) {}

  /** Slots of the last change not compared yet (INFO, ringkv status). */
  get pending(): number {
    return this.rebalancing?.slots.size ?? 0;
  }

  /**
   * The node starts holding `topology`, taken as already seen: nothing is queued. A node restarted
   * in the middle of a rebalance therefore never compares the slots that moved nor reports the
   * topology synced (the product simulation's finding 5, open: docs/reliability.md). Comparing
   * every slot with every other owner at start and then reporting synced was tried: it closed a
   * joining node's window before the slots it gained were complete (a stale INCR, seed 900019).
   */
  start(topology: Topology): void {
    this.seen = topology;
  }

  /** Queues the slots whose replica set changed since the last look, with the peers to ask first. */
  note(topology: Topology, alive: (id: string) => boolean, scheduler: SlotScheduler): SlotChange[] {
    if (topology === this.seen) return [];
    const changes = topologyChanges(this.seen, topology, this.myId, alive);
    this.seen = topology;
    for (const c of changes) scheduler.prioritize(c.slot, c.peers, c.handoff);
    const unfinished = [...(this.rebalancing?.slots ?? [])].filter((s) => scheduler.isQueued(s));
    this.rebalancing = { topology, slots: new Set([...unfinished, ...changes.map((c) => c.slot)]) };
    return changes;
  }

  /**
   * After a round: a slot of the last change no longer queued has been compared (a failed
   * comparison puts its slot back in the queue). The topology to report synced once none is
   * left, else undefined.
   */
  progress(scheduler: SlotScheduler): Topology | undefined {
    const r = this.rebalancing;
    if (!r) return undefined;
    for (const slot of r.slots) if (!scheduler.isQueued(slot)) r.slots.delete(slot);
    return r.slots.size === 0 ? r.topology : undefined;
  }
}
