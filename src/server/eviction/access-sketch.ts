import { LRU_CLOCK_MAX } from './lru-clock.js';

const FIELD = 2 ** 24;

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
 * The map is kept in access order (a touched key moves to the end) and the least recently touched
 * key leaves first. For LRU that costs no accuracy where it matters: every untracked key was last
 * touched no later than the last key that left, whose clock is kept as `floorLru`, so untracked keys
 * are the idlest. For LFU a key that left loses its counter and reads as 0 (coldest) until touched
 * again: a key used often but not recently is then no better protected than a cold one.
 */
export class AccessSketch {
  private readonly fields = new Map<string, number>();
  /** LRU clock assumed for untracked keys: that of the last key that left, or the start time. */
  floorLru: number;

  constructor(public capacity: number, startLru: number) {
    this.floorLru = startLru % (LRU_CLOCK_MAX + 1);
  }

  get size(): number {
    return this.fields.size;
  }

  get(id: string): Access | undefined {
    const f = this.fields.get(id);
    return f === undefined ? undefined : { lru: Math.floor(f / FIELD), lfu: f % FIELD };
  }

  /**
   * One access, as get() then set() but without allocating: `nextLfu` maps the key's LFU word
   * (undefined for a key not tracked) to its new one. Every command calls this for its keys.
   * A key touched again within the same LRU clock tick whose LFU word did not change keeps its
   * place: the keys after it were all touched in that tick too, so the map stays in LRU-clock order
   * and what trim() drops first, and the `floorLru` it leaves, are the same clock values.
   */
  touch(id: string, lru: number, nextLfu: (lfu: number | undefined) => number): void {
    const f = this.fields.get(id);
    const lfu = nextLfu(f === undefined ? undefined : f % FIELD);
    const next = (lru & LRU_CLOCK_MAX) * FIELD + (lfu % FIELD);
    if (f === next) return;
    if (f !== undefined) this.fields.delete(id);
    this.fields.set(id, next);
    if (f === undefined) this.trim();
  }

  /** Stores the key's access and marks it the most recently touched. */
  set(id: string, a: Access): void {
    this.fields.delete(id);
    this.fields.set(id, (a.lru % (LRU_CLOCK_MAX + 1)) * FIELD + (a.lfu % FIELD));
    this.trim();
  }

  delete(id: string): void {
    this.fields.delete(id);
  }

  clear(): void {
    this.fields.clear();
  }

  /** Drops the least recently touched keys beyond capacity. */
  trim(): void {
    while (this.fields.size > this.capacity) {
      const [oldest, field] = this.fields.entries().next().value as [string, number];
      this.fields.delete(oldest);
      this.floorLru = Math.floor(field / FIELD);
    }
  }
}
