/**
 * Live elements of element ranges, held in memory by stretches ("windows") and kept exact by
 * every write, so the reads that come back to the same place do not scan again:
 *
 * - a queue or leaderboard read from one end over and over (ZPOPMIN, ZPOPMAX, ZRANGE 0 9,
 *   LRANGE 0 99): each such read was a seek of every source (memtables and LMDB), a jump over
 *   the run of elements deleted at that end (dead-runs.ts) and a merge of the sources, about
 *   half of ZPOPMIN's cost; from a window it is a binary search and a copy;
 * - a random pick from a small collection (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER), which
 *   samples by index: reaching index i walked i live elements, after many deletions each behind a
 *   run of tombstones (the last thousand SPOPs of a set that held 100,000 cost about 1 ms each).
 *   A window over the whole range makes it an index.
 *
 * A window holds every live Element record whose key lies in [lo, hi), in key order. Kept exact
 * because every change of what a scan shows goes through Store.install (commands, replica
 * batches, hints, anti-entropy, purges), which calls noteWrite; FLUSHALL clears all; checkpoints
 * change where records live, not what a scan shows. Keys longer than the store's inline limit
 * come out of scans in digest order, not byte order: a range holding one is never held.
 *
 * One window per range and direction of the reads that made it: a forward window grows at its
 * high end and gives up its low end when it is full, a reverse one the other way round.
 * Bounded: `maxEntries` a window, `maxBytes` over all, least recently used first. Keys and values
 * are held as copies of their own (packed: one buffer for what one scan found), not as the views
 * the store handed out: a view of a memtable chunk or of Node's buffer pool keeps its whole 8 KB
 * alive, so a window of a thousand elements written at different times would hold megabytes that
 * its byte count does not see.
 */

export interface WindowEntry {
  /** The record key as a latin1 string (its byte order). */
  readonly id: string;
  /** The record key (a buffer that never changes). */
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface Window {
  /** Every live element with lo <= id < hi, ascending; must not be changed by readers. */
  readonly entries: readonly WindowEntry[];
  readonly lo: string;
  readonly hi: string;
}

interface Held {
  entries: WindowEntry[];
  lo: string;
  hi: string;
  readonly reverse: boolean;
  bytes: number;
  /** Reads served lately, up to CREDIT_MAX: a window that serves reads outlives a few that miss it. */
  credit: number;
}

const CREDIT_MAX = 3;

/** What a held entry weighs besides its id and value: the object, the array slot, the key view. */
const ENTRY_OVERHEAD_BYTES = 140;
/** What a window weighs besides its entries. */
const WINDOW_OVERHEAD_BYTES = 200;
/** Ranges marked too big at most (all forgotten past this: a mark only saves a scan). */
const BIG_RANGES_MAX = 1024;

export class RangeWindows {
  private readonly held = new Map<string, Held>();
  /**
   * Windows held per range (one or two): what every element write asks (Store.install), in one
   * lookup without building the two directions' names.
   */
  private readonly perRange = new Map<string, number>();
  /**
   * Ranges a whole-range read found bigger than a window (small() gives up on them at once) until
   * an element there is removed. In a cluster a collection's size can say 1,024 or fewer while its
   * range holds more, and each random pick would otherwise scan 1,025 elements before walking.
   * Counted in perRange, so that writes there are noted.
   */
  private readonly big = new Set<string>();
  private bytes = 0;
  /** Reads served from a window (INFO store_range_window_reads). */
  reads = 0;

  constructor(
    readonly maxEntries = 1024,
    private readonly maxBytes = 8 << 20,
  ) {}

  /** True when no window is held: writes then skip working out their range. */
  get empty(): boolean {
    return this.held.size === 0 && this.big.size === 0;
  }

  /** Windows held. */
  get size(): number {
    return this.held.size;
  }

  /** True when `range` has a window (without counting as a use). */
  holds(range: string): boolean {
    return this.perRange.has(range);
  }

  /** The window reads of `range` in this direction made, if any. */
  get(range: string, reverse: boolean): Window | undefined {
    const name = range + (reverse ? '<' : '>');
    const w = this.held.get(name);
    if (w === undefined) return undefined;
    // Most recently used last: eviction takes the map's first windows.
    this.held.delete(name);
    this.held.set(name, w);
    return w;
  }

  /** Holds what a scan of [lo, hi) found (ascending, all of it), replacing the direction's window. */
  set(range: string, reverse: boolean, entries: WindowEntry[], lo: string, hi: string): void {
    const name = range + (reverse ? '<' : '>');
    this.drop(name);
    if (lo >= hi || entries.length > this.maxEntries) return;
    // Weighed before anything is copied: a stretch of big values (a long string's fragments) is not held.
    let bytes = WINDOW_OVERHEAD_BYTES + 2 * (name.length + lo.length + hi.length);
    for (const e of entries) bytes += entryBytes(e);
    if (bytes > this.maxBytes / 4) return;
    const w: Held = { entries: packed(entries), lo, hi, reverse, credit: 0, bytes };
    this.held.set(name, w);
    this.perRange.set(range, (this.perRange.get(range) ?? 0) + 1);
    this.bytes += w.bytes;
    this.evict();
  }

  /** A whole-range read of `range` found more than maxEntries elements. */
  markBig(range: string): void {
    if (this.big.has(range)) return;
    if (this.big.size >= BIG_RANGES_MAX) for (const r of [...this.big]) this.unmarkBig(r);
    this.big.add(range);
    this.perRange.set(range, (this.perRange.get(range) ?? 0) + 1);
  }

