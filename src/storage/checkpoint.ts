import { setImmediate as nextTurn } from 'node:timers/promises';
import { tombstoneMs, tombstoneMsOf } from './tombstone-time.js';
import { indexKey, isLongKey, storageKeyTransient, wrapLongKeyValue } from './key-layout.js';
import type { LmdbTables } from './lmdb-tables.js';
import { QueuedWrites, lmdbWrite } from './lmdb-failures.js';
import { entryEncoded, entryKey, type MemEntry, type Memtable } from './memtable.js';
import { encodedExpiresAt, encodedType, encodedVersionMs } from './record-codec.js';
import { ValueType, type StoredRecord } from './types.js';

/**
 * Writing a frozen memtable into LMDB. Entries go out in chunks, one lmdb-js batch per event-loop
 * turn, so the main thread never stalls for long: it only queues; LMDB's own thread applies and
 * commits. lmdb-js merges batches queued while its writer is busy into one transaction, so after
 * CHECKPOINT_TRANSACTION_ENTRIES the checkpoint waits for what it queued to commit: that bounds a
 * transaction, whose dirty pages LMDB copies into malloc'd memory (about one per random key) and
 * keeps for reuse. Unbounded, the copies grew the process's memory with the size of the tree
 * (docs/decisions.md, "LMDB's dirty pages: bounded transactions, not its map"). A batch never
 * spans transactions and a record's data and index changes share one, so every committed
 * transaction leaves data and indexes consistent with each other.
 */

/** Entries per chunk and encoded bytes per chunk: each chunk is a few ms of main-thread work at most. */
export const CHECKPOINT_CHUNK_ENTRIES = 2000;
const CHECKPOINT_CHUNK_BYTES = 8 << 20;
/**
 * Entries queued before waiting for their commit: the most one LMDB transaction can hold, and so
 * the dirty pages LMDB copies for it (about one 4 KiB page per random key, plus the branch pages
 * above them), kept by LMDB for reuse: its writer thread held 46–48 MiB at 1,500,000 keys. Fewer
 * per transaction cost more page writes and syncs per entry (docs/decisions.md, "LMDB's dirty
 * pages: bounded transactions, not its map").
 */
const CHECKPOINT_TRANSACTION_ENTRIES = 4 * CHECKPOINT_CHUNK_ENTRIES;
const EMPTY = Buffer.alloc(0);

/** Index entries LMDB ends up holding for a record: expiry time (0 = none), tombstone ms (-1 = none). */
export interface IndexImage {
  expiresAt: number;
  tombstoneMs: number;
}

/** What a checkpoint will store for `rec`: tombstones only when they must be kept (grace > 0). */
export function checkpointImage(rec: StoredRecord | undefined, graceMs: number, out: IndexImage): void {
  out.expiresAt = 0;
  out.tombstoneMs = -1;
  if (rec === undefined) return;
  if (rec.type === ValueType.Tombstone) {
    if (graceMs > 0) out.tombstoneMs = tombstoneMs(rec);
  } else {
    out.expiresAt = rec.expiresAt;
  }
}

/** checkpointImage of an encoded record (undefined: a local removal), read without decoding it. */
export function checkpointImageOf(encoded: Buffer | undefined, graceMs: number, out: IndexImage): void {
  out.expiresAt = 0;
  out.tombstoneMs = -1;
  if (encoded === undefined) return;
  if (encodedType(encoded) === ValueType.Tombstone) {
    if (graceMs > 0) out.tombstoneMs = tombstoneMsOf(encodedVersionMs(encoded), encodedExpiresAt(encoded));
  } else {
    out.expiresAt = encodedExpiresAt(encoded);
  }
}

/** The index entries that exist for a record already stored in LMDB. */
export function storedImage(rec: StoredRecord | undefined, out: IndexImage): void {
  out.expiresAt = 0;
  out.tombstoneMs = -1;
  if (rec === undefined) return;
  if (rec.type === ValueType.Tombstone) out.tombstoneMs = tombstoneMs(rec);
  else out.expiresAt = rec.expiresAt;
}

export interface CheckpointWriteStats {
  entries: number;
  puts: number;
  removes: number;
  chunks: number;
  /** Longest single stretch of main-thread work, in ms. */
  maxChunkMs: number;
}

