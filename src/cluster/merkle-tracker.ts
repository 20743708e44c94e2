import { setImmediate as nextTurn } from 'node:timers/promises';
import { storageId } from '../storage/key-layout.js';
import type { VersionChangeListener } from '../storage/store.js';
import type { ScanEntry } from '../storage/types.js';
import { MerkleIndex } from './merkle.js';
import type { DeepOptions } from './merkle-deep.js';
import { SLOT_COUNT } from './slot.js';

/** The part of the store the tracker needs (Store implements it). */
export interface TrackedStore {
  onVersionChange(listener: VersionChangeListener): () => void;
  onFlushAll(listener: () => void): () => void;
  scanSlotRaw(slot: number, after: Buffer | undefined, limit: number): { entries: ScanEntry[]; next: Buffer | null };
}

export interface TrackerLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface MerkleTrackerOptions {
  /** Entries indexed per event-loop turn while building; bounds how long one turn blocks. */
  chunkEntries?: number;
  buckets?: number;
  /** Deeper digests of large slots (merkle-deep.ts). */
  deep?: DeepOptions;
  logger?: TrackerLogger;
}

const DEFAULT_CHUNK_ENTRIES = 4096;
/**
 * A chunk also ends after this much main-thread time: an entry costs 2–15 µs (scan, record decode,
 * hash) depending on load, and every slot costs a range lookup even when empty.
 */
const CHUNK_MS = 8;
/** Entries per scan call, so one call never runs far past the chunk's time limit. */
const SCAN_PAGE = 512;
/** A slot whose split scans keep failing their check this often in a row is left at its depth. */
const SPLIT_FAILURES_MAX = 3;

/**
 * Keeps a MerkleIndex equal to the store's (key, version) set: built once by a raw scan of every
 * slot, then maintained from the store's version-change events.
 *
 * The build yields between chunks, so writes land while it runs. A change is applied to the index
 * only when the scan has already passed its key (earlier slot, or same slot and a storage id at or
 * before the scan position): the scan will see every later one in its final state. Storage ids give
 * exactly the order the scan walks in, so that split is exact.
 */
export class MerkleTracker {
  private current: MerkleIndex;
  private building = false;
  private isReady = false;
  /** Scan position while building: slots below are indexed, and keys of `scanSlot` up to `scanAfter`. */
  private scanSlot = 0;
  private scanAfterId: string | undefined;
  /** Bumped to abandon a running build (FLUSHALL, rebuild). */
  private generation = 0;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly chunkEntries: number;
  private readonly buckets: number | undefined;
  private readonly deep: DeepOptions | undefined;
  private readonly logger: TrackerLogger | undefined;
  /** The slot a split scan is reading, and how far (storage id of the last key read). */
  private splitSlot: number | undefined;
  private splitAfterId: string | undefined;
  private splitting = false;
  private readonly splitFailures = new Map<number, number>();
  /** Duration of the last completed build, ms. */
  buildMs = 0;
  builds = 0;
  /** Split scans completed, and the records they read. */
  splitScans = 0;
  splitScanRecords = 0;

  constructor(private readonly store: TrackedStore, options: MerkleTrackerOptions = {}) {
    this.chunkEntries = Math.max(1, options.chunkEntries ?? DEFAULT_CHUNK_ENTRIES);
    this.buckets = options.buckets;
    this.deep = options.deep;
    this.logger = options.logger;
    this.current = this.fresh();
    this.unsubscribe.push(store.onVersionChange((slot, key, oldVersion, newVersion) => this.onChange(slot, key, oldVersion, newVersion)));
    this.unsubscribe.push(store.onFlushAll(() => this.onFlush()));
  }

