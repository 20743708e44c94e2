import type { ClockEntry } from '../storage/types.js';

/**
 * Vector clocks: one counter per coordinating node (16-hex node tag). They only *detect*
 * concurrent writes so they can be counted and logged; the winner is always chosen by the HLC
 * version (last writer wins). Every function is pure: inputs are never mutated, and outputs are
 * new arrays sorted by node so equal clocks have equal encodings on every replica.
 *
 * Why pruning is safe enough: dropping an entry makes a clock claim less history than it has.
 * Comparisons involving it may then report 'concurrent' where the truth is 'before'/'after' (a
 * spurious conflict report), or miss a real concurrency (a missed report). Neither changes which
 * value survives, because LWW on the version decides that. Dropping the smallest counters keeps
 * the nodes that coordinate most writes, whose entries are the ones live conflicts involve; nodes
 * that coordinated a handful of writes long ago fall out first.
 */

export type ClockOrder = 'equal' | 'before' | 'after' | 'concurrent';

/** Bound on entries per clock, so a clock stays small however many nodes ever coordinated a key. */
export const CLOCK_ENTRIES_MAX = 10;

const NODE_TAG_RE = /^[0-9a-f]{16}$/;

/** The clock after `node` coordinated one more write; pruned to `max`, never dropping `node`. */
export function increment(
  clock: readonly ClockEntry[],
  node: string,
  max: number = CLOCK_ENTRIES_MAX,
): ClockEntry[] {
  assertNode(node);
  const entries = normalize(clock);
  const result: ClockEntry[] = [];
  let found = false;
  for (const e of entries) {
    if (e.node === node) {
      result.push({ node, counter: e.counter + 1 });
      found = true;
    } else {
      result.push({ node: e.node, counter: e.counter });
    }
  }
  if (!found) {
    result.push({ node, counter: 1 });
    result.sort(byNode);
  }
  return pruneClock(result, max, node);
}

/** How `a` relates to `b`: 'before' means every event of `a` is known to `b` and `b` has more. */
export function compareClocks(a: readonly ClockEntry[], b: readonly ClockEntry[]): ClockOrder {
  const x = normalize(a);
  const y = normalize(b);
  let aAhead = false;
  let bAhead = false;
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    const ex = x[i];
    const ey = y[j];
    // A node missing from one clock counts as 0 there.
    if (ey === undefined || (ex !== undefined && ex.node < ey.node)) {
      if (ex!.counter > 0) aAhead = true;
      i++;
    } else if (ex === undefined || ey.node < ex.node) {
      if (ey.counter > 0) bAhead = true;
      j++;
    } else {
      if (ex.counter > ey.counter) aAhead = true;
      else if (ex.counter < ey.counter) bAhead = true;
      i++;
      j++;
    }
  }
  if (aAhead && bAhead) return 'concurrent';
  if (aAhead) return 'after';
  if (bAhead) return 'before';
  return 'equal';
}

/** Pairwise maximum: a clock that has seen everything either input has seen; pruned to `max`. */
export function mergeClocks(
  a: readonly ClockEntry[],
  b: readonly ClockEntry[],
  max: number = CLOCK_ENTRIES_MAX,
): ClockEntry[] {
  const byKey = new Map<string, number>();
  for (const e of normalize(a)) byKey.set(e.node, e.counter);
  for (const e of normalize(b)) byKey.set(e.node, Math.max(byKey.get(e.node) ?? 0, e.counter));
  const merged: ClockEntry[] = [];
  for (const [node, counter] of byKey) merged.push({ node, counter });
  merged.sort(byNode);
  return pruneClock(merged, max);
}

/**
 * At most `max` entries: drops the lowest counters first (ties: the higher node tag first, so every
 * replica prunes identically). `keep` is never dropped: pruning the entry a write just incremented
 * would make the write look equal to its predecessor.
 */
export function pruneClock(
  clock: readonly ClockEntry[],
  max: number = CLOCK_ENTRIES_MAX,
  keep?: string,
): ClockEntry[] {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`clock max must be >= 1: ${max}`);
  const entries = normalize(clock).map((e) => ({ node: e.node, counter: e.counter }));
  if (entries.length <= max) return entries;
  const survivors = [...entries].sort(dropOrder(keep)).slice(0, max);
  return survivors.sort(byNode);
}

/** Most valuable first: `keep`, then higher counters, then lower node tags. */
function dropOrder(keep: string | undefined): (x: ClockEntry, y: ClockEntry) => number {
  return (x, y) => {
    if (x.node === keep) return -1;
    if (y.node === keep) return 1;
    if (x.counter !== y.counter) return y.counter - x.counter;
    return x.node < y.node ? -1 : 1;
  };
}

function byNode(x: ClockEntry, y: ClockEntry): number {
  return x.node < y.node ? -1 : x.node > y.node ? 1 : 0;
}

/**
 * Validated entries in ascending node order: the input itself when already sorted (the usual
 * case, as every function here returns sorted clocks), otherwise a sorted copy.
 */
function normalize(clock: readonly ClockEntry[]): readonly ClockEntry[] {
  let sorted = true;
  for (let i = 0; i < clock.length; i++) {
    const e = clock[i]!;
    assertNode(e.node);
    if (!Number.isSafeInteger(e.counter) || e.counter < 0) {
      throw new RangeError(`clock counter must be a non-negative integer: ${e.counter}`);
    }
    if (i > 0 && clock[i - 1]!.node >= e.node) sorted = false;
  }
  if (sorted) return clock;
  const copy = [...clock].sort(byNode);
  for (let i = 1; i < copy.length; i++) {
    if (copy[i - 1]!.node === copy[i]!.node) throw new Error(`duplicate clock entry: ${copy[i]!.node}`);
  }
  return copy;
}

function assertNode(node: string): void {
  if (!NODE_TAG_RE.test(node)) throw new RangeError(`clock node must be 16 lowercase hex: ${node}`);
}
