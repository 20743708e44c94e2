import fs from 'node:fs';
import path from 'node:path';
import { DeadRuns, rangeOfBounds, rangeOfKey } from './dead-runs.js';
import { CommitLog } from './commit-log.js';
import { checkpointImage, clearTables, storedImage, writeMemtable, type IndexImage } from './checkpoint.js';
import { KeyCounts } from './key-counts.js';
import {
  checkSlot,
  indexKeyStorageKey,
  indexTimeBound,
  INLINE_KEY_MAX,
  isLongKey,
  isLongStorageKey,
  keyHash,
  shortUserKey,
  slotStartId,
  storageId,
  storageKeyTransient,
} from './key-layout.js';
import { LmdbTables } from './lmdb-tables.js';
import { lmdbWrite, spaceAware } from './lmdb-failures.js';
import { LmdbHealth } from './lmdb-health.js';
import { syncDir } from './log-segments.js';
import { appendBatch, appendDrop, appendFlushAll, appendPut, decodeLogEntry, LogOp } from './log-entry.js';
import { ExpiryHeap } from './expiry-heap.js';
import { HeldPuts } from './held-puts.js';
import { entryKey, entryRecord, entryRecordValue, entryTombstone, Memtable, type MemEntry } from './memtable.js';
import { mergedScan, type ScanSources } from './merged-scan.js';
import { RangeCache } from './range-cache.js';
import { ElementReader, type ElementRead } from './element-reads.js';
import type { WindowEntry } from './range-windows.js';
import { RecentReads } from './recent-reads.js';
import { RemovedRecords, type RemovedRecord } from './removed-records.js';
import { checkRange, isRangeKey, rangeIds } from './range-bounds.js';
import { rangeScan } from './range-scan.js';
import { skippingScan, type SkipCounters } from './skipping-scan.js';
import type { BatchRecordStore, PutItem } from './record-batch.js';
import { encodeRecord } from './record-codec.js';
import { tombstoneMs } from './tombstone-time.js';
import { silentStoreLogger, type StoreLogger } from './store-logger.js';
import {
  ValueType,
  type FsyncPolicy,
  type PutOutcome,
  type ScanEntry,
  type ScanRangeOptions,
  type ScanPosition,
  type StoredRecord,
} from './types.js';

export interface StoreOptions {
  dir: string;
  appendfsync: FsyncPolicy;
  /** ms a tombstone is kept before it may be purged; 0 = drop deletes at checkpoint (standalone). */
  tombstoneGraceMs: number;
  checkpointIntervalMs?: number;
  checkpointEntries?: number;
  /** Memtable bytes (Memtable.bytes: what its entries hold) that trigger a checkpoint; default 32 MiB. */
  checkpointBytes?: number;
  logger?: StoreLogger;
  /** Bytes the cache of element range reads may hold (range-cache.ts); 0 turns it off. Default 16 MiB. */
  rangeCacheBytes?: number;
  /** Commit-log segment size (and of the preallocated spare segment); default 32 MiB. */
  logSegmentBytes?: number;
  /**
   * Clock for expiry decisions; default Date.now. Every method that decides expiry takes `now`
   * explicitly, so the store itself only uses this to timestamp checkpoints in stats().
   */
  now?: () => number;
}

/**
 * Each checkpoint rewrites LMDB pages for every key it carries; at 1 s / 50k entries they took a
 * fifth of a SET's CPU. 5 s / 200k keeps replay after a crash to a few seconds of log.
 */
const DEFAULT_CHECKPOINT_INTERVAL_MS = 5000;
const DEFAULT_CHECKPOINT_ENTRIES = 200_000;
/**
 * Memtable bytes that trigger a checkpoint whatever the entry count. Memtable.bytes counts what the
 * entries really hold (bench/memtable-weight.ts), so this bounds the memory of each memtable: about
 * 110,000 SETs of 100-byte values, fewer of bigger ones.
 */
const CHECKPOINT_BYTES_MAX = 32 << 20;
/**
 * Memtable bytes beyond which puts are refused: only reached when checkpoints keep failing or
 * LMDB falls far behind, and better than growing until the process runs out of memory.
 */
const MEMTABLE_BYTES_MAX = 512 << 20;
/**
 * Checkpoint timer ticks in a row with nothing written before the last checkpoint's memtable is
 * dropped as a cache: two, so that a checkpoint that just emptied the active memtable does not
 * count as a whole interval without writes.
 */
const CLEAN_IDLE_TICKS = 2;
/**
 * The range cache's bound: about 25,000 cached elements of small values (the first pages of a
 * few hundred lists or sorted sets), against the 100–400 MB the memtables may take.
 */
const DEFAULT_RANGE_CACHE_BYTES = 16 << 20;
/** Scans look at no more than this many ids per requested entry before returning early. */
const SCAN_EXAMINE_PER_ENTRY = 8;
const SCAN_EXAMINE_MIN = 256;
const VERSION_BYTES = 16;
/** The memtables of a view of LMDB alone (checkpointedSources): always empty. */
const NO_ENTRIES = new Memtable();

/**
 * Told every change of the version visible for (slot, key): applied puts (old undefined when the key
 * was absent) and local removals (new undefined: active or lazy expiry, tombstone purge). Called
 * synchronously after the change, so a listener that reads the store sees the new state. Replay at
 * open and the removal of tombstones at checkpoint under tombstoneGraceMs = 0 (standalone only) are
 * not reported: listeners exist only after open, and cluster mode always keeps tombstones.
 */
export type VersionChangeListener = (
  slot: number,
  key: Buffer,
  oldVersion: Buffer | undefined,
  newVersion: Buffer | undefined,
  /** The records themselves, for listeners that care what changed (collection reclaim, wake-ups). */
  previous?: StoredRecord,
  next?: StoredRecord,
) => void;

/** A putAll item that won last-writer-wins, with what installing it needs. */
interface PlannedPut {
  key: Buffer;
  hash: number;
  record: StoredRecord;
  encoded: Buffer;
  previous: StoredRecord | undefined;
  /** lookupBelowActive's index image for the key, for an entry created by this put. */
  baseExpiresAt: number;
  baseTombstoneMs: number;
}

/** A put refused because unwritten data piled up (checkpoints failing or far behind). */
/** A live record whose TTL passed by `now`. */
function expiredBy(r: StoredRecord, now: number): boolean {
  return r.type !== ValueType.Tombstone && r.expiresAt > 0 && r.expiresAt <= now;
}

export class StoreOverloadedError extends Error {
  constructor(bytes: number) {
    super(`store overloaded: ${Math.round(bytes / 1048576)} MiB of writes not yet checkpointed; writes refused until LMDB catches up`);
    this.name = 'StoreOverloadedError';
  }
}

