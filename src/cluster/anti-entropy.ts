import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { decodeRecord, encodeRecord } from '../storage/record-codec.js';
import { isOrphan } from '../collections/reclaimer.js';
import { parseElementKey, recordKey } from '../collections/record-keys.js';
import type { Store } from '../storage/store.js';
import type { StoredRecord } from '../storage/types.js';
import {
  choosePeer,
  descentFor,
  differingSlots,
  expectedKeys,
  isDeadRecord,
  KeyBudget,
  packQueries,
  planExchange,
  RebalanceTracker,
  replicatedSlots,
  returnedPeerSlots,
  SlotScheduler,
  type ExchangePlan,
  type KeyQuery,
  type KeyVersion,
  type SlotPreference,
} from './anti-entropy-plan.js';
import {
  decodeBucketsResponse,
  decodeKeysResponse,
  decodeNodesResponse,
  decodeSlotsResponse,
  encodeCounts,
  encodeDigests,
  encodeKeyList,
  isKeysRequest,
  isLeavesRequest,
  isNodesRequest,
  isSlotsRequest,
  isUnknownRequest,
  MAX_LEAVES_PER_SLOT,
  MAX_NODES_PER_REQUEST,
  type KeysItem,
} from './anti-entropy-wire.js';
import { confirmed, descendStep, leafStep, leavesBySlot, splitByDepth, type NodeRef } from './anti-entropy-descend.js';
import { FANOUT, MAX_DEPTH, pathIntervals, type Path } from './merkle-deep.js';
import type { ClusterBus } from './bus/cluster-bus.js';
import type { BusAddress } from './bus/types.js';
import { bucketOf } from './merkle.js';
import { MerkleTracker } from './merkle-tracker.js';
import type { Topology } from './ring.js';
import { SLOT_COUNT } from './slot.js';
import type { SlotTable } from './slot-table.js';

/** What anti-entropy needs from the cluster node; ClusterNode provides it. */
export interface AntiEntropyHost {
  readonly myId: string;
  readonly store: Store;
  readonly config: Config;
  readonly logger: Logger;
  readonly bus: Pick<ClusterBus, 'handle' | 'request'>;
  table(): SlotTable;
  reachable(nodeId: string): boolean;
  busAddress(nodeId: string): BusAddress | undefined;
  /** The replica read (batched 'rb'): raw encoded records, null where the peer has none. */
  read(nodeId: string, slot: number, keys: readonly Buffer[]): Promise<Array<Buffer | null>>;
  /** The replica write (batched 'rb'): last-writer-wins apply on the peer, acknowledged once durable. */
  write(nodeId: string, slot: number, items: ReadonlyArray<[Buffer, Buffer]>): Promise<unknown>;
  /** Stores a record pulled from `peer` (collection records are judged for their lineage first). */
  apply(slot: number, key: Buffer, rec: StoredRecord, peer: string): void;
  /** Every slot whose replica set changed for `topology` has been compared since it changed. */
  rebalanced?(topology: Topology): void;
}

export interface AntiEntropyStats {
  rounds: number;
  slotsCompared: number;
  slotsDiffering: number;
  keysPulled: number;
  keysPushed: number;
  keysReaped: number;
  errors: number;
  /** (key, version) pairs this node listed: for its own comparisons and to answer peers'. */
  recordsListed: number;
  /** Pairs received in peers' listings. */
  recordsReceived: number;
  /** Records listing scans read to find those pairs (a leaf's seek skips the rest of a collection). */
  recordsScanned: number;
  /** Deeper digests compared (64 per node asked of a peer), and leaves listed. */
  deepDigestsCompared: number;
  deepLeavesListed: number;
  /** Comparisons that fell back to the 64 buckets because the peer does not know deeper digests. */
  legacyPeerComparisons: number;
  /** Payload bytes of peers' answers: digests and listings (the records moved are not counted). */
  answerBytes: number;
}

