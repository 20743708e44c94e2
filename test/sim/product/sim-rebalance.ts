import { choosePeer, RebalanceTracker, replicatedSlots, SlotScheduler, type SlotPreference } from '../../../src/cluster/anti-entropy-plan.js';
import type { Topology } from '../../../src/cluster/ring.js';
import { SLOT_COUNT } from '../../../src/cluster/slot.js';

/** What the rebalance needs from its node (AntiEntropyHost's share of it, over the simulation). */
export interface RebalanceHost {
  readonly myId: string;
  /** The ring this node routes by now (ClusterNode's `table.topology`). */
  topology(): Topology;
  reachable(id: string): boolean;
  /** Records this node holds per slot (the Merkle index's entry counts); slots without any are absent. */
  entryCounts(): ReadonlyMap<number, number>;
  /** Compares `slots` with `peer` and moves the newer records both ways; only pushes for `handoff` slots. */
  compare(peer: string, slots: readonly number[], handoff: ReadonlySet<number>): Promise<void>;
  /** Every slot whose replica set changed for `topology` has been compared since it changed. */
  rebalanced(topology: Topology): void;
  /** Schedules work on this incarnation (never runs once it crashed, waits while it is stalled). */
  later(ms: number, fn: () => void): void;
  /** Broken on purpose: report the slots compared without comparing them (no data moves). */
  readonly skipHandoff: boolean;
}

/** Gap before the next round while prioritised slots wait, as anti-entropy.ts. */
const PRIORITY_FOLLOW_UP_MS = 50;

/**
 * The rebalancing half of AntiEntropy (src/cluster/anti-entropy.ts), round for round, over the
 * simulated store and bus: at each round the slots whose replica set changed since the last look
 * are queued with the peers to ask (the real `topologyChanges`), taken from the real
 * `SlotScheduler`, each compared with the peer the real `choosePeer` picks, failed comparisons
 * retried (`SlotScheduler.retry`), and once every slot of the last change was compared the node
 * reports the topology synced (what it gossips as `synced`, which ends the rebalance window).
 *
 * The bookkeeping itself is the real `RebalanceTracker`, as AntiEntropy uses it. What differs from
 * the real shell: the comparison itself (the host's `compare` sends a slot's
 * records instead of walking Merkle digests and bucket lists), no key budget, and no regular pass
 * over every slot (the cursor): only prioritised slots are compared, so a run shows what the
 * rebalance moves and nothing the background pass would repair later.
 */
export class SimRebalance {
  private readonly scheduler: SlotScheduler;
  private readonly rebalance: RebalanceTracker;
  private backOff = false;
  readonly stats = { rounds: 0, slotsCompared: 0, failures: 0 };

  constructor(private readonly host: RebalanceHost, private readonly intervalMs: number, now: number) {
    this.scheduler = new SlotScheduler(now);
    this.rebalance = new RebalanceTracker(host.myId);
    this.rebalance.start(host.topology());
    this.schedule();
  }

  /** Slots of the last change not compared yet. */
  get pending(): number {
    return this.rebalance.pending;
  }

  private schedule(): void {
    const delay = this.scheduler.pending > 0 && !this.backOff ? PRIORITY_FOLLOW_UP_MS : this.intervalMs;
    this.backOff = false;
    this.host.later(delay, () => {
      void this.round().finally(() => this.schedule());
    });
  }

  private owned: { topology: Topology; flags: Uint8Array } | undefined;

  /** Flags of the slots this node replicates in `topology`, kept while the topology is. */
  private ownership(topology: Topology): Uint8Array {
    if (this.owned?.topology !== topology) {
      const flags = new Uint8Array(SLOT_COUNT);
      for (const s of replicatedSlots(topology, this.host.myId)) flags[s] = 1;
      this.owned = { topology, flags };
    }
    return this.owned.flags;
  }

  private async round(): Promise<void> {
    const topology = this.host.topology();
    this.rebalance.note(topology, (id) => this.host.reachable(id), this.scheduler);
    const owned = this.ownership(topology);
    const counts = this.host.entryCounts();
    // Only the queue: `next` takes queued slots first, and asks for no more than there are.
    const slots = this.scheduler.next(this.scheduler.pending, (s) => owned[s] === 1);
    const byPeer = new Map<string, number[]>();
    const handoff = new Set<number>();
    const preferences = new Map<number, SlotPreference>();
    const turn = this.scheduler.passes;
    for (const slot of slots) {
      const preference = this.scheduler.preference(slot);
      this.scheduler.done(slot);
      if (preference?.handoff && !counts.has(slot)) continue;
      const peer = choosePeer(topology.preferenceList(slot), this.host.myId, (id) => this.host.reachable(id), turn + slot, preference?.peers);
      if (peer === undefined) continue;
      if (preference) preferences.set(slot, preference);
      if (preference?.handoff) handoff.add(slot);
      let list = byPeer.get(peer);
      if (!list) byPeer.set(peer, (list = []));
      list.push(slot);
    }
    if (!this.host.skipHandoff) {
      await Promise.all([...byPeer].map(([peer, peerSlots]) => this.host.compare(peer, peerSlots, handoff).then(
        () => {
          this.stats.slotsCompared += peerSlots.length;
        },
        () => {
          this.stats.failures++;
          this.backOff = true;
          for (const slot of peerSlots) {
            const preference = preferences.get(slot);
            if (preference) this.scheduler.retry(slot, preference);
          }
        },
      )));
    }
    this.stats.rounds++;
    const synced = this.rebalance.progress(this.scheduler);
    if (synced !== undefined) this.host.rebalanced(synced);
  }
}
