/**
 * Where a peer's clock stands against this node's, learnt from the link pings every node sends
 * every peer a few times a second, each stamped with the sender's clock.
 *
 * Used to tell a relayed request that arrives after its sender stopped waiting: the sender stamps
 * its give-up instant on its own clock; this node maps it onto its clock and refuses to run the
 * request once that instant has passed. Without it a request held up by a partition ran when the
 * link healed, after its client was told it may not have been applied.
 *
 * The clocks are each process's monotonic time anchored at its start (`performance.timeOrigin +
 * performance.now()`), so wall-clock steps do not move them. A ping sent at `their` and received at
 * `mine` says offset ≤ mine − their (transit is ≥ 0): the smallest difference seen is the offset
 * plus the fastest transit, so a mapped instant errs late by that transit and a refusal is lenient,
 * never eager. Pings held up by a partition arrive in a burst with large differences; keeping the
 * minimum over minutes, not over the last few pings, keeps them from hiding the true offset. A
 * peer that restarted has a new anchor (its origin): its samples start over.
 * Pure: times are arguments.
 */

/** One minimum per bucket of this many ms, kept for WINDOW_MS: memory per peer is bounded. */
const BUCKET_MS = 10_000;
/** Long enough to outlast a partition; short enough that rate drift between clocks stays far below the slack the caller allows. */
const WINDOW_MS = 5 * 60_000;

interface PeerSamples {
  origin: number;
  buckets: Array<{ startMs: number; min: number }>;
}

export class PeerClocks {
  private readonly peers = new Map<string, PeerSamples>();

  /** A ping stamped `theirMs` by `peer` (whose clock is anchored at `origin`) arrived at `mineMs`. */
  note(peer: string, origin: number, theirMs: number, mineMs: number): void {
    if (!Number.isFinite(theirMs) || !Number.isFinite(origin)) return;
    let p = this.peers.get(peer);
    if (p === undefined || p.origin !== origin) this.peers.set(peer, (p = { origin, buckets: [] }));
    const diff = mineMs - theirMs;
    const last = p.buckets[p.buckets.length - 1];
    if (last !== undefined && mineMs - last.startMs < BUCKET_MS) last.min = Math.min(last.min, diff);
    else p.buckets.push({ startMs: mineMs, min: diff });
    while (p.buckets.length > 0 && mineMs - p.buckets[0]!.startMs > WINDOW_MS) p.buckets.shift();
  }

  /**
   * The peer's instant `theirMs` on this node's clock (late by at most the fastest transit seen),
   * or undefined before any ping from the peer's current run anchored at `origin`.
   */
  toLocal(peer: string, origin: number, theirMs: number): number | undefined {
    const p = this.peers.get(peer);
    if (p === undefined || p.origin !== origin || p.buckets.length === 0) return undefined;
    let offset = Infinity;
    for (const b of p.buckets) offset = Math.min(offset, b.min);
    return theirMs + offset;
  }

  forget(peer: string): void {
    this.peers.delete(peer);
  }
}

/** This process's clock as peers see it in pings and relay deadlines: monotonic, anchored at start. */
export function anchoredNowMs(): number {
  return performance.timeOrigin + performance.now();
}
