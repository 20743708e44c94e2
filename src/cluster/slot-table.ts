import { SLOT_COUNT } from './slot.js';
import { buildTopology, slotRanges, type RingMember, type SlotRange, type Topology } from './ring.js';

/**
 * The one slot → primary table a node serves from at a moment: the ring's preference lists with
 * dead nodes skipped. CLUSTER SLOTS / SHARDS / NODES, MOVED targets and cluster_state all read this
 * object, so they can never disagree with each other. Pure: built from a topology and liveness.
 */
const NOBODY: ReadonlySet<string> = new Set();

export class SlotTable {
  /** Primary node id per slot; undefined when no replica of the slot is alive. */
  readonly primaries: ReadonlyArray<string | undefined>;
  readonly ranges: readonly SlotRange[];
  /** True when every slot has at least `quorumNeeded` alive replicas. */
  readonly ok: boolean;
  readonly slotsOk: number;
  /** A string that changes whenever any slot's primary changes (cheap change detection). */
  readonly signature: string;

  /** Slots whose preference list differs from an earlier placement's (a rebalance in progress). */
  readonly moving: number;

  /**
   * `previous` are this node's placements before the membership changes of the current rebalance
   * window, oldest first, while slots move. They never change primaries (every node must compute
   * the same table, and histories differ); they only tell the coordinator which old replicas to
   * read from and write to as well.
   *
   * `isolation` is set while this node is cut off from the majority (routing-view.ts): `alive` is
   * then the majority's nodes, which the table advertises; the node itself serves no slot, says
   * `cluster_state:fail`, and answers CLUSTERDOWN (`down`) or MOVED (`redirect`).
   *
   * `standby` are alive nodes catching up after being away (catch-up.ts): they stay replicas and
   * count for quorums, but a slot's primary is the first alive replica not among them, or the first
   * alive one when every alive replica is.
   *
   * `leftRing` are nodes of the window's earlier placements that are off the ring but still
   * answer (a node that left with RINGKV.LEAVE runs until it is stopped): they hold the writes
   * they acknowledged, which the new owners may not have yet, so they stay among the slots'
   * earlier replicas (`leavingReplicas`) that reads ask first.
   */
  constructor(
    readonly topology: Topology,
    readonly alive: ReadonlySet<string>,
    quorumNeeded: number,
    readonly previous: readonly Topology[] = [],
    readonly isolation: 'down' | 'redirect' | undefined = undefined,
    readonly standby: ReadonlySet<string> = NOBODY,
    readonly leftRing: ReadonlySet<string> = NOBODY,
  ) {
    const primaries: Array<string | undefined> = new Array(SLOT_COUNT);
    let slotsOk = 0;
    let moving = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const list = topology.preferenceList(slot);
      if (previous.some((p) => !sameMembers(p.preferenceList(slot), list))) moving++;
      let primary: string | undefined;
      let fallback: string | undefined;
      let up = 0;
      for (const id of list) {
        if (!alive.has(id)) continue;
        if (standby.has(id)) fallback ??= id;
        else primary ??= id;
        up++;
      }
      primaries[slot] = primary ?? fallback;
      if (up >= Math.min(quorumNeeded, list.length)) slotsOk++;
    }
    this.primaries = primaries;
    this.moving = moving;
    this.ranges = slotRanges((s) => primaries[s]);
    this.slotsOk = slotsOk;
    this.ok = slotsOk === SLOT_COUNT && isolation === undefined;
    this.signature = this.ranges.map((r) => `${r.start}-${r.end}:${r.node}`).join(',') + (isolation === undefined ? '' : `|${isolation}`);
  }

  primary(slot: number): string | undefined {
    return this.primaries[slot];
  }

  /** The slot's preference list (alive or not), primary first among the alive ones. */
  replicas(slot: number): readonly string[] {
    return this.topology.preferenceList(slot);
  }

  /** Alive nodes (ring members, or off the ring but still answering) that replicated the slot in an earlier placement of the window but no longer do. */
  leavingReplicas(slot: number): string[] {
    if (this.previous.length === 0) return [];
    const now = this.topology.preferenceList(slot);
    const out: string[] = [];
    for (const p of this.previous) {
      for (const id of p.preferenceList(slot)) {
        if (!now.includes(id) && !out.includes(id) && (this.alive.has(id) || this.leftRing.has(id))) out.push(id);
      }
    }
    return out;
  }

  /**
   * For one node, slots moving in (it replicates them now, in no earlier placement of the window)
   * and out (it replicated them in an earlier placement, not now); zero outside a rebalance. Walks
   * every slot: for INFO, not for the request path.
   */
  movingFor(nodeId: string): { in: number; out: number } {
    if (this.previous.length === 0) return { in: 0, out: 0 };
    let into = 0;
    let out = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const now = this.topology.preferenceList(slot).includes(nodeId);
      const before = this.previous.some((p) => p.preferenceList(slot).includes(nodeId));
      if (now && !before) into++;
      else if (before && !now) out++;
    }
    return { in: into, out };
  }

  /** Slot ranges a node coordinates, as `start-end` / `n` tokens for CLUSTER NODES. */
  rangeTokens(nodeId: string): string[] {
    return this.ranges.filter((r) => r.node === nodeId).map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`));
  }

  slotsOf(nodeId: string): number {
    let n = 0;
    for (const r of this.ranges) if (r.node === nodeId) n += r.end - r.start + 1;
    return n;
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

/** Earlier placements kept per window: the oldest and the most recent ones. */
const PLACEMENTS_MAX = 4;

/**
 * The placements a rebalance window keeps after a membership change that replaced `before`. Every
 * placement of the window is kept, not only the first: a slot may have gained a replica in an
 * intermediate placement, and that replica took writes the first placement's never saw. A
 * placement where this node was alone (a fresh node before it met anyone) holds nothing the
 * others need: for a node that has just joined, the placement the others had is the ring without
 * it. A placement held only briefly (`settled` false) is not kept: that is a cluster forming, its
 * nodes learning each other within a few gossip rounds of start, with nothing written yet; old
 * owners asked then would only make reads wait on peers not yet connected. Pure.
 */
export function earlierPlacements(
  kept: readonly Topology[], before: Topology, settled: boolean, members: readonly RingMember[], myId: string, options: { n: number; vnodes: number },
): readonly Topology[] {
  if (!settled) return kept;
  const alone = before.nodeIds.length === 1 && before.nodeIds[0] === myId;
  const others = members.filter((m) => m.id !== myId);
  const add = alone ? (kept.length === 0 && others.length > 0 ? [buildTopology(others, options)] : []) : [before];
  const from = [...kept, ...add];
  // Drop the second oldest: the oldest names the owners the rebalance started from.
  while (from.length > PLACEMENTS_MAX) from.splice(1, 1);
  return from;
}

const NOBODY_LEFT: ReadonlySet<string> = new Set();

/**
 * SlotTable's `leftRing`: nodes of the window's earlier placements that are off the `ring` now but
 * still answer (`answers`), this node excepted. Pure: the cluster node and the simulation each
 * bring their own view of who answers.
 */
export function offRingNodes(placements: readonly Topology[], ring: readonly string[], myId: string, answers: (id: string) => boolean): ReadonlySet<string> {
  if (placements.length === 0) return NOBODY_LEFT;
  const out = new Set<string>();
  for (const p of placements) {
    for (const id of p.nodeIds) if (id !== myId && !ring.includes(id) && answers(id)) out.add(id);
  }
  return out.size === 0 ? NOBODY_LEFT : out;
}
