import { EXPIRES_AT_MAX, type Entry, type KeyType, type Keyspace } from '../commands/keyspace.js';
import { scanInChunks, type ElementChunk, type ElementStore, type ScanHints } from '../collections/element-store.js';
import type { WindowEntry } from '../storage/range-windows.js';
import { recordKey } from '../collections/record-keys.js';
import { keySlot } from './slot.js';
import { StringForm, TOMBSTONE_OF_NOTHING, ValueType, type ScanRangeOptions, type StoredRecord } from '../storage/types.js';
import { liveElement, liveEntry, watchVersionHere } from '../server/local-keyspace.js';
import type { RemovedRecord } from '../storage/removed-records.js';

export interface PendingWrite {
  /** The record key (an escaped user key, or an element's key). */
  key: Buffer;
  type: ValueType;
  value: Buffer;
  expiresAt: number;
  /** An element record (or an element's deletion): stamped without a vector clock. */
  element: boolean;
  /** A String's form other than Compact. */
  form?: StringForm;
}

/** The coordinator's own replica, where a collection's elements are read (complete by then). */
export interface LocalElements {
  get(slot: number, rk: Buffer): StoredRecord | undefined;
  scanRange(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (rk: Buffer, record: StoredRecord) => boolean, options?: ScanRangeOptions): void;
  smallRange?(slot: number, start: Buffer, end: Buffer): readonly WindowEntry[] | undefined;
  readElements?(slot: number, start: Buffer, end: Buffer, reverse: boolean, n: number, options?: ScanRangeOptions): ElementChunk;
  /** The last record of a key record this replica removed or deleted recently (store.removed). */
  removed?(slot: number, rk: Buffer): RemovedRecord | undefined;
}

/** scanElements reads the local records' type and value alone. */
const VALUES_ONLY: ScanRangeOptions = { valuesOnly: true };
const VALUES_ONLY_ONCE: ScanRangeOptions = { valuesOnly: true, once: true };

const NO_VERSION = Buffer.alloc(16);
const EMPTY = Buffer.alloc(0);

/**
 * The keyspace a coordinated command runs against: key records fetched from a read quorum,
 * elements read from this node's replica (which the coordinator made complete for every
 * collection the job touches), and the command's own writes layered on top and collected for
 * replication. A key that was not fetched (a script's key it did not declare, built from a
 * prefix as BullMQ does) is noted in `missing` and reads as absent for the rest of the run: the
 * coordinator then throws the run away and runs it again with those keys fetched too, so a run
 * that counts never saw a key it had not read.
 */
export class OverlayKeyspace implements Keyspace, ElementStore {
  readonly writes = new Map<string, PendingWrite>();
  /** Writes made so far, counting each one (a run tells which of its commands wrote). */
  writeCount = 0;
  readonly elements: ElementStore = this;
  /** Keys the run used without them being fetched, by record key id: their user keys. */
  readonly missing = new Map<string, Buffer>();

  constructor(
    private readonly fetched: ReadonlyMap<string, StoredRecord | undefined>,
    /** The time the running command sees; the coordinator moves it on between commands of a group. */
    public now: number,
    private readonly local: LocalElements,
    private readonly generation: () => Buffer,
  ) {}

  get(key: Buffer): Entry | undefined {
    const id = recordKey(key).toString('latin1');
    const w = this.writes.get(id);
    if (w) {
      // A write in this run with an expiry already past (SET … EXAT in the past) is gone at once.
      if (w.type === ValueType.Tombstone || (w.expiresAt > 0 && w.expiresAt <= this.now)) return undefined;
      const e: Entry = { type: w.type as KeyType, value: w.value, expiresAt: w.expiresAt, version: NO_VERSION };
      if (w.form !== undefined) e.form = w.form;
      return e;
    }
    if (!this.fetched.has(id)) return this.miss(id, key);
    return liveEntry(this.fetched.get(id), this.now);
  }

  version(key: Buffer): Buffer | undefined {
    const id = recordKey(key).toString('latin1');
    if (this.writes.has(id)) return NO_VERSION;
    if (!this.fetched.has(id)) return this.miss(id, key);
    // Gone from every replica read: this replica may still know what was removed (WATCH, Redis's touch).
    return watchVersionHere(this.fetched.get(id), this.now, () => this.local.removed?.(keySlot(key), recordKey(key)));
  }

  private miss(id: string, key: Buffer): undefined {
    this.missing.set(id, Buffer.from(key));
    return undefined;
  }

  set(key: Buffer, type: KeyType, value: Buffer, expiresAt: number, form?: StringForm): void {
    const rk = recordKey(key);
    const id = rk.toString('latin1');
    // A blind write too: its version must follow the key's quorum-read history.
    if (!this.fetched.has(id)) this.miss(id, key);
    const w: PendingWrite = { key: rk, type, value, expiresAt: Math.min(expiresAt, EXPIRES_AT_MAX), element: false };
    if (type === ValueType.String && form !== undefined && form !== StringForm.Compact) w.form = form;
    this.writes.set(id, w);
    this.writeCount++;
  }

