import { ERR, ReplyError } from '../core/errors.js';
import { StringForm, ValueType, type Keyspace } from '../commands/keyspace.js';
import { Collection } from '../collections/collection.js';
import { ElementKind } from '../collections/record-keys.js';
import { stringEncoding } from '../collections/encoding.js';

/**
 * Strings in one of two forms, the same to every command:
 *
 * - plain: one String record holding the bytes (every string written by SET, and every string up
 *   to FRAGMENTED_ABOVE bytes);
 * - fragmented: a FragmentedString metadata record (meta-codec.ts: generation, size = the string's
 *   length in bytes) plus one Position element record per FRAGMENT_BYTES of the string, under the
 *   sub-key u64 BE fragment index (kvrocks stores bitmaps the same way). A fragment that was never
 *   written is absent and reads as zeros, so a SETBIT at offset 2^32-1 writes the metadata and one
 *   fragment. A fragment may be shorter than FRAGMENT_BYTES (it was the last one when written);
 *   its missing tail reads as zeros too, which is what growing a string adds.
 *
 * A write in place (SETBIT, BITFIELD, SETRANGE, APPEND) that leaves a string longer than
 * FRAGMENTED_ABOVE stores it fragmented (a plain string is converted once, O(length)); from then
 * on such a write costs the fragments it touches plus the metadata. Strings never shrink in place,
 * so a fragmented string stays above the threshold until it is overwritten or deleted; its old
 * fragments are then reclaimed like a deleted collection's elements.
 */

export const FRAGMENT_BYTES = 1024;
export const FRAGMENTED_ABOVE = 4096;

function fragmentKey(index: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(index / 2 ** 32), 0);
  b.writeUInt32BE(index >>> 0, 4);
  return b;
}

function fragmentIndex(sub: Buffer): number {
  return sub.readUInt32BE(0) * 2 ** 32 + sub.readUInt32BE(4);
}

/** A string key as commands read it, whichever form it is stored in. */
export class StringValue {
  private constructor(
    readonly length: number,
    readonly expiresAt: number,
    /** The bytes of a plain string. */
    private readonly plain: Buffer | undefined,
    /** The fragments of a fragmented one. */
    readonly fragments: Collection | undefined,
    /** A plain string's form (OBJECT ENCODING). */
    private readonly form: StringForm = StringForm.Compact,
  ) {}

  /** The key's string; undefined when missing; WRONGTYPE for another type. */
  static open(ks: Keyspace, key: Buffer): StringValue | undefined {
    const e = ks.get(key);
    if (e === undefined) return undefined;
    if (e.type === ValueType.String) return new StringValue(e.value.length, e.expiresAt, e.value, undefined, e.form);
    if (e.type !== ValueType.FragmentedString) throw new ReplyError(ERR.wrongType);
    const c = Collection.open(ks, key, ValueType.FragmentedString)!;
    return new StringValue(c.meta.size, e.expiresAt, undefined, c);
  }

  get isFragmented(): boolean {
    return this.fragments !== undefined;
  }

  /** Raw in OBJECT ENCODING's terms: changed in place before, too long for embstr, or fragmented. */
  get isRaw(): boolean {
    return this.plain === undefined || stringEncoding(this.plain, this.form) === 'raw';
  }

  /** The whole string (GET): O(length). */
  all(): Buffer {
    return this.plain ?? this.read(0, this.length);
  }

  /** A fresh copy of bytes [start, end) (clipped to the string; nothing past its end). */
  read(start: number, end: number): Buffer {
    end = Math.min(end, this.length);
    if (start >= end) return Buffer.alloc(0);
    const out = Buffer.alloc(end - start);
    this.chunks(start, end, (at, bytes) => {
      if (bytes !== undefined) bytes.copy(out, at - start);
      return true;
    });
    return out;
  }

  /**
   * Visits [start, end) (clipped to the string) in order as chunks: `bytes` holds the chunk's
   * bytes, or is undefined for a run of `length` zero bytes (fragments never written). Cost: the
   * fragments present in the range, never the range's size. Stops when `visit` returns false.
   */
  chunks(start: number, end: number, visit: (at: number, bytes: Buffer | undefined, length: number) => boolean): void {
    end = Math.min(end, this.length);
    if (start >= end) return;
    if (this.plain !== undefined) {
      visit(start, this.plain.subarray(start, end), end - start);
      return;
    }
    let at = start;
    let stopped = false;
    const first = Math.floor(start / FRAGMENT_BYTES);
    const last = Math.floor((end - 1) / FRAGMENT_BYTES);
    this.fragments!.scan(ElementKind.Position, (sub, value) => {
      const base = fragmentIndex(sub) * FRAGMENT_BYTES;
      const from = Math.max(base, start);
      if (from > at && !visit(at, undefined, from - at)) return !(stopped = true);
      const stored = Math.min(base + value.length, end);
      if (stored > from && !visit(from, value.subarray(from - base, stored - base), stored - from)) return !(stopped = true);
      const to = Math.min(base + FRAGMENT_BYTES, end);
      if (to > Math.max(stored, from) && !visit(Math.max(stored, from), undefined, to - Math.max(stored, from))) return !(stopped = true);
      at = to;
      return true;
    }, { lo: fragmentKey(first), hi: fragmentKey(last + 1) });
    if (!stopped && at < end) visit(at, undefined, end - at);
  }
}

