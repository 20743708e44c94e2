import { elementKindsOf, isCollectionType, type CollectionType } from '../collections/collection.js';
import { decodeMeta, isSuspectMeta, withSuspect } from '../collections/meta-codec.js';
import { elementPrefix, prefixEnd, userKeyOf } from '../collections/record-keys.js';
import type { Logger } from '../core/logger.js';
import { compareVersions } from '../core/version.js';
import { decodeRecord } from '../storage/record-codec.js';
import type { RecordStore, StoredRecord } from '../storage/types.js';
import { ValueType } from '../storage/types.js';
import type { ReplicaClient } from './coordinator.js';

/** What healing needs of the store: reads, a physical drop, and a write that ignores versions. */
export interface HealerStore extends RecordStore {
  drop(slot: number, key: Buffer): void;
  replace(slot: number, key: Buffer, rec: StoredRecord, encoded?: Buffer): unknown;
}

export interface HealerHost {
  readonly store: HealerStore;
  readonly replicas: Pick<ReplicaClient, 'myId' | 'read' | 'readRange' | 'reachable'>;
  readonly logger: Logger;
  /** The slot's replicas: where else to heal from when the write's sender cannot serve. */
  readonly replicasOf: (slot: number) => readonly string[];
}

const PAGE_RECORDS = 2000;
/** Tries per key before it waits for the next write to ask again. */
const ATTEMPTS = 3;
const RETRY_MS = 500;
/** Keys waiting to be healed, at most: beyond it a key waits for its next write. */
const QUEUE_MAX = 10_000;

export interface HealerStats {
  healed: number;
  failed: number;
  records: number;
}

/**
 * Heals collections this replica marked suspect (collection-lineage.ts): takes the collection
 * from a replica that holds it completely (the coordinator that sent the write) and makes the
 * local element records of its generation exactly that replica's, record for record, then
 * clears the mark. Records written here after the source's metadata are kept. One key at a time,
 * paged, so a large collection never sits in memory.
 */
export class CollectionHealer {
  private readonly queue = new Map<string, { slot: number; key: Buffer; source: string; attempts: number }>();
  private running = false;
  private stopped = false;
  readonly stats: HealerStats = { healed: 0, failed: 0, records: 0 };

  constructor(private readonly host: HealerHost) {}

  get pending(): number {
    return this.queue.size;
  }

  enqueue(slot: number, key: Buffer, source: string): void {
    const id = `${slot}:${key.toString('latin1')}`;
    const had = this.queue.get(id);
    if (had !== undefined) had.source = source;
    else if (this.queue.size < QUEUE_MAX) this.queue.set(id, { slot, key: Buffer.from(key), source, attempts: 0 });
    this.kick();
  }