/** Slots whose digests one round compares: a full pass over 16384 slots takes 4 rounds. */
const SLOTS_PER_ROUND = 4096;
/** Slots per 'ae-buckets' request: 512 × 64 buckets × 8 bytes = 256 KB. */
const BUCKET_SLOTS_PER_REQUEST = 512;
/** Expected (key, version) pairs per 'ae-keys' request. */
const KEYS_PER_REQUEST = 4096;
/** Most pairs one 'ae-keys' answer lists; the rest of a slot waits for the next pass. */
const MAX_LISTED_PER_RESPONSE = 50_000;
/** Keys per replica read / write when moving records, and encoded bytes per write. */
const MOVE_BATCH = 128;
const MOVE_BATCH_BYTES = 4 << 20;
/** Slots whose records move at once. */
const MOVE_CONCURRENCY = 8;
const SCAN_PAGE = 512;
/** Main-thread time listing keys may take before it yields to client traffic. */
const SLICE_MS = 8;
const REQUEST_TIMEOUT_MS = 10_000;
/**
 * Under write load a bucket often differs only because a write is still on its way to one of the
 * replicas. A bucket is listed (a scan of its whole slot) only if it still differs this long after.
 */
const BUCKET_CONFIRM_MS = 100;
/** How long a peer that did not know 'ae-nodes' is compared by buckets only before it is asked again (it may be upgraded). */
const LEGACY_PEER_RECHECK_MS = 60_000;
/** While anti-entropy is switched off, how often to look whether it was switched on. */
const DISABLED_RECHECK_MS = 1000;
/**
 * Gap before the next round while prioritised slots wait (a join or leave just moved thousands):
 * new owners should not wait a full interval per 4096 slots. The key budget still bounds the work.
 */
const PRIORITY_FOLLOW_UP_MS = 50;
const NO_HANDOFF: ReadonlySet<number> = new Set();

/**
 * Background repair between replicas (the shell; decisions in anti-entropy-plan.ts). Each round:
 * take the next slots this node replicates (first those whose replica set changed or whose peer
 * just came back), pick an alive peer replica for each, compare slot digests in one request per
 * peer, descend only into slots that differ (small slots straight to their key lists, large ones
 * through bucket digests), and move the newer records both ways over the ordinary replica read and
 * write. Work is bounded by `anti-entropy-keys-per-second`; a round starts
 * `anti-entropy-interval-ms` after the previous one ended, sooner while prioritised slots wait.
 */
export class AntiEntropy {
  readonly tracker: MerkleTracker;
  readonly stats: AntiEntropyStats = {
    rounds: 0, slotsCompared: 0, slotsDiffering: 0, keysPulled: 0, keysPushed: 0, keysReaped: 0, errors: 0,
    recordsListed: 0, recordsReceived: 0, recordsScanned: 0, deepDigestsCompared: 0, deepLeavesListed: 0, legacyPeerComparisons: 0, answerBytes: 0,
  };
  /** Peers that answered 'ae-nodes' as an unknown request, until when they are taken for one. */
  private readonly legacyPeers = new Map<string, number>();
  private readonly scheduler: SlotScheduler;
  private readonly budget: KeyBudget;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly rebalance: RebalanceTracker;
  private seenAlive: ReadonlySet<string> | undefined;
  /** A comparison failed last round: wait a full interval before retrying queued slots. */
  private backOff = false;
  private owned: { topology: Topology; flags: Uint8Array; slots: number[] } | undefined;

  constructor(private readonly host: AntiEntropyHost) {
    this.tracker = new MerkleTracker(host.store, { logger: host.logger, deep: { splitRecords: host.config.int('anti-entropy-split-records') } });
    const now = Date.now();
    this.scheduler = new SlotScheduler(now);
    this.rebalance = new RebalanceTracker(host.myId);
    this.budget = new KeyBudget(host.config.int('anti-entropy-keys-per-second'), now);
  }

