import type { Entry, KeyType, Keyspace, StringForm } from '../commands/keyspace.js';
import type { ElementStore, ScanHints } from '../collections/element-store.js';
import type { WindowEntry } from '../storage/range-windows.js';
import { ElementKind, parseElementKey } from '../collections/record-keys.js';
import type { KeyChange } from './keyspace-events.js';

/**
 * A keyspace that passes everything through and remembers, per key, whether it was live before
 * the command touched it, was written, and is gone at the end; and which lookups missed. Used
 * only while keyspace notifications are on: the events are derived from it afterwards.
 */
export class RecordingKeyspace implements Keyspace, ElementStore {
  readonly elements: ElementStore = this;
  private readonly changes = new Map<string, KeyChange>();
  readonly misses: Buffer[] = [];
  private readonly hits = new Set<string>();

  constructor(private readonly inner: Keyspace) {}

  get now(): number {
    return this.inner.now;
  }

  private note(key: Buffer): KeyChange {
    const id = key.toString('latin1');
    let c = this.changes.get(id);
    if (c === undefined) {
      // Looked up before the change is applied: whether the command creates the key.
      c = { key: Buffer.from(key), existed: this.inner.get(key) !== undefined, written: false, deleted: false };
      this.changes.set(id, c);
    }
    return c;
  }

  recorded(): KeyChange[] {
    return [...this.changes.values()];
  }

  get(key: Buffer): Entry | undefined {
    const e = this.inner.get(key);
    if (e === undefined) this.misses.push(key);
    else this.hits.add(key.toString('latin1'));
    return e;
  }

  /** The command looked `key` up and found it. */
  found(key: Buffer): boolean {
    return this.hits.has(key.toString('latin1'));
  }

  set(key: Buffer, type: KeyType, value: Buffer, expiresAt: number, form?: StringForm): void {
    const c = this.note(key);
    this.inner.set(key, type, value, expiresAt, form);
    c.written = true;
    c.deleted = false;
  }

  del(key: Buffer): boolean {
    const c = this.note(key);
    const deleted = this.inner.del(key);
    if (deleted) c.deleted = true;
    return deleted;
  }

  version(key: Buffer): Buffer | undefined {
    return this.inner.version(key);
  }

  newGeneration(): Buffer {
    return this.inner.newGeneration();
  }

  getElement(slot: number, rk: Buffer): Buffer | undefined {
    return this.inner.elements.getElement(slot, rk);
  }

  putElement(slot: number, rk: Buffer, value: Buffer): void {
    const c = this.noteElement(rk);
    // A consumer record written where none was: the command created the consumer.
    if (c !== undefined && rk[1] === ElementKind.StreamConsumer && this.inner.elements.getElement(slot, rk) === undefined) c.consumerCreated = true;
    this.inner.elements.putElement(slot, rk, value);
  }

  deleteElement(slot: number, rk: Buffer): void {
    const c = this.noteElement(rk);
    if (c !== undefined && rk[1] === ElementKind.StreamEntry) c.entriesRemoved = true;
    this.inner.elements.deleteElement(slot, rk);
  }

  scanElements(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (rk: Buffer, value: Buffer) => boolean, hints?: ScanHints): void {
    this.inner.elements.scanElements(slot, start, end, reverse, visit, hints);
  }

  smallRange(slot: number, start: Buffer, end: Buffer): readonly WindowEntry[] | undefined {
    return this.inner.elements.smallRange?.(slot, start, end);
  }

  private noteElement(rk: Buffer): KeyChange | undefined {
    const parsed = parseElementKey(rk);
    if (parsed === undefined) return undefined;
    const c = this.note(parsed.userKey);
    c.written = true;
    return c;
  }
}