  stop(): void {
    this.stopped = true;
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    // A later turn: whoever asked (the replica service judging a write) stores the suspect mark
    // right after asking, and a heal that looked now would find the key unmarked and call it done.
    setImmediate(() => {
      void this.drain().finally(() => {
        this.running = false;
      });
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.size > 0) {
      const [id, job] = this.queue.entries().next().value as [string, { slot: number; key: Buffer; source: string; attempts: number }];
      this.queue.delete(id);
      let done = false;
      try {
        done = await this.heal(job.slot, job.key, job.source);
      } catch (err) {
        this.host.logger.debug({ err, slot: job.slot }, 'collection heal failed');
      }
      if (done || this.stopped) continue;
      if (++job.attempts >= ATTEMPTS) {
        this.stats.failed++;
        this.host.logger.warn({ slot: job.slot, key: job.key.toString('latin1').slice(0, 200), from: job.source },
          'collection still suspect: no replica could serve it whole; its next write queues it again');
        continue;
      }
      setTimeout(() => {
        if (!this.queue.has(id) && this.queue.size < QUEUE_MAX) this.queue.set(id, job);
        this.kick();
      }, RETRY_MS).unref();
    }
  }

  /** True once the key needs nothing more (healed, or no longer suspect here). */
  private async heal(slot: number, key: Buffer, source: string): Promise<boolean> {
    const here = this.host.store.get(slot, key);
    if (here === undefined || !isCollectionType(here.type as ValueType) || !isSuspectMeta(here.value as Buffer)) return true;
    // The write's sender is the coordinator, which holds the collection completely; a hint's
    // sender is a stand-in that may hold nothing of it, so the slot's replicas come next.
    const me = this.host.replicas.myId;
    for (const id of new Set([source, ...this.host.replicasOf(slot)])) {
      if (id === me) continue;
      try {
        if (await this.adopt(slot, key, id)) return true;
      } catch (err) {
        this.host.logger.debug({ err, slot, from: id }, 'collection heal from a replica failed');
      }
    }
    return false;
  }

  /**
   * Stores `rec` as this replica's metadata of `key` whatever it holds, version included: a
   * coordinator that merged the collection's elements here recounted them (Coordinator
   * completeCollections), and the metadata must say what the elements now are.
   */
  settle(slot: number, key: Buffer, rec: StoredRecord): void {
    this.host.store.replace(slot, key, rec);
  }

  /**
   * Makes this replica's copy of the collection under `key` exactly `source`'s: its metadata and
   * every element record of its generation. `expect`: only if the source holds that version.
   * False when the source cannot serve as one (unreachable, not complete, older than us).
   */
  async adopt(slot: number, key: Buffer, source: string, expect?: Buffer): Promise<boolean> {
    const { store, replicas } = this.host;
    if (!replicas.reachable(source)) return false;
    const [encoded] = await replicas.read(source, slot, [key]);
    if (encoded === null || encoded === undefined) return false;
    const theirs = decodeRecord(encoded);
    // The source must hold this collection completely: not suspect itself, and at least as new.
    if (!isCollectionType(theirs.type as ValueType) || isSuspectMeta(theirs.value as Buffer)) return false;
    if (expect !== undefined && !theirs.version.equals(expect)) return false;
    const here = store.get(slot, key);
    if (here !== undefined && compareVersions(theirs.version, here.version) < 0) return false;
    const userKey = userKeyOf(key);
    if (userKey === undefined) return false;
    // Their metadata first, marked: a crash in the middle leaves the key suspect here.
    store.replace(slot, key, { ...theirs, value: withSuspect(theirs.value as Buffer, true) });
    const generation = decodeMeta(theirs.value as Buffer).generation;
    for (const kind of elementKindsOf(theirs.type as CollectionType)) await this.replaceRange(slot, elementPrefix(kind, userKey, generation), source, theirs.version);
    const now = store.get(slot, key);
    // A write applied meanwhile moved the metadata on; it was judged (and marked) on arrival.
    if (now === undefined || !now.version.equals(theirs.version)) return false;
    store.replace(slot, key, theirs, encoded);
    this.stats.healed++;
    return true;
  }

  /**
   * Makes the local records in [prefix, end) those of `source`: theirs are written over ours, and
   * ours they lack are dropped, except records newer than the metadata `upTo` (later writes).
   */
  private async replaceRange(slot: number, prefix: Buffer, source: string, upTo: Buffer): Promise<void> {
    const { store, replicas } = this.host;
    const end = prefixEnd(prefix);
    let start: Buffer | undefined = prefix;
    let from = prefix;
    while (start !== undefined) {
      const page: { items: Array<[Buffer, Buffer]>; next: Buffer | undefined } = await replicas.readRange(source, slot, start, end, PAGE_RECORDS);
      const pageEnd = page.next ?? end;
      const theirs = new Map<string, [Buffer, Buffer]>();
      for (const item of page.items) theirs.set(item[0].toString('latin1'), item);
      const doomed: Buffer[] = [];
      store.scanRangeRaw(slot, from, pageEnd, (rk, rec) => {
        if (!theirs.has(rk.toString('latin1')) && compareVersions(rec.version, upTo) <= 0) doomed.push(Buffer.from(rk));
        return true;
      });
      for (const rk of doomed) store.drop(slot, rk);
      for (const [rk, enc] of page.items) {
        const rec = decodeRecord(enc);
        const mine = store.get(slot, rk);
        if (mine !== undefined && (mine.version.equals(rec.version) || compareVersions(mine.version, upTo) > 0)) continue;
        store.replace(slot, rk, rec, enc);
      }
      this.stats.records += page.items.length + doomed.length;
      from = pageEnd;
      start = page.next;
    }
  }
}
