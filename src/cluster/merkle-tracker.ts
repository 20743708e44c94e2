import { setImmediate as nextTurn } from 'node:timers/promises';
import { storageId } from '../storage/key-layout.js';
import type { VersionChangeListener } from '../storage/store.js';
import type { ScanEntry } from '../storage/types.js';
import { MerkleIndex } from './merkle.js';
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
  private readonly logger: TrackerLogger | undefined;
  /** Duration of the last completed build, ms. */
  buildMs = 0;
  builds = 0;

  constructor(private readonly store: TrackedStore, options: MerkleTrackerOptions = {}) {
    this.chunkEntries = Math.max(1, options.chunkEntries ?? DEFAULT_CHUNK_ENTRIES);
    this.buckets = options.buckets;
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
    this.building = false;
    this.isReady = true;
    this.builds++;
    this.buildMs = Math.round(performance.now() - started);
    this.logger?.info({ entries, ms: this.buildMs }, 'anti-entropy index built');
  }

  close(): void {
    this.generation++;
    this.building = false;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private fresh(): MerkleIndex {
    return this.buckets === undefined ? new MerkleIndex() : new MerkleIndex({ buckets: this.buckets });
  }

  private scanned(slot: number, key: Buffer): boolean {
    if (slot !== this.scanSlot) return slot < this.scanSlot;
    return this.scanAfterId !== undefined && storageId(slot, key) <= this.scanAfterId;
  }

  private onChange(slot: number, key: Buffer, oldVersion: Buffer | undefined, newVersion: Buffer | undefined): void {
    if (this.building && !this.scanned(slot, key)) return;
    if (!this.building && !this.isReady) return;
    try {
      this.current.update(slot, key, oldVersion, newVersion);
    } catch (err) {
      // The index no longer matches the store (it cannot from correct events): start over rather
      // than compare wrong digests forever.
      this.logger?.error({ err: String(err), slot }, 'anti-entropy index out of step with the store; rebuilding');
      this.build().catch((e: unknown) => this.logger?.error({ err: String(e) }, 'anti-entropy index rebuild failed'));
    }
  }

  /** The keyspace is empty at once: so is the index, and a running build has nothing left to find. */
  private onFlush(): void {
    this.generation++;
    this.current = this.fresh();
    this.building = false;
    this.isReady = true;
  }
}
