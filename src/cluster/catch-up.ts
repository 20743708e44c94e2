/**
 * Coming back (docs/decisions.md, "Coming back: a returning node catches up before it coordinates").
 * A node that was away — restarted, cut off from the majority, or stalled — missed the writes its slots took
 * meanwhile. It takes part in them again at once as a replica (writes reach it, and it counts for
 * quorums), but it coordinates its slots again only once it has compared each of them with every
 * other replica it can reach and no reachable peer still holds hints for it. Until then the next
 * replica of each slot serves it, so a client that wrote while the node was away reads its write
 * from a coordinator that has it, even at `read-quorum 1`, and a read-modify-write never starts
 * from a replica that is behind.
 *
 * Pure: the shell (catch-up-driver.ts) runs the comparisons and passes time in.
 */

/** Restarted; cut off from the majority; or this process stalled longer than peers wait before suspecting it. */
export type CatchUpReason = 'restart' | 'isolation' | 'stall';

export interface CatchUpStatus {
  state: 'catching-up' | 'caught-up' | 'timed-out';
  /** Slot comparisons still to do, over all peers. */
  slotsLeft: number;
  /** Reachable peers that said they hold hints for this node. */
  hintHolders: number;
}

export class CatchUp {
  /** Slots still to compare, per peer. */
  private readonly left = new Map<string, Set<number>>();
  /** Peers already planned, so that a comparison done is not planned again; dropped peers leave it. */
  private readonly planned = new Set<string>();
  private readonly holders = new Set<string>();
  /** Slot comparisons completed (for the log line that ends the catch-up). */
  comparisons = 0;

  /**
   * `earliestEndMs`: the catch-up lasts at least until then, however fast its comparisons are: the
   * peers route to a returning node only once its link has been healthy for their hysteresis, and a
   * node that took its slots back before that would serve them while its peers still send them
   * elsewhere, and flip its own table twice in a moment.
   */
  constructor(readonly reason: CatchUpReason, readonly startedMs: number, readonly deadlineMs: number, readonly earliestEndMs = startedMs) {}

  /** Plans the comparison with `peer` of the slots both replicate, once per reachable spell of it. */
  plan(peer: string, slots: readonly number[]): void {
    if (this.planned.has(peer)) return;
    this.planned.add(peer);
    if (slots.length > 0) this.left.set(peer, new Set(slots));
  }

  isPlanned(peer: string): boolean {
    return this.planned.has(peer);
  }

  /** Peers with comparisons still to do. */
  peers(): string[] {
    return [...this.left.keys()];
  }

  slotsFor(peer: string): number[] {
    return [...(this.left.get(peer) ?? [])];
  }

  /** `slots` were compared with `peer` (and whatever differed moved both ways). */
  compared(peer: string, slots: readonly number[]): void {
    const set = this.left.get(peer);
    if (set === undefined) return;
    for (const s of slots) if (set.delete(s)) this.comparisons++;
    if (set.size === 0) this.left.delete(peer);
  }

  /**
   * The peer cannot be reached now. Waiting for it would keep this node out for as long as the
   * peer is gone, and what only it holds reaches this node by anti-entropy once it is back; the
   * quorum reads of the coordinators meanwhile cover it. If it comes back during the catch-up it is
   * planned again.
   */
  drop(peer: string): void {
    this.left.delete(peer);
    this.planned.delete(peer);
    this.holders.delete(peer);
  }

  /** A peer's ping said whether it still holds hints for this node. */
  hints(peer: string, holds: boolean): void {
    if (holds) this.holders.add(peer);
    else this.holders.delete(peer);
  }

  status(nowMs: number): CatchUpStatus {
    let slotsLeft = 0;
    for (const s of this.left.values()) slotsLeft += s.size;
    const hintHolders = this.holders.size;
    if (slotsLeft === 0 && hintHolders === 0 && nowMs >= this.earliestEndMs) return { state: 'caught-up', slotsLeft, hintHolders };
    return { state: nowMs >= this.deadlineMs ? 'timed-out' : 'catching-up', slotsLeft, hintHolders };
  }
}

/** The slots `me` and `peer` both replicate, given each slot's preference list. */
export function sharedSlots(slotCount: number, replicas: (slot: number) => readonly string[], me: string, peer: string): number[] {
  const out: number[] = [];
  for (let slot = 0; slot < slotCount; slot++) {
    const list = replicas(slot);
    if (list.includes(me) && list.includes(peer)) out.push(slot);
  }
  return out;
}
