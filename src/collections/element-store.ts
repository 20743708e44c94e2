import type { WindowEntry } from '../storage/range-windows.js';

/**
 * Element records as commands reach them, beside the keyspace's key records. The keyspace a
 * command runs on implements it: standalone, straight over the node's store; in a cluster, over
 * the coordinator's local replica (complete for the collection before the command runs, see
 * docs/decisions.md "Collections") with the command's own writes layered on top and collected
 * for replication. Record keys are element record keys (record-keys.ts) of the given slot.
 */
export interface ElementStore {
  /** The element's value; undefined when absent or deleted. */
  getElement(slot: number, rk: Buffer): Buffer | undefined;
  putElement(slot: number, rk: Buffer, value: Buffer): void;
  /** Deletes an element known to exist (a tombstone, so the deletion replicates and wins). */
  deleteElement(slot: number, rk: Buffer): void;
  /**
   * Visits live elements with start <= rk < end in byte order (descending when `reverse`) until
   * `visit` returns false. Cost: proportional to what is visited (and to deleted elements
   * skipped on the way), never to the collection's size. `hints`: what the caller knows of the
   * scan (how many it will take, so a store that reads ahead reads that many at once; a probe).
   */
  scanElements(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (rk: Buffer, value: Buffer) => boolean, hints?: ScanHints): void;
  /**
   * The live elements of one whole element range [start, end) in key order, when there are at
   * most 1,024 (the store keeps such a range whole for random picks, range-windows.ts);
   * undefined for a bigger range, or where no such view is at hand. Valid until the next write.
   */
  smallRange?(slot: number, start: Buffer, end: Buffer): readonly WindowEntry[] | undefined;
}

/** What a scan's caller knows of it, for the store to read accordingly. */
export interface ScanHints {
  /** How many elements the caller will take (LRANGE's count). */
  expect?: number;
  /** A random probe: no later read starts at the same bound (ScanRangeOptions.once). */
  once?: boolean;
}

/** One read of a chunk of elements: [record key, value] in scan order, and where a read for more goes on (undefined: nothing is left). */
export interface ElementChunk {
  entries: Array<[Buffer, Buffer]>;
  next: Buffer | undefined;
}

/** Elements read per step of an element scan, at most. */
const SCAN_CHUNK = 128;

/**
 * scanElements by chunks that `read` returns, for stores whose reads are not streams: commands
 * write while they scan (LREM, ZREMRANGEBYSCORE …), and the store's scans must not see writes
 * while they run, so each chunk is read before any of its elements is visited. The first chunk
 * is one element: a pop or a random probe wants one, and reading ahead costs what every element
 * read costs (a jump over a run of deleted ones between each two, dead-runs.ts), unless the store
 * holds the stretch (range-windows.ts). Then 16 (ZRANGE 0 9 in two reads), then SCAN_CHUNK at a
 * time; or first what the caller said it will take, when it knows (LRANGE 0 99 in one read).
 * `read` may decline a chunk (undefined): the unread rest [lo, hi) is returned for another way
 * to read it; undefined once the scan is over.
 */
export function scanInChunks(
  read: (lo: Buffer, hi: Buffer, n: number) => ElementChunk | undefined,
  start: Buffer, end: Buffer, reverse: boolean, visit: (rk: Buffer, value: Buffer) => boolean, hints?: ScanHints,
): [lo: Buffer, hi: Buffer] | undefined {
  let lo = start;
  let hi = end;
  // One more than expected: a chunk that is not full ends the scan without another read.
  const first = hints?.expect === undefined ? 1 : Math.max(1, Math.min(hints.expect + 1, SCAN_CHUNK));
  for (let size = first; ; size = Math.max(size, Math.min(size * 16, SCAN_CHUNK))) {
    const chunk = read(lo, hi, size);
    if (chunk === undefined) return [lo, hi];
    for (const [rk, value] of chunk.entries) if (!visit(rk, value)) return undefined;
    if (chunk.next === undefined) return undefined;
    if (reverse) hi = chunk.next;
    else lo = chunk.next;
  }
}
