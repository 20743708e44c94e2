/**
 * The live elements of small element ranges, held whole and kept exact by every write, so a
 * random pick from a small collection (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) reads one
 * element by index instead of walking to it.
 *
 * Why: random-pick.ts samples collections of up to 1,024 elements exactly, by index, and
 * reaching index i is a walk of i live elements in key order. After many deletions each step of
 * that walk is also a jump over a run of tombstones (dead-runs.ts), a re-seek of every source:
 * the last thousand SPOPs of a set that held 100,000 cost about a millisecond each. With the
 * range held here a pick is a binary search and the pop's own deletion a splice.
 *
 * Kept exact because every change of what a range shows goes through Store.install (commands,
 * replica batches, hints, anti-entropy, purges), which calls noteWrite; FLUSHALL clears all;
 * checkpoints change where records live, not what a scan shows. A snapshot is what a scan of the
 * range shows: the live Element records, keyed by record key (latin1, so byte order).
 *
 * Bounded: a range is held only while it has at most `maxPerRange` elements (a write past it
 * drops it), and `maxBytes` over all ranges, least recently used dropped first.
 */

export interface SnapshotEntry {
  /** The record key as a latin1 string (its byte order). */
  readonly id: string;
  readonly value: Buffer;
}

/** What a held entry weighs besides its id and value: the object, the array slot, the views. */
const ENTRY_OVERHEAD_BYTES = 120;
/** What a snapshot weighs besides its entries. */
const SNAPSHOT_OVERHEAD_BYTES = 200;

interface Snapshot {
  readonly entries: SnapshotEntry[];
  bytes: number;
}

export class RangeSnapshots {
  private readonly held = new Map<string, Snapshot>();
  private bytes = 0;

  constructor(
    readonly maxPerRange = 1024,
    private readonly maxBytes = 8 << 20,
  ) {}

  /** True when no range is held: writes then skip working out their range. */
  get empty(): boolean {
    return this.held.size === 0;
  }

  /** Ranges held. */
  get size(): number {
    return this.held.size;
  }

  /** True when `range` is held (without counting as a use). */
  holds(range: string): boolean {
    return this.held.has(range);
  }

  /** The range's live entries in key order, when held; the array must not be changed. */
  get(range: string): readonly SnapshotEntry[] | undefined {
    const s = this.held.get(range);
    if (s === undefined) return undefined;
    // Most recently used last: eviction takes the map's first ranges.
    this.held.delete(range);
    this.held.set(range, s);
    return s.entries;
  }

  /** Holds a range as a scan found it (entries in key order, at most maxPerRange of them). */
  set(range: string, entries: SnapshotEntry[]): void {
    if (entries.length > this.maxPerRange) return;
    this.drop(range);
    let bytes = SNAPSHOT_OVERHEAD_BYTES + 2 * range.length;
    for (const e of entries) bytes += entryBytes(e);
    if (bytes > this.maxBytes / 4) return;
    this.held.set(range, { entries, bytes });
    this.bytes += bytes;
    this.evict();
  }

  /**
   * The record at `id` in `range` is now `value` (a live element), or gone (undefined: a
   * tombstone, another type, or removed).
   */
  noteWrite(range: string, id: string, value: Buffer | undefined): void {
    const s = this.held.get(range);
    if (s === undefined) return;
    const { entries } = s;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    const at = entries[lo];
    const found = at !== undefined && at.id === id;
    if (value === undefined) {
      if (!found) return;
      entries.splice(lo, 1);
      this.resize(s, -entryBytes(at));
      return;
    }
    const e: SnapshotEntry = { id, value };
    if (found) {
      entries[lo] = e;
      this.resize(s, entryBytes(e) - entryBytes(at));
    } else {
      entries.splice(lo, 0, e);
      this.resize(s, entryBytes(e));
    }
    if (entries.length > this.maxPerRange || s.bytes > this.maxBytes / 4) this.drop(range);
    else this.evict();
  }

  clear(): void {
    this.held.clear();
    this.bytes = 0;
  }

  private resize(s: Snapshot, delta: number): void {
    s.bytes += delta;
    this.bytes += delta;
  }

  private drop(range: string): void {
    const s = this.held.get(range);
    if (s === undefined) return;
    this.held.delete(range);
    this.bytes -= s.bytes;
  }

  private evict(): void {
    while (this.bytes > this.maxBytes) this.drop(this.held.keys().next().value as string);
  }
}

function entryBytes(e: SnapshotEntry): number {
  return ENTRY_OVERHEAD_BYTES + e.id.length + e.value.length;
}
