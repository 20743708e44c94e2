import { decodeRangeEntry } from './lmdb-tables.js';
import { entryKey, entryRecord, type MemEntry } from './memtable.js';
import type { ScanSources } from './merged-scan.js';
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
  const low = Buffer.from(startId, 'latin1');
  const high = Buffer.from(endId, 'latin1');
  // lmdb-js walks from `start` towards `end`; in reverse `start` is the upper bound and inclusive,
  // so an exact match of endId is skipped below, and inclusiveEnd keeps startId itself.
  const lmdb = src.data
    ?.getRange(reverse ? { start: high, end: low, reverse: true, inclusiveEnd: true } : { start: low, end: high })
    [Symbol.iterator]();
  try {
    let lEntry = lmdb?.next();
    let lId = lEntry !== undefined && lEntry.done !== true ? lEntry.value.key.toString('latin1') : undefined;
    if (reverse && lId !== undefined && lId >= endId) {
      lEntry = lmdb!.next();
      lId = lEntry.done === true ? undefined : lEntry.value.key.toString('latin1');
    }
    // Forward takes the smallest id of the sources, reverse the largest.
    const before = reverse ? (a: string, b: string): boolean => a > b : (a: string, b: string): boolean => a < b;
    for (;;) {
      const aId = active.entry?.id;
      const fId = frozen?.entry?.id;
      if (aId === undefined && fId === undefined) {
        // Only LMDB is left (a collection untouched since its last checkpoint, or its tail): its
        // range bounds the walk, so entries need no id to merge by, nor a second key copy.
        while (lId !== undefined) {
          const { key: sk, value } = (lEntry as IteratorYieldResult<{ key: Buffer; value: Buffer }>).value;
          const { key, record } = decodeRangeEntry(sk, value);
          lEntry = lmdb!.next();
          lId = lEntry.done === true ? undefined : '';
          if (!visit(key, record)) return;
        }
        return;
      }
      let next = aId;
      if (fId !== undefined && (next === undefined || before(fId, next))) next = fId;
      if (lId !== undefined && (next === undefined || before(lId, next))) next = lId;
      if (next === undefined) return;
      let key: Buffer;
      let record: StoredRecord | undefined;
      if (aId === next || fId === next) {
        const e = aId === next ? active.entry! : frozen!.entry!;
        key = entryKey(e);
        record = entryRecord(e);
      } else {
        const { key: sk, value } = (lEntry as IteratorYieldResult<{ key: Buffer; value: Buffer }>).value;
        ({ key, record } = decodeRangeEntry(sk, value));
      }
      if (aId === next) advanceMem(active);
      if (fId === next) advanceMem(frozen!);
      if (lId === next) {
        lEntry = lmdb!.next();
        lId = lEntry.done === true ? undefined : lEntry.value.key.toString('latin1');
      }
      if (record !== undefined && !visit(key, record)) return;
    }
  } finally {
    lmdb?.return?.();
  }
}
