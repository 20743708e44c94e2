import type { Clock } from '../../../src/core/clock.js';
import type { Scheduler } from './scheduler.js';

/** Wall time at simulated time 0: any plausible Unix ms will do, it only has to be the same every run. */
export const EPOCH_MS = 1_767_225_600_000;

/**
 * One node's wall clock: simulated time, plus a fixed offset, plus drift (a rate error), plus any
 * jumps (NTP steps, VM pauses), forward or back. Integer ms, as Date.now() gives.
 */
export class SimClock implements Clock {
  private offsetMs: number;

  constructor(
    private readonly sched: Scheduler,
    offsetMs: number,
    /** Parts per million the clock runs fast (positive) or slow. */
    private readonly driftPpm: number,
  ) {
    this.offsetMs = offsetMs;
  }

  now(): number {
    const t = this.sched.now;
    return EPOCH_MS + t + this.offsetMs + Math.floor((t * this.driftPpm) / 1_000_000);
  }

  /** The node's monotonic clock: simulated time at the node's rate; jumps do not move it. */
  monotonic(): number {
    const t = this.sched.now;
    return t + Math.floor((t * this.driftPpm) / 1_000_000);
  }

  jump(deltaMs: number): void {
    this.offsetMs += deltaMs;
  }
}