/**
 * The node's durable keyspace.
 *
 * Write path: a put is checked against the visible record (last writer wins), appended to the
 * commit log and applied to the active memtable, all synchronously, so it is visible at once;
 * afterDurable() tells when it is on disk (group commit, see commit-log.ts). Reads consult the
 * active memtable, then the frozen one being checkpointed, then the one checkpointed last, then
 * LMDB.
 *
 * Checkpoints move the memtable into LMDB: freeze it, rotate the log, write the entries in
 * chunks, and retire the log segments once LMDB has them durably. On open, LMDB is the base and
 * the remaining log segments are replayed on top (with last-writer-wins, so replaying entries LMDB
 * already holds changes nothing).
 *
 * Records handed to put() and returned by get()/scan are shared, not copied: treat them and their
 * buffers and maps as immutable.
 */
export class Store implements BatchRecordStore {
  private active = new Memtable();
  /** The memtable a checkpoint is writing; reads look here after `active`. */
  private frozen: Memtable | undefined;
  private readonly relievedListeners: Array<() => void> = [];
  /** Resolves, once the log segment holding the last of the frozen memtable's writes is closed, with its id. */
  private frozenSealed: Promise<number> = Promise.resolve(0);
  /**
   * The memtable the last checkpoint wrote, kept as a cache of what LMDB now holds for its keys:
   * recently written keys are the likeliest to be read or overwritten next, and a lookup here
   * costs a fraction of an LMDB read. Anything newer is in `frozen` or `active`, which are asked
   * first, so it can never hide a later change. Dropped once no write came for a whole
   * checkpoint interval (CLEAN_IDLE_TICKS): a node at rest then holds no memtable at all.
   */
  private clean: Memtable | undefined;
  /** Checkpoint timer ticks in a row that found nothing to checkpoint. */
  private idleTicks = 0;
  /** FLUSHALLs whose LMDB clear has not finished; while > 0, LMDB's content is stale. */
  private pendingFlushes = 0;
  private readonly counts: KeyCounts;
  /** Serialises everything that writes LMDB (checkpoints, FLUSHALL). */
  private lmdbQueue: Promise<unknown> = Promise.resolve();
  private checkpointQueued = false;
  private readonly checkpointTimer: NodeJS.Timeout;
  private expiryCursor: Buffer | undefined;
  private tombstoneCursor: Buffer | undefined;
  private readonly metaCache = new Map<string, Buffer>();
  /** Runs of deleted elements per element range, so scans jump the tombstones of pops (dead-runs.ts). */
  private readonly deadRuns = new DeadRuns();
  /** Element reads, served from stretches held in memory where they can be (element-reads.ts). */
  private readonly reader = new ElementReader((slot, start, end, reverse, visit, options) => this.scanRange(slot, start, end, reverse, visit, options), INLINE_KEY_MAX);
  private readonly windows = this.reader.windows;
  private readonly skips: SkipCounters = { rangeTombstonesWalked: 0, rangeRunsJumped: 0 };
  /** What element range reads found in LMDB, until LMDB next changes (range-cache.ts). */
  private readonly rangeCache: RangeCache;
  /** The last element point reads from LMDB, until LMDB next changes (recent-reads.ts). */
  private readonly recentReads = new RecentReads();
  /** The last record of recently removed or deleted key records, for WATCH (removed-records.ts). */
  private readonly removedRecords = new RemovedRecords();
  /** Scratch outputs of lookupBelowActive, so the hot path allocates nothing for them. */
  private readonly base: IndexImage = { expiresAt: 0, tombstoneMs: -1 };
  private closed = false;
  /** Log entries of puts held back by atomically() (`holding`: inside it). */
  private readonly held = new HeldPuts();
  private holding = false;
  /** hold() calls not yet released. */
  private holds = 0;
  private readonly checkpointEntries: number;
  private readonly checkpointBytes: number;
  private readonly checkpointIntervalMs: number;
  private readonly soonExpiring = new ExpiryHeap();
  private readonly graceMs: number;
  private readonly dir: string;
  /** Whether checkpoints can write LMDB (a full disk): the node asks lmdbFailure. */
  private readonly lmdbHealth: LmdbHealth;
  /** FLUSHALLs whose clear of LMDB failed, retried before the next checkpoint; and the last segment they sealed. */
  private unclearedFlushes = 0;
  private unclearedSealed = 0;
  private readonly logger: StoreLogger;
  private readonly now: () => number;
  private readonly versionListeners: VersionChangeListener[] = [];
  private readonly flushListeners: Array<() => void> = [];
  private readonly counters = {
    checkpoints: 0,
    checkpointFailures: 0,
    lastCheckpointMs: 0,
    lastCheckpointAt: 0,
    lastCheckpointEntries: 0,
    lastCheckpointMaxStallMs: 0,
    replayedEntries: 0,
    expiredRemoved: 0,
    tombstonesPurged: 0,
  };

  /** Told how long checkpoints and log fsyncs took (LATENCY events); set by the node. */
  set onLatency(fn: ((event: string, ms: number) => void) | undefined) {
    this.latencyListener = fn;
    this.log.onLatency = fn;
  }

  private latencyListener: ((event: string, ms: number) => void) | undefined;

  private constructor(
    opts: StoreOptions,
    private readonly tables: LmdbTables,
    private readonly log: CommitLog,
  ) {
    this.graceMs = opts.tombstoneGraceMs;
    this.dir = opts.dir;
    this.counts = new KeyCounts(opts.tombstoneGraceMs > 0);
    this.checkpointEntries = opts.checkpointEntries ?? DEFAULT_CHECKPOINT_ENTRIES;
    this.checkpointBytes = opts.checkpointBytes ?? CHECKPOINT_BYTES_MAX;
    this.logger = opts.logger ?? silentStoreLogger;
    this.now = opts.now ?? Date.now;
    this.rangeCache = new RangeCache(opts.rangeCacheBytes ?? DEFAULT_RANGE_CACHE_BYTES);
    const interval = opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.checkpointIntervalMs = interval;
    this.lmdbHealth = new LmdbHealth(opts.dir, this.logger, interval);
    this.checkpointTimer = setInterval(() => {
      if (this.active.size > 0 || this.frozen || this.unclearedFlushes > 0) {
        this.idleTicks = 0;
        this.requestCheckpoint(true);
      } else if (++this.idleTicks >= CLEAN_IDLE_TICKS) {
        this.clean = undefined;
      }
    }, interval);
    this.checkpointTimer.unref();
  }

