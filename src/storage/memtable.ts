import { createRequire } from 'node:module';
import type SortedBtreeModule from 'sorted-btree';
import { SLOT_COUNT, storageId } from './key-layout.js';
import { decodeRecord, decodeRecordValue } from './record-codec.js';
import { isRangeKey } from './range-bounds.js';
import { ValueType, type StoredRecord } from './types.js';

// sorted-btree is CommonJS with the class as `exports.default`. What a default import yields differs
// between Node (the exports object) and test runners' interop (the class); require is the same everywhere.
const { default: BTree } = createRequire(import.meta.url)('sorted-btree') as { default: typeof SortedBtreeModule.default };
type BTree<K, V> = InstanceType<typeof SortedBtreeModule.default<K, V>>;

const EMPTY = Buffer.alloc(0);

/** Pending ordered-index changes from this many on are applied in id order (Memtable.applyPending). */
const SORTED_APPLY_MIN = 256;
/** Notes a memtable holds at most before a write applies them (Memtable.reorder). */
const PENDING_MAX = 4096;
/** MemEntry.order bits. */
const INDEXED = 1;
const IN_TREE = 2;
const LISTED = 4;

/**
 * Recent writes not yet in LMDB. Entries are only ever added or updated, never removed: a local
 * removal is an entry without a record, which must hide whatever LMDB still holds.
 *
 * Point lookups go through an open-addressing table of entry positions probed by a 30-bit hash
 * of (slot, key) and checked by byte equality: no string is built per request, which costs more
 * than the lookup, and the table is one typed array (about 10 bytes an entry where a Map's
 * entry took about 40 on the heap).
 * Scans need byte order; instead of keeping a sorted structure on every write, entries added
 * since the last scan are sorted and merged into a cached order on demand (O(new·log new + n)).
 *
 * Range scans (Store.scanRange) cannot afford that: a collection command after every write would
 * re-sort. Entries whose key is in the internal namespace (range-bounds.ts) are therefore also
 * kept in a B+ tree by storage id, which seeks in O(log n) and iterates both ways. Only those keys
 * pay for it; plain user keys never enter the tree. Writes do not walk the tree themselves: they
 * note the entries that must enter or leave it, and the next range scan of this memtable applies
 * the notes first, or the write that lists the 4,096th note does. A write-only stretch (ZADD, HSET,
 * SADD, RPUSH all day) then pays for sorted walks in batches, which pass nodes still in the cache,
 * instead of a walk per write at 2-3 µs in a tree of 300,000 ids; a scan after every write (a
 * queue's pops) pays what it paid before. Nested
 * scans find no notes to apply: nothing writes while a scan runs.
 *
 * A deleted element (a tombstone or a local removal) stays in the tree only while it hides
 * something below this memtable: one that hides nothing would only be skipped by every scan, and a
 * queue popped all day would make each pop walk past every element popped since the last
 * checkpoint. Scans that must see tombstones (a replica completing a collection) use the slot's
 * sorted entries instead (Store.scanRangeRaw).
 */

/**
 * One key's latest change. What the entry holds is the key and the encoded record (the LMDB value)
 * side by side in a chunk shared with other entries, never a decoded record: a decoded record is a
 * handful of objects (the record, its version, value and clock, often a view pinning the buffer it
 * was parsed from), which made an entry of a 100-byte SET weigh about 1 KB and made every write
 * promote them all to the old generation. Readers decode on demand (entryRecord).
 */
export class MemEntry {
  /** chunk[at, at + keyLength) is the user key (a long key in full, not its digest). */
  chunk: Buffer = EMPTY;
  at = 0;
  /** chunk[at + keyLength, end) is the encoded record; empty for a local removal. Never overwritten. */
  end = 0;
  /** Storage id (see key-layout.ts), computed when a scan first needs this entry's order (at insert for range keys). */
  id: string | undefined = undefined;
  /**
   * The entry's place in the memtable's ordered index (internal-namespace entries only), as bits:
   * INDEXED (it belongs there), IN_TREE (it is there now: differs from INDEXED while the change
   * waits in `Memtable.pending`), LISTED (it is in `pending`). One small integer, not three fields.
   */
  order = 0;

