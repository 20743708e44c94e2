import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { decodeRecord } from './record-codec.js';
import { isLongStorageKey, shortUserKey, shortUserKeyView, unwrapLongKeyValue } from './key-layout.js';
import type { StoredRecord } from './types.js';

/**
 * The LMDB environment at `${dir}/store` and its named databases:
 * - `data`: storage key (slot ‖ key, see key-layout.ts) → encoded record (long keys: wrapped with the full key)
 * - `expiry`: 8-byte expiresAt ‖ storage key → empty, for live records with a TTL
 * - `tombstones`: 8-byte deletion ms ‖ storage key → empty, so purging old tombstones is a range scan
 * - `meta`: string name → bytes (node id, HLC high-water mark, …)
 *
 * Writes are asynchronous and batched by lmdb-js; with overlappingSync off, a resolved write
 * promise means the transaction is on disk, which is what lets the store delete log segments.
 */
export class LmdbTables {
  private constructor(
    readonly root: RootDatabase,
    readonly data: Database<Buffer, Buffer>,
    readonly expiry: Database<Buffer, Buffer>,
    readonly tombstones: Database<Buffer, Buffer>,
    readonly meta: Database<Buffer, string>,
  ) {}

  static open(dir: string): LmdbTables {
    const root = open({
      path: path.join(dir, 'store'),
      maxDbs: 8,
      // Durable on resolve: the commit log is truncated on that promise.
      overlappingSync: false,
      noSync: false,
      // Not through the map: with MDB_WRITEMAP a page that needs a new block on a full disk is a
      // SIGBUS that kills the process, where a copied page written back by LMDB fails its commit
      // with an error the store can handle. The copies' memory is bounded by the checkpoint's
      // transaction size instead (checkpoint.ts; docs/decisions.md, "LMDB's dirty pages: bounded
      // transactions, not its map").
      useWritemap: false,
      // lmdb-js otherwise opens a batch of its own around each event-loop turn's writes and drops
      // the promise of its first write, which rejects unhandled (ending the process) when the
      // transaction fails. The store's writes are batches or awaited puts already.
      eventTurnBatching: false,
    });
    const binary = { keyEncoding: 'binary', encoding: 'binary' } as const;
    return new LmdbTables(
      root,
      root.openDB<Buffer, Buffer>('data', binary),
      root.openDB<Buffer, Buffer>('expiry', binary),
      root.openDB<Buffer, Buffer>('tombstones', binary),
      root.openDB<Buffer, string>('meta', { encoding: 'binary' }),
    );
  }

  /**
   * The record stored under `sk`. For a long key, `key` (the full user key) is compared with the
   * one kept in the value, so a digest collision or a misplaced value can never be returned.
   */
  readRecord(sk: Buffer, key: Buffer): StoredRecord | undefined {
    const value = this.readValue(sk);
    if (value === undefined) return undefined;
    if (!isLongStorageKey(sk)) return decodeRecord(value);
    const stored = unwrapLongKeyValue(value);
    if (!stored.key.equals(key)) throw new Error('long key digest collision or corrupt long-key value');
    return decodeRecord(stored.record);
  }

  /** The record and full user key stored under `sk`, when only the storage key is known. */
  readEntry(sk: Buffer): { key: Buffer; record: StoredRecord } | undefined {
    const value = this.readValue(sk);
    return value === undefined ? undefined : decodeStoredValue(sk, value);
  }

  /**
   * A private copy of the value under `sk`. getBinaryFast plus one copy is about twice as fast
   * as getBinary, whose copy goes through a generic TypedArray slice.
   */
  private readValue(sk: Buffer): Buffer | undefined {
    const fast = this.data.getBinaryFast(sk);
    if (fast === undefined) return undefined;
    // The fast buffer's `length` is the value's; its backing memory is larger and reused.
    const n = fast.length;
    const out = Buffer.allocUnsafe(n);
    out.set(new Uint8Array(fast.buffer, fast.byteOffset, n));
    return out;
  }

  /** Bytes of the environment's used pages, for INFO. */
  usedBytes(): number {
    const s = this.root.getStats() as { pageSize?: number; lastPageNumber?: number };
    return (s.pageSize ?? 0) * ((s.lastPageNumber ?? 0) + 1);
  }

  /** Forgets the read snapshot so the next read sees every committed write. */
  refreshReads(): void {
    this.data.resetReadTxn();
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}

/**
 * Decodes an entry of an LMDB range read: its user key and record, views into one private copy
 * of both. lmdb-js hands range keys and values out as fresh buffers, and V8 keeps one of up to 64
 * bytes inside its heap; the first view taken of such a buffer (every subarray the decoding takes)
 * moves its bytes out to a backing store of their own, a malloc and a copy that the GC later
 * frees. One copy of key and value into Node's buffer pool, viewed after, costs a sixth of that
 * (2.5 → 0.4 µs per element for a key view and two value views, measured).
 */
export function decodeRangeEntry(sk: Buffer, value: Buffer): { key: Buffer; record: StoredRecord } {
  const own = Buffer.allocUnsafe(sk.length + value.length);
  own.set(sk, 0);
  own.set(value, sk.length);
  const stored = own.subarray(sk.length);
  if (!isLongStorageKey(sk)) return { key: shortUserKeyView(own.subarray(0, sk.length)), record: decodeRecord(stored) };
  const long = unwrapLongKeyValue(stored);
  return { key: long.key, record: decodeRecord(long.record) };
}

/** Decodes a `data` value read by key (readEntry): user key (from sk or the value) and record. */
export function decodeStoredValue(sk: Buffer, value: Buffer): { key: Buffer; record: StoredRecord } {
  if (!isLongStorageKey(sk)) return { key: shortUserKey(sk), record: decodeRecord(value) };
  const stored = unwrapLongKeyValue(value);
  return { key: stored.key, record: decodeRecord(stored.record) };
}
