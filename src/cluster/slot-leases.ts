/**
 * Slot leases: one fenced coordinator per slot for read-modify-write work. Pure bookkeeping; the
 * bus and timers live in lease-service.ts.
 *
 * Protocol (per slot, among the slot's replicas):
 * - A candidate asks every replica for a lease of `durationMs` with an epoch. A replica grants it
 *   unless it promised the slot to another holder whose promise has not run out on its own clock,
 *   or it saw a larger epoch. A granted promise lasts `durationMs` from when the replica received
 *   the request.
 * - The candidate holds the lease once a majority of the replicas granted it, until its own send
 *   time plus `durationMs` less a margin for clock rate drift. Since every promise started after
 *   the request was sent, no replica's promise runs out before the holder stops using the lease.
 *   Two majorities intersect, so two nodes never hold one slot's lease at once. Only durations on
 *   each node's monotonic clock matter: wall-clock skew does not.
 * - Epochs only grow: a new holder takes an epoch above every one its grantors reported. Writes
 *   of read-modify-write commands carry their lease's epoch, and a replica refuses one whose epoch
 *   is below the largest it granted: a paused or cut-off former holder cannot apply a write after
 *   its successor started, even if its own clock has not noticed the lease ran out.
 * - A restarted replica forgot its promises, so it grants nothing for one lease duration.
 */

/** How long a lease lasts, unless configured. */
export const LEASE_DURATION_MS = 3000;

/** The share of a lease the holder does not use: clock rate drift between holder and grantors. */
const DRIFT_MARGIN = 0.05;
const MARGIN_MIN_MS = 50;

export interface LeaseRequest {
  slot: number;
  holder: string;
  epoch: number;
}

export type LeaseAnswer =
  | { granted: true; epoch: number }
  /** Refused: the current holder (if any), the largest epoch seen, and when the promise runs out here. */
  | { granted: false; holder: string | undefined; epoch: number; retryInMs: number };

interface Promise_ {
  holder: string;
  epoch: number;
  untilMs: number;
}

/** The replica side: promises made per slot and the largest epoch granted. */
export class LeaseGrants {
  private readonly promises = new Map<number, Promise_>();
  private readonly maxEpochs = new Map<number, number>();

  constructor(
    private readonly durationMs: number,
    /** Before this time (monotonic ms) nothing is granted: promises from before a restart may still stand. */
    private readonly quietUntilMs: number,
  ) {}

  answer(req: LeaseRequest, nowMs: number): LeaseAnswer {
    const max = this.maxEpochs.get(req.slot) ?? 0;
    if (nowMs < this.quietUntilMs) return { granted: false, holder: undefined, epoch: max, retryInMs: this.quietUntilMs - nowMs };
    const p = this.promises.get(req.slot);
    if (p !== undefined && p.holder !== req.holder && p.untilMs > nowMs) {
      return { granted: false, holder: p.holder, epoch: max, retryInMs: p.untilMs - nowMs };
    }
    // A renewal keeps its epoch; a new lease must exceed every epoch granted here.
    const renewal = p !== undefined && p.holder === req.holder && p.epoch === req.epoch;
    if (!renewal && req.epoch <= max) return { granted: false, holder: undefined, epoch: max, retryInMs: 0 };
    this.promises.set(req.slot, { holder: req.holder, epoch: req.epoch, untilMs: nowMs + this.durationMs });
    if (req.epoch > max) this.maxEpochs.set(req.slot, req.epoch);
    return { granted: true, epoch: req.epoch };
  }

  /** True when a write stamped with `epoch` comes from a holder this node has seen superseded. */
  fenced(slot: number, epoch: number): boolean {
    return epoch < (this.maxEpochs.get(slot) ?? 0);
  }
}

export interface HeldLease {
  epoch: number;
  /** Monotonic ms after which the holder must not use the lease. */
  validUntilMs: number;
}

/** How long the holder may use a lease that a majority granted to a request sent at `sentAtMs`. */
export function leaseValidUntil(sentAtMs: number, durationMs: number): number {
  return sentAtMs + durationMs - Math.max(MARGIN_MIN_MS, durationMs * DRIFT_MARGIN);
}

/** True when the granting replicas are a majority of the slot's replicas. */
export function grantsSuffice(granted: ReadonlySet<string>, replicas: readonly string[]): boolean {
  let n = 0;
  for (const id of replicas) if (granted.has(id)) n++;
  return n * 2 > replicas.length;
}

/** The epoch for a new lease: above every epoch seen, and tied to wall time so restarts keep it growing. */
export function nextEpoch(seenMax: number, wallMs: number): number {
  return Math.max(seenMax + 1, wallMs);
}
