import type { DeadRuns } from './dead-runs.js';
import type { ScanSources } from './merged-scan.js';
import { rangeIds } from './range-bounds.js';
import { rangeScan } from './range-scan.js';
import { ValueType, type StoredRecord } from './types.js';

/**
 * A range scan inside one element range that jumps over the runs DeadRuns knows hold nothing
 * live and teaches it the runs of tombstones it walks (dead-runs.ts). Visits what rangeScan
 * visits minus the jumped tombstones: tombstones still come to `visit` when walked (the caller
 * filters), live records all do.
 *
 * Every walked stretch of tombstones is learned, however short: SPOP deletes members at random
 * positions, so most stretches are one tombstone long, and a scan that walked them all again
 * (SRANDMEMBER and SPOP read a small set whole) would cost what the deletions before it cost. A
 * jump costs a re-seek of every source, a few records' worth, but the runs a scan can meet are
 * bounded by the live records it passes, never by the deletions.
 */

export interface SkipCounters {
  /** Tombstones range scans walked (what the runs are there to keep bounded per operation). */
  rangeTombstonesWalked: number;
  /** Runs of tombstones range scans jumped. */
  rangeRunsJumped: number;
}

/** Record keys up to this many bytes have exact storage ids (key-layout.ts); longer ones stop learning. */
export function skippingScan(
  src: ScanSources, runs: DeadRuns, range: string, inlineMax: number, slot: number,
  start: Buffer, end: Buffer, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean, counters: SkipCounters,
): void {
  if (Buffer.compare(start, end) >= 0) return;
  const lowest = start.toString('latin1');
  const highest = end.toString('latin1');
  // The open stretch of dead records: the live key it follows in scan order (none: it starts at
  // the bound), what it walked and jumped. Ids are made only for stretches worth learning: a scan
  // of live records alone converts no key. Keys stay valid after their visit (memtable keys are
  // never changed, LMDB's come as copies).
  let prevLive: Buffer | undefined;
  let walked = 0;
  let jumped = 0;
  let lastDead: Buffer | undefined;
  // False once a key too long for byte-ordered ids was seen: nothing more is learned.
  let ordered = true;
  let stopped = false;
  // Worth learning: tombstones walked, or runs jumped back to back that merge into one.
  const worth = (): boolean => ordered && (walked > 0 || jumped >= 2);
  // Where the open stretch begins (forward) or ends (reverse).
  const edge = (): string => {
    if (prevLive === undefined) return reverse ? highest : lowest;
    const id = prevLive.toString('latin1');
    return reverse ? id : id + '\0';
  };
  const learn = (lo: string, hi: string): void => {
    if (lo.length <= inlineMax && hi.length <= inlineMax) runs.learn(range, lo, hi);
  };
  const wrapped = (key: Buffer, record: StoredRecord): boolean => {
    if (key.length > inlineMax) ordered = false;
    if (record.type === ValueType.Tombstone) {
      walked++;
      counters.rangeTombstonesWalked++;
      if (visit(key, record)) return true;
      lastDead = key;
      stopped = true;
      return false;
    }
    if (worth()) {
      const id = key.toString('latin1');
      if (reverse) learn(id + '\0', edge());
      else learn(edge(), id);
    }
    prevLive = key;
    walked = 0;
    jumped = 0;
    if (visit(key, record)) return true;
    stopped = true;
    return false;
  };
  // Nothing known of this range yet (the common case): one plain segment.
  if (!runs.has(range)) segmentOf(src, slot, start, end, reverse, wrapped);
  else {
    let at = reverse ? highest : lowest;
    for (;;) {
      const moved = reverse ? runs.skipDown(range, at) : runs.skipUp(range, at);
      if (moved !== at) {
        at = moved;
        jumped++;
        counters.rangeRunsJumped++;
      }
      if (reverse ? at <= lowest : at >= highest) break;
      const next = reverse ? runs.nextDown(range, at) : runs.nextUp(range, at);
      // This segment ends where the next run begins (forward) or ends (reverse), or at the bound.
      let bound = reverse ? lowest : highest;
      if (next !== undefined && (reverse ? next[1] > lowest : next[0] < highest)) bound = reverse ? next[1] : next[0];
      segment(src, slot, reverse ? bound : at, reverse ? at : bound, reverse, wrapped);
      if (stopped || bound === (reverse ? lowest : highest)) break;
      at = bound;
    }
  }
  if (!worth()) return;
  if (!stopped) {
    if (reverse) learn(lowest, edge());
    else learn(edge(), highest);
  } else if (lastDead !== undefined) {
    // Stopped on a tombstone: the stretch up to and including it is dead.
    const id = lastDead.toString('latin1');
    if (reverse) learn(id, edge());
    else learn(edge(), id + '\0');
  }
}

function segment(src: ScanSources, slot: number, lo: string, hi: string, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean): void {
  segmentOf(src, slot, Buffer.from(lo, 'latin1'), Buffer.from(hi, 'latin1'), reverse, visit);
}

function segmentOf(src: ScanSources, slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean): void {
  const { startId, endId, exact } = rangeIds(slot, start, end);
  // A long key can sort outside its bounds by storage id: compare the real keys.
  rangeScan(src, startId, endId, reverse, exact
    ? visit
    : (key, record) => (Buffer.compare(key, start) < 0 || Buffer.compare(key, end) >= 0 ? true : visit(key, record)));
}