  constructor(
    readonly slot: number,
    /** keyHash(slot, key): where the index probes for it. */
    readonly hash: number,
    readonly keyLength: number,
    /**
     * Index entries LMDB holds for this key just before this memtable is written, so a checkpoint
     * can remove stale ones without reading LMDB: expiry time (0 = none) and tombstone ms (-1 = none).
     */
    readonly baseExpiresAt: number,
    readonly baseTombstoneMs: number,
    /** A record for this key was visible below this memtable (frozen, LMDB) when the entry was made. */
    readonly below: boolean,
  ) {}
}

/** The entry's user key: a view of bytes that never change, so callers may keep it. */
export function entryKey(e: MemEntry): Buffer {
  return e.chunk.subarray(e.at, e.at + e.keyLength);
}

/** The encoded record (a view of bytes that never change), or undefined for a local removal. */
export function entryEncoded(e: MemEntry): Buffer | undefined {
  const from = e.at + e.keyLength;
  return from === e.end ? undefined : e.chunk.subarray(from, e.end);
}

/** The record, decoded afresh (its buffers are views of the entry's bytes), or undefined for a local removal. */
export function entryRecord(e: MemEntry): StoredRecord | undefined {
  const from = e.at + e.keyLength;
  return from === e.end ? undefined : decodeRecord(e.chunk.subarray(from, e.end));
}

/** entryRecord for readers of element values alone: no version or clock (record-codec.ts, decodeRecordValue). */
export function entryRecordValue(e: MemEntry): StoredRecord | undefined {
  const from = e.at + e.keyLength;
  return from === e.end ? undefined : decodeRecordValue(e.chunk, from, e.end);
}

/** The entry holds a record (it is not a local removal). */
function entryHolds(e: MemEntry): boolean {
  return e.at + e.keyLength !== e.end;
}

/** The record's type byte (record-codec.ts) without decoding it. */
function entryType(e: MemEntry): number {
  return e.chunk[e.at + e.keyLength + 1]!;
}

/** The entry holds a record that is not a tombstone. */
export function entryLive(e: MemEntry): boolean {
  return entryHolds(e) && entryType(e) !== ValueType.Tombstone;
}

/** The entry holds a tombstone. */
export function entryTombstone(e: MemEntry): boolean {
  return entryHolds(e) && entryType(e) === ValueType.Tombstone;
}

/**
 * Entries' bytes are packed into chunks of this size; a key and record of at least
 * OWN_BUFFER_MIN_BYTES get a buffer of their own. Chunks are small so that a record view a caller
 * keeps (a version, a value) pins no more than Node's own 8 KB buffer pool would.
 */
const CHUNK_BYTES = 8192;
/** Cells of a new memtable's index (a power of two). */
const INITIAL_CELLS = 1024;
const OWN_BUFFER_MIN_BYTES = CHUNK_BYTES / 4;
/**
 * Bytes per entry beyond the chunks (measured by bench/memtable-weight.ts): the entry object (104
 * bytes), its place in `entries` and its cell in the index (8–16 each), and in its slot's array
 * once those exist.
 */
export const MEM_ENTRY_OVERHEAD_BYTES = 140;
/** More per internal-namespace entry, beside its id's length: the id string's header and its place in the ordered index. */
const ORDERED_ENTRY_OVERHEAD_BYTES = 64;
/** Keys this short are copied with a loop: Buffer#copy's native call costs more. */
const SMALL_COPY_MAX_BYTES = 32;

