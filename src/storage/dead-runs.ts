import { createRequire } from 'node:module';
import type SortedBtreeModule from 'sorted-btree';
import { prefixUpperBound } from './key-layout.js';

// sorted-btree is CommonJS with the class as `exports.default` (see memtable.ts).
const { default: BTree } = createRequire(import.meta.url)('sorted-btree') as { default: typeof SortedBtreeModule.default };
type BTree<K, V> = InstanceType<typeof SortedBtreeModule.default<K, V>>;

/**
 * Per element range (one kind of one life of one collection), runs of record keys known to hold
 * nothing live: [lo, hi) with only tombstones (or nothing) in it. Deleted elements stay in key
 * order until they are purged — until the next checkpoint on one node, `tombstone-grace-ms` in a
 * cluster — so without this a pop from either end of a sorted set's score index (ZPOPMIN,
 * ZPOPMAX, ZRANGE from rank 0) and a random pick (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER)
 * would walk every element deleted before it, and its cost would grow with the deletions. A
 * scan jumps over the runs it meets (Store.scanRange) and records the runs of tombstones it
 * walks, so each tombstone is walked about once.
 *
 * A run at the start of a range is the range's first-live-position hint (pops from the low end),
 * one at its end the last-live one (pops from the high end), runs inside it what random probes
 * skip. Invariant: nothing live in any run. Kept by: runs are learned only from what a scan saw,
 * synchronously (no write happens during a scan); every live record written (a command, a
 * replica batch from another coordinator, a hint, anti-entropy, a healing copy, log replay)
 * splits the run holding it (noteLive); FLUSHALL clears everything; a restart starts empty.
 *
 * Keys are record keys as latin1 strings (their byte order); a range is named by its slot and
 * prefix. Bounded: `maxRuns` runs in all, the least recently taught range forgotten first, and
 * `maxRunsPerRange` per range (past it a range only learns runs that merge). Forgetting a run
 * only costs a walk.
 */
export class DeadRuns {
  private readonly ranges = new Map<string, BTree<string, string>>();
  private count = 0;

  constructor(
    private readonly maxRuns = 32_768,
    private readonly maxRunsPerRange = 8_192,
  ) {}

  /** Runs held, all ranges together. */
  get size(): number {
    return this.count;
  }

  /** Where a forward scan at `at` (inclusive) goes on: `at`, or the end of the run holding it. */
  skipUp(range: string, at: string): string {
    const r = this.ranges.get(range)?.getPairOrNextLower(at);
    return r !== undefined && at < r[1] ? r[1] : at;
  }

  /** The first run starting above `at`, as [lo, hi]. */
  nextUp(range: string, at: string): [string, string] | undefined {
    return this.ranges.get(range)?.nextHigherPair(at);
  }

  /** Where a reverse scan below `end` (exclusive) goes on: `end`, or the start of the run reaching it. */
  skipDown(range: string, end: string): string {
    const r = this.ranges.get(range)?.nextLowerPair(end);
    return r !== undefined && end <= r[1] ? r[0] : end;
  }

  /** The last run starting below `end`, as [lo, hi]; after skipDown its hi is below `end`. */
  nextDown(range: string, end: string): [string, string] | undefined {
    return this.ranges.get(range)?.nextLowerPair(end);
  }

  /** A scan saw nothing live in [lo, hi): remember it, merged with the runs it overlaps or touches. */
  learn(range: string, lo: string, hi: string): void {
    if (lo >= hi) return;
    let tree = this.ranges.get(range);
    if (tree === undefined) {
      tree = new BTree<string, string>();
      this.ranges.set(range, tree);
    } else {
      // Most recently taught last: the first one is the one to forget.
      this.ranges.delete(range);
      this.ranges.set(range, tree);
    }
    let from = lo;
    let to = hi;
    const below = tree.getPairOrNextLower(lo);
    if (below !== undefined && below[1] >= lo) {
      from = below[0];
      if (below[1] > to) to = below[1];
    }
    const merged: string[] = [];
    for (let r = tree.getPairOrNextHigher(from); r !== undefined && r[0] <= to; r = tree.nextHigherPair(r[0])) {
      merged.push(r[0]);
      if (r[1] > to) to = r[1];
    }
    if (merged.length === 0 && tree.size >= this.maxRunsPerRange) return;
    for (const k of merged) tree.delete(k);
    tree.set(from, to);
    this.count += 1 - merged.length;
    this.evict();
  }

