import { keyHash } from '../../storage/key-layout.js';
import { LRU_CLOCK_MAX } from './lru-clock.js';

const FIELD = 2 ** 24;

/**
 * A record key's id in the sketch: a 30-bit hash of it, a small integer V8 keeps unboxed. Not the
 * key as a string: a map keyed by strings made from each command's key cost 0.8 µs a lookup with
 * 100,000 keys, one keyed by small integers 0.07. Two keys with the same id (a new key meets one
 * of 200,000 tracked keys about once in 5,000) share their access information, as two keys of
 * one sampled bucket are alike to Redis's approximate eviction.
 */
export function accessId(rk: Buffer): number {
  return keyHash(0, rk);
}

/** A key's access information: Redis keeps one of the two in each object's 24-bit field. */
export interface Access {
  /** LRU clock of the last access (lru-clock.ts). */
  lru: number;
  /** LFU word: minutes ‖ counter (lfu-counter.ts). */
  lfu: number;
}

/**
 * The access information of at most `capacity` keys, so memory grows with the limit and never with
 * the key count. Both fields are kept (one number, 53 bits) so a policy change at run time has the
 * data it needs at once.
 *
 * Two generations, as a segmented LRU keeps them: keys touched since the last rotation (young,
 * updated in place) and keys touched only in the generation before (old; a touch moves a key back
 * to young). Once young holds half the capacity, old is dropped and young becomes old. A touch of
 * a young key is one lookup and an in-place update: keeping one map in exact access order cost a
 * delete and an insert per command (1.8 µs with 100,000 keys in random order, 12% of a pipelined
 * GET's CPU). What it costs in accuracy is bounded: a dropped key was touched no later than the
 * most recent key dropped with it, whose clock is kept as `floorLru`, so untracked keys still read
 * as no more recent than any key that left. For LFU a key that left loses its counter and reads as
 * 0 (coldest) until touched again: a key used often but not recently is then no better protected
 * than a cold one.
 */
export class AccessSketch {
  private young = new Map<number, number>();
  private old = new Map<number, number>();
  /** LRU clock assumed for untracked keys: the newest among keys that left, or the start time. */
  floorLru: number;
  /** The newest clock touched: orders clocks across the wrap-around. */
  private lastLru: number;

  constructor(public capacity: number, startLru: number) {
    this.floorLru = startLru % (LRU_CLOCK_MAX + 1);
    this.lastLru = this.floorLru;
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(id: number): Access | undefined {
    const f = this.young.get(id) ?? this.old.get(id);
    return f === undefined ? undefined : { lru: Math.floor(f / FIELD), lfu: f % FIELD };
  }

  /**
   * One access, as get() then set() but without allocating: `nextLfu` maps the key's LFU word
   * (undefined for a key not tracked) to its new one. Every command calls this for its keys.
   */
  touch(id: number, lru: number, nextLfu: (lfu: number | undefined) => number): void {
    this.lastLru = lru & LRU_CLOCK_MAX;
    const f = this.young.get(id);
    if (f !== undefined) {
      const next = this.lastLru * FIELD + (nextLfu(f % FIELD) % FIELD);
      if (f !== next) this.young.set(id, next);
      return;
    }
    const was = this.old.get(id);
    if (was !== undefined) this.old.delete(id);
    this.young.set(id, this.lastLru * FIELD + (nextLfu(was === undefined ? undefined : was % FIELD) % FIELD));
    this.trim();
  }

  /** Stores the key's access and counts it as touched now. */
  set(id: number, a: Access): void {
    this.lastLru = a.lru % (LRU_CLOCK_MAX + 1);
    this.old.delete(id);
    this.young.set(id, this.lastLru * FIELD + (a.lfu % FIELD));
    this.trim();
  }

  delete(id: number): void {
    this.young.delete(id);
    this.old.delete(id);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  /** Rotates the generations while young holds half the capacity or both hold more than all of it. */
  trim(): void {
    const half = Math.max(1, Math.ceil(this.capacity / 2));
    while (this.young.size >= half || this.size > this.capacity) {
      this.dropOld();
      this.old = this.young;
      this.young = new Map();
    }
  }

  private dropOld(): void {
    if (this.old.size === 0) return;
    // The newest clock among the dropped keys: the least idle as of the newest clock touched.
    let floorIdle = idleTicks(this.lastLru, this.floorLru);
    for (const field of this.old.values()) {
      const lru = Math.floor(field / FIELD);
      const idle = idleTicks(this.lastLru, lru);
      if (idle < floorIdle) {
        floorIdle = idle;
        this.floorLru = lru;
      }
    }
    this.old = new Map();
  }
}

/** Clock ticks from `lru` to `now`, allowing for one wrap-around. */
function idleTicks(now: number, lru: number): number {
  return now >= lru ? now - lru : now + (LRU_CLOCK_MAX + 1 - lru);
}
