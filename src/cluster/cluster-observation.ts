import type { CoordinatorStats } from './coordinator.js';
import type { AntiEntropyStats } from './anti-entropy.js';
import type { MemberStatus } from './gossip-types.js';
import type { SlotTable } from './slot-table.js';
import type { SlotRange } from './ring.js';
import { SLOT_COUNT } from './slot.js';

/** One member as this node sees it, for metrics and the dashboard. */
export interface MemberObservation {
  id: string;
  host: string;
  port: number;
  busPort: number;
  /** HTTP port of its metrics and dashboard, when it gossips one. */
  httpPort: number | undefined;
  /** Failure detector and direct link together, as CLUSTER NODES shows it. */
  state: 'self' | 'ok' | 'pfail' | 'fail';
  status: MemberStatus;
  /** Phi-accrual suspicion over its heartbeats (undefined for this node and before a first heartbeat). */
  phi: number | undefined;
  /** Slots it coordinates (first alive node of the preference list). */
  slotsPrimary: number;
  /** Slots it holds a replica of without coordinating them. */
  slotsReplica: number;
}

/** What this node knows of the cluster and of its own background work, as numbers. */
export interface ClusterObservation {
  myId: string;
  stateOk: boolean;
  epoch: number;
  isolated: boolean;
  members: MemberObservation[];
  /** Maximal runs of slots with one primary, ascending (CLUSTER SLOTS without replicas). */
  ranges: readonly SlotRange[];
  coordinator: Readonly<CoordinatorStats>;
  hints: { hintedWrites: number; stored: number; delivered: number; dropped: number; pendingBytes: number; targets: number };
  antiEntropy: Readonly<AntiEntropyStats> & { indexReady: boolean; slotsQueued: number; fullPasses: number; lastFullPassMs: number };
  rebalance: { slotsMoving: number; slotsIn: number; slotsOut: number; slotsToSync: number; windowLeftMs: number };
  leases: { held: number; acquisitions: number; fencedWrites: number };
  collections: { complete: number; healsPending: number; heals: number; healsFailed: number };
  linksSuspected: number;
}

/**
 * Per node, slots coordinated and slots replicated without coordinating, from the table's
 * preference lists. Walks every slot: for scrapes, never the request path. Pure.
 */
export function slotShares(table: SlotTable): Map<string, { primary: number; replica: number }> {
  const out = new Map<string, { primary: number; replica: number }>();
  const entry = (id: string): { primary: number; replica: number } => {
    let e = out.get(id);
    if (!e) out.set(id, (e = { primary: 0, replica: 0 }));
    return e;
  };
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const primary = table.primary(slot);
    for (const id of table.replicas(slot)) {
      if (id === primary) entry(id).primary++;
      else entry(id).replica++;
    }
  }
  return out;
}
