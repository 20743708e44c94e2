import type { Keyspace } from '../commands/keyspace.js';
import { ValueType } from '../storage/types.js';
import { Collection } from './collection.js';
import { LIST_ORIGIN, readU64, writeU64 } from './meta-codec.js';
import { ElementKind } from './record-keys.js';

/**
 * A list over element records: one Position record per element, sub-key = its position as 8
 * big-endian bytes, value = the element. Positions are dense: the metadata's head … tail-1 hold
 * exactly the list's elements in order, so the element at index i sits at head + i.
 *
 *   LPUSH: head-1;  RPUSH: tail;  LPOP: head;  RPOP: tail-1   — O(1) each, one record
 *   LINDEX / LSET: head + i                                   — O(1), one record
 *   LRANGE start stop: one range scan from head + start       — O(S + N)
 *   LTRIM: deletes only the cut ends                           — O(elements removed)
 *   LINSERT / LREM: shift the elements on one side             — O(N), as in Redis
 *
 * A new list starts at LIST_ORIGIN (2^52), leaving room for 2^52 pushes at either end. Dense
 * positions need one writer per list at a time: every list write reads first, so it goes through
 * the slot's lease (docs/decisions.md, "Collections").
 */

/** Elements read per step when a command walks a list while it rewrites positions. */
const PAGE = 256;

export type End = 'left' | 'right';

export function positionKey(pos: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  writeU64(b, 0, pos);
  return b;
}

export class ListType {
  private constructor(readonly c: Collection) {}

  /** The key's list; undefined when missing; WRONGTYPE for another type. */
  static open(ks: Keyspace, key: Buffer): ListType | undefined {
    const c = Collection.open(ks, key, ValueType.List);
    return c && new ListType(c);
  }

  static openOrCreate(ks: Keyspace, key: Buffer): ListType {
    return new ListType(Collection.openOrCreate(ks, key, ValueType.List));
  }

  /** A new empty list under `key`, replacing whatever it held (SORT … STORE). */
  static create(ks: Keyspace, key: Buffer): ListType {
    return new ListType(Collection.create(ks, key, ValueType.List, 0));
  }

  get length(): number {
    return this.c.size;
  }

  private get head(): number {
    return this.c.meta.head;
  }

  push(end: End, value: Buffer): void {
    const m = this.c.meta;
    if (end === 'left') {
      m.head--;
      this.c.put(ElementKind.Position, positionKey(m.head), value);
    } else {
      this.c.put(ElementKind.Position, positionKey(m.tail), value);
      m.tail++;
    }
    this.c.resize(1);
  }

  /**
   * Makes the positions dense again when they are not: every element the generation holds, in
   * position order, is written again under a new generation from LIST_ORIGIN (the old one is
   * reclaimed in the background), and the size becomes their count. Needed only after elements
   * of two histories were merged (two faults at once, coordinator.completeCollections): the merge
   * keeps every acknowledged element but can leave holes or strays outside head … tail, which the
   * O(1) index arithmetic above cannot serve. O(N) when it rewrites; true then. Saves the
   * metadata itself (the caller may not otherwise write).
   */
  repack(): boolean {
    const m = this.c.meta;
    const values: Buffer[] = [];
    let dense = true;
    this.c.scan(ElementKind.Position, (sub, value) => {
      if (readU64(sub, 0) !== m.head + values.length) dense = false;
      values.push(Buffer.from(value));
      return true;
    });
    if (dense && values.length === m.size && m.tail === m.head + values.length) return false;
    this.c.startGeneration();
    m.head = LIST_ORIGIN;
    m.tail = LIST_ORIGIN;
    this.c.resize(-m.size);
    for (const v of values) this.push('right', v);
    this.c.save();
    return true;
  }

  /** Removes and returns the element at one end; undefined when the list is empty. */
  pop(end: End): Buffer | undefined {
    if (this.c.size === 0) return undefined;
    const m = this.c.meta;
    const pos = end === 'left' ? m.head : m.tail - 1;
    const sub = positionKey(pos);
    const v = this.c.get(ElementKind.Position, sub);
    if (v === undefined) throw new Error(`list element at position ${pos} missing`);
    this.c.delete(ElementKind.Position, sub);
    if (end === 'left') m.head++;
    else m.tail--;
    this.c.resize(-1);
    return v;
  }

  /** Index as Redis takes it (negative from the end) to an offset from the head; undefined when out of range. */
  offset(index: number): number | undefined {
    const i = index < 0 ? this.length + index : index;
    return i >= 0 && i < this.length ? i : undefined;
  }

  /** The element at an offset from the head (0 <= offset < length). */
  at(offset: number): Buffer | undefined {
    return this.c.get(ElementKind.Position, positionKey(this.head + offset));
  }

  setAt(offset: number, value: Buffer): void {
    this.c.put(ElementKind.Position, positionKey(this.head + offset), value);
  }

