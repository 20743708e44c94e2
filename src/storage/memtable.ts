import type { StoredRecord } from './types.js';

/**
 * Recent writes not yet in LMDB, keyed by storage id (the LMDB key as a latin1 string, see
 * key-layout.ts). Entries are only ever added or updated, never removed: a local removal is an
 * entry whose record is undefined, which must hide whatever LMDB still holds for the key.
 *
 * Point reads are one Map lookup. Scans need key order; rather than paying for a sorted structure
 * on every write, the ids added since the last scan are sorted and merged into a cached order on
 * demand, so a scan costs O(new log new + n) and writes stay O(1).
 */

export interface MemEntry {
  readonly slot: number;
  /** The user key (a long key in full, not its digest). */
  readonly key: Buffer;
  record: StoredRecord | undefined;
  /**
   * Index entries LMDB holds for this key just before this memtable is written, so a checkpoint
   * can remove stale ones without reading LMDB: expiry time (0 = none) and tombstone ms (-1 = none).
   */
  readonly baseExpiresAt: number;
  readonly baseTombstoneMs: number;
  /** Approximate bytes this entry holds, for the checkpoint size trigger. */
  bytes: number;
}

/** Fixed per-entry overhead estimate (Map slot, entry object, record object). */
export const MEM_ENTRY_OVERHEAD_BYTES = 160;

export class Memtable {
  readonly entries = new Map<string, MemEntry>();
  bytes = 0;
  private sorted: string[] = [];
  private added: string[] = [];

  get size(): number {
    return this.entries.size;
  }

  get(id: string): MemEntry | undefined {
    return this.entries.get(id);
  }

  /** Adds an entry for an id not yet present. */
  insert(id: string, entry: MemEntry): void {
    this.entries.set(id, entry);
    this.added.push(id);
    this.bytes += entry.bytes;
  }

  /** Replaces the record of an existing entry. */
  update(entry: MemEntry, record: StoredRecord | undefined, bytes: number): void {
    entry.record = record;
    this.bytes += bytes - entry.bytes;
    entry.bytes = bytes;
  }

  /** All ids in byte order. The array is shared: do not modify it. */
  sortedIds(): readonly string[] {
    if (this.added.length > 0) {
      const fresh = this.added.sort(compareIds);
      this.added = [];
      this.sorted = this.sorted.length === 0 ? fresh : mergeSorted(this.sorted, fresh);
    }
    return this.sorted;
  }
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Index of the first id >= `id` in a sorted array. */
export function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
