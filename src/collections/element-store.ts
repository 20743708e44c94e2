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
