import { systemClock, type Clock } from '../core/clock.js';
import { HybridClock, type HlcTimestamp } from '../core/hlc.js';
import { increment } from '../core/vclock.js';
import type { ClockEntry } from '../storage/types.js';

/** Margin the persisted high-water mark runs ahead of issued versions, covering the persist interval. */
export const HLC_PERSIST_MARGIN_MS = 1000;

/**
 * Stamps writes this node coordinates: a fresh HLC version plus the vector clock advanced for this
 * node. The HLC high-water mark is persisted ahead of use, so versions never go back across restarts.
 */
export class Versioner {
  readonly tag: string;
  readonly hlc: HybridClock;

  /**
   * Added to the wall clock for everything on the data path (versions, expiry). Zero in production;
   * fault tests set `debug-clock-offset-ms` to give one node a skewed clock.
   */
  offsetMs = 0;

  /** `clock` is the wall clock; the deterministic simulation passes its own. */
  constructor(nodeId: string, highWater: HlcTimestamp | undefined, private readonly clock: Clock = systemClock) {
    this.tag = nodeId.slice(0, 16);
    this.hlc = new HybridClock(Buffer.from(this.tag, 'hex'), highWater);
  }

  /** The node's data-path clock: wall time plus any injected skew. */
  now(): number {
    return this.clock.now() + this.offsetMs;
  }

  stamp(now: number, previous: readonly ClockEntry[] | undefined): { version: Buffer; clock: ClockEntry[] } {
    return { version: this.hlc.now(now), clock: increment(previous ?? [], this.tag) };
  }

  /** What to persist now: a mark no version issued before the next persist can exceed. */
  highWaterToPersist(now: number): Buffer {
    const last = this.hlc.last();
    const b = Buffer.alloc(8);
    b.writeUIntBE(Math.max(last.wall, now) + HLC_PERSIST_MARGIN_MS, 0, 6);
    return b;
  }

  static decodeHighWater(b: Buffer | undefined): HlcTimestamp | undefined {
    if (!b || b.length < 6) return undefined;
    return { wall: b.readUIntBE(0, 6), logical: 0 };
  }
}
