import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/logger.js';
import { CatchUp, sharedSlots, type CatchUpReason } from './catch-up.js';
import { SLOT_COUNT } from './slot.js';

/** What catching up needs from its node; the cluster node provides it. */
export interface CatchUpHost {
  readonly myId: string;
  /** The slot's preference list in the current topology. */
  replicas(slot: number): readonly string[];
  /** Ring members other than this node. */
  peers(): readonly string[];
  reachable(id: string): boolean;
  /** Compares slots with a peer (anti-entropy); resolves with those compared in full. */
  compare(peer: string, slots: readonly number[]): Promise<number[]>;
  /** Anti-entropy is on (anti-entropy-interval-ms > 0); without it there is nothing to compare with. */
  comparing(): boolean;
  /** cluster-catch-up-timeout-ms: the longest a node stays out of coordinating. */
  timeoutMs(): number;
  /** The shortest catch-up: how long peers wait before they route to a returning node again. */
  minimumMs(): number;
  /** Catching up began or ended: routing and the pings that tell the peers must change now. */
  changed(): void;
  readonly logger: Logger;
  /** Waits between passes; a timer unless given (a simulation passes its own time). */
  sleep?(ms: number): Promise<void>;
}

/** Pause between passes over the peers while comparisons wait on the key budget or a peer's index. */
const RETRY_MS = 200;

/** Runs the comparisons of a catch-up (catch-up.ts) and ends it. */
export class CatchUpDriver {
  private current: CatchUp | undefined;
  private running = false;
  private stopped = false;

  constructor(private readonly host: CatchUpHost) {}

  /** This node is catching up: it does not coordinate its slots while another replica can. */
  get active(): boolean {
    return this.current !== undefined;
  }

  /** What is left of the current catch-up (INFO): slot comparisons and peers still holding hints for this node. */
  progress(nowMs: number): { slotsLeft: number; hintHolders: number } {
    const s = this.current?.status(nowMs);
    return { slotsLeft: s?.slotsLeft ?? 0, hintHolders: s?.hintHolders ?? 0 };
  }

  /**
   * Begins catching up. Away again while catching up (a second stall, a second cut), the node
   * begins anew: the slots it had compared before missed what was written while it was away this
   * time, and finishing only the rest would let it coordinate them from what it held before
   * (product simulation with coming back, seed 3506: stalled 404 ms, back for 9 ms, stalled 728 ms,
   * then read at R=1 the value of before the second stall).
   */
  begin(reason: CatchUpReason, nowMs: number): void {
    if (this.stopped || !this.host.comparing()) return;
    if (this.current !== undefined) this.host.logger.info({ reason }, 'away again while catching up: catching up anew');
    this.current = new CatchUp(reason, nowMs, nowMs + this.host.timeoutMs(), nowMs + this.host.minimumMs());
    const back = reason === 'restart' ? 'back after a restart' : reason === 'isolation' ? 'back in the majority' : 'back from a stall';
    this.host.logger.info({ reason }, `${back}: catching up with the other replicas before coordinating its slots`);
    // The comparisons are planned at the next link tick: begin runs inside a table rebuild.
    this.host.changed();
  }

  /** A peer's ping said whether it holds hints for this node. */
  noteHints(peer: string, holds: boolean): void {
    this.current?.hints(peer, holds);
  }

  /** Every link tick: plans peers that became reachable, drops unreachable ones, ends a finished catch-up. */
  tick(nowMs: number): void {
    const c = this.current;
    if (c === undefined) return;
    for (const peer of this.host.peers()) {
      if (!this.host.reachable(peer)) c.drop(peer);
      else if (!c.isPlanned(peer)) c.plan(peer, sharedSlots(SLOT_COUNT, (s) => this.host.replicas(s), this.host.myId, peer));
    }
    const status = c.status(nowMs);
    if (status.state === 'catching-up') {
      if (!this.running) void this.run();
      return;
    }
    this.current = undefined;
    const took = Math.round(nowMs - c.startedMs);
    if (status.state === 'caught-up') {
      this.host.logger.info({ ms: took, slotComparisons: c.comparisons }, `caught up in ${took} ms: coordinating its slots again`);
    } else {
      this.host.logger.warn({ ms: took, slotsLeft: status.slotsLeft, hintHolders: status.hintHolders },
        `still behind after ${took} ms (cluster-catch-up-timeout-ms): coordinating its slots again; anti-entropy and hints finish in the background`);
    }
    this.host.changed();
  }

  stop(): void {
    this.stopped = true;
    this.current = undefined;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.current !== undefined) {
        const c = this.current;
        const peers = c.peers();
        if (peers.length === 0) break;
        for (const peer of peers) {
          if (!this.host.reachable(peer)) continue;
          try {
            c.compared(peer, await this.host.compare(peer, c.slotsFor(peer)));
          } catch (err) {
            // The peer's index may still be building after its own restart, or a request timed out.
            this.host.logger.debug({ err: String(err), peer }, 'catch-up comparison postponed');
          }
        }
        if (c.peers().length > 0) await (this.host.sleep ? this.host.sleep(RETRY_MS) : sleep(RETRY_MS, undefined, { ref: false }));
      }
    } finally {
      this.running = false;
    }
  }
}