  /** The index; only meaningful once `ready`. Replaced (not cleared) by FLUSHALL and rebuilds. */
  get index(): MerkleIndex {
    return this.current;
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** A split scan runs or waits (the deeper digests are still growing somewhere). */
  get splitsPending(): boolean {
    return this.splitting || this.current.deep.nextWanting() !== undefined;
  }

  /** Builds the index from the store; resolves when it is complete (or abandoned by FLUSHALL/close). */
  async build(): Promise<void> {
    const generation = ++this.generation;
    this.current = this.fresh();
    this.isReady = false;
    this.building = true;
    this.scanSlot = 0;
    this.scanAfterId = undefined;
    const started = performance.now();
    let after: Buffer | undefined;
    let entries = 0;
    while (this.scanSlot < SLOT_COUNT) {
      let budget = this.chunkEntries;
      const until = performance.now() + CHUNK_MS;
      while (budget > 0 && this.scanSlot < SLOT_COUNT && performance.now() < until) {
        const slot = this.scanSlot;
        const page = this.store.scanSlotRaw(slot, after, Math.min(budget, SCAN_PAGE));
        for (const e of page.entries) this.current.update(slot, e.key, undefined, e.record.version);
        entries += page.entries.length;
        // A call costs something even when it finds nothing: 16384 empty slots are not free.
        budget -= page.entries.length + 1;
        if (page.next === null) {
          this.scanSlot = slot + 1;
          this.scanAfterId = undefined;
          after = undefined;
        } else {
          after = page.next;
          this.scanAfterId = storageId(slot, after);
        }
      }
      await nextTurn();
      if (generation !== this.generation) return;
    }
    // Every key is indexed and changes now apply to all of them; large slots get their deeper
    // digests before the index is offered, so a node back from a restart compares finely at once.
    await this.runSplits(generation);
    if (generation !== this.generation) return;
    this.building = false;
    this.isReady = true;
    this.builds++;
    this.buildMs = Math.round(performance.now() - started);
    this.logger?.info({ entries, ms: this.buildMs, deepNodes: this.current.deep.nodes }, 'anti-entropy index built');
    this.kickSplits();
  }

  close(): void {
    this.generation++;
    this.building = false;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private fresh(): MerkleIndex {
    return new MerkleIndex({ ...(this.buckets === undefined ? {} : { buckets: this.buckets }), ...(this.deep === undefined ? {} : { deep: this.deep }) });
  }

  /** Whether a change to (slot, key) is one the running split scan has read past (or none runs there). */
  private splitPassed(slot: number, key: Buffer): boolean {
    if (slot !== this.splitSlot) return true;
    return this.splitAfterId !== undefined && storageId(slot, key) <= this.splitAfterId;
  }

  /**
   * Split scans, one slot at a time, until no slot waits for one: each creates the slot's new
   * deeper nodes and fills them from a sliced raw scan of the slot while writes go on (a write
   * reaches a building node only once the scan has read past its key, the same split as build()).
   */
  private async runSplits(generation: number): Promise<void> {
    if (this.splitting) return;
    this.splitting = true;
    try {
      // Never start inside a store event: a batch's later records may be visible to the scan
      // before their own events arrive, which would then count them twice.
      await nextTurn();
      if (generation !== this.generation) return;
      for (;;) {
        const index = this.current;
        const slot = index.deep.nextWanting();
        if (slot === undefined) return;
        if ((this.splitFailures.get(slot) ?? 0) >= SPLIT_FAILURES_MAX) {
          index.deep.unqueue(slot);
          continue;
        }
        if (index.deep.beginSplit(slot, index.entryCount(slot)) === 0) continue;
        this.splitSlot = slot;
        this.splitAfterId = undefined;
        let after: Buffer | undefined;
        let records = 0;
        for (let done = false; !done;) {
          const until = performance.now() + CHUNK_MS;
          let budget = this.chunkEntries;
          while (budget > 0 && performance.now() < until) {
            const page = this.store.scanSlotRaw(slot, after, Math.min(budget, SCAN_PAGE));
            for (const e of page.entries) index.addScanned(slot, e.key, e.record.version);
            records += page.entries.length;
            budget -= page.entries.length + 1;
            if (page.next === null) {
              done = true;
              break;
            }
            after = page.next;
            this.splitAfterId = storageId(slot, after);
          }
          if (done) break;
          await nextTurn();
          if (generation !== this.generation || index !== this.current) return;
        }
        this.splitSlot = undefined;
        const dropped = index.deep.finishSplit(slot, index.slotXor(slot), index.entryCount(slot));
        this.splitScans++;
        this.splitScanRecords += records;
        if (dropped > 0) {
          this.splitFailures.set(slot, (this.splitFailures.get(slot) ?? 0) + 1);
          this.logger?.error({ slot, dropped }, 'anti-entropy deeper digests did not add up after their scan; scanning again');
        } else {
          this.splitFailures.delete(slot);
        }
        await nextTurn();
        if (generation !== this.generation || index !== this.current) return;
      }
    } finally {
      this.splitSlot = undefined;
      this.splitting = false;
      // Abandoned for a newer index (FLUSHALL, rebuild): that one may be waiting for splits.
      if (generation !== this.generation) this.kickSplits();
    }
  }

  /** Starts split scans in the background once the index is in use and some slot waits for one. */
  private kickSplits(): void {
    if (this.splitting || !this.isReady || this.current.deep.nextWanting() === undefined) return;
    const generation = this.generation;
    this.runSplits(generation).catch((err: unknown) => this.logger?.error({ err: String(err) }, 'anti-entropy split scan failed'));
  }

  private scanned(slot: number, key: Buffer): boolean {
    if (slot !== this.scanSlot) return slot < this.scanSlot;
    return this.scanAfterId !== undefined && storageId(slot, key) <= this.scanAfterId;
  }

  private onChange(slot: number, key: Buffer, oldVersion: Buffer | undefined, newVersion: Buffer | undefined): void {
    if (this.building && !this.scanned(slot, key)) return;
    if (!this.building && !this.isReady) return;
    try {
      this.current.update(slot, key, oldVersion, newVersion, this.splitPassed(slot, key));
      this.kickSplits();
    } catch (err) {
      // The index no longer matches the store (it cannot from correct events): start over rather
      // than compare wrong digests forever.
      this.logger?.error({ err: String(err), slot }, 'anti-entropy index out of step with the store; rebuilding');
      // Not from inside this store event (see runSplits): the rebuild's first scan waits a turn.
      this.isReady = false;
      setImmediate(() => this.build().catch((e: unknown) => this.logger?.error({ err: String(e) }, 'anti-entropy index rebuild failed')));
    }
  }

  /** The keyspace is empty at once: so is the index, and a running build has nothing left to find. */
  private onFlush(): void {
    this.generation++;
    this.splitFailures.clear();
    this.current = this.fresh();
    this.building = false;
    this.isReady = true;
  }
}
