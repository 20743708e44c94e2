import type { PutOutcome, RecordStore, StoredRecord } from '../../../src/storage/types.js';

/** How a store misbehaves on purpose (to prove a check catches what it would cause). */
export interface StoreFaults {
  /** fsync that lies: durability is acknowledged at once, and nothing ever reaches the disk. */
  lyingFsync?: boolean;
  /** Writes to keys this accepts are acknowledged as applied but never stored. */
  forget?: (key: Buffer) => boolean;
  /** Sees every put and whether it applied (tracing a seed). */
  observe?: (key: Buffer, rec: StoredRecord, applied: boolean) => void;
}

interface Slot {
  slot: number;
  key: Buffer;
  rec: StoredRecord;
}

/** What survives a crash: the synced records and metadata. */
export interface DiskImage {
  records: Map<string, Slot>;
  meta: Map<string, Buffer>;
}

export function emptyDisk(): DiskImage {
  return { records: new Map(), meta: new Map() };
}

const id = (slot: number, key: Buffer): string => `${slot}:${key.toString('latin1')}`;

/**
 * The record store of one simulated node: last-writer-wins by version, as the real Store, with a
 * group commit whose sync completes a few simulated ms later. Only synced writes are on the disk
 * image a crash leaves behind; everything after the last sync is lost, as with a power cut under a
 * missing fsync.
 */
export class SimStore implements RecordStore {
  private readonly memory: Map<string, Slot>;
  private unsynced: Slot[] = [];
  private readonly metaPending = new Map<string, Buffer>();
  private waiters: Array<(err?: Error) => void> = [];
  private syncScheduled = false;
  private dead = false;
  syncs = 0;

  constructor(
    readonly disk: DiskImage,
    private readonly scheduleSync: (fn: () => void) => void,
    private readonly faults: StoreFaults = {},
  ) {
    this.memory = new Map(disk.records);
  }

  get(slot: number, key: Buffer): StoredRecord | undefined {
    return this.memory.get(id(slot, key))?.rec;
  }

  put(slot: number, key: Buffer, rec: StoredRecord): PutOutcome {
    const k = id(slot, key);
    const previous = this.memory.get(k)?.rec;
    if (previous !== undefined && Buffer.compare(rec.version, previous.version) <= 0) {
      this.faults.observe?.(key, rec, false);
      return { applied: false, previous };
    }
    this.faults.observe?.(key, rec, true);
    if (this.faults.forget?.(key)) return { applied: true, previous };
    const entry = { slot, key: Buffer.from(key), rec };
    this.memory.set(k, entry);
    this.unsynced.push(entry);
    this.requestSync();
    return { applied: true, previous };
  }

  /** Stores `rec` whatever is held, version included (Store.replace: a coordinator settling a copy it merged). */
  replace(slot: number, key: Buffer, rec: StoredRecord): void {
    const entry = { slot, key: Buffer.from(key), rec };
    this.memory.set(id(slot, key), entry);
    this.unsynced.push(entry);
    this.requestSync();
  }

  /** A sorted walk of the slot's records: the simulation's collections are small. */
  scanRange(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean): void {
    const hits = [...this.memory.values()].filter((e) => e.slot === slot && Buffer.compare(e.key, start) >= 0 && Buffer.compare(e.key, end) < 0);
    hits.sort((a, b) => Buffer.compare(a.key, b.key));
    if (reverse) hits.reverse();
    for (const e of hits) if (!visit(e.key, e.rec)) return;
  }

  scanRangeRaw(slot: number, start: Buffer, end: Buffer, visit: (key: Buffer, record: StoredRecord) => boolean): void {
    this.scanRange(slot, start, end, false, visit);
  }

  hasPendingDurability(): boolean {
    return !this.faults.lyingFsync && this.unsynced.length > 0;
  }

  afterDurable(cb: (err?: Error) => void): void {
    if (this.faults.lyingFsync || this.unsynced.length === 0) {
      cb();
      return;
    }
    this.waiters.push(cb);
    this.requestSync();
  }

  getMeta(name: string): Buffer | undefined {
    return this.metaPending.get(name) ?? this.disk.meta.get(name);
  }

  setMeta(name: string, value: Buffer): void {
    this.metaPending.set(name, value);
    this.requestSync();
  }

  /** Every record in memory, for comparing replicas. */
  entries(): IterableIterator<Slot> {
    return this.memory.values();
  }

  /** The process is gone: nothing it had not synced reaches the disk, no waiter is called. */
  crash(): void {
    this.dead = true;
    this.waiters = [];
    this.unsynced = [];
  }

  private requestSync(): void {
    if (this.syncScheduled || this.faults.lyingFsync) return;
    this.syncScheduled = true;
    this.scheduleSync(() => this.sync());
  }

  private sync(): void {
    this.syncScheduled = false;
    if (this.dead) return;
    this.syncs++;
    for (const e of this.unsynced) this.disk.records.set(id(e.slot, e.key), e);
    this.unsynced = [];
    for (const [k, v] of this.metaPending) this.disk.meta.set(k, v);
    this.metaPending.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const cb of waiters) cb();
  }
}
