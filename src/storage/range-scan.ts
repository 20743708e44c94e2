import { entryKey, entryRecord, type MemEntry } from './memtable.js';
import type { ScanSources } from './merged-scan.js';
import { RangeCache, type LmdbEntry } from './range-cache.js';
import type { StoredRecord } from './types.js';

/**
 * Ordered iteration over one range of storage ids, ascending or descending, as merged-scan.ts does
 * for whole slots, but seeking instead of walking: the memtables' ordered index (only internal-
 * namespace keys) and an LMDB cursor each start in O(log n), so the cost is O(log n + examined)
 * whatever the memtable or the collection holds. For each id the highest source wins (active over
 * frozen over LMDB); an entry removed locally (record undefined) hides older sources and is not
 * visited. Read-only and synchronous; `visit` must not write to the store.
 */

/** One source's current position: its id, or undefined once it ran out of the range. */
interface MemCursor {
  readonly it: Iterator<MemEntry, void>;
  entry: MemEntry | undefined;
}

/** Sources without a cache read LMDB every time. */
const UNCACHED = new RangeCache(0);

function advanceMem(c: MemCursor): void {
  const r = c.it.next();
  c.entry = r.done === true ? undefined : r.value;
}

/**
 * Visits the records with startId <= id < endId (ascending, or descending when `reverse`) until
 * `visit` returns false. Closes the LMDB cursor whenever it stops.
 */
export function rangeScan(
  src: ScanSources,
  startId: string,
  endId: string,
  reverse: boolean,
  visit: (key: Buffer, record: StoredRecord) => boolean,
): void {
  if (startId >= endId) return;
  const active: MemCursor = { it: src.active.rangeEntries(startId, endId, reverse), entry: undefined };
  advanceMem(active);
  const frozen: MemCursor | undefined = src.frozen ? { it: src.frozen.rangeEntries(startId, endId, reverse), entry: undefined } : undefined;
  if (frozen) advanceMem(frozen);
  const lmdb = src.data === undefined ? undefined : (src.cache ?? UNCACHED).cursor(src.data, startId, endId, reverse);
  const decode = src.decodeEntry ?? entryRecord;
  try {
    let l = lmdb?.next();
    // The LMDB entry just visited is stepped past only when the walk goes on: a scan that stops on
    // it (a pop's first element) reads nothing beyond what it visits.
    let stepLmdb = false;
    // Forward takes the smallest id of the sources, reverse the largest.
    const before = reverse ? (a: string, b: string): boolean => a > b : (a: string, b: string): boolean => a < b;
    for (;;) {
      if (stepLmdb) {
        l = lmdb!.next();
        stepLmdb = false;
      }
      const aId = active.entry?.id;
      const fId = frozen?.entry?.id;
      if (aId === undefined && fId === undefined) {
        // Only LMDB is left (a collection untouched since its last checkpoint, or its tail).
        while (l !== undefined) {
          const e = l;
          if (!visit(e.key, e.record)) {
            src.stoppedOn?.(e.id, e.record);
            return;
          }
          l = lmdb!.next();
        }
        return;
      }
      const lId = l?.id;
      let next = aId;
      if (fId !== undefined && (next === undefined || before(fId, next))) next = fId;
      if (lId !== undefined && (next === undefined || before(lId, next))) next = lId;
      if (next === undefined) return;
      let key: Buffer;
      let record: StoredRecord | undefined;
      let fromLmdb: LmdbEntry | undefined;
      if (aId === next || fId === next) {
        const e = aId === next ? active.entry! : frozen!.entry!;
        key = entryKey(e);
        record = decode(e);
      } else {
        fromLmdb = l!;
        key = fromLmdb.key;
        record = fromLmdb.record;
      }
      if (aId === next) advanceMem(active);
      if (fId === next) advanceMem(frozen!);
      if (lId === next) stepLmdb = true;
      if (record !== undefined && !visit(key, record)) {
        if (fromLmdb !== undefined) src.stoppedOn?.(fromLmdb.id, fromLmdb.record);
        return;
      }
    }
  } finally {
    lmdb?.close();
  }
}
