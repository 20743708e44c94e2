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

/** Entries per set: four of 16 bytes (id, field), one 64-byte cache line. */
const WAYS = 4;

/**
 * The access information of at most `capacity` keys, so memory grows with the limit and never with
 * the key count. Both fields are kept (one number, 53 bits) so a policy change at run time has the
 * data it needs at once.
 *
 * A set-associative table, as a CPU cache is built: a key's id picks one set of four entries and
 * a key not held there takes the place of the set's least recently touched entry. Every command
 * touches its keys, so a touch must cost what the lookup of its key costs: the table is one
 * Float64Array (id and field side by side, no object, no boxed number), one cache line per touch.
 * A Map kept in exact access order cost a delete and an insert per command, and even in-place
 * updates of a Map of 100,000 entries cost 10% of pipelined SET and GET (its entries, keys and
 * boxed values are three cache misses). What it costs in accuracy: the key that leaves is the
 * least recent of four rather than of all, as Redis's own eviction compares a few sampled keys.
 * Untracked keys read as `floorLru`, the newest clock of any key that left, so they never read as
 * more recent than a key that was tracked. For LFU a key that left loses its counter and reads as
 * 0 (coldest) until touched again: a key used often but not recently is then no better protected
 * than a cold one.
 */
export class AccessSketch {
  /** Per entry: id + 1 (0 = empty), then the field. */
  private table: Float64Array;
  private sets = 1;
  private ways = 1;
  private held = 0;
  private cap = 0;
  /** LRU clock assumed for untracked keys: the newest among keys that left, or the start time. */
  floorLru: number;
  /** The newest clock touched: orders clocks across the wrap-around when the table is rebuilt. */
  private lastLru: number;

  constructor(capacity: number, startLru: number) {
    this.floorLru = startLru % (LRU_CLOCK_MAX + 1);
    this.lastLru = this.floorLru;
    this.table = this.layout(capacity);
  }

  /** Sizes the table for `capacity` keys (sets of WAYS entries, fewer ways below that) and returns it empty. */
  private layout(capacity: number): Float64Array {
    this.cap = capacity;
    this.ways = Math.max(1, Math.min(WAYS, capacity));
    this.sets = Math.max(1, Math.floor(capacity / this.ways));
    this.held = 0;
    return new Float64Array(this.sets * this.ways * 2);
  }

  get size(): number {
    return this.held;
  }

  get capacity(): number {
    return this.cap;
  }

  /** A new capacity: the table is rebuilt, keeping what fits (the newest of each set first). */
  set capacity(n: number) {
    const before = this.table;
    this.table = this.layout(n);
    const entries: Array<[number, number]> = [];
    for (let i = 0; i < before.length; i += 2) if (before[i] !== 0) entries.push([before[i]! - 1, before[i + 1]!]);
    // Oldest first, so when several compete for a set the newest stay.
    const now = this.lastLru;
    entries.sort((a, b) => idleTicks(now, lruOf(b[1])) - idleTicks(now, lruOf(a[1])));
    for (const [id, field] of entries) this.place(id, field, lruOf(field));
  }

  get(id: number): Access | undefined {
    const at = this.find(id);
    if (at < 0) return undefined;
    const f = this.table[at + 1]!;
    return { lru: lruOf(f), lfu: f % FIELD };
  }

  /**
   * One access, as get() then set() but without allocating: `nextLfu` maps the key's LFU word
   * (undefined for a key not tracked) to its new one. Every command calls this for its keys.
   */
  touch(id: number, lru: number, nextLfu: (lfu: number | undefined) => number): void {
    const clock = lru & LRU_CLOCK_MAX;
    this.lastLru = clock;
    const at = this.find(id);
    if (at >= 0) {
      this.table[at + 1] = clock * FIELD + (nextLfu(this.table[at + 1]! % FIELD) % FIELD);
      return;
    }
    this.place(id, clock * FIELD + (nextLfu(undefined) % FIELD), clock);
  }

  /** Stores the key's access as touched at `a.lru`. */
  set(id: number, a: Access): void {
    const clock = a.lru % (LRU_CLOCK_MAX + 1);
    this.lastLru = clock;
    const field = clock * FIELD + (a.lfu % FIELD);
    const at = this.find(id);
    if (at >= 0) this.table[at + 1] = field;
    else this.place(id, field, clock);
  }

  delete(id: number): void {
    const at = this.find(id);
    if (at < 0) return;
    this.table[at] = 0;
    this.held--;
  }

  clear(): void {
    this.table.fill(0);
    this.held = 0;
  }

  /** Index of the id's entry, or -1. */
  private find(id: number): number {
    const tag = id + 1;
    const base = (id % this.sets) * this.ways * 2;
    const t = this.table;
    for (let i = base, end = base + this.ways * 2; i < end; i += 2) if (t[i] === tag) return i;
    return -1;
  }

  /** Puts a key not held into its set: an empty entry, else in place of the least recent one. */
  private place(id: number, field: number, now: number): void {
    const base = (id % this.sets) * this.ways * 2;
    const t = this.table;
    let victim = -1;
    let victimIdle = -1;
    for (let i = base, end = base + this.ways * 2; i < end; i += 2) {
      if (t[i] === 0) {
        victim = i;
        victimIdle = Infinity;
        break;
      }
      const idle = idleTicks(now, lruOf(t[i + 1]!));
      if (idle > victimIdle) {
        victim = i;
        victimIdle = idle;
      }
    }
    if (victimIdle === Infinity) this.held++;
    else {
      // The key that leaves: untracked keys read as no older than the newest one that left.
      const gone = lruOf(t[victim + 1]!);
      if (idleTicks(now, gone) < idleTicks(now, this.floorLru)) this.floorLru = gone;
    }
    t[victim] = id + 1;
    t[victim + 1] = field;
  }
}

function lruOf(field: number): number {
  return Math.floor(field / FIELD);
}

/** Clock ticks from `lru` to `now`, allowing for one wrap-around. */
function idleTicks(now: number, lru: number): number {
  return now >= lru ? now - lru : now + (LRU_CLOCK_MAX + 1 - lru);
}