  /**
   * Deletes a key (a tombstone); true when a live key was seen. A key the quorum read found
   * nowhere still gets a tombstone: a write that failed its quorum may sit on a replica outside the
   * read, and only a newer tombstone keeps it from coming back after this acknowledged DEL. That
   * tombstone is marked as the deletion of nothing, so a WATCH on the key stays intact, as Redis
   * leaves a key it did not delete untouched. A key the read found already deleted gets one too, for
   * the same reason: the failed write may be newer than the tombstone the quorum read saw (a SET
   * taken by one replica on the minority side of a partition, after the key's last DEL). Only a
   * tombstone this command already wrote needs no second one.
   */
  del(key: Buffer): boolean {
    const existed = this.get(key) !== undefined;
    const rk = recordKey(key);
    const id = rk.toString('latin1');
    const w = this.writes.get(id);
    if (w?.type === ValueType.Tombstone) return false;
    const rec = w === undefined ? this.fetched.get(id) : undefined;
    // A value past its expiry is absent too: deleting it changes nothing a WATCH can see (Redis 7).
    const nothing = w === undefined && liveEntry(rec, this.now) === undefined;
    this.writes.set(id, { key: rk, type: ValueType.Tombstone, value: EMPTY, expiresAt: nothing ? TOMBSTONE_OF_NOTHING : 0, element: false });
    this.writeCount++;
    return existed;
  }

  newGeneration(): Buffer {
    return this.generation();
  }

  getElement(slot: number, rk: Buffer): Buffer | undefined {
    const w = this.writes.get(rk.toString('latin1'));
    if (w) return w.type === ValueType.Element ? w.value : undefined;
    return liveElement(this.local.get(slot, rk));
  }

  putElement(_slot: number, rk: Buffer, value: Buffer): void {
    this.writes.set(rk.toString('latin1'), { key: rk, type: ValueType.Element, value, expiresAt: 0, element: true });
    this.writeCount++;
  }

  deleteElement(_slot: number, rk: Buffer): void {
    this.writes.set(rk.toString('latin1'), { key: rk, type: ValueType.Tombstone, value: EMPTY, expiresAt: 0, element: true });
    this.writeCount++;
  }

  /** The local replica's elements merged with this run's element writes, which win on the same key. */
  scanElements(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (rk: Buffer, value: Buffer) => boolean, hints?: ScanHints): void {
    // While this run has written nothing where the scan goes, the replica's own reads serve it,
    // from what its store holds in memory when it can (range-windows.ts); from the first chunk
    // that meets a write of the run on, the replica's records and the run's writes are merged.
    const readElements = this.local.readElements?.bind(this.local);
    let rest: [Buffer, Buffer] | undefined = [start, end];
    if (readElements !== undefined && hints?.once !== true) {
      rest = scanInChunks((lo, hi, n) => (this.pendingIn(lo, hi, reverse).length > 0 ? undefined : readElements(slot, lo, hi, reverse, n, VALUES_ONLY)), start, end, reverse, visit, hints);
    }
    if (rest !== undefined) this.mergedScan(slot, rest[0], rest[1], reverse, visit, hints);
  }

  /** The replica's records in [start, end) merged with this run's element writes, which win on the same key. */
  private mergedScan(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (rk: Buffer, value: Buffer) => boolean, hints?: ScanHints): void {
    const pending = this.pendingIn(start, end, reverse);
    let i = 0;
    let stopped = false;
    // Emits pending writes that come before `id` in scan order; false once the visitor stopped.
    const drainBefore = (id: string | undefined): boolean => {
      while (i < pending.length) {
        const [pid, w] = pending[i]!;
        if (id !== undefined && (reverse ? pid <= id : pid >= id)) break;
        i++;
        if (w.type === ValueType.Element && !visit(w.key, w.value)) return false;
      }
      return true;
    };
    this.local.scanRange(slot, start, end, reverse, (rk, rec) => {
      const id = rk.toString('latin1');
      if (!drainBefore(id)) {
        stopped = true;
        return false;
      }
      // The run's own write of this element replaces what the replica holds.
      if (i < pending.length && pending[i]![0] === id) return true;
      if (rec.type !== ValueType.Element) return true;
      if (!visit(rk, rec.value as Buffer)) {
        stopped = true;
        return false;
      }
      return true;
    }, hints?.once === true ? VALUES_ONLY_ONCE : VALUES_ONLY);
    if (!stopped) drainBefore(undefined);
  }

  /** The local replica's view while this run has written nothing in the range (else a scan merges). */
  smallRange(slot: number, start: Buffer, end: Buffer): readonly WindowEntry[] | undefined {
    return this.pendingIn(start, end, false).length === 0 ? this.local.smallRange?.(slot, start, end) : undefined;
  }

  /** This run's element writes inside [start, end), in scan order. */
  private pendingIn(start: Buffer, end: Buffer, reverse: boolean): Array<[string, PendingWrite]> {
    const out: Array<[string, PendingWrite]> = [];
    if (this.writes.size === 0) return out;
    const lo = start.toString('latin1');
    const hi = end.toString('latin1');
    for (const [id, w] of this.writes) if (w.element && id >= lo && id < hi) out.push([id, w]);
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (reverse) out.reverse();
    return out;
  }
}