  static async open(opts: StoreOptions): Promise<Store> {
    if (!(opts.tombstoneGraceMs >= 0)) throw new RangeError(`tombstoneGraceMs must be >= 0, got ${opts.tombstoneGraceMs}`);
    if (opts.checkpointEntries !== undefined && !(opts.checkpointEntries >= 1)) throw new RangeError('checkpointEntries must be >= 1');
    if (opts.checkpointBytes !== undefined && !(opts.checkpointBytes >= 1)) throw new RangeError('checkpointBytes must be >= 1');
    if (opts.checkpointIntervalMs !== undefined && !(opts.checkpointIntervalMs >= 1)) throw new RangeError('checkpointIntervalMs must be >= 1');
    await fs.promises.mkdir(opts.dir, { recursive: true });
    const logger = opts.logger ?? silentStoreLogger;
    const tables = LmdbTables.open(opts.dir);
    let log: CommitLog | undefined;
    try {
      // LMDB creates store/ and its files without syncing their directory entries. Checkpoints
      // retire log segments once LMDB's data is synced, which protects nothing if a power failure
      // can take the name data.mdb away: make the entries durable before anything is retired.
      await syncDir(path.join(opts.dir, 'store'));
      await syncDir(opts.dir);
      log = await CommitLog.open({ dir: opts.dir, appendfsync: opts.appendfsync, logger, segmentBytes: opts.logSegmentBytes });
      const store = new Store(opts, tables, log);
      try {
        const started = Date.now();
        store.counts.loadFrom(tables);
        const summary = await log.replay((payload) => store.replayEntry(payload));
        store.counters.replayedEntries = summary.entries;
        logger.info({ ...summary, keys: store.counts.keys, ms: Date.now() - started }, 'store opened');
        return store;
      } catch (err) {
        clearInterval(store.checkpointTimer);
        throw err;
      }
    } catch (err) {
      await log?.close().catch(() => undefined);
      await tables.close().catch(() => undefined);
      throw err;
    }
  }

  /** Raw record, including tombstones and records already past their expiry. */
  get(slot: number, key: Buffer): StoredRecord | undefined {
    this.checkOpen();
    checkSlot(slot);
    const hash = keyHash(slot, key);
    const e = this.active.find(slot, key, hash);
    if (e !== undefined) return entryRecord(e);
    const f = this.frozen?.find(slot, key, hash);
    if (f !== undefined) return entryRecord(f);
    if (this.pendingFlushes > 0) return undefined;
    const c = this.clean?.find(slot, key, hash);
    if (c !== undefined) return this.cleanRecord(c);
    return this.readLmdb(slot, key);
  }

  /** The record LMDB holds for the key; an element's read is remembered for the write that usually follows. */
  private readLmdb(slot: number, key: Buffer): StoredRecord | undefined {
    const sk = storageKeyTransient(slot, key);
    // Long keys are stored under a digest: only readRecord compares the full key.
    if (!isRangeKey(key) || isLongKey(key)) return this.tables.readRecord(sk, key);
    const i = this.recentReads.find(sk);
    if (i >= 0) return this.recentReads.record(i);
    const rec = this.tables.readRecord(sk, key);
    this.recentReads.note(sk, rec);
    return rec;
  }

  /**
   * Last-writer-wins apply: writes only if rec.version > present version (or nothing present).
   * `encoded`, when the caller already has it (a replicated record as it came off the wire), must
   * be encodeRecord(rec) and saves encoding it again; it is kept, so it must not be overwritten.
   */
  put(slot: number, key: Buffer, rec: StoredRecord, encoded?: Buffer): PutOutcome {
    return this.write(slot, key, rec, encoded, false);
  }

  /**
   * Writes the record whatever version is present: a replica healing a collection replaces
   * records of another branch of its history (cluster/collection-healer.ts). The log replays it
   * under last-writer-wins like any put, so after a crash a replaced record whose version was not
   * higher may come back; the healer writes the collection's metadata so that it then reads as
   * still in need of healing.
   */
  replace(slot: number, key: Buffer, rec: StoredRecord, encoded?: Buffer): PutOutcome {
    return this.write(slot, key, rec, encoded, true);
  }

  private write(slot: number, key: Buffer, rec: StoredRecord, encoded: Buffer | undefined, force: boolean): PutOutcome {
    this.checkOpen();
    checkSlot(slot);
    if (!Buffer.isBuffer(rec.version) || rec.version.length !== VERSION_BYTES) throw new TypeError('record version must be a 16-byte Buffer');
    const hash = keyHash(slot, key);
    const entry = this.active.find(slot, key, hash);
    const previous = entry !== undefined ? entryRecord(entry) : this.lookupBelowActive(slot, key, hash);
    if (!force && previous !== undefined && !newerVersion(rec.version, previous.version)) return { applied: false, previous };
    if (this.active.bytes > MEMTABLE_BYTES_MAX) throw new StoreOverloadedError(this.active.bytes);
    // Encoding validates the rest of the record, so a bad one throws before any state changes.
    const bytes = encoded ?? encodeRecord(rec);
    this.logPut(slot, key, bytes);
    this.install(slot, key, hash, entry, rec, bytes, previous !== undefined);
    this.counts.change(slot, previous, rec, key.length);
    // TTLs ending before LMDB's expiry index could know of them (next checkpoint or two).
    if (rec.expiresAt > 0 && rec.type !== ValueType.Tombstone && rec.expiresAt <= this.now() + 2 * this.checkpointIntervalMs) {
      this.soonExpiring.push(rec.expiresAt, slot, Buffer.from(key));
    }
    this.afterChange();
    if (this.versionListeners.length > 0) this.emitVersionChange(slot, key, previous, rec);
    return { applied: true, previous };
  }

