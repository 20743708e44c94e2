import { createRequire } from 'node:module';
import type SortedBtreeModule from 'sorted-btree';
import { bytesEqual, storageId } from './key-layout.js';
import { isRangeKey } from './range-bounds.js';
import { ValueType, type StoredRecord } from './types.js';

// sorted-btree is CommonJS with the class as `exports.default`. What a default import yields differs
// between Node (the exports object) and test runners' interop (the class); require is the same everywhere.
const { default: BTree } = createRequire(import.meta.url)('sorted-btree') as { default: typeof SortedBtreeModule.default };
type BTree<K, V> = InstanceType<typeof SortedBtreeModule.default<K, V>>;

/**
 * Recent writes not yet in LMDB. Entries are only ever added or updated, never removed: a local
 * removal is an entry whose record is undefined, which must hide whatever LMDB still holds.
 *
 * Point lookups go through a Map keyed by a 30-bit hash of (slot, key) with same-hash chains,
 * checked by byte equality: no string is built per request, which costs more than the lookup.
 * Scans need byte order; instead of keeping a sorted structure on every write, entries added
 * since the last scan are sorted and merged into a cached order on demand (O(new·log new + n)).
 *
 * Range scans (Store.scanRange) cannot afford that: a collection command after every write would
 * re-sort. Entries whose key is in the internal namespace (range-bounds.ts) are therefore also
 * kept in a B+ tree by storage id, which seeks in O(log n) and iterates both ways. Only those keys
 * pay for it; plain user keys never enter the tree. A deleted element (a tombstone or a local
 * removal) stays in the tree only while it hides something below this memtable: one that hides
 * nothing would only be skipped by every scan, and a queue popped all day would make each pop walk
 * past every element popped since the last checkpoint. Scans that must see tombstones (a replica
 * completing a collection) use the slot's sorted entries instead (Store.scanRangeRaw).
 */

export interface MemEntry {
  readonly slot: number;
  /** The user key (a long key in full, not its digest). */
  readonly key: Buffer;
  readonly hash: number;
  record: StoredRecord | undefined;
  /** The record encoded (record-codec), i.e. the LMDB value; undefined iff record is. */
  encoded: Buffer | undefined;
  /**
   * Index entries LMDB holds for this key just before this memtable is written, so a checkpoint
   * can remove stale ones without reading LMDB: expiry time (0 = none) and tombstone ms (-1 = none).
   */
  readonly baseExpiresAt: number;
  readonly baseTombstoneMs: number;
  /** A record for this key was visible below this memtable (frozen, LMDB) when the entry was made. */
  readonly below: boolean;
  /** Approximate bytes held, for the checkpoint size trigger. */
  bytes: number;
  /** Next entry in the same hash chain. */
  next: MemEntry | undefined;
  /** Storage id (see key-layout.ts), computed when a scan first needs this entry's order (at insert for range keys). */
  id: string | undefined;
}

/** Per-entry overhead estimate (index slot, entry and record objects). */
export const MEM_ENTRY_OVERHEAD_BYTES = 200;

export class Memtable {
  private readonly index = new Map<number, MemEntry>();
  /** Every entry, in insertion order (the order checkpoints write them). */
  readonly entries: MemEntry[] = [];
  bytes = 0;
  /** Entries per slot, sorted on demand: slot-bounded scans (anti-entropy) then skip the global order. */
  private readonly slots = new Map<number, { entries: MemEntry[]; sorted: boolean }>();
  private sortedEntries: MemEntry[] = [];
  /** entries[0, sortedCount) are in sortedEntries. */
  private sortedCount = 0;
  /** Entries with internal-namespace keys by storage id; created with the first such entry. */
  private ordered: BTree<string, MemEntry> | undefined;

  get size(): number {
    return this.entries.length;
  }

  find(slot: number, key: Buffer, hash: number): MemEntry | undefined {
    let e = this.index.get(hash);
    while (e !== undefined) {
      if (e.slot === slot && bytesEqual(e.key, key)) return e;
      e = e.next;
    }
    return undefined;
  }

