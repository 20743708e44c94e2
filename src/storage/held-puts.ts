import { appendGroup, appendStagedBatch, appendStagedPut, GroupParts, type FrameSink, type StagedItems } from './log-entry.js';

const INITIAL_BYTES = 4096;
const INITIAL_ITEMS = 64;
/** Item arrays grown past this by one big command are dropped afterwards rather than kept. */
const KEEP_ITEMS_MAX = 1 << 14;
/** A staging buffer grown past this by one big command is dropped afterwards rather than kept. */
const KEEP_BYTES_MAX = 1 << 20;

/**
 * The log entries of puts that Store.atomically() holds back until its command returns. Each put's
 * key and encoded record are copied into one reused staging buffer, so holding a put allocates
 * nothing (a plain SET used to cost a Map, an array, an item object and a key copy here); at the
 * end they become one log entry: a Put, a Batch for one slot, or a Group of per-slot parts (in the
 * order the slots were first written) when the command wrote several slots.
 */
export class HeldPuts implements StagedItems {
  buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private used = 0;
  /**
   * Per held put: its slot, and where its key and record sit in `buf`; the first `count` cells are
   * in use. Typed arrays kept across commands: arrays emptied with `length = 0` gave their storage
   * back, and every put then grew five new ones (about 750 bytes of garbage per SET).
   */
  private slots = new Uint16Array(INITIAL_ITEMS);
  keyAt = new Uint32Array(INITIAL_ITEMS);
  keyLen = new Uint32Array(INITIAL_ITEMS);
  recAt = new Uint32Array(INITIAL_ITEMS);
  recLen = new Uint32Array(INITIAL_ITEMS);
  private n = 0;
  /** Indexes of one slot's puts, reused by flush() when several slots were written. */
  private readonly picked: number[] = [];
  /** Staging for a Group entry, reused (dropped after a big one). */
  private parts: GroupParts | undefined;

  get count(): number {
    return this.n;
  }

  add(slot: number, key: Buffer, encoded: Buffer): void {
    const need = this.used + key.length + encoded.length;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    const i = this.n;
    if (i === this.slots.length) this.resize(i * 2);
    this.slots[i] = slot;
    this.keyAt[i] = this.used;
    this.keyLen[i] = key.length;
    key.copy(this.buf, this.used);
    this.used += key.length;
    this.recAt[i] = this.used;
    this.recLen[i] = encoded.length;
    encoded.copy(this.buf, this.used);
    this.used += encoded.length;
    this.n = i + 1;
  }

  /** New item arrays of `items` cells, holding the first `n` items. */
  private resize(items: number): void {
    const more = <T extends Uint16Array | Uint32Array>(a: T, fresh: T): T => {
      fresh.set(a.subarray(0, this.n));
      return fresh;
    };
    this.slots = more(this.slots, new Uint16Array(items));
    this.keyAt = more(this.keyAt, new Uint32Array(items));
    this.keyLen = more(this.keyLen, new Uint32Array(items));
    this.recAt = more(this.recAt, new Uint32Array(items));
    this.recLen = more(this.recLen, new Uint32Array(items));
  }

  /** Writes what is held to `log` (one entry per slot) and empties the holder. */
  flush(log: FrameSink): void {
    const n = this.n;
    if (n === 0) return;
    try {
      if (n === 1) appendStagedPut(log, this.slots[0]!, this, 0);
      else if (this.oneSlot()) appendStagedBatch(log, this.slots[0]!, this, allIndexes(n, this.picked));
      else this.flushPerSlot(log);
    } finally {
      this.clear();
    }
  }

  /** Forgets what is held without logging it. */
  clear(): void {
    this.n = 0;
    this.used = 0;
    if (this.buf.length > KEEP_BYTES_MAX) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    if (this.slots.length > KEEP_ITEMS_MAX) this.resize(INITIAL_ITEMS);
  }

  private oneSlot(): boolean {
    const first = this.slots[0]!;
    for (let i = 1; i < this.n; i++) if (this.slots[i] !== first) return false;
    return true;
  }

  /** Several slots: each slot's puts become one part of a single Group entry (all or none on replay). */
  private flushPerSlot(log: FrameSink): void {
    const parts = (this.parts ??= new GroupParts());
    parts.used = 0;
    parts.count = 0;
    this.appendPerSlot(parts);
    appendGroup(log, parts);
    if (parts.frameBuffer.length > KEEP_BYTES_MAX) this.parts = undefined;
  }

  private appendPerSlot(log: FrameSink): void {
    const done = new Set<number>();
    for (let i = 0; i < this.n; i++) {
      const slot = this.slots[i]!;
      if (done.has(slot)) continue;
      done.add(slot);
      const picked = this.picked;
      picked.length = 0;
      for (let j = i; j < this.n; j++) if (this.slots[j] === slot) picked.push(j);
      if (picked.length === 1) appendStagedPut(log, slot, this, i);
      else appendStagedBatch(log, slot, this, picked);
    }
  }
}

function allIndexes(n: number, into: number[]): number[] {
  into.length = 0;
  for (let i = 0; i < n; i++) into.push(i);
  return into;
}