export class Memtable {
  /** Every entry, in insertion order (the order checkpoints write them). */
  readonly entries: MemEntry[] = [];
  /**
   * The index: each cell 0 (empty) or 1 + an entry's position in `entries`, probed linearly from
   * hash & (length - 1); never more than half full, so a miss ends at an empty cell soon.
   */
  private cells = new Int32Array(INITIAL_CELLS);
  /**
   * Bytes held, for the checkpoint size trigger: chunks and own buffers as allocated (bytes an
   * update left behind in them included, since they stay held) plus a per-entry overhead.
   */
  bytes = 0;
  /**
   * Entries per slot, sorted on demand: slot-bounded scans (anti-entropy) then skip the global
   * order. Made at the first such scan and kept up from then on, so a node that never scans by
   * slot (a single node, mostly) does not pay for them.
   */
  private slots: Array<MemEntry[] | undefined> | undefined;
  /** 1 for each slot whose array gained entries since it was last sorted. */
  private unsorted: Uint8Array | undefined;
  private sortedEntries: MemEntry[] = [];
  /** entries[0, sortedCount) are in sortedEntries. */
  private sortedCount = 0;
  /** Entries with internal-namespace keys by storage id; created with the first such entry. */
  private ordered: BTree<string, MemEntry> | undefined;
  /** Entries whose INDEXED bit changed since the ordered index was last brought up to date (each listed once). */
  private pending: MemEntry[] = [];
  /** The chunk new entries' bytes go to, and how much of it is used. */
  private chunk: Buffer = EMPTY;
  private chunkUsed = 0;

  get size(): number {
    return this.entries.length;
  }

