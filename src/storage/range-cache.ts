import type { Database } from 'lmdb';
import { decodeRangeEntry } from './lmdb-tables.js';
import type { StoredRecord } from './types.js';

/**
 * A bounded cache of what LMDB holds in the ranges that element scans read (LRANGE, ZRANGE,
 * HGETALL, pops from either end …), decoded. Reading a range entry from LMDB costs a cursor step,
 * two copies out of lmdb-js and a decode, about three times what handing out a decoded entry
 * costs; a collection read over and over (a feed, a leaderboard, a queue's head) pays it once
 * per checkpoint instead of once per read.
 *
 * Correct because LMDB's data changes only when the store writes it, and the store clears the
 * cache at each such moment before any read can see the change: a checkpoint's frozen memtable
 * hides what it writes from range reads until it completes (range-scan.ts: memtables win over
 * LMDB), and the store clears this cache in the same turn that it drops the frozen memtable; a
 * FLUSHALL hides LMDB altogether until it is cleared. Only LMDB's content is cached; memtable
 * entries are merged on top at every read, as before.
 *
 * A run is what a read found from one bound on: every LMDB entry from `from` in walk order, as far
 * as reads went, and, once a read reached the end of its range, the far bound up to which the run
 * is known whole. A run is cached from the second read that starts at its bound; runs are evicted
 * least recently used first when the cache passes its bytes.
 */

/** One LMDB entry of a range read, decoded: its storage id (latin1), user key and record. */
export interface LmdbEntry {
  readonly id: string;
  readonly key: Buffer;
  readonly record: StoredRecord;
}

/** An ordered walk over LMDB's entries in one range. */
export interface LmdbCursor {
  /** The next entry within the range in walk order, or undefined once there is none. */
  next(): LmdbEntry | undefined;
  /** Releases the LMDB cursor, if one was opened; the cursor must not be used after. */
  close(): void;
}

interface Run {
  readonly entries: LmdbEntry[];
  /** The far bound (exclusive forward, inclusive reverse) through which `entries` is complete. */
  doneTo: string | undefined;
  bytes: number;
  /** Evicted or cleared: a cursor still filling it stops appending. */
  dropped: boolean;
}

/** The run a cursor reads and extends, and the cache that holds it. */
interface CachedRun {
  readonly cache: RangeCache;
  readonly run: Run;
}

/** Entries a run keeps at most: a whole-collection read (SMEMBERS of a million) is not kept. */
const RUN_ENTRIES_MAX = 2048;

/**
 * What one cached entry weighs besides its id, key and value bytes: the entry, its record and
 * clock array, the buffer views and the copy they view. Measured on a cache of 120,000 list
 * elements of 3-byte values (heap and buffers after a GC): 655 bytes each, about 60 of them the
 * id, key and value.
 */
const ENTRY_OVERHEAD_BYTES = 600;

/**
 * Run names remembered as read once: between SEEN_MAX / 2 and SEEN_MAX of them (a few hundred KB
 * of strings at most).
 */
const SEEN_MAX = 4096;

/** What a run weighs besides its entries: the map entry, its name and the run object. */
const RUN_OVERHEAD_BYTES = 160;

export interface RangeCacheStats {
  rangeCacheHits: number;
  rangeCacheMisses: number;
  rangeCacheEntries: number;
  rangeCacheBytes: number;
}

export class RangeCache {
  private readonly runs = new Map<string, Run>();
  /**
   * Names of runs read once lately and not cached: the second read of one caches it. Two
   * generations, the older dropped whole when the younger fills: forgetting the oldest name one
   * at a time (a Set's first value) walked the holes the deletions before it left, which made each
   * random probe (SPOP, SRANDMEMBER) pay for thousands of them.
   */
  private seenYoung = new Set<string>();
  private seenOld = new Set<string>();
  private bytes = 0;
  private entries = 0;
  private hits = 0;
  private misses = 0;

  constructor(private readonly maxBytes: number) {}

  /** Forgets everything: LMDB's content is about to be visible changed. */
  clear(): void {
    // The seen names stay: it says which bounds are read, not what LMDB held there.
    for (const run of this.runs.values()) run.dropped = true;
    this.runs.clear();
    this.bytes = 0;
    this.entries = 0;
  }

  stats(): RangeCacheStats {
    return { rangeCacheHits: this.hits, rangeCacheMisses: this.misses, rangeCacheEntries: this.entries, rangeCacheBytes: this.bytes };
  }