/**
 * Writes `bytes` at `offset` (zero-filling any gap), as SETRANGE does; returns the new length.
 * Keeps the key's expiry. Plain while the result stays small, fragmented otherwise.
 */
export function writeBytes(ks: Keyspace, key: Buffer, current: StringValue | undefined, offset: number, bytes: Buffer): number {
  const length = Math.max(current?.length ?? 0, offset + bytes.length);
  const expiresAt = current?.expiresAt ?? 0;
  if (length <= FRAGMENTED_ABOVE && current?.isFragmented !== true) {
    const next = Buffer.alloc(length);
    current?.all().copy(next);
    bytes.copy(next, offset);
    // A change in place: Redis's dbUnshareStringValue leaves a raw string whatever its length.
    ks.set(key, ValueType.String, next, expiresAt, StringForm.Raw);
    return length;
  }
  const c = current?.fragments ?? toFragments(ks, key, current, expiresAt);
  const first = Math.floor(offset / FRAGMENT_BYTES);
  const last = Math.floor((offset + bytes.length - 1) / FRAGMENT_BYTES);
  for (let i = first; i <= last; i++) {
    const base = i * FRAGMENT_BYTES;
    const size = Math.min(FRAGMENT_BYTES, length - base);
    const sub = fragmentKey(i);
    const frag = Buffer.alloc(size);
    const covers = offset <= base && offset + bytes.length >= base + size;
    if (!covers) c.get(ElementKind.Position, sub)?.copy(frag);
    const from = Math.max(offset, base);
    const to = Math.min(offset + bytes.length, base + size);
    bytes.copy(frag, from - base, from - offset, to - offset);
    c.put(ElementKind.Position, sub, frag);
  }
  c.meta.size = length;
  c.touch();
  c.save();
  return length;
}

/** A plain (or missing) string as a new fragmented life of the key; all-zero fragments are left out. */
function toFragments(ks: Keyspace, key: Buffer, current: StringValue | undefined, expiresAt: number): Collection {
  const c = Collection.create(ks, key, ValueType.FragmentedString, expiresAt);
  if (current !== undefined) {
    const v = current.all();
    for (let base = 0; base < v.length; base += FRAGMENT_BYTES) {
      const frag = v.subarray(base, Math.min(base + FRAGMENT_BYTES, v.length));
      if (frag.some((b) => b !== 0)) c.put(ElementKind.Position, fragmentKey(base / FRAGMENT_BYTES), Buffer.from(frag));
    }
    c.meta.size = v.length;
  }
  return c;
}

/**
 * Read-modify-write of bytes [start, start + length): `change` gets them (zeros past the end) and
 * edits them in place; the string grows to cover them, as SETBIT and BITFIELD make it.
 */
export function updateBytes(ks: Keyspace, key: Buffer, current: StringValue | undefined, start: number, length: number, change: (bytes: Buffer) => void): void {
  const bytes = Buffer.alloc(length);
  current?.read(start, start + length).copy(bytes);
  change(bytes);
  writeBytes(ks, key, current, start, bytes);
}

/** Replaces the key with `value` (BITOP's destination): plain when small, fragmented (zero fragments left out) when large. */
export function storeString(ks: Keyspace, key: Buffer, value: Buffer): void {
  if (value.length <= FRAGMENTED_ABOVE) {
    // Redis creates BITOP's result as a raw string object.
    ks.set(key, ValueType.String, value, 0, StringForm.Raw);
    return;
  }
  const c = Collection.create(ks, key, ValueType.FragmentedString, 0);
  for (let base = 0; base < value.length; base += FRAGMENT_BYTES) {
    const frag = value.subarray(base, Math.min(base + FRAGMENT_BYTES, value.length));
    if (frag.some((b) => b !== 0)) c.put(ElementKind.Position, fragmentKey(base / FRAGMENT_BYTES), Buffer.from(frag));
  }
  c.meta.size = value.length;
  c.touch();
  c.save();
}

/**
 * Byte-level edits of a string collected in memory (BITFIELD's operations see each other's
 * writes), then written as runs of consecutive bytes: only the fragments the edits touch are read
 * and written.
 */
export class ByteEditor {
  private readonly patch = new Map<number, number>();

  constructor(private readonly current: StringValue | undefined) {}

  get(index: number): number {
    const p = this.patch.get(index);
    if (p !== undefined) return p;
    if (this.current === undefined || index >= this.current.length) return 0;
    return this.current.read(index, index + 1)[0]!;
  }

  set(index: number, value: number): void {
    this.patch.set(index, value & 0xff);
  }

  /** Writes the edited bytes, growing the string to at least `minLength` bytes (zeros). */
  commit(ks: Keyspace, key: Buffer, minLength: number): void {
    if (minLength > 0 && !this.patch.has(minLength - 1)) this.patch.set(minLength - 1, this.get(minLength - 1));
    const indexes = [...this.patch.keys()].sort((a, b) => a - b);
    let current = this.current;
    for (let i = 0; i < indexes.length;) {
      let j = i + 1;
      while (j < indexes.length && indexes[j] === indexes[j - 1]! + 1) j++;
      const run = Buffer.from(indexes.slice(i, j).map((x) => this.patch.get(x)!));
      writeBytes(ks, key, current, indexes[i]!, run);
      if (j < indexes.length) current = StringValue.open(ks, key);
      i = j;
    }
  }
}