  /** Serves peers' comparisons; answers only once the index is complete. */
  register(): void {
    const { bus } = this.host;
    bus.handle('ae-slots', (_from, payload) => {
      this.requireReady();
      if (!isSlotsRequest(payload)) throw new Error('malformed ae-slots request');
      const index = this.tracker.index;
      return {
        d: encodeDigests(payload.s.map((s) => index.slotDigest(s))),
        c: encodeCounts(payload.s.map((s) => index.entryCount(s))),
      };
    });
    bus.handle('ae-buckets', (_from, payload) => {
      this.requireReady();
      if (!isSlotsRequest(payload) || payload.s.length > BUCKET_SLOTS_PER_REQUEST) throw new Error('malformed ae-buckets request');
      const index = this.tracker.index;
      return { b: index.buckets, d: Buffer.concat(payload.s.map((s) => encodeDigests(index.bucketDigests(s)))) };
    });
    bus.handle('ae-keys', async (_from, payload) => {
      this.requireReady();
      if (!isKeysRequest(payload, this.tracker.index.buckets)) throw new Error('malformed ae-keys request');
      return this.answerListing(payload.q, (slot, buckets, room, pace) => this.listKeys(slot, buckets, room, pace));
    });
    bus.handle('ae-nodes', (_from, payload) => {
      this.requireReady();
      if (!isNodesRequest(payload)) throw new Error('malformed ae-nodes request');
      const deep = this.tracker.index.deep;
      // Copies: the digests change with every write, and the frame may be encoded a turn later.
      return { r: payload.q.map(([slot, path]) => {
        const digests = deep.children(slot, path);
        return digests === undefined ? null : Buffer.from(digests);
      }) };
    });
    bus.handle('ae-leaves', async (_from, payload) => {
      this.requireReady();
      if (!isLeavesRequest(payload)) throw new Error('malformed ae-leaves request');
      return this.answerListing(payload.q, (slot, paths, room, pace) => this.listLeaves(slot, paths, room, pace));
    });
  }

  /** One listing per asked slot, all of them together within MAX_LISTED_PER_RESPONSE, paced. */
  private async answerListing<T>(
    asked: ReadonlyArray<readonly [number, T]>,
    list: (slot: number, what: T, room: number, pace: () => Promise<void>) => Promise<{ list: KeyVersion[]; truncated: boolean }>,
  ): Promise<{ r: KeysItem[] }> {
    const items: KeysItem[] = [];
    let room = MAX_LISTED_PER_RESPONSE;
    const pace = pacer(SLICE_MS);
    for (const [slot, what] of asked) {
      const listed = await list(slot, what, room, pace);
      room -= listed.list.length;
      items.push(encodeKeyList(listed.list, listed.truncated));
    }
    return { r: items };
  }

  /** Builds the index (in the background, yielding) and starts the rounds, which wait for it. */
  start(): void {
    this.rebalance.start(this.host.table().topology);
    this.seenAlive = this.host.table().alive;
    this.tracker.build().catch((err: unknown) => this.host.logger.error({ err: String(err) }, 'anti-entropy index build failed'));
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.tracker.close();
  }

  /**
   * With a slot, its digest; without, one digest over the slots this node replicates in the current
   * topology, so replicas of the same slots agree once converged. Undefined until the index is built.
   */
  digest(slot?: number): bigint | undefined {
    if (!this.tracker.ready) return undefined;
    if (slot !== undefined) return this.tracker.index.slotDigest(slot);
    return this.tracker.index.rootDigest(this.ownership(this.host.table().topology).slots);
  }

  /** Where the background comparison stands (metrics, dashboard). */
  progress(): { indexReady: boolean; slotsQueued: number; rebalanceSlotsToSync: number; fullPasses: number; lastFullPassMs: number } {
    return {
      indexReady: this.tracker.ready, slotsQueued: this.scheduler.pending, rebalanceSlotsToSync: this.rebalancePending,
      fullPasses: this.scheduler.passes, lastFullPassMs: this.scheduler.lastPassMs,
    };
  }

  infoText(): string {
    const s = this.stats;
    const lines: Array<[string, number]> = [
      ['ringkv_ae_index_ready', this.tracker.ready ? 1 : 0],
      ['ringkv_ae_index_build_ms', this.tracker.buildMs],
      ['ringkv_ae_rounds', s.rounds],
      ['ringkv_ae_slots_compared', s.slotsCompared],
      ['ringkv_ae_slots_differing', s.slotsDiffering],
      ['ringkv_ae_slots_queued', this.scheduler.pending],
      ['ringkv_rebalance_slots_to_sync', this.rebalancePending],
      ['ringkv_ae_keys_pulled', s.keysPulled],
      ['ringkv_ae_keys_pushed', s.keysPushed],
      ['ringkv_ae_keys_reaped', s.keysReaped],
      ['ringkv_ae_errors', s.errors],
      ['ringkv_ae_records_listed', s.recordsListed],
      ['ringkv_ae_records_received', s.recordsReceived],
      ['ringkv_ae_records_scanned', s.recordsScanned],
      ['ringkv_ae_deep_digests_compared', s.deepDigestsCompared],
      ['ringkv_ae_deep_leaves_listed', s.deepLeavesListed],
      ['ringkv_ae_deep_nodes', this.tracker.index.deep.nodes],
      ['ringkv_ae_split_scans', this.tracker.splitScans],
      ['ringkv_ae_split_scan_records', this.tracker.splitScanRecords],
      ['ringkv_ae_legacy_peer_comparisons', s.legacyPeerComparisons],
      ['ringkv_ae_answer_bytes', s.answerBytes],
      ['ringkv_ae_full_passes', this.scheduler.passes],
      ['ringkv_ae_last_full_pass_ms', this.scheduler.lastPassMs],
    ];
    return lines.map(([k, v]) => `${k}:${v}\r\n`).join('');
  }