  /** Elements at offsets from..to-1, in order, until `visit` returns false; O(to - from). */
  scan(from: number, to: number, visit: (value: Buffer, offset: number) => boolean): void {
    if (from >= to) return;
    const base = this.head;
    this.c.scan(ElementKind.Position, (sub, value) => visit(value, readU64(sub, 0) - base), { lo: positionKey(base + from), hi: positionKey(base + to), expect: to - from });
  }

  /** The values at offsets from..to-1, in order, until `visit` returns false; O(to - from). */
  values(from: number, to: number, visit: (value: Buffer) => boolean): void {
    if (from >= to) return;
    const base = this.head;
    this.c.scanValues(ElementKind.Position, visit, { lo: positionKey(base + from), hi: positionKey(base + to), expect: to - from });
  }

  /** Elements at offsets below `to` (exclusive), last first, until `visit` returns false. */
  scanBack(to: number, visit: (value: Buffer, offset: number) => boolean): void {
    if (to <= 0) return;
    const base = this.head;
    this.c.scan(ElementKind.Position, (sub, value) => visit(value, readU64(sub, 0) - base), { reverse: true, lo: positionKey(base), hi: positionKey(base + to) });
  }

  /** Up to `n` elements from offset `from`, copied (they outlive the scan). */
  private page(from: number, n: number): Buffer[] {
    const out: Buffer[] = [];
    this.scan(from, Math.min(this.length, from + n), (v) => {
      out.push(Buffer.from(v));
      return true;
    });
    return out;
  }

  /**
   * Inserts `value` so that it lands at `offset` (0 = before the first element, length = after the
   * last), moving the elements on the shorter side by one position.
   */
  insertAt(offset: number, value: Buffer): void {
    const m = this.c.meta;
    if (offset <= this.length - offset) {
      // Shift offsets 0..offset-1 one position towards the head.
      const oldHead = m.head;
      for (let from = 0; from < offset; from += PAGE) {
        const vals = this.page(from, Math.min(PAGE, offset - from));
        vals.forEach((v, i) => this.c.put(ElementKind.Position, positionKey(oldHead - 1 + from + i), v));
      }
      m.head--;
      this.c.put(ElementKind.Position, positionKey(m.head + offset), value);
    } else {
      // Shift offsets offset..length-1 one position towards the tail, last first.
      for (let to = this.length; to > offset; to -= PAGE) {
        const from = Math.max(offset, to - PAGE);
        const vals = this.page(from, to - from);
        for (let i = vals.length - 1; i >= 0; i--) this.c.put(ElementKind.Position, positionKey(m.head + from + i + 1), vals[i]!);
      }
      this.c.put(ElementKind.Position, positionKey(m.head + offset), value);
      m.tail++;
    }
    this.c.resize(1);
  }

  /**
   * Removes up to `limit` elements equal to `value` (0 = all), scanning from the head, or from the
   * tail when `fromTail`; the survivors close up towards the end the scan started from. O(N).
   */
  removeMatching(value: Buffer, limit: number, fromTail: boolean): number {
    const m = this.c.meta;
    const len = this.length;
    let removed = 0;
    if (!fromTail) {
      let write = 0;
      for (let from = 0; from < len; from += PAGE) {
        const vals = this.page(from, PAGE);
        vals.forEach((v, i) => {
          if ((limit === 0 || removed < limit) && v.equals(value)) {
            removed++;
            return;
          }
          if (removed > 0) this.c.put(ElementKind.Position, positionKey(m.head + write), v);
          write++;
        });
      }
      for (let off = write; off < len; off++) this.c.delete(ElementKind.Position, positionKey(m.head + off));
      m.tail = m.head + write;
    } else {
      let write = len - 1;
      for (let to = len; to > 0; to -= PAGE) {
        const from = Math.max(0, to - PAGE);
        const vals = this.page(from, to - from);
        for (let i = vals.length - 1; i >= 0; i--) {
          const v = vals[i]!;
          if ((limit === 0 || removed < limit) && v.equals(value)) {
            removed++;
            continue;
          }
          if (removed > 0) this.c.put(ElementKind.Position, positionKey(m.head + write), v);
          write--;
        }
      }
      for (let off = 0; off <= write; off++) this.c.delete(ElementKind.Position, positionKey(m.head + off));
      m.head = m.head + write + 1;
    }
    if (removed > 0) this.c.resize(-removed);
    return removed;
  }

  /** Keeps offsets from..to (inclusive; from > to keeps nothing), deleting only what is cut. */
  trim(from: number, to: number): void {
    const m = this.c.meta;
    const len = this.length;
    if (from > to || from >= len) {
      // Emptied: the key goes, its elements become unreachable with its generation.
      this.c.resize(-len);
      return;
    }
    for (let off = 0; off < from; off++) this.c.delete(ElementKind.Position, positionKey(m.head + off));
    for (let off = to + 1; off < len; off++) this.c.delete(ElementKind.Position, positionKey(m.head + off));
    m.tail = m.head + to + 1;
    m.head += from;
    this.c.resize(m.tail - m.head - len);
  }

  save(): void {
    this.c.save();
  }
}
