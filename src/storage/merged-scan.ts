import type { Database } from 'lmdb';
import { decodeRangeEntry } from './lmdb-tables.js';
import type { RangeCache } from './range-cache.js';
import { entryKey, entryRecord, lowerBound, type MemEntry, type Memtable } from './memtable.js';
import type { StoredRecord } from './types.js';

/**
 * Ordered iteration over active memtable → frozen memtable → LMDB, as one keyspace. For each
 * storage id the highest source wins (active over frozen over LMDB); an entry removed locally
 * (record undefined) hides older sources and is not visited. Ids are storage keys as latin1
 * strings, so string order is LMDB's byte order.
 */

export interface ScanSources {
  active: Memtable;
  frozen: Memtable | undefined;
  /** Undefined while LMDB's content is stale (a FLUSHALL is clearing it). */
  data: Database<Buffer, Buffer> | undefined;
  /** What range reads found in LMDB (range-scan.ts); whole-slot scans do not use it. */
  cache?: RangeCache;
  /**
   * Told of the LMDB entry a range scan stopped on (its visit returned false there): a pop or a
   * first-element read usually writes exactly that element next (range-scan.ts).
   */
  stoppedOn?: (id: string, record: StoredRecord) => void;
  /** How range scans decode a memtable entry (range-scan.ts): entryRecord unless the reader wants values alone. */
  decodeEntry?: (e: MemEntry) => StoredRecord | undefined;
}

export interface ScanStop {
  /** Last id examined (visited or hidden), to resume after; undefined if nothing was examined. */
  lastSlot: number;
  lastKey: Buffer | undefined;
  /** True when every source ran out before `endId`. */
  exhausted: boolean;
}

/**
 * Visits records with startId <= id < endId in order until `visit` returns false or
 * `examineMax` ids were looked at (tombstone-heavy ranges then return early instead of stalling
 * the event loop). Read-only and synchronous.
 */
export function mergedScan(
  src: ScanSources,
  startId: string,
  endId: string | undefined,
  examineMax: number,
  visit: (slot: number, key: Buffer, record: StoredRecord) => boolean,
  /** Set when the range lies within this one slot: only its memtable entries are ordered. */
  withinSlot?: number,
): ScanStop {
  const order = (m: Memtable): readonly MemEntry[] => (withinSlot === undefined ? m.sorted() : m.sortedSlot(withinSlot));
  const aList = order(src.active);
  let ai = lowerBound(aList, startId);
  const fList = src.frozen ? order(src.frozen) : [];
  let fi = lowerBound(fList, startId);
  const lmdb = src.data
    ? src.data
        .getRange({
          start: Buffer.from(startId, 'latin1'),
          end: endId === undefined ? undefined : Buffer.from(endId, 'latin1'),
        })
        [Symbol.iterator]()
    : undefined;
  const stop: ScanStop = { lastSlot: 0, lastKey: undefined, exhausted: false };
  try {
    let lEntry = lmdb?.next();
    let lId = lEntry && !lEntry.done ? lEntry.value.key.toString('latin1') : undefined;
    let examined = 0;
    for (;;) {
      let aId = ai < aList.length ? aList[ai]!.id : undefined;
      if (aId !== undefined && endId !== undefined && aId >= endId) aId = undefined;
      let fId = fi < fList.length ? fList[fi]!.id : undefined;
      if (fId !== undefined && endId !== undefined && fId >= endId) fId = undefined;
      let min = aId;
      if (fId !== undefined && (min === undefined || fId < min)) min = fId;
      if (lId !== undefined && (min === undefined || lId < min)) min = lId;
      if (min === undefined) {
        stop.exhausted = true;
        return stop;
      }
      let slot: number;
      let key: Buffer;
      let record: StoredRecord | undefined;
      if (aId === min || fId === min) {
        const e = aId === min ? aList[ai]! : fList[fi]!;
        slot = e.slot;
        key = entryKey(e);
        record = entryRecord(e);
      } else {
        const { key: sk, value } = (lEntry as IteratorYieldResult<{ key: Buffer; value: Buffer }>).value;
        slot = sk.readUInt16BE(0);
        ({ key, record } = decodeRangeEntry(sk, value));
      }
      if (aId === min) ai++;
      if (fId === min) fi++;
      if (lId === min) {
        lEntry = lmdb!.next();
        lId = lEntry.done ? undefined : lEntry.value.key.toString('latin1');
      }
      examined++;
      stop.lastSlot = slot;
      stop.lastKey = key;
      if (record !== undefined && !visit(slot, key, record)) return stop;
      if (examined >= examineMax) return stop;
    }
  } finally {
    lmdb?.return?.();
  }
}