  /** Adds an entry for a (slot, key) not yet present. */
  insert(entry: MemEntry): void {
    entry.next = this.index.get(entry.hash);
    this.index.set(entry.hash, entry);
    this.entries.push(entry);
    this.bytes += entry.bytes;
    const inSlot = this.slots.get(entry.slot);
    if (inSlot === undefined) this.slots.set(entry.slot, { entries: [entry], sorted: false });
    else {
      inSlot.entries.push(entry);
      inSlot.sorted = false;
    }
    if (isRangeKey(entry.key)) this.reorder(entry);
  }

  /** Keeps an internal-namespace entry in the ordered index exactly while it is live or hides something. */
  private reorder(entry: MemEntry): void {
    entry.id ??= storageId(entry.slot, entry.key);
    const rec = entry.record;
    if (entry.below || (rec !== undefined && rec.type !== ValueType.Tombstone)) {
      (this.ordered ??= new BTree<string, MemEntry>(undefined, compareIds)).set(entry.id, entry);
    } else {
      this.ordered?.delete(entry.id);
    }
  }

  /**
   * Internal-namespace entries with startId <= id < endId, ascending or (reverse) descending.
   * O(log n) to start and O(1) per step. The tree must not change while the iterator is used.
   */
  *rangeEntries(startId: string, endId: string, reverse: boolean): Generator<MemEntry, void, undefined> {
    const tree = this.ordered;
    if (tree === undefined || startId >= endId) return;
    const pair: Array<string | MemEntry> = [];
    if (reverse) {
      for (const [id, e] of tree.entriesReversed(endId, pair, true) as IterableIterator<[string, MemEntry]>) {
        if (id < startId) return;
        yield e;
      }
    } else {
      for (const [id, e] of tree.entries(startId, pair) as IterableIterator<[string, MemEntry]>) {
        if (id >= endId) return;
        yield e;
      }
    }
  }

  /** Replaces the record of an existing entry. */
  update(entry: MemEntry, record: StoredRecord | undefined, encoded: Buffer | undefined, bytes: number): void {
    entry.record = record;
    entry.encoded = encoded;
    this.bytes += bytes - entry.bytes;
    entry.bytes = bytes;
    if (isRangeKey(entry.key)) this.reorder(entry);
  }

  /** All entries in storage-id (byte) order, each with `id` set. Shared array: do not modify. */
  sorted(): readonly MemEntry[] {
    if (this.sortedCount < this.entries.length) {
      const fresh = this.entries.slice(this.sortedCount);
      for (const e of fresh) e.id ??= storageId(e.slot, e.key);
      fresh.sort(compareEntries);
      this.sortedCount = this.entries.length;
      this.sortedEntries = this.sortedEntries.length === 0 ? fresh : mergeSorted(this.sortedEntries, fresh);
    }
    return this.sortedEntries;
  }

  /** The entries of one slot in storage-id order, each with `id` set. Shared array: do not modify. */
  sortedSlot(slot: number): readonly MemEntry[] {
    const inSlot = this.slots.get(slot);
    if (inSlot === undefined) return EMPTY_ENTRIES;
    if (!inSlot.sorted) {
      for (const e of inSlot.entries) e.id ??= storageId(e.slot, e.key);
      inSlot.entries.sort(compareEntries);
      inSlot.sorted = true;
    }
    return inSlot.entries;
  }
}

const EMPTY_ENTRIES: readonly MemEntry[] = [];

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareEntries(a: MemEntry, b: MemEntry): number {
  return a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0;
}

function mergeSorted(a: readonly MemEntry[], b: readonly MemEntry[]): MemEntry[] {
  const out = new Array<MemEntry>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]!.id! <= b[j]!.id! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Index of the first entry whose id is >= `id` in a sorted() array. */
export function lowerBound(entries: readonly MemEntry[], id: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.id! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