  find(slot: number, key: Buffer, hash: number): MemEntry | undefined {
    const cells = this.cells;
    const mask = cells.length - 1;
    const entries = this.entries;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const cell = cells[i]!;
      if (cell === 0) return undefined;
      const e = entries[cell - 1]!;
      if (e.hash === hash && e.slot === slot && keyEquals(e, key)) return e;
    }
  }

  /** Enters entries[position] (position + 1 into its cell), doubling the table first when it would be over half full. */
  private index(position: number): void {
    if ((position + 1) * 2 > this.cells.length) {
      const grown = new Int32Array(this.cells.length * 2);
      for (let p = 0; p < position; p++) fill(grown, this.entries[p]!.hash, p + 1);
      this.cells = grown;
    }
    fill(this.cells, this.entries[position]!.hash, position + 1);
  }

  /**
   * Adds an entry for a (slot, key) not yet present (`hash` = keyHash(slot, key)), holding
   * `encoded` (undefined: a local removal). Both buffers are copied; the caller keeps them.
   */
  insert(
    slot: number, key: Buffer, hash: number, encoded: Buffer | undefined,
    baseExpiresAt: number, baseTombstoneMs: number, below: boolean,
  ): MemEntry {
    const entry = new MemEntry(slot, hash, key.length, baseExpiresAt, baseTombstoneMs, below);
    this.place(entry, key, encoded);
    this.entries.push(entry);
    this.index(this.entries.length - 1);
    this.bytes += MEM_ENTRY_OVERHEAD_BYTES;
    if (this.slots !== undefined) this.addToSlot(entry);
    if (isRangeKey(key)) {
      entry.id = storageId(slot, key);
      this.bytes += ORDERED_ENTRY_OVERHEAD_BYTES + entry.id.length;
      this.reorder(entry);
    }
    return entry;
  }

  /** Replaces the record of an existing entry (undefined: a local removal); `encoded` is copied. */
  update(entry: MemEntry, encoded: Buffer | undefined): void {
    const key = entryKey(entry);
    this.place(entry, key, encoded);
    if (isRangeKey(key)) this.reorder(entry);
  }

  /** Copies key ‖ encoded into the current chunk (a new one when it is full) or a buffer of their own. */
  private place(entry: MemEntry, key: Buffer, encoded: Buffer | undefined): void {
    const n = key.length + (encoded === undefined ? 0 : encoded.length);
    let chunk: Buffer;
    let at: number;
    if (n >= OWN_BUFFER_MIN_BYTES) {
      chunk = Buffer.allocUnsafeSlow(n);
      at = 0;
      this.bytes += n;
    } else {
      if (this.chunkUsed + n > this.chunk.length) {
        this.chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
        this.chunkUsed = 0;
        this.bytes += CHUNK_BYTES;
      }
      chunk = this.chunk;
      at = this.chunkUsed;
      this.chunkUsed += n;
    }
    const k = key.length;
    if (k <= SMALL_COPY_MAX_BYTES) for (let i = 0; i < k; i++) chunk[at + i] = key[i]!;
    else key.copy(chunk, at);
    if (encoded !== undefined) encoded.copy(chunk, at + k);
    entry.chunk = chunk;
    entry.at = at;
    entry.end = at + n;
  }

  /** Keeps an internal-namespace entry in the ordered index exactly while it is live or hides something. */
  private reorder(entry: MemEntry): void {
    const keep = entry.below || entryLive(entry);
    // An update keeps the same entry object: a change only when it enters or leaves the index.
    if (keep === ((entry.order & INDEXED) !== 0)) return;
    entry.order ^= INDEXED;
    // Listed at most once; a change undone before the next scan is skipped when applied.
    if ((entry.order & LISTED) !== 0) return;
    entry.order |= LISTED;
    // Bounded, so that no single scan pays for a long write-only stretch (200,000 notes took a
    // pop 0.2-0.4 s): the write that fills the list applies it, sorted, about 5 ms.
    if (this.pending.push(entry) >= PENDING_MAX) this.applyPending();
  }

  /** Brings the ordered index up to date with the writes since the last scan. */
  private applyPending(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    let tree = this.ordered;
    // In id order, consecutive walks pass the same nodes while they are in the CPU's cache: 200,000
    // inserts took 1.5-2.1 µs each in write order and 1.1-1.3 sorted, the sort included.
    if (pending.length >= SORTED_APPLY_MIN) pending.sort(compareEntries);
    for (const e of pending) {
      const indexed = (e.order & INDEXED) !== 0;
      const inTree = (e.order & IN_TREE) !== 0;
      e.order = indexed ? INDEXED | IN_TREE : 0;
      if (indexed === inTree) continue;
      if (indexed) (tree ??= this.ordered = new BTree<string, MemEntry>(undefined, compareIds)).set(e.id!, e);
      else tree?.delete(e.id!);
    }
    this.pending = [];
  }

  /**
   * Internal-namespace entries with startId <= id < endId, ascending or (reverse) descending.
   * O(log n) to start and O(1) per step. The tree must not change while the iterator is used.
   */
  *rangeEntries(startId: string, endId: string, reverse: boolean): Generator<MemEntry, void, undefined> {
    this.applyPending();
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

  /** All entries in storage-id (byte) order, each with `id` set. Shared array: do not modify. */
  sorted(): readonly MemEntry[] {
    if (this.sortedCount < this.entries.length) {
      const fresh = this.entries.slice(this.sortedCount);
      for (const e of fresh) e.id ??= storageId(e.slot, entryKey(e));
      fresh.sort(compareEntries);
      this.sortedCount = this.entries.length;
      this.sortedEntries = this.sortedEntries.length === 0 ? fresh : mergeSorted(this.sortedEntries, fresh);
    }
    return this.sortedEntries;
  }

  /** The entries of one slot in storage-id order, each with `id` set. Shared array: do not modify. */
  sortedSlot(slot: number): readonly MemEntry[] {
    if (this.slots === undefined) {
      this.slots = new Array<MemEntry[] | undefined>(SLOT_COUNT);
      this.unsorted = new Uint8Array(SLOT_COUNT);
      for (const e of this.entries) this.addToSlot(e);
    }
    const inSlot = this.slots[slot];
    if (inSlot === undefined) return EMPTY_ENTRIES;
    if (this.unsorted![slot] === 1) {
      for (const e of inSlot) e.id ??= storageId(e.slot, entryKey(e));
      inSlot.sort(compareEntries);
      this.unsorted![slot] = 0;
    }
    return inSlot;
  }

  private addToSlot(entry: MemEntry): void {
    const inSlot = this.slots![entry.slot];
    if (inSlot === undefined) this.slots![entry.slot] = [entry];
    else inSlot.push(entry);
    this.unsorted![entry.slot] = 1;
  }
}

/** Puts `value` into the first empty cell from hash's. */
function fill(cells: Int32Array, hash: number, value: number): void {
  const mask = cells.length - 1;
  let i = hash & mask;
  while (cells[i] !== 0) i = (i + 1) & mask;
  cells[i] = value;
}

/** The entry's key equals `key` (compared in place: no view is made). */
function keyEquals(e: MemEntry, key: Buffer): boolean {
  const n = key.length;
  if (n !== e.keyLength) return false;
  const chunk = e.chunk;
  const at = e.at;
  if (n > 64) return chunk.compare(key, 0, n, at, at + n) === 0;
  for (let i = 0; i < n; i++) if (chunk[at + i] !== key[i]) return false;
  return true;
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
