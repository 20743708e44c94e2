import { systemClock, type Clock } from '../core/clock.js';
import { HybridClock, type HlcTimestamp } from '../core/hlc.js';
import { increment } from '../core/vclock.js';
import type { ClockEntry } from '../storage/types.js';

/** Margin the persisted high-water mark runs ahead of issued versions, covering the persist interval. */
export const HLC_PERSIST_MARGIN_MS = 1000;

/**
 * How long a node resuming from `highWater` waits before its first version, so versions follow the
 * wall clock again after a crash. A crashed node's mark runs up to HLC_PERSIST_MARGIN_MS ahead of
 * what it issued; stamping from it would make the first second's writes outrank writes other nodes
 * acknowledge after them, which matters for a write whose quorum failed (its client saw an error)
 * and that reaches replicas later. The wait is at most the margin: a mark further ahead means the
 * wall clock stepped back, and waiting for it could take any time; the HLC then stays ahead until
 * the clock passes it.
 */
export function hlcStartDelay(highWater: HlcTimestamp | undefined, now: number): number {
  const ahead = (highWater?.wall ?? 0) - now;
  return ahead > 0 ? Math.min(ahead, HLC_PERSIST_MARGIN_MS) + 1 : 0;
}

/**
 * Stamps writes this node coordinates: a fresh HLC version plus the vector clock advanced for this
 * node. The HLC high-water mark is persisted ahead of use, so versions never go back across restarts.
 */
export class Versioner {
  readonly tag: string;
  readonly hlc: HybridClock;
  /** The mark this node resumed from (undefined on a new data directory). */
  private readonly resumedFrom: HlcTimestamp | undefined;

  /**
   * Added to the wall clock for everything on the data path (versions, expiry). Zero in production;
   * fault tests set `debug-clock-offset-ms` to give one node a skewed clock.
   */
  offsetMs = 0;

  /** `clock` is the wall clock; the deterministic simulation passes its own. */
  constructor(nodeId: string, highWater: HlcTimestamp | undefined, private readonly clock: Clock = systemClock) {
    this.tag = nodeId.slice(0, 16);
    this.hlc = new HybridClock(Buffer.from(this.tag, 'hex'), highWater);
    this.resumedFrom = highWater;
  }

  /** How long to wait before the first version: see `hlcStartDelay`. */
  startDelay(now: number): number {
    return hlcStartDelay(this.resumedFrom, now);
  }

  /** The node's data-path clock: wall time plus any injected skew. */
  now(): number {
    return this.clock.now() + this.offsetMs;
  }

  stamp(now: number, previous: readonly ClockEntry[] | undefined): { version: Buffer; clock: ClockEntry[] } {
    return { version: this.hlc.now(now), clock: increment(previous ?? [], this.tag) };
  }

  /**
   * What to persist now: a mark no version issued before the next persist can exceed. At shutdown,
   * when no version follows, `margin` 1 records the ms after the last version (the logical counter
   * is not kept), so a clean restart waits for nothing.
   */
  highWaterToPersist(now: number, margin = HLC_PERSIST_MARGIN_MS): Buffer {
    const last = this.hlc.last();
    const b = Buffer.alloc(8);
    b.writeUIntBE(Math.max(last.wall, now) + margin, 0, 6);
    return b;
  }

  static decodeHighWater(b: Buffer | undefined): HlcTimestamp | undefined {
    if (!b || b.length < 6) return undefined;
    return { wall: b.readUIntBE(0, 6), logical: 0 };
  }
}