/**
 * Writes every entry of `table`; resolves once all of it is committed and synced. A failed commit
 * rejects with its cause (lmdb-failures.ts) and leaves the chunks after it unwritten: the caller
 * keeps the memtable and the log and tries again later, which rewrites what was committed already
 * (the same values, so harmlessly).
 */
export async function writeMemtable(tables: LmdbTables, table: Memtable, graceMs: number): Promise<CheckpointWriteStats> {
  const stats: CheckpointWriteStats = { entries: 0, puts: 0, removes: 0, chunks: 0, maxChunkMs: 0 };
  const image: IndexImage = { expiresAt: 0, tombstoneMs: -1 };
  const writes = new QueuedWrites();
  const entries = table.entries;
  // Chunks queued and not yet committed: lmdb-js may merge these (and only these) into one transaction.
  let queued: Promise<void>[] = [];
  let queuedEntries = 0;
  let failure: Error | undefined;
  let i = 0;
  while (i < entries.length && failure === undefined) {
    const started = performance.now();
    let bytes = 0;
    const first = i;
    const batch = tables.data.batch(() => {
      while (i < entries.length && i - first < CHECKPOINT_CHUNK_ENTRIES && bytes < CHECKPOINT_CHUNK_BYTES) {
        bytes += writeEntry(tables, entries[i]!, graceMs, image, stats, writes);
        i++;
      }
    });
    // Handled at once: a rejection left pending while later chunks are queued would be reported
    // as unhandled and take the process down.
    queued.push(lmdbWrite(batch).then(undefined, (err: Error) => void (failure ??= err)));
    queuedEntries += i - first;
    stats.entries += i - first;
    stats.chunks++;
    stats.maxChunkMs = Math.max(stats.maxChunkMs, performance.now() - started);
    if (queuedEntries >= CHECKPOINT_TRANSACTION_ENTRIES || i >= entries.length) {
      await Promise.all(queued);
      queued = [];
      queuedEntries = 0;
    } else {
      await nextTurn();
    }
  }
  await Promise.all(queued);
  if (failure !== undefined) throw failure;
  return stats;
}

/** Queues the LMDB changes for one entry; returns the bytes of the value written. */
function writeEntry(
  tables: LmdbTables, entry: MemEntry, graceMs: number, image: IndexImage, stats: CheckpointWriteStats, writes: QueuedWrites,
): number {
  // lmdb-js copies keys when a write is queued, so a shared scratch key is safe here.
  const key = entryKey(entry);
  const sk = storageKeyTransient(entry.slot, key);
  const encoded = entryEncoded(entry);
  checkpointImageOf(encoded, graceMs, image);
  let bytes = 0;
  if (encoded === undefined || (encodedType(encoded) === ValueType.Tombstone && graceMs === 0)) {
    writes.add(tables.data.remove(sk));
    stats.removes++;
  } else {
    // Values, unlike keys, are referenced until written: an entry's bytes are never overwritten.
    const value = isLongKey(key) ? wrapLongKeyValue(key, encoded) : encoded;
    writes.add(tables.data.put(sk, value));
    stats.puts++;
    bytes = value.length;
  }
  if (entry.baseExpiresAt !== image.expiresAt) {
    if (entry.baseExpiresAt > 0) writes.add(tables.expiry.remove(indexKey(entry.baseExpiresAt, sk)));
    if (image.expiresAt > 0) writes.add(tables.expiry.put(indexKey(image.expiresAt, sk), EMPTY));
  }
  if (entry.baseTombstoneMs !== image.tombstoneMs) {
    if (entry.baseTombstoneMs >= 0) writes.add(tables.tombstones.remove(indexKey(entry.baseTombstoneMs, sk)));
    if (image.tombstoneMs >= 0) writes.add(tables.tombstones.put(indexKey(image.tombstoneMs, sk), EMPTY));
  }
  return bytes;
}

/** Empties data and both indexes in one transaction; resolves when it is on disk. */
export async function clearTables(tables: LmdbTables): Promise<void> {
  const writes = new QueuedWrites();
  await lmdbWrite(tables.data.batch(() => {
    writes.add(tables.data.clearAsync());
    writes.add(tables.expiry.clearAsync());
    writes.add(tables.tombstones.clearAsync());
  }));
}