  /**
   * put() for several records of one slot, written to the commit log as one entry: after a crash
   * either every applied item is back or none is (one command's metadata and element records
   * never tear apart). Each item wins or loses last-writer-wins on its own, against the store and
   * the batch's earlier items for the same key; the outcomes are in item order. Everything is
   * checked (versions, encodings, overload) before anything changes; listeners hear the applied
   * items in order once all of them are in.
   */
  putAll(slot: number, items: ReadonlyArray<PutItem>): PutOutcome[] {
    this.checkOpen();
    checkSlot(slot);
    for (const { record } of items) {
      if (!Buffer.isBuffer(record.version) || record.version.length !== VERSION_BYTES) throw new TypeError('record version must be a 16-byte Buffer');
    }
    const outcomes: PutOutcome[] = [];
    const planned: PlannedPut[] = [];
    // The record each key holds once the batch's earlier items are applied.
    const inBatch = items.length > 1 ? new Map<string, StoredRecord>() : undefined;
    for (const { key, record, encoded } of items) {
      const hash = keyHash(slot, key);
      const id = inBatch === undefined ? '' : key.toString('latin1');
      const earlier = inBatch?.get(id);
      let previous: StoredRecord | undefined;
      if (earlier !== undefined) previous = earlier;
      else {
        const entry = this.active.find(slot, key, hash);
        previous = entry !== undefined ? entryRecord(entry) : this.lookupBelowActive(slot, key, hash);
      }
      if (previous !== undefined && !newerVersion(record.version, previous.version)) {
        outcomes.push({ applied: false, previous });
        continue;
      }
      // Encoding validates the rest of the record, so a bad one throws before any state changes.
      const bytes = encoded ?? encodeRecord(record);
      planned.push({ key, hash, record, encoded: bytes, previous, baseExpiresAt: this.base.expiresAt, baseTombstoneMs: this.base.tombstoneMs });
      inBatch?.set(id, record);
      outcomes.push({ applied: true, previous });
    }
    if (planned.length === 0) return outcomes;
    if (this.active.bytes > MEMTABLE_BYTES_MAX) throw new StoreOverloadedError(this.active.bytes);
    if (this.holding) for (const p of planned) this.held.add(slot, p.key, p.encoded);
    else if (planned.length === 1) appendPut(this.log, slot, planned[0]!.key, planned[0]!.encoded);
    else appendBatch(this.log, slot, planned);
    const soon = this.now() + 2 * this.checkpointIntervalMs;
    for (const p of planned) {
      // Found again: an earlier item of the batch may have created the entry.
      const entry = this.active.find(slot, p.key, p.hash);
      this.base.expiresAt = p.baseExpiresAt;
      this.base.tombstoneMs = p.baseTombstoneMs;
      this.install(slot, p.key, p.hash, entry, p.record, p.encoded, p.previous !== undefined);
      this.counts.change(slot, p.previous, p.record, p.key.length);
      if (p.record.expiresAt > 0 && p.record.type !== ValueType.Tombstone && p.record.expiresAt <= soon) {
        this.soonExpiring.push(p.record.expiresAt, slot, Buffer.from(p.key));
      }
    }
    this.afterChange();
    if (this.versionListeners.length > 0) {
      for (const p of planned) this.emitVersionChange(slot, p.key, p.previous, p.record);
    }
    return outcomes;
  }

  /**
   * Runs `fn` with the log entries of its puts held back and written, when it returns, as one
   * entry (replayed all or none; a Group of per-slot parts when it wrote several slots): one
   * command's records — a collection's metadata and its elements, a transaction, a script — never
   * come back from a crash in part, even from a log write a power failure tore. The puts are
   * applied and visible at once as always; only their log entries wait, and always within the
   * same event-loop turn, so group commit and durability are unchanged.
   */
  atomically<T>(fn: () => T): T {
    if (this.holding) return fn();
    this.holding = true;
    try {
      return fn();
    } finally {
      if (this.holds === 0) {
        this.flushGroup();
        this.holding = false;
      }
    }
  }