  /** A walk over startId <= id < endId, ascending, or descending when `reverse`. */
  cursor(data: Database<Buffer, Buffer>, startId: string, endId: string, reverse: boolean): LmdbCursor {
    if (this.maxBytes <= 0) return new RangeCursor(data, undefined, startId, endId, reverse);
    const name = (reverse ? '<' : '>') + (reverse ? endId : startId);
    let run = this.runs.get(name);
    if (run !== undefined) {
      this.hits++;
      // Most recently used last: eviction takes the map's first runs.
      this.runs.delete(name);
    } else {
      this.misses++;
      // Admitted on its second read: random probes (SPOP, SRANDMEMBER) start somewhere new every
      // time and would only push out what is read again.
      if (!this.seenYoung.delete(name) && !this.seenOld.delete(name)) {
        this.seenYoung.add(name);
        if (this.seenYoung.size >= SEEN_MAX / 2) {
          this.seenOld = this.seenYoung;
          this.seenYoung = new Set();
        }
        return new RangeCursor(data, undefined, startId, endId, reverse);
      }
      // A run read to nothing (an empty range) is kept too, and weighs its map entry.
      run = { entries: [], doneTo: undefined, bytes: RUN_OVERHEAD_BYTES + 2 * name.length, dropped: false };
      this.bytes += run.bytes;
    }
    this.runs.set(name, run);
    if (this.bytes > this.maxBytes) this.evict();
    return new RangeCursor(data, { cache: this, run }, startId, endId, reverse);
  }

  /** Called for each entry a cursor appended to a run. */
  grew(run: Run, entry: LmdbEntry): void {
    const b = ENTRY_OVERHEAD_BYTES + entry.id.length + entry.key.length + recordBytes(entry.record);
    run.bytes += b;
    this.bytes += b;
    this.entries++;
    if (this.bytes > this.maxBytes) this.evict();
  }

  private evict(): void {
    for (const [name, run] of this.runs) {
      if (this.bytes <= this.maxBytes * 0.9) break;
      this.runs.delete(name);
      this.bytes -= run.bytes;
      this.entries -= run.entries.length;
      run.dropped = true;
    }
  }
}

function recordBytes(record: StoredRecord): number {
  const v = record.value;
  return Buffer.isBuffer(v) ? v.length : 64;
}

class RangeCursor implements LmdbCursor {
  /** Index of the next cached entry to hand out. */
  private i = 0;
  private it: Iterator<{ key: Buffer; value: Buffer }> | undefined;
  private ended = false;
  /** Whether entries read from LMDB extend the run (they follow its last one with none between). */
  private appending: boolean;

  constructor(
    private readonly data: Database<Buffer, Buffer>,
    private readonly cached: CachedRun | undefined,
    private readonly startId: string,
    private readonly endId: string,
    private readonly reverse: boolean,
  ) {
    this.appending = cached !== undefined;
  }

  next(): LmdbEntry | undefined {
    if (this.ended) return undefined;
    const run = this.cached?.run;
    // Once LMDB is open this walk reads only from it: entries another walk appended meanwhile
    // would come after what the open cursor already passed.
    if (this.it === undefined && run !== undefined && this.i < run.entries.length) {
      const e = run.entries[this.i++]!;
      if (this.reverse ? e.id < this.startId : e.id >= this.endId) return this.end();
      return e;
    }
    if (run !== undefined && run.doneTo !== undefined && (this.reverse ? run.doneTo <= this.startId : run.doneTo >= this.endId)) {
      return this.end();
    }
    this.it ??= this.open();
    for (;;) {
      const r = this.it.next();
      if (r.done === true) {
        if (this.appending && run !== undefined && !run.dropped) {
          const far = this.reverse ? this.startId : this.endId;
          if (run.doneTo === undefined || (this.reverse ? far < run.doneTo : far > run.doneTo)) run.doneTo = far;
        }
        return this.end();
      }
      const { key: sk, value } = r.value;
      const id = sk.toString('latin1');
      // In reverse lmdb-js starts at its `start` inclusively: the exclusive upper bound is skipped.
      if (this.reverse && id >= this.endId) continue;
      const { key, record } = decodeRangeEntry(sk, value);
      const entry: LmdbEntry = { id, key, record };
      this.append(entry);
      return entry;
    }
  }

  close(): void {
    this.ended = true;
    this.it?.return?.();
    this.it = undefined;
  }

  private append(entry: LmdbEntry): void {
    const cached = this.cached;
    if (!this.appending || cached === undefined) return;
    const run = cached.run;
    // Another walk of the same run (a nested read) appended first, the run was evicted, or it is
    // as long as runs get: what follows is no longer known to be contiguous with the run.
    if (run.entries.length !== this.i || run.dropped || run.entries.length >= RUN_ENTRIES_MAX) {
      this.appending = false;
      return;
    }
    run.entries.push(entry);
    this.i++;
    cached.cache.grew(run, entry);
  }

  private end(): undefined {
    this.close();
    return undefined;
  }

  /** Opens LMDB right after the last cached entry, or at the range's near bound. */
  private open(): Iterator<{ key: Buffer; value: Buffer }> {
    const run = this.cached?.run;
    const last = run !== undefined && run.entries.length > 0 ? run.entries[run.entries.length - 1]!.id : undefined;
    if (this.reverse) {
      const start = Buffer.from(last ?? this.endId, 'latin1');
      return this.data
        .getRange({ start, end: Buffer.from(this.startId, 'latin1'), reverse: true, inclusiveEnd: true, exclusiveStart: last !== undefined })
        [Symbol.iterator]();
    }
    const start = Buffer.from(last ?? this.startId, 'latin1');
    return this.data.getRange({ start, end: Buffer.from(this.endId, 'latin1'), exclusiveStart: last !== undefined })[Symbol.iterator]();
  }
}