  private requireReady(): void {
    if (!this.tracker.ready) throw new Error('anti-entropy index not built yet');
  }

  private schedule(): void {
    if (this.stopped) return;
    const interval = this.host.config.int('anti-entropy-interval-ms');
    let delay = interval > 0 ? interval : DISABLED_RECHECK_MS;
    if (interval > 0 && this.tracker.ready && this.scheduler.pending > 0 && this.budget.available > 0 && !this.backOff) delay = Math.min(delay, PRIORITY_FOLLOW_UP_MS);
    this.backOff = false;
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.host.config.int('anti-entropy-interval-ms') === 0 || !this.tracker.ready) {
      this.schedule();
      return;
    }
    this.round()
      .catch((err: unknown) => {
        this.stats.errors++;
        this.host.logger.warn({ err: String(err) }, 'anti-entropy round failed');
      })
      .finally(() => this.schedule());
  }

  private ownership(topology: Topology): { flags: Uint8Array; slots: number[] } {
    if (this.owned?.topology !== topology) {
      const slots = replicatedSlots(topology, this.host.myId);
      const flags = new Uint8Array(SLOT_COUNT);
      for (const s of slots) flags[s] = 1;
      this.owned = { topology, flags, slots };
    }
    return this.owned;
  }

  /** Queues the slots whose replica set changed since the last look, with the peers to ask first. */
  private noteTopology(topology: Topology): void {
    const changes = this.rebalance.note(topology, (id) => this.host.reachable(id), this.scheduler);
    if (changes.length > 0) this.host.logger.info({ slots: changes.length }, 'anti-entropy: replica sets changed, those slots go first');
  }

  /** Queues the slots shared with peers that came back since the last look. */
  private noteLiveness(table: SlotTable): void {
    const alive = table.alive;
    if (alive === this.seenAlive) return;
    const before = this.seenAlive;
    this.seenAlive = alive;
    const returned = [...alive].filter((id) => before !== undefined && !before.has(id));
    const slots = returnedPeerSlots(table.topology, this.host.myId, returned, (id) => alive.has(id));
    for (const c of slots) this.scheduler.prioritize(c.slot, c.peers);
    if (slots.length > 0) this.host.logger.info({ peers: returned, slots: slots.length }, 'anti-entropy: peers are back, their slots go first');
  }

  /** Slots of the last topology change still to compare (INFO, ringkv status). */
  get rebalancePending(): number {
    return this.rebalance.pending;
  }

  private async round(): Promise<void> {
    const now = Date.now();
    this.budget.refill(now, this.host.config.int('anti-entropy-keys-per-second'));
    // Still paying off a large slot from an earlier round.
    if (this.budget.available <= 0) return;
    const table = this.host.table();
    const topology = table.topology;
    this.noteTopology(topology);
    this.noteLiveness(table);
    const { flags } = this.ownership(topology);
    const slots = this.scheduler.next(SLOTS_PER_ROUND, (s) => flags[s] === 1);
    const byPeer = new Map<string, number[]>();
    const handoff = new Set<number>();
    const preferences = new Map<number, SlotPreference>();
    const turn = this.scheduler.passes;
    // Asked for each of up to 4,096 slots' peers: once per peer a round (an idle node's largest cost).
    const reachable = new Map<string, boolean>();
    const alive = (id: string): boolean => {
      let up = reachable.get(id);
      if (up === undefined) reachable.set(id, (up = this.host.reachable(id)));
      return up;
    };
    for (const slot of slots) {
      const preference = this.scheduler.preference(slot);
      this.scheduler.done(slot);
      // Handing over an empty slot moves nothing.
      if (preference?.handoff && this.tracker.index.entryCount(slot) === 0) continue;
      const peer = choosePeer(topology.preferenceList(slot), this.host.myId, alive, turn + slot, preference?.peers);
      if (peer === undefined) continue;
      if (preference) preferences.set(slot, preference);
      if (preference?.handoff) handoff.add(slot);
      let list = byPeer.get(peer);
      if (!list) byPeer.set(peer, (list = []));
      list.push(slot);
    }
    await Promise.all([...byPeer].map(([peer, peerSlots]) => this.syncWith(peer, peerSlots, handoff).catch((err: unknown) => {
      this.stats.errors++;
      this.backOff = true;
      // A peer that just came back may still be building its index: its slots stay first in line.
      for (const slot of peerSlots) {
        const preference = preferences.get(slot);
        if (preference) this.scheduler.retry(slot, preference);
      }
      this.host.logger.debug({ err: String(err), peer }, 'anti-entropy: comparison with a peer failed');
    })));
    this.scheduler.roundFinished(Date.now());
    const synced = this.rebalance.progress(this.scheduler);
    if (synced !== undefined) this.host.rebalanced?.(synced);
    this.stats.rounds++;
  }

  private async request(peer: string, type: string, payload: unknown): Promise<unknown> {
    const addr = this.host.busAddress(peer);
    if (!addr) throw new Error(`unknown node ${peer}`);
    return this.host.bus.request(addr, type, payload, REQUEST_TIMEOUT_MS);
  }

  /**
   * Compares `slots` with `peer` now, outside the rounds, for a returning node catching up
   * (catch-up.ts); resolves with the slots compared in full. Those the key budget left for later
   * are not among them, and are not queued here: the caller asks again.
   */
  async compareWith(peer: string, slots: readonly number[]): Promise<number[]> {
    this.requireReady();
    this.budget.refill(Date.now(), this.host.config.int('anti-entropy-keys-per-second'));
    const done: number[] = [];
    for (let i = 0; i < slots.length; i += SLOTS_PER_ROUND) {
      const chunk = slots.slice(i, i + SLOTS_PER_ROUND);
      const deferred = new Set<number>();
      await this.syncWith(peer, chunk, NO_HANDOFF, deferred);
      for (const s of chunk) if (!deferred.has(s)) done.push(s);
    }
    return done;
  }

  /**
   * Compares `slots` with one peer and repairs what differs, within the key budget. Slots the budget
   * cannot cover go to `deferred` when given, else back to the front of the queue.
   */
  private async syncWith(peer: string, slots: number[], handoff: ReadonlySet<number>, deferred?: Set<number>): Promise<void> {
    const theirs = decodeSlotsResponse(await this.request(peer, 'ae-slots', { s: slots }), slots.length);
    this.stats.answerBytes += slots.length * 12;
    const index = this.tracker.index;
    const differ = differingSlots(slots, slots.map((s) => index.slotDigest(s)), theirs.digests);
    this.stats.slotsCompared += slots.length;
    this.stats.slotsDiffering += differ.length;
    if (differ.length === 0) return;
    const theirCount = new Map<number, number>();
    slots.forEach((s, i) => theirCount.set(s, theirs.counts[i]!));

    const queries: KeyQuery[] = [];
    const bucketed: number[] = [];
    const finer: number[] = [];
    const legacy = this.isLegacy(peer);
    for (const slot of differ) {
      if (this.budget.available <= 0) {
        // Out of budget: compare it again first thing in a later round.
        if (deferred) deferred.add(slot);
        else this.scheduler.prioritize(slot, [peer], handoff.has(slot));
        continue;
      }
      const ours = index.entryCount(slot);
      const their = theirCount.get(slot)!;
      if (descentFor(ours, their) === 'keys') {
        const q: KeyQuery = { slot, buckets: null, expected: expectedKeys(ours, their, null, index.buckets) };
        this.budget.charge(q.expected);
        queries.push(q);
      } else if (!legacy && index.deep.children(slot, []) !== undefined) {
        finer.push(slot);
      } else {
        if (legacy) this.stats.legacyPeerComparisons++;
        bucketed.push(slot);
      }
    }
    const leaves = await this.descendDeep(peer, finer, bucketed);
    const firstLook = await this.differingBuckets(peer, bucketed);
    if (firstLook.size > 0) await sleep(BUCKET_CONFIRM_MS);
    const secondLook = await this.differingBuckets(peer, [...firstLook.keys()]);
    for (const [slot, first] of firstLook) {
      const again = new Set(secondLook.get(slot));
      const differing = first.filter((b) => again.has(b));
      if (differing.length === 0) continue;
      const q: KeyQuery = { slot, buckets: differing, expected: expectedKeys(index.entryCount(slot), theirCount.get(slot)!, differing.length, index.buckets) };
      this.budget.charge(q.expected);
      queries.push(q);
    }
    const leafQueries: KeyQuery[] = [];
    for (const [slot, paths] of leavesBySlot(leaves)) {
      for (let i = 0; i < paths.length; i += MAX_LEAVES_PER_SLOT) {
        const chunk = paths.slice(i, i + MAX_LEAVES_PER_SLOT);
        const expected = chunk.reduce((sum, path) => sum + 2 * (index.deep.countAt(slot, path) ?? Math.ceil(index.entryCount(slot) / FANOUT ** path.length)), 0);
        const q: KeyQuery = { slot, buckets: null, paths: chunk, expected };
        this.budget.charge(q.expected);
        leafQueries.push(q);
      }
    }
    this.stats.deepLeavesListed += leaves.length;
    for (const batch of packQueries(queries, KEYS_PER_REQUEST)) {
      await this.exchange(peer, handoff, batch, 'ae-keys', batch.map((q) => [q.slot, q.buckets]));
    }
    for (const batch of packQueries(leafQueries, KEYS_PER_REQUEST)) {
      await this.exchange(peer, handoff, batch, 'ae-leaves', batch.map((q) => [q.slot, q.paths]));
    }
  }

  /** Lists `batch` on the peer and here, then moves the newer records each way. */
  private async exchange(peer: string, handoff: ReadonlySet<number>, batch: readonly KeyQuery[], type: 'ae-keys' | 'ae-leaves', q: unknown[]): Promise<void> {
    const answer = decodeKeysResponse(await this.request(peer, type, { q }), batch.length);
    const plans: Array<{ slot: number; plan: ExchangePlan }> = [];
    const pace = pacer(SLICE_MS);
    for (let j = 0; j < batch.length; j++) {
      const query = batch[j]!;
      const { list: ours } = query.paths !== undefined
        ? await this.listLeaves(query.slot, query.paths, Infinity, pace)
        : await this.listKeys(query.slot, query.buckets, Infinity, pace);
      this.stats.recordsReceived += answer[j]!.list.length;
      for (const kv of answer[j]!.list) this.stats.answerBytes += kv.key.length + kv.version.length + 1;
      const plan = planExchange(ours, answer[j]!.list, answer[j]!.complete);
      // A slot we no longer replicate is only handed over, never taken in.
      if (handoff.has(query.slot)) plan.pull = [];
      this.budget.charge(plan.pull.length + plan.push.length);
      plans.push({ slot: query.slot, plan });
    }
    await runLimited(plans, MOVE_CONCURRENCY, ({ slot, plan }) => this.carryOut(peer, slot, plan));
  }

  private isLegacy(peer: string): boolean {
    const until = this.legacyPeers.get(peer);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.legacyPeers.delete(peer);
    return false;
  }

  /**
   * Descends through the deeper digests of `slots` with `peer`, level by level, and returns the
   * leaves whose records differ. Slots the peer has no deeper digests for (a slot that only just
   * grew, a peer of an earlier release) go to `bucketed`, to be compared by the 64 buckets. The
   * first level is looked at twice, BUCKET_CONFIRM_MS apart, like the buckets.
   */
  private async descendDeep(peer: string, slots: readonly number[], bucketed: number[]): Promise<NodeRef[]> {
    if (slots.length === 0) return [];
    const deep = this.tracker.index.deep;
    const roots: NodeRef[] = slots.map((slot) => ({ slot, path: [] }));
    let theirs: Array<Buffer | undefined>;
    try {
      theirs = await this.askNodes(peer, roots);
    } catch (err) {
      if (!isUnknownRequest(err)) throw err;
      this.legacyPeers.set(peer, Date.now() + LEGACY_PEER_RECHECK_MS);
      this.stats.legacyPeerComparisons += slots.length;
      bucketed.push(...slots);
      return [];
    }
    const first = descendStep(roots, roots.map((n) => deep.children(n.slot, n.path)), theirs);
    for (const leaf of first.leaves) bucketed.push(leaf.slot);
    if (first.next.length === 0) return [];
    await sleep(BUCKET_CONFIRM_MS);
    const again = [...new Set(first.next.map((n) => n.slot))].map((slot): NodeRef => ({ slot, path: [] }));
    const theirsAgain = await this.askNodes(peer, again);
    const second = descendStep(again, again.map((n) => deep.children(n.slot, n.path)), theirsAgain);
    let next = confirmed(first.next, second.next);
    const leaves: NodeRef[] = [];
    while (next.length > 0) {
      const { ask, leaves: here } = splitByDepth(next, (n) => n.path.length < MAX_DEPTH && deep.children(n.slot, n.path) !== undefined);
      leaves.push(...here);
      if (ask.length === 0) break;
      const answer = await this.askNodes(peer, ask);
      const step = descendStep(ask, ask.map((n) => deep.children(n.slot, n.path)), answer);
      leaves.push(...step.leaves);
      next = step.next;
    }
    return leaves;
  }

  /** The peer's 64 digests under each node (undefined where it has none to compare). */
  private async askNodes(peer: string, nodes: readonly NodeRef[]): Promise<Array<Buffer | undefined>> {
    const out: Array<Buffer | undefined> = [];
    for (let i = 0; i < nodes.length; i += MAX_NODES_PER_REQUEST) {
      const chunk = nodes.slice(i, i + MAX_NODES_PER_REQUEST);
      const answer = decodeNodesResponse(await this.request(peer, 'ae-nodes', { q: chunk.map((n) => [n.slot, n.path]) }), chunk.length);
      for (const d of answer) {
        if (d === undefined) continue;
        this.stats.deepDigestsCompared += FANOUT;
        this.stats.answerBytes += d.length;
      }
      out.push(...answer);
    }
    return out;
  }

  /** Per slot, the buckets whose digests differ from the peer's now (slots with none left out). */
  private async differingBuckets(peer: string, slots: readonly number[]): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>();
    const index = this.tracker.index;
    for (let i = 0; i < slots.length; i += BUCKET_SLOTS_PER_REQUEST) {
      const chunk = slots.slice(i, i + BUCKET_SLOTS_PER_REQUEST);
      const buckets = decodeBucketsResponse(await this.request(peer, 'ae-buckets', { s: chunk }), chunk.length, index.buckets);
      this.stats.answerBytes += chunk.length * index.buckets * 8;
      chunk.forEach((slot, j) => {
        const differing = index.diffBuckets(slot, buckets[j]!);
        if (differing.length > 0) out.set(slot, differing);
      });
    }
    return out;
  }

  /** Our (key, version) pairs of a slot, all buckets or the listed ones. */
  private listKeys(
    slot: number,
    buckets: readonly number[] | null,
    max: number,
    pace: () => Promise<void>,
  ): Promise<{ list: KeyVersion[]; truncated: boolean }> {
    const wanted = buckets === null ? undefined : new Set(buckets);
    const total = this.tracker.index.buckets;
    return this.listScanned(slot, max, pace, (key) => ({ take: wanted === undefined || wanted.has(bucketOf(key, total)) }));
  }

  /**
   * Our (key, version) pairs under the given leaves of the slot's deeper digests. Records come in
   * key order; within the members of one hash, set or sorted set they are in position order, so
   * the scan seeks from one wanted position range to the next (leafStep) instead of reading the
   * whole collection: listing a leaf of a collection of millions reads about the leaf's records
   * (plus every record of the slot that is no such member).
   */
  private listLeaves(
    slot: number,
    paths: ReadonlyArray<Path>,
    max: number,
    pace: () => Promise<void>,
  ): Promise<{ list: KeyVersion[]; truncated: boolean }> {
    const intervals = pathIntervals(paths);
    return this.listScanned(slot, max, pace, (key) => leafStep(key, intervals));
  }

  /**
   * The slot's records `step` takes, as (key, version) pairs, up to `max`, in key order; `step`
   * may instead name a key to seek past (the next wanted range), which skips what lies between.
   */
  private async listScanned(
    slot: number,
    max: number,
    pace: () => Promise<void>,
    step: (key: Buffer) => { take: boolean; seekAfter?: Buffer },
  ): Promise<{ list: KeyVersion[]; truncated: boolean }> {
    const now = Date.now();
    const grace = this.host.config.int('tombstone-grace-ms');
    const list: KeyVersion[] = [];
    let after: Buffer | undefined;
    for (;;) {
      await pace();
      this.lastMeta = undefined;
      const page = this.host.store.scanSlotRaw(slot, after, SCAN_PAGE);
      let seek: Buffer | undefined;
      let read = 0;
      for (const e of page.entries) {
        read++;
        const verdict = step(e.key);
        if (verdict.seekAfter !== undefined) {
          seek = verdict.seekAfter;
          break;
        }
        if (!verdict.take) continue;
        if (list.length >= max) {
          this.stats.recordsScanned += read;
          return this.listed(list, true);
        }
        list.push({ key: e.key, version: e.record.version, dead: isDeadRecord(e.record, now, grace) || this.orphanElement(slot, e.key, now, grace) });
      }
      this.stats.recordsScanned += read;
      if (seek !== undefined) {
        after = seek;
        continue;
      }
      if (page.next === null) return this.listed(list, false);
      after = page.next;
    }
  }

  private listed(list: KeyVersion[], truncated: boolean): { list: KeyVersion[]; truncated: boolean } {
    this.stats.recordsListed += list.length;
    return { list, truncated };
  }

  /**
   * An element record of a collection life that ended here (the reclaimer's isOrphan): dead to
   * anti-entropy like a purgeable tombstone, so a replica that has not reclaimed it yet (its sweep
   * restarted with the process) drops it instead of handing it to peers that already did.
   */
  private orphanElement(slot: number, key: Buffer, now: number, grace: number): boolean {
    const el = parseElementKey(key);
    if (el === undefined) return false;
    // A collection's elements are listed together: its metadata is read once per run of them.
    const id = `${slot}:${el.userKey.toString('latin1')}`;
    if (this.lastMeta?.id !== id) this.lastMeta = { id, rec: this.host.store.get(slot, recordKey(Buffer.from(el.userKey))) };
    return isOrphan(el.generation, this.lastMeta.rec, now, grace);
  }

  /** The metadata orphanElement read last; forgotten at every wait, so a write since is seen. */
  private lastMeta: { id: string; rec: StoredRecord | undefined } | undefined;

  private async carryOut(peer: string, slot: number, plan: ExchangePlan): Promise<void> {
    const store = this.host.store;
    for (const key of plan.reap) {
      // Only if still dead: a write may have landed since the listing.
      const rec = store.get(slot, key);
      const grace = this.host.config.int('tombstone-grace-ms');
      this.lastMeta = undefined;
      const now = Date.now();
      if (rec === undefined) continue;
      // An expired key is dropped as active expiry would: its `expired` event must not be lost
      // because a replica expired it first and anti-entropy reached it before the cycle.
      if (store.dropExpired(slot, key, now)) this.stats.keysReaped++;
      else if (isDeadRecord(rec, now, grace) || this.orphanElement(slot, key, now, grace)) {
        store.drop(slot, key);
        this.stats.keysReaped++;
      }
    }
    for (let i = 0; i < plan.pull.length; i += MOVE_BATCH) {
      const keys = plan.pull.slice(i, i + MOVE_BATCH);
      const records = await this.host.read(peer, slot, keys);
      records.forEach((bytes, j) => {
        if (bytes === null) return;
        this.host.apply(slot, keys[j]!, decodeRecord(Buffer.from(bytes)), peer);
        this.stats.keysPulled++;
      });
    }
    let items: Array<[Buffer, Buffer]> = [];
    let bytes = 0;
    const send = async (): Promise<void> => {
      if (items.length === 0) return;
      const batch = items;
      items = [];
      bytes = 0;
      await this.host.write(peer, slot, batch);
      this.stats.keysPushed += batch.length;
    };
    for (const key of plan.push) {
      const rec = store.get(slot, key);
      if (rec === undefined) continue;
      const encoded = encodeRecord(rec);
      if (items.length >= MOVE_BATCH || (items.length > 0 && bytes + encoded.length > MOVE_BATCH_BYTES)) await send();
      items.push([key, encoded]);
      bytes += key.length + encoded.length;
    }
    await send();
  }
}

/** Returns a function that yields to the event loop once `sliceMs` of work passed since the last yield. */
function pacer(sliceMs: number): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await nextTurn();
    since = performance.now();
  };
}

/** Runs `work` over `items` with at most `limit` at a time; rejects with the first failure. */
async function runLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}
