/**
 * A Keyspace held in memory, for unit tests of the collection types: key records in a Map,
 * element records in one byte-ordered array (the order LMDB gives them), generations from a
 * counter. No expiry, versions or replication: what a type module needs and nothing else.
 */
import type { ElementStore } from '../../src/collections/element-store.js';
import { StringForm, type Entry, type KeyType, type Keyspace } from '../../src/commands/keyspace.js';

class MemoryElements implements ElementStore {
  /** Sorted by Buffer.compare of the record key. */
  private readonly records: Array<[Buffer, Buffer]> = [];
  /** Element reads, for tests that bound how much an operation touches. */
  reads = 0;

  private find(rk: Buffer): number {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare(this.records[mid]![0], rk) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  getElement(_slot: number, rk: Buffer): Buffer | undefined {
    this.reads++;
    const i = this.find(rk);
    const r = this.records[i];
    return r !== undefined && r[0].equals(rk) ? r[1] : undefined;
  }

  putElement(_slot: number, rk: Buffer, value: Buffer): void {
    const i = this.find(rk);
    const r = this.records[i];
    if (r !== undefined && r[0].equals(rk)) r[1] = value;
    else this.records.splice(i, 0, [Buffer.from(rk), value]);
  }

  deleteElement(_slot: number, rk: Buffer): void {
    const i = this.find(rk);
    if (this.records[i]?.[0].equals(rk) !== true) throw new Error('deleteElement of a missing element');
    this.records.splice(i, 1);
  }

  scanElements(_slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (rk: Buffer, value: Buffer) => boolean): void {
    const from = this.find(start);
    const to = this.find(end);
    if (!reverse) {
      for (let i = from; i < to; i++) {
        this.reads++;
        if (!visit(this.records[i]![0], this.records[i]![1])) return;
      }
    } else {
      for (let i = to - 1; i >= from; i--) {
        this.reads++;
        if (!visit(this.records[i]![0], this.records[i]![1])) return;
      }
    }
  }

  get count(): number {
    return this.records.length;
  }
}

export class MemoryKeyspace implements Keyspace {
  readonly now = Date.now();
  readonly elements = new MemoryElements();
  private readonly keys = new Map<string, Entry>();
  private generation = 0;

  get(key: Buffer): Entry | undefined {
    return this.keys.get(key.toString('latin1'));
  }

  set(key: Buffer, type: KeyType, value: Buffer, expiresAt: number, form?: StringForm): void {
    const e: Entry = { type, value, expiresAt, version: Buffer.alloc(0) };
    if (form !== undefined && form !== StringForm.Compact) e.form = form;
    this.keys.set(key.toString('latin1'), e);
  }

  del(key: Buffer): boolean {
    return this.keys.delete(key.toString('latin1'));
  }

  version(): Buffer | undefined {
    return undefined;
  }

  newGeneration(): Buffer {
    const g = Buffer.alloc(8);
    g.writeUInt32BE(++this.generation, 4);
    return g;
  }
}
