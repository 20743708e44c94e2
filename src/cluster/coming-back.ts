import type { CatchUpReason } from './catch-up.js';

/**
 * When a node is coming back and must catch up before it coordinates its slots (docs/decisions.md,
 * "Coming back"). Pure: the shell feeds it each routing view's isolation and the stalls link health
 * saw, and begins a catch-up (catch-up-driver.ts) with the reason it returns.
 *
 * - A restart: the first time the node reaches the majority after a start whose data directory knew
 *   other members. A new cluster forming is no restart: nothing was written without it.
 * - Isolation: it reaches the majority again after having been cut off from it once it had served.
 * - A stall: its own process stood still for at least as long as its peers wait before suspecting it.
 */
export class ComingBack {
  /** The node has reached the majority at least once since it started. */
  private servedOnce = false;
  /** End of the last stall looked at (ms on the monotonic clock), so that one stall counts once. */
  private lastStallEndMs = 0;
  /** Whether the previous routing view was cut off from the majority; undefined before the first. */
  private wasIsolated: boolean | undefined;

  constructor(private readonly restarted: boolean) {}

  /** A routing view was computed: the reason to begin catching up now, if the node just rejoined. */
  routed(isolated: boolean): CatchUpReason | undefined {
    const rejoined = !isolated && (this.wasIsolated === undefined || this.wasIsolated);
    this.wasIsolated = isolated;
    if (!rejoined) return undefined;
    const reason: CatchUpReason | undefined = this.servedOnce ? 'isolation' : this.restarted ? 'restart' : undefined;
    this.servedOnce = true;
    return reason;
  }

  /** Link health's last stall of this process: whether it is a new one long enough to catch up after. */
  stalled(stall: { fromMs: number; toMs: number } | undefined, suspectAfterMs: number): boolean {
    if (stall === undefined || stall.toMs <= this.lastStallEndMs) return false;
    this.lastStallEndMs = stall.toMs;
    return stall.toMs - stall.fromMs >= suspectAfterMs && this.servedOnce;
  }
}