  /** Whether `range` was found bigger than a window and has lost no element since. */
  isBig(range: string): boolean {
    return this.big.has(range);
  }

  private unmarkBig(range: string): void {
    if (this.big.delete(range)) this.release(range);
  }

  /** How many more entries the direction's window can take (0 when there is none). */
  room(range: string, reverse: boolean): number {
    const w = this.held.get(range + (reverse ? '<' : '>'));
    return w === undefined ? 0 : this.maxEntries - w.entries.length;
  }

  /** The direction's window served a read. */
  served(range: string, reverse: boolean): void {
    this.reads++;
    const w = this.held.get(range + (reverse ? '<' : '>'));
    if (w !== undefined && w.credit < CREDIT_MAX) w.credit++;
  }

  /**
   * A read of the range in this direction, nearer to the range's edge, missed its window: true
   * when the window should give way to what that read finds (it has served nothing lately).
   */
  missed(range: string, reverse: boolean): boolean {
    const w = this.held.get(range + (reverse ? '<' : '>'));
    if (w === undefined || w.credit === 0) return true;
    w.credit--;
    return false;
  }

  /**
   * A scan read on from the far end of the direction's window: `entries` (ascending) are all the
   * live elements between that end and `to`, which becomes the new end. False (nothing changed)
   * when the window is gone, has moved, or would pass maxEntries.
   */
  extend(range: string, reverse: boolean, from: string, entries: WindowEntry[], to: string): boolean {
    const w = this.held.get(range + (reverse ? '<' : '>'));
    if (w === undefined || (reverse ? w.lo !== from || to > from : w.hi !== from || to < from)) return false;
    if (w.entries.length + entries.length > this.maxEntries) return false;
    let added = 2 * (to.length - from.length);
    for (const e of entries) added += entryBytes(e);
    if (w.bytes + added > this.maxBytes / 4) return false;
    const own = packed(entries);
    if (reverse) {
      w.entries = own.concat(w.entries);
      w.lo = to;
    } else {
      for (const e of own) w.entries.push(e);
      w.hi = to;
    }
    w.bytes += added;
    this.bytes += added;
    this.evict();
    return true;
  }

  /**
   * The record `id` of `range` is now the live element `value` under `key` (a buffer that never
   * changes), or is gone (value undefined: a tombstone, another type, or removed).
   */
  noteWrite(range: string, id: string, key: Buffer, value: Buffer | undefined): void {
    if (value === undefined) this.unmarkBig(range);
    this.noteIn(range + '>', id, key, value);
    this.noteIn(range + '<', id, key, value);
  }

  /** A key the window order cannot place (longer than the inline limit) was written in `range`. */
  forget(range: string): void {
    this.drop(range + '>');
    this.drop(range + '<');
  }

  clear(): void {
    this.held.clear();
    this.big.clear();
    this.perRange.clear();
    this.bytes = 0;
  }

  private noteIn(name: string, id: string, key: Buffer, value: Buffer | undefined): void {
    const w = this.held.get(name);
    if (w === undefined || id < w.lo || id >= w.hi) return;
    const { entries } = w;
    const lo = lowerBound(entries, id);
    const at = entries[lo];
    const found = at !== undefined && at.id === id;
    if (value === undefined) {
      if (!found) return;
      entries.splice(lo, 1);
      this.resize(w, -entryBytes(at));
      return;
    }
    const e = packed([{ id, key, value }])[0]!;
    if (found) {
      entries[lo] = e;
      this.resize(w, entryBytes(e) - entryBytes(at));
    } else {
      entries.splice(lo, 0, e);
      this.resize(w, entryBytes(e));
    }
    // Full: the end the reads come from stays, the far one goes.
    while (entries.length > this.maxEntries || (w.bytes > this.maxBytes / 4 && entries.length > 1)) {
      if (w.reverse) {
        this.resize(w, -entryBytes(entries.shift()!));
        w.lo = entries[0]!.id;
      } else {
        const gone = entries.pop()!;
        this.resize(w, -entryBytes(gone));
        w.hi = gone.id;
      }
    }
    this.evict();
  }

  private resize(w: Held, delta: number): void {
    w.bytes += delta;
    this.bytes += delta;
  }

  private drop(name: string): void {
    const w = this.held.get(name);
    if (w === undefined) return;
    this.held.delete(name);
    this.bytes -= w.bytes;
    // A window's name is its range and one character for its direction.
    this.release(name.slice(0, -1));
  }

  /** One window or mark of `range` fewer. */
  private release(range: string): void {
    const left = this.perRange.get(range)! - 1;
    if (left === 0) this.perRange.delete(range);
    else this.perRange.set(range, left);
  }

  private evict(): void {
    while (this.bytes > this.maxBytes) this.drop(this.held.keys().next().value as string);
  }
}

/** Index of the first entry whose id is at or above `id`. */
export function lowerBound(entries: readonly WindowEntry[], id: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function entryBytes(e: WindowEntry): number {
  return ENTRY_OVERHEAD_BYTES + e.id.length + e.key.length + e.value.length;
}

/** The entries with their keys and values copied into one buffer of their own (no pool slab). */
function packed(entries: readonly WindowEntry[]): WindowEntry[] {
  let size = 0;
  for (const e of entries) size += e.key.length + e.value.length;
  const own = Buffer.allocUnsafeSlow(size);
  let at = 0;
  return entries.map((e) => {
    const key = own.subarray(at, at + e.key.length);
    e.key.copy(own, at);
    at += e.key.length;
    const value = own.subarray(at, at + e.value.length);
    e.value.copy(own, at);
    at += e.value.length;
    return { id: e.id, key, value };
  });
}