  /** A live record was written at `key`: the run holding it is split around it. */
  noteLive(range: string, key: string): void {
    const tree = this.ranges.get(range);
    if (tree === undefined) return;
    const r = tree.getPairOrNextLower(key);
    if (r === undefined || key >= r[1]) return;
    const [lo, hi] = r;
    tree.delete(lo);
    this.count--;
    if (lo < key) {
      tree.set(lo, key);
      this.count++;
    }
    const after = key + '\0';
    if (after < hi) {
      tree.set(after, hi);
      this.count++;
    }
    if (tree.size === 0) this.ranges.delete(range);
    this.evict();
  }

  /** Forgets one range's runs (a write there that they cannot place, see Store). */
  forget(range: string): void {
    const tree = this.ranges.get(range);
    if (tree === undefined) return;
    this.count -= tree.size;
    this.ranges.delete(range);
  }

  /** True when `range` has runs. */
  has(range: string): boolean {
    return this.ranges.has(range);
  }

  /** True when no range has runs: writes then skip working out their range. */
  get empty(): boolean {
    return this.ranges.size === 0;
  }

  clear(): void {
    this.ranges.clear();
    this.count = 0;
  }

  private evict(): void {
    while (this.count > this.maxRuns) {
      const oldest = this.ranges.keys().next().value as string;
      this.forget(oldest);
    }
  }
}

/**
 * The element range [start, end) lies in, named for DeadRuns (slot and record-key prefix
 * `0xFF ‖ kind ‖ u32 key length ‖ key ‖ 8-byte generation`), when it lies in one: undefined for
 * a scan across ranges (the reclaimer's sweep) and for bounds too long for exact storage ids.
 */
export function rangeOfBounds(slot: number, start: Buffer, end: Buffer, inlineMax: number): string | undefined {
  if (start.length > inlineMax || end.length > inlineMax) return undefined;
  const pl = prefixLength(start);
  if (pl < 0) return undefined;
  // Every key below `end` from `start` on must carry start's prefix: end <= the prefix's upper bound.
  const upper = prefixUpperBound(start, pl);
  return upper !== undefined && Buffer.compare(end, upper) <= 0 ? rangeId(slot, start, pl) : undefined;
}

/**
 * The element range [start, end) lies in (as rangeOfBounds), and whether it starts at the
 * range's first key (`start` is the range's prefix) and ends at its end (the first key past it).
 */
export function rangeEdges(slot: number, start: Buffer, end: Buffer, inlineMax: number): { range: string; atStart: boolean; atEnd: boolean } | undefined {
  const range = rangeOfBounds(slot, start, end, inlineMax);
  if (range === undefined) return undefined;
  const pl = prefixLength(start);
  return { range, atStart: pl === start.length, atEnd: Buffer.compare(end, prefixUpperBound(start, pl)!) === 0 };
}

/** The element range a record key belongs to, or undefined for keys outside element ranges. */
export function rangeOfKey(slot: number, key: Buffer): string | undefined {
  const pl = prefixLength(key);
  return pl < 0 ? undefined : rangeId(slot, key, pl);
}

/** Length of the element-range prefix of an internal record key, or -1 when it has none. */
function prefixLength(key: Buffer): number {
  if (key.length < 6 || key[0] !== 0xff || key[1] === 0xff) return -1;
  const pl = 6 + key.readUInt32BE(2) + 8;
  return key.length >= pl ? pl : -1;
}

function rangeId(slot: number, key: Buffer, pl: number): string {
  return `${slot}:${key.toString('latin1', 0, pl)}`;
}