  /**
   * Keeps holding log entries past the end of the running atomically() (or starts holding), until
   * the returned function is called: a script that yields to the event loop between steps stays
   * one log entry. Checkpoints wait meanwhile, so LMDB never holds a part of it either.
   */
  hold(): () => void {
    this.holds++;
    this.holding = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0) return;
      this.flushGroup();
      this.holding = false;
    };
  }

  private logPut(slot: number, key: Buffer, encoded: Buffer): void {
    if (this.holding) this.held.add(slot, key, encoded);
    else appendPut(this.log, slot, key, encoded);
  }

  /** Writes the held-back puts (before a drop or FLUSHALL, whose order relative to them matters). */
  private flushGroup(): void {
    this.held.flush(this.log);
  }

  /** Changes appendfsync at run time (CONFIG SET). */
  setFsyncPolicy(policy: FsyncPolicy): void {
    this.log.setPolicy(policy);
  }

  afterDurable(cb: (err?: Error) => void): void {
    this.log.afterDurable(cb);
  }

  /**
   * The commit log's failure: a write or fdatasync of it failed (nothing is durable after it), or
   * a write found the disk full (retried until it succeeds).
   */
  get logFailure(): Error | null {
    return this.log.failure;
  }

  /** Why LMDB cannot be written (the last checkpoint failed), until a checkpoint succeeds again. */
  get lmdbFailure(): Error | null {
    return this.lmdbHealth.failure;
  }

  hasPendingDurability(): boolean {
    return this.log.hasPendingDurability();
  }

  /** Ordered scan (slot, then key bytes) of live, unexpired records from `from`. */
  scan(from: ScanPosition, limit: number, now: number): { entries: ScanEntry[]; next: ScanPosition | null } {
    checkSlot(from.slot);
    const max = Math.max(1, Math.floor(limit));
    const entries: ScanEntry[] = [];
    const stop = mergedScan(this.sources(), startIdAfter(from.slot, from.after), undefined, max * SCAN_EXAMINE_PER_ENTRY + SCAN_EXAMINE_MIN, (slot, key, record) => {
      if (isLive(record, now)) entries.push({ slot, key, record });
      return entries.length < max;
    });
    const next = stop.exhausted || stop.lastKey === undefined ? null : { slot: stop.lastSlot, after: stop.lastKey };
    return { entries, next };
  }

  /** Raw scan of one slot (tombstones and expired records included), for anti-entropy and streaming. */
  scanSlotRaw(slot: number, after: Buffer | undefined, limit: number): { entries: ScanEntry[]; next: Buffer | null } {
    checkSlot(slot);
    const max = Math.max(1, Math.floor(limit));
    const entries: ScanEntry[] = [];
    const stop = mergedScan(this.sources(), startIdAfter(slot, after), slotStartId(slot + 1), max * SCAN_EXAMINE_PER_ENTRY + SCAN_EXAMINE_MIN, (s, key, record) => {
      entries.push({ slot: s, key, record });
      return entries.length < max;
    }, slot);
    return { entries, next: stop.exhausted || stop.lastKey === undefined ? null : stop.lastKey };
  }

  /**
   * Visits the records whose record key k satisfies start <= k < end in `slot`, ascending, or
   * descending when `reverse`, until `visit` returns false: tombstones and expired records
   * included (the caller filters), records removed locally not. Same precedence as get(). Only
   * for keys in the internal namespace (range-bounds.ts; anything else throws). Keys longer than
   * INLINE_KEY_MAX that share their first INLINE_KEY_MAX bytes come in digest order, but all of
   * them are visited, with their full key. O(log n + visited); `visit` must not write.
   */
  scanRange(
    slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean,
    options: ScanRangeOptions = {},
  ): void {
    this.checkOpen();
    checkSlot(slot);
    checkRange(start, end);
    const { skipDead = true, cached = true, checkpointedOnly = false, valuesOnly = false, once = false } = options;
    // A view without the memtables must not teach the dead runs what it saw (a run dead in LMDB
    // may hold live records in a memtable), so it walks plainly.
    const range = skipDead && !checkpointedOnly ? rangeOfBounds(slot, start, end, INLINE_KEY_MAX) : undefined;
    if (range !== undefined) {
      // Jump the runs of deleted elements (dead-runs.ts).
      skippingScan(this.sources(cached, valuesOnly, once), this.deadRuns, range, INLINE_KEY_MAX, slot, start, end, reverse, visit, this.skips);
      return;
    }
    const { startId, endId, exact } = rangeIds(slot, start, end);
    // A bound past INLINE_KEY_MAX bytes widens the id range: compare the real keys.
    const skips = this.skips;
    const counted = (key: Buffer, record: StoredRecord): boolean => {
      if (record.type === ValueType.Tombstone) skips.rangeTombstonesWalked++;
      return visit(key, record);
    };
    const filtered = exact
      ? counted
      : (key: Buffer, record: StoredRecord): boolean =>
          Buffer.compare(key, start) < 0 || Buffer.compare(key, end) >= 0 ? true : counted(key, record);
    const sources = checkpointedOnly ? this.checkpointedSources() : this.sources(cached && skipDead, valuesOnly, once);
    rangeScan(sources, startId, endId, reverse, filtered);
  }

  /**
   * Up to `n` live Element records of [start, end) in scan order (descending when `reverse`),
   * and where a read for more goes on: what scanRange would find, served from the stretches of
   * elements held in memory where it can (element-reads.ts). `options` as scanRange's.
   */
  readElements(slot: number, start: Buffer, end: Buffer, reverse: boolean, n: number, options: ScanRangeOptions = {}): ElementRead {
    this.checkOpen();
    checkSlot(slot);
    checkRange(start, end);
    return this.reader.read(slot, start, end, reverse, n, options);
  }

  /**
   * The live Element records of one whole element range [start, end) in key order, when it
   * holds at most 1,024 of them; undefined otherwise (element-reads.ts).
   */
  smallRange(slot: number, start: Buffer, end: Buffer): readonly WindowEntry[] | undefined {
    this.checkOpen();
    checkSlot(slot);
    checkRange(start, end);
    return this.reader.small(slot, start, end);
  }

  /**
   * Like scanRange forward, but every tombstone is visited too, also those the ordered index
   * dropped because they hide nothing here (memtable.ts): for a replica completing its copy of a
   * collection, which must learn of deletions. Walks the slot's sorted memtable entries, so it
   * costs more than scanRange: it serves that rare repair, not commands.
   */
  scanRangeRaw(slot: number, start: Buffer, end: Buffer, visit: (key: Buffer, record: StoredRecord) => boolean): void {
    this.checkOpen();
    checkSlot(slot);
    checkRange(start, end);
    mergedScan(this.sources(), storageId(slot, start), storageId(slot, end), Infinity, (_s, key, record) => {
      if (Buffer.compare(key, start) < 0 || Buffer.compare(key, end) >= 0) return true;
      return visit(key, record);
    }, slot);
  }

  /**
   * Counts a live key that the start-up count could not see: a data directory from before the
   * internal namespace existed kept user keys starting with 0xFF as they are, where the count now
   * expects collection elements (src/collections/migrate-legacy.ts moves them).
   */
  countMigratedKey(slot: number): void {
    checkSlot(slot);
    this.counts.keys++;
    this.counts.slotKeys[slot]!++;
  }

  keyCount(): number {
    return this.counts.keys;
  }

  expiresCount(): number {
    return this.counts.expires;
  }

  /** Logical bytes of every record held (storage/data-size.ts): the node's used memory. O(1). */
  dataBytes(): number {
    return this.counts.bytes;
  }

  /** dataBytes() of one slot; O(1). */
  slotDataBytes(slot: number): number {
    checkSlot(slot);
    return this.counts.slotBytes[slot]!;
  }

  /** Live keys with a TTL in a slot (expired ones not yet reaped included); O(1). */
  slotExpiresCount(slot: number): number {
    checkSlot(slot);
    return this.counts.slotExpires[slot]!;
  }

  /** Live keys in a slot, counting expired ones not yet reaped (as DBSIZE does); O(1). */
  slotKeyCount(slot: number): number {
    checkSlot(slot);
    return this.counts.slotKeys[slot]!;
  }

  /** Live, unexpired keys in `slot`: O(1) unless the slot holds keys with a TTL. */
  countKeysInSlot(slot: number, now: number): number {
    checkSlot(slot);
    if (this.counts.slotExpires[slot] === 0) return this.counts.slotKeys[slot]!;
    let n = 0;
    mergedScan(this.sources(), slotStartId(slot), slotStartId(slot + 1), Infinity, (_s, _k, record) => {
      if (isLive(record, now) && record.type !== ValueType.Element) n++;
      return true;
    }, slot);
    return n;
  }

  /**
   * Active expiry: removes up to `maxWork` index hits whose record expired at or before `now`,
   * then tombstones older than the grace period. Only LMDB's indexes are consulted, so records
   * still in a memtable are reaped after their checkpoint (reads treat them as expired anyway).
   */
  expireCycle(now: number, maxWork: number): number {
    if (this.closed || this.pendingFlushes > 0 || maxWork <= 0) return 0;
    let work = 0;
    let removed = 0;
    const expired = (r: StoredRecord): boolean => expiredBy(r, now);
    for (let due = this.soonExpiring.popDue(now); due !== undefined; due = work < maxWork ? this.soonExpiring.popDue(now) : undefined) {
      work++;
      if (this.dropIf(due.slot, due.key, expired, this.reportExpired)) {
        removed++;
        this.counters.expiredRemoved++;
      }
    }
    for (const ik of this.tables.expiry.getKeys({ start: after(this.expiryCursor), end: indexTimeBound(now + 1) })) {
      if (work >= maxWork) break;
      work++;
      this.expiryCursor = ik;
      if (this.dropIndexed(indexKeyStorageKey(ik), expired, this.reportExpired)) {
        removed++;
        this.counters.expiredRemoved++;
      }
    }
    const purgeBefore = now - this.graceMs;
    if (work < maxWork && purgeBefore >= 0) {
      for (const ik of this.tables.tombstones.getKeys({ start: after(this.tombstoneCursor), end: indexTimeBound(purgeBefore + 1) })) {
        if (work >= maxWork) break;
        work++;
        this.tombstoneCursor = ik;
        if (this.dropIndexed(indexKeyStorageKey(ik), (r) => r.type === ValueType.Tombstone && tombstoneMs(r) <= purgeBefore)) {
          removed++;
          this.counters.tombstonesPurged++;
        }
      }
    }
    return removed;
  }

  /**
   * Removes the record of `key` if its TTL passed by `now`, as active expiry does: the `expired`
   * listeners hear of it. For other paths that find an expired record first (anti-entropy), so the
   * key's `expired` event is not lost to whichever path got there.
   */
  dropExpired(slot: number, key: Buffer, now: number): boolean {
    this.checkOpen();
    return this.dropIf(slot, key, (r) => expiredBy(r, now), this.reportExpired);
  }

  /**
   * The last record of a key record that is absent now, if it was removed or deleted recently
   * (removed-records.ts); undefined for a key still there or forgotten.
   */
  removed(slot: number, key: Buffer): RemovedRecord | undefined {
    return this.removedRecords.size === 0 ? undefined : this.removedRecords.get(storageId(slot, key));
  }

  /** Removes a record locally without LWW (active expiry, tombstone purge). */
  drop(slot: number, key: Buffer): void {
    this.checkOpen();
    checkSlot(slot);
    const hash = keyHash(slot, key);
    const entry = this.active.find(slot, key, hash);
    const previous = entry !== undefined ? entryRecord(entry) : this.lookupBelowActive(slot, key, hash);
    if (previous === undefined) return;
    if (!isRangeKey(key)) this.removedRecords.note(storageId(slot, key), previous);
    this.flushGroup();
    appendDrop(this.log, slot, key, previous.version);
    this.install(slot, key, hash, entry, undefined, undefined, true);
    this.counts.change(slot, previous, undefined, key.length);
    this.afterChange();
    if (this.versionListeners.length > 0) this.emitVersionChange(slot, key, previous, undefined);
  }

  /** Observes every change of a key's visible version (see VersionChangeListener); returns an unsubscribe. */
  onVersionChange(listener: VersionChangeListener): () => void {
    this.versionListeners.push(listener);
    return () => removeListener(this.versionListeners, listener);
  }

  /**
   * Observes FLUSHALL, which empties the keyspace at once without a change per key: whatever a
   * listener derived from the keyspace is to be reset. Called synchronously inside flushAll().
   */
  onFlushAll(listener: () => void): () => void {
    this.flushListeners.push(listener);
    return () => removeListener(this.flushListeners, listener);
  }

  /**
   * Deletes everything (FLUSHALL). Takes effect at once for reads and writes; resolves once the
   * deletion is durable. A marker in the log makes a crash before LMDB is cleared replay it.
   */
  flushAll(): Promise<void> {
    this.checkOpen();
    this.deadRuns.clear();
    this.windows.clear();
    this.removedRecords.clear();
    this.active = new Memtable();
    this.frozen = undefined;
    this.clean = undefined;
    this.counts.reset();
    this.soonExpiring.clear();
    this.expiryCursor = undefined;
    this.tombstoneCursor = undefined;
    this.pendingFlushes++;
    this.flushGroup();
    appendFlushAll(this.log);
    for (const l of [...this.flushListeners]) {
      try {
        l();
      } catch (err) {
        this.logger.error({ err: String(err) }, 'store: FLUSHALL listener failed');
      }
    }
    const synced = this.log.syncNow();
    const { done } = this.log.rotate();
    const work = this.lmdbQueue.then(async () => {
      // Clear LMDB even if the marker could not be synced: retiring the old segments afterwards
      // still makes the flush stick, and the caller hears about the failed sync.
      const syncError: unknown = await synced.then(() => undefined, (e: unknown) => e);
      const sealed = await done;
      // If the clear fails, LMDB stays hidden (pendingFlushes is not lowered): showing it again
      // would bring flushed keys back. The next checkpoint tries the clear again first.
      try {
        await clearTables(this.tables);
      } catch (err) {
        this.unclearedFlushes++;
        this.unclearedSealed = sealed;
        throw await this.lmdbFailed(err, 'FLUSHALL could not clear LMDB');
      }
      // A clear also does what earlier failed ones were to do.
      await this.afterClear(1 + this.unclearedFlushes, sealed);
      if (this.active.size > 0) this.requestCheckpoint();
      if (syncError !== undefined) throw syncError;
    });
    this.lmdbQueue = work.catch((err: unknown) => {
      this.logger.error({ err: String(err) }, 'store: FLUSHALL failed');
    });
    return work;
  }

  getMeta(name: string): Buffer | undefined {
    const cached = this.metaCache.get(name);
    if (cached !== undefined) return cached;
    const v = this.tables.meta.getBinary(name);
    if (v === undefined) return undefined;
    const copy = Buffer.from(v);
    this.metaCache.set(name, copy);
    return copy;
  }

  /** Stores `value` under `name`; resolves once it is on disk. Readable at once through getMeta. */
  async setMeta(name: string, value: Buffer): Promise<void> {
    this.checkOpen();
    const copy = Buffer.from(value);
    this.metaCache.set(name, copy);
    await lmdbWrite(this.tables.meta.put(name, copy)).catch(async (err: Error) => {
      throw await spaceAware(err, this.dir);
    });
  }

  stats(): Record<string, number> {
    return {
      keys: this.counts.keys,
      expires: this.counts.expires,
      memtableEntries: this.active.size,
      memtableBytes: this.active.bytes,
      frozenEntries: this.frozen?.size ?? 0,
      ...this.counters,
      ...this.skips,
      ...this.rangeCache.stats(),
      deadRuns: this.deadRuns.size,
      rangeWindows: this.windows.size,
      rangeWindowReads: this.windows.reads,
      ...this.log.stats(),
      lmdbBytes: this.tables.usedBytes(),
    };
  }

  /**
   * Checkpoints at once (tests, SAVE): resolves when everything written before the call is in
   * LMDB and its log segments are gone; rejects if a checkpoint fails.
   */
  async checkpointNow(): Promise<void> {
    this.checkOpen();
    for (let i = 0; i < 2 && (this.frozen || this.active.size > 0); i++) {
      const run = this.lmdbQueue.then(() => this.checkpoint());
      this.lmdbQueue = run;
      if ((await run) === 'failed') throw this.lmdbHealth.failure ?? new Error('checkpoint failed');
    }
  }

  /** Writes the memtable to LMDB, syncs, deletes the log, closes files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.checkpointTimer);
    // A checkpoint waiting for a log stalled on a full disk would never end: give up on the stall
    // (what it held was never acknowledged, and LMDB gets all of it below if it can).
    this.log.endStall();
    await this.lmdbQueue;
    // Twice: a retried frozen memtable first, then whatever is active.
    for (let i = 0; i < 2 && (this.frozen || this.active.size > 0); i++) await this.checkpoint();
    await this.log.close();
    await this.tables.close();
  }

  /** The change is already applied and logged: a failing listener must not look like a failed write. */
  private emitVersionChange(slot: number, key: Buffer, previous: StoredRecord | undefined, next: StoredRecord | undefined): void {
    for (const l of this.versionListeners) {
      try {
        l(slot, key, previous?.version, next?.version, previous, next);
      } catch (err) {
        this.logger.error({ err: String(err), slot }, 'store: version listener failed');
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  /** LMDB alone, as of its last checkpoint (never cached: only background walks read it). */
  private checkpointedSources(): ScanSources {
    return { active: NO_ENTRIES, frozen: undefined, data: this.pendingFlushes > 0 ? undefined : this.tables.data };
  }

  private sources(cached = false, valuesOnly = false, once = false): ScanSources {
    const data = this.pendingFlushes > 0 ? undefined : this.tables.data;
    const decodeEntry = valuesOnly ? entryRecordValue : entryRecord;
    if (!cached) return { active: this.active, frozen: this.frozen, data, decodeEntry };
    return once
      ? { active: this.active, frozen: this.frozen, data, stoppedOn: this.noteStop, decodeEntry }
      : { active: this.active, frozen: this.frozen, data, cache: this.rangeCache, stoppedOn: this.noteStop, decodeEntry };
  }

  /**
   * A command's range read stopped on an LMDB entry (ZPOPMIN's lowest score, a list's head):
   * remembered as a point read of it, since the command's write of that element looks it up next.
   */
  private readonly noteStop = (id: string, record: StoredRecord): void => {
    const sk = Buffer.from(id, 'latin1');
    if (!isLongStorageKey(sk)) this.recentReads.note(sk, record, true);
  };

  /**
   * LMDB's content is about to be visible changed (a checkpoint ended, FLUSHALL cleared it):
   * reads start a new snapshot and forget what the range cache holds, in the same turn.
   */
  private lmdbChanged(): void {
    this.tables.refreshReads();
    this.rangeCache.clear();
    this.recentReads.clear();
  }

  /**
   * The record visible below the active memtable, and in `this.base` the index entries LMDB
   * will hold for the key right before the active memtable is checkpointed.
   */
  private lookupBelowActive(slot: number, key: Buffer, hash: number): StoredRecord | undefined {
    const f = this.frozen?.find(slot, key, hash);
    if (f !== undefined) {
      const rec = entryRecord(f);
      checkpointImage(rec, this.graceMs, this.base);
      return rec;
    }
    if (this.pendingFlushes > 0) {
      storedImage(undefined, this.base);
      return undefined;
    }
    const c = this.clean?.find(slot, key, hash);
    if (c !== undefined) {
      const held = this.cleanRecord(c);
      storedImage(held, this.base);
      return held;
    }
    const rec = this.readLmdb(slot, key);
    storedImage(rec, this.base);
    return rec;
  }

  /** Sets the active entry (creating it with the base found by lookupBelowActive). */
  private install(
    slot: number,
    key: Buffer,
    hash: number,
    entry: MemEntry | undefined,
    rec: StoredRecord | undefined,
    encoded: Buffer | undefined,
    /** For a new entry: a record was visible below the active memtable (the put's `previous`). */
    below: boolean,
  ): void {
    const live = rec !== undefined && rec.type !== ValueType.Tombstone;
    // A deletion of a key record: its tombstone may be purged (at once at a standalone checkpoint).
    if (rec !== undefined && !live && !isRangeKey(key)) this.removedRecords.note(storageId(slot, key), rec);
    const range = (live && !this.deadRuns.empty) || !this.windows.empty ? rangeOfKey(slot, key) : undefined;
    if (range !== undefined && live) this.deadRuns.noteLive(range, key.toString('latin1'));
    if (entry !== undefined) this.active.update(entry, encoded);
    else this.active.insert(slot, key, hash, encoded, this.base.expiresAt, this.base.tombstoneMs, below);
    if (range !== undefined && this.windows.holds(range)) {
      if (key.length > INLINE_KEY_MAX) this.windows.forget(range);
      else {
        // Key and value as the memtable keeps them: the caller's may view a buffer it reuses.
        const e = this.active.find(slot, key, hash)!;
        const shown = rec?.type === ValueType.Element ? entryRecordValue(e) : undefined;
        this.windows.noteWrite(range, key.toString('latin1'), entryKey(e), shown?.value as Buffer | undefined);
      }
    }
  }

  /** What LMDB holds for a checkpointed entry: tombstones are only stored while graced. */
  private cleanRecord(e: MemEntry): StoredRecord | undefined {
    return this.graceMs === 0 && entryTombstone(e) ? undefined : entryRecord(e);
  }

  private afterChange(): void {
    if (this.active.size >= this.checkpointEntries || this.active.bytes >= this.checkpointBytes) this.requestCheckpoint();
  }

  /** Removes the record at storage key `sk` (from an index) if `condition` holds for the visible record. */
  private dropIndexed(sk: Buffer, condition: (r: StoredRecord) => boolean, dropped?: (slot: number, key: Buffer) => void): boolean {
    const slot = sk.readUInt16BE(0);
    let key: Buffer;
    if (isLongStorageKey(sk)) {
      // Only the digest is in the index; the full key is in the LMDB value (still there: removals
      // reach LMDB at the checkpoint that also removes the index entry).
      const stored = this.tables.readEntry(sk);
      if (stored === undefined) return false;
      key = Buffer.from(stored.key);
    } else {
      key = shortUserKey(sk);
    }
    return this.dropIf(slot, key, condition, dropped);
  }

  /** Removes the visible record of `key` if `condition` holds for it. */
  private dropIf(slot: number, key: Buffer, condition: (r: StoredRecord) => boolean, dropped?: (slot: number, key: Buffer) => void): boolean {
    const rec = this.get(slot, key);
    if (rec === undefined || !condition(rec)) return false;
    this.drop(slot, key);
    dropped?.(slot, key);
    return true;
  }

  private readonly expiredListeners: Array<(slot: number, key: Buffer) => void> = [];
  private readonly reportExpired = (slot: number, key: Buffer): void => {
    for (const l of this.expiredListeners) l(slot, key);
  };

  /** Observes records active expiry removes because their TTL passed (keyspace `expired` events). */
  onExpired(listener: (slot: number, key: Buffer) => void): void {
    this.expiredListeners.push(listener);
  }

  /**
   * Writes arrive faster than checkpoints carry them into LMDB: a checkpoint is running and the
   * memtable behind it is due for the next one. Connections stop reading until it is not (the
   * data lives on disk; without this the memtables grew with the data, gigabytes while a client
   * filled ten million elements).
   */
  get pressured(): boolean {
    // Not while checkpoints fail: waiting would not end until they succeed again, and writes are
    // refused meanwhile anyway.
    return this.frozen !== undefined && this.active.size >= this.checkpointEntries && this.lmdbHealth.failure === null;
  }

  /** Calls `cb` once the store is no longer pressured (after the running checkpoint). */
  whenRelieved(cb: () => void): void {
    if (!this.pressured) {
      cb();
      return;
    }
    this.relievedListeners.push(cb);
  }

  private relieve(): void {
    if (this.pressured || this.relievedListeners.length === 0) return;
    const listeners = this.relievedListeners.splice(0);
    for (const cb of listeners) cb();
  }

  /** `timer`: the checkpoint timer asks; while LMDB cannot be written only it retries (once an interval). */
  private requestCheckpoint(timer = false): void {
    if (this.checkpointQueued || this.closed) return;
    if (this.lmdbHealth.failure !== null && !timer) return;
    this.checkpointQueued = true;
    this.lmdbQueue = this.lmdbQueue.then(() => this.checkpoint());
  }

  /**
   * Never rejects: a failed checkpoint keeps its frozen memtable (and the log) and is retried.
   * A pending FLUSHALL defers it: that FLUSHALL requests a new one when it is done.
   */
  private async checkpoint(): Promise<'done' | 'failed' | 'deferred'> {
    this.checkpointQueued = false;
    if (!(await this.lmdbHealth.worthRetrying())) return 'failed';
    if (this.unclearedFlushes > 0 && !(await this.retryClear())) return 'failed';
    // Entries written after a pending FLUSHALL must not reach LMDB before it is cleared.
    if (this.pendingFlushes > 0) return 'deferred';
    // A held command's records are in the memtable without their log entry: LMDB must not get them first.
    if (this.holds > 0) return 'deferred';
    let table = this.frozen;
    if (table === undefined) {
      if (this.active.size === 0) return 'done';
      table = this.active;
      this.frozen = table;
      this.active = new Memtable();
      this.frozenSealed = this.log.rotate().done;
    }
    const started = performance.now();
    let sealed: number;
    try {
      const written = await writeMemtable(this.tables, table, this.graceMs);
      sealed = await this.frozenSealed;
      this.counters.lastCheckpointEntries = written.entries;
      this.counters.lastCheckpointMaxStallMs = Math.round(written.maxChunkMs * 1000) / 1000;
    } catch (err) {
      this.counters.checkpointFailures++;
      await this.lmdbFailed(err, 'checkpoint failed', table.size);
      return 'failed';
    }
    this.lmdbHealth.recovered();
    if (this.frozen === table) {
      this.frozen = undefined;
      this.clean = table;
    }
    // Before anything else runs: the frozen memtable no longer hides what it wrote.
    this.lmdbChanged();
    if (this.graceMs === 0) this.deadRuns.clear();
    this.relieve();
    // The indexes changed: expiry scans start over so nothing before the cursor is missed.
    this.expiryCursor = undefined;
    this.tombstoneCursor = undefined;
    this.counters.checkpoints++;
    this.counters.lastCheckpointMs = Math.round(performance.now() - started);
    this.latencyListener?.('checkpoint', performance.now() - started);
    this.counters.lastCheckpointAt = this.now();
    try {
      await this.log.retireThrough(sealed);
    } catch (err) {
      this.logger.warn({ err: String(err), segment: sealed }, 'store: could not retire checkpointed log segments');
    }
    return 'done';
  }

  /** LMDB could not be written: recorded (lmdb-health.ts); returns the cause. */
  private async lmdbFailed(err: unknown, what: string, entries?: number): Promise<Error> {
    const cause = await this.lmdbHealth.failed(err, what, entries);
    // Connections held for the checkpoint to end must not wait for the next one.
    this.relieve();
    return cause;
  }

  /** Clears LMDB for FLUSHALLs whose clear failed; true once done. */
  private async retryClear(): Promise<boolean> {
    try {
      await clearTables(this.tables);
    } catch (err) {
      this.counters.checkpointFailures++;
      await this.lmdbFailed(err, 'FLUSHALL could not clear LMDB');
      return false;
    }
    this.lmdbHealth.recovered();
    await this.afterClear(this.unclearedFlushes, this.unclearedSealed);
    return true;
  }

  /** LMDB was cleared for `flushes` FLUSHALLs: show it again once none is pending, retire their log. */
  private async afterClear(flushes: number, sealed: number): Promise<void> {
    this.pendingFlushes -= flushes;
    this.unclearedFlushes = 0;
    this.lmdbChanged();
    await this.log.retireThrough(sealed);
  }

  /** Applies one logged entry on open, with the same LWW rules as live writes. */
  private replayEntry(payload: Buffer): void | Promise<void> {
    const entry = decodeLogEntry(Buffer.from(payload));
    if (entry.op === LogOp.FlushAll) {
      this.active = new Memtable();
      this.counts.reset();
      return clearTables(this.tables).then(() => this.lmdbChanged());
    }
    if (entry.op === LogOp.Group) {
      for (const part of entry.parts) void this.replayEntry(part);
      return;
    }
    checkSlot(entry.slot);
    if (entry.op === LogOp.Put) {
      this.replayPut(entry.slot, entry.key, entry.record, entry.encoded);
      return;
    }
    if (entry.op === LogOp.Batch) {
      for (const item of entry.items) this.replayPut(entry.slot, item.key, item.record, item.encoded);
      return;
    }
    const { slot, key } = entry;
    const hash = keyHash(slot, key);
    const existing = this.active.find(slot, key, hash);
    const previous = existing !== undefined ? entryRecord(existing) : this.lookupBelowActive(slot, key, hash);
    // A drop removes only the record it was logged for (or an older one), never a newer write.
    if (previous === undefined || newerVersion(previous.version, entry.version)) return;
    this.install(slot, key, hash, existing, undefined, undefined, true);
    this.counts.change(slot, previous, undefined, key.length);
  }

  private replayPut(slot: number, key: Buffer, record: StoredRecord, encoded: Buffer): void {
    const hash = keyHash(slot, key);
    const existing = this.active.find(slot, key, hash);
    const previous = existing !== undefined ? entryRecord(existing) : this.lookupBelowActive(slot, key, hash);
    if (previous !== undefined && !newerVersion(record.version, previous.version)) return;
    this.install(slot, key, hash, existing, record, encoded, previous !== undefined);
    this.counts.change(slot, previous, record, key.length);
  }
}

/** a > b for 16-byte versions; a plain loop is cheaper than the native Buffer.compare call. */
function newerVersion(a: Buffer, b: Buffer): boolean {
  for (let i = 0; i < VERSION_BYTES; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d > 0;
  }
  return false;
}

function isLive(record: StoredRecord, now: number): boolean {
  return record.type !== ValueType.Tombstone && (record.expiresAt === 0 || record.expiresAt > now);
}

/** Storage id where a scan of `slot` starts: strictly after `key`, or at the slot's beginning. */
function startIdAfter(slot: number, key: Buffer | undefined): string {
  return key === undefined ? slotStartId(slot) : storageId(slot, key) + '\0';
}

/** Range start strictly after `key` (the smallest longer key), or the beginning. */
function after(key: Buffer | undefined): Buffer | undefined {
  return key === undefined ? undefined : Buffer.concat([key, ZERO_BYTE]);
}

const ZERO_BYTE = Buffer.from([0]);

function removeListener<T>(list: T[], listener: T): void {
  const i = list.indexOf(listener);
  if (i >= 0) list.splice(i, 1);
}

