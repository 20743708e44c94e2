import { ERR, ReplyError } from '../core/errors.js';
import { keySlot } from '../cluster/slot.js';
import { ValueType, type Keyspace } from '../commands/keyspace.js';
import { decodeMeta, encodeMeta, LIST_ORIGIN, type CollectionMeta } from './meta-codec.js';
import { ELEMENT_KINDS, elementKey, elementPrefix, ElementKind, memberOf, memberPosition, prefixEnd, subKeyOf } from './record-keys.js';

export type CollectionType = ValueType.Hash | ValueType.List | ValueType.Set | ValueType.ZSet | ValueType.Stream | ValueType.FragmentedString;

export function isCollectionType(type: ValueType): type is CollectionType {
  return type === ValueType.Hash || type === ValueType.List || type === ValueType.Set || type === ValueType.ZSet || type === ValueType.Stream || type === ValueType.FragmentedString;
}

const STREAM_KINDS: readonly ElementKind[] = ELEMENT_KINDS.filter((k) => k >= ElementKind.StreamEntry);
const OTHER_KINDS: readonly ElementKind[] = ELEMENT_KINDS.filter((k) => k < ElementKind.StreamEntry);

/** The element kinds a collection of `type` may hold (what a copy or a completion walks). */
export function elementKindsOf(type: CollectionType): readonly ElementKind[] {
  return type === ValueType.Stream ? STREAM_KINDS : OTHER_KINDS;
}

/**
 * One collection as a command works on it: its metadata (generation, size, list positions) and
 * its element records. Commands change elements through it and call save() once at the end, which
 * writes the metadata record (every write gives the key a new version, which is what replicas and
 * WATCH compare) or deletes the key once it is empty, as Redis does.
 */
/** Bounds of a scan over stored sub-keys (lo inclusive, hi exclusive), its direction and how many elements it expects. */
export interface ScanOptions {
  reverse?: boolean;
  lo?: Buffer;
  hi?: Buffer;
  expect?: number;
  /** A random probe: no later scan starts at this bound (ScanHints). */
  once?: boolean;
}

export class Collection {
  readonly slot: number;
  private readonly prefixes: Array<Buffer | undefined> = [];
  private changed = false;

  private constructor(
    readonly ks: Keyspace,
    readonly key: Buffer,
    readonly type: CollectionType,
    readonly meta: CollectionMeta,
    public expiresAt: number,
    /** False for a collection this command is creating. */
    readonly existed: boolean,
  ) {
    this.slot = keySlot(key);
  }

  /** The key's collection; undefined when the key is missing; WRONGTYPE when it holds another type. */
  static open(ks: Keyspace, key: Buffer, type: CollectionType): Collection | undefined {
    const e = ks.get(key);
    if (e === undefined) return undefined;
    if (e.type !== type) throw new ReplyError(ERR.wrongType);
    return new Collection(ks, key, type, decodeMeta(e.value), e.expiresAt, true);
  }

  /** The key's collection, or a new empty one (written only if the command adds to it). */
  static openOrCreate(ks: Keyspace, key: Buffer, type: CollectionType): Collection {
    return Collection.open(ks, key, type) ?? Collection.create(ks, key, type, 0);
  }

  /** A new empty collection under `key`, whatever the key held (its old elements become unreachable). */
  static create(ks: Keyspace, key: Buffer, type: CollectionType, expiresAt: number): Collection {
    const meta: CollectionMeta = { generation: ks.newGeneration(), size: 0, head: LIST_ORIGIN, tail: LIST_ORIGIN, large: false, extra: undefined };
    return new Collection(ks, key, type, meta, expiresAt, false);
  }

  get size(): number {
    return this.meta.size;
  }

  prefix(kind: ElementKind): Buffer {
    return (this.prefixes[kind] ??= elementPrefix(kind, this.key, this.meta.generation));
  }

  elementKey(kind: ElementKind, sub: Buffer): Buffer {
    return elementKey(this.prefix(kind), sub);
  }

  /**
   * The element's value. For Member elements `sub` is the member (field) itself; it is stored at
   * its position (record-keys.ts memberPosition), which this class computes.
   */
  get(kind: ElementKind, sub: Buffer): Buffer | undefined {
    return this.ks.elements.getElement(this.slot, this.elementKey(kind, this.position(kind, sub)));
  }

  /** Stores an element; the caller adjusts the size (it knows whether the element is new). */
  put(kind: ElementKind, sub: Buffer, value: Buffer): void {
    this.ks.elements.putElement(this.slot, this.elementKey(kind, this.position(kind, sub)), value);
    this.changed = true;
  }

  /** Deletes an element the caller knows exists. */
  delete(kind: ElementKind, sub: Buffer): void {
    this.ks.elements.deleteElement(this.slot, this.elementKey(kind, this.position(kind, sub)));
    this.changed = true;
  }

  /**
   * Visits elements of `kind` whose stored sub-key k satisfies lo <= k < hi (either bound may be
   * left out), ascending, or descending when `reverse`, until `visit` returns false. `visit` gets
   * the element's sub-key as commands know it (for Member elements the member itself) and its
   * stored position, which is what a scan cursor or a bound must be made of: Member elements are
   * stored in the order of their positions (hash order), not of the members.
   */
  scan(kind: ElementKind, visit: (sub: Buffer, value: Buffer, position: Buffer) => boolean, opts: ScanOptions = {}): void {
    const prefix = this.prefix(kind);
    const members = kind === ElementKind.Member;
    this.ks.elements.scanElements(this.slot, ...this.bounds(prefix, opts), opts.reverse === true, (rk, value) => {
      const position = subKeyOf(prefix, rk);
      return visit(members ? memberOf(position) : position, value, position);
    }, opts);
  }

  /**
   * scan() for visitors that read values alone (LRANGE): no view of each element's sub-key, which
   * was a third of LRANGE's per-element work.
   */
  scanValues(kind: ElementKind, visit: (value: Buffer) => boolean, opts: ScanOptions = {}): void {
    this.ks.elements.scanElements(this.slot, ...this.bounds(this.prefix(kind), opts), opts.reverse === true, (_rk, value) => visit(value), opts);
  }

  /**
   * Every element of `kind` when there are at most 1,024, as the store holds them whole for
   * random picks (range-windows.ts), in stored order: `count` and `at(i)` as scan() would
   * visit the i-th (sub-key, value, position), which stay valid. Undefined for more, or where the keyspace
   * has no such view. Valid until the command's next write.
   */
  held(kind: ElementKind): { count: number; at(i: number): [sub: Buffer, value: Buffer, position: Buffer] } | undefined {
    const prefix = this.prefix(kind);
    const entries = this.ks.elements.smallRange?.(this.slot, prefix, prefixEnd(prefix));
    if (entries === undefined) return undefined;
    const members = kind === ElementKind.Member;
    return {
      count: entries.length,
      at: (i) => {
        // The store's keys never change: views of them stay valid.
        const e = entries[i]!;
        const position = subKeyOf(prefix, e.key);
        return [members ? memberOf(position) : position, e.value, position];
      },
    };
  }

  /** The record keys a scan of `prefix` with these bounds covers: [start, end). */
  private bounds(prefix: Buffer, opts: ScanOptions): [start: Buffer, end: Buffer] {
    return [
      opts.lo === undefined ? prefix : elementKey(prefix, opts.lo),
      opts.hi === undefined ? prefixEnd(prefix) : elementKey(prefix, opts.hi),
    ];
  }

  /** Where an element is stored under its kind's prefix. */
  position(kind: ElementKind, sub: Buffer): Buffer {
    return kind === ElementKind.Member ? memberPosition(sub) : sub;
  }

  /** Adds `delta` (may be negative) to the element count. */
  resize(delta: number): void {
    this.meta.size += delta;
    this.changed = true;
  }

  /** The collection leaves its compact encoding for good (OBJECT ENCODING; meta-codec.ts). */
  markLarge(): void {
    if (this.meta.large) return;
    this.meta.large = true;
    this.changed = true;
  }

  /**
   * Moves the collection to a new generation (a new life of the key, as an overwrite starts one):
   * its current elements become unreachable and are reclaimed in the background; the caller
   * writes again the elements it keeps. Size, expiry and flags stay as they are.
   */
  startGeneration(): void {
    this.meta.generation = this.ks.newGeneration();
    this.prefixes.length = 0;
    this.changed = true;
  }

  /** Marks the metadata changed without an element change (list positions, expiry). */
  touch(): void {
    this.changed = true;
  }

  /** Writes what the command changed: the metadata, or the key's deletion once it is empty. */
  save(): void {
    if (!this.changed) return;
    this.changed = false;
    // An empty stream stays (its ids, groups and counters live on), as in Redis.
    if (this.meta.size <= 0 && this.type !== ValueType.Stream) {
      if (this.existed) this.ks.del(this.key);
      return;
    }
    this.ks.set(this.key, this.type, encodeMeta(this.meta, this.type === ValueType.List), this.expiresAt);
  }
}


/**
 * Copies the collection under `src` to `dst` as a new life of `dst` (RENAME, COPY): every element
 * record again under the destination's prefix. O(size), where Redis moves a pointer; what the
 * per-element layout costs for these two commands.
 */
export function copyCollection(ks: Keyspace, src: Buffer, dst: Buffer, type: CollectionType, expiresAt: number): void {
  const from = Collection.open(ks, src, type);
  if (from === undefined) return;
  const to = Collection.create(ks, dst, type, expiresAt);
  for (const kind of elementKindsOf(type)) {
    from.scan(kind, (sub, value) => {
      to.put(kind, Buffer.from(sub), value);
      return true;
    });
  }
  to.meta.size = from.meta.size;
  to.meta.head = from.meta.head;
  to.meta.tail = from.meta.tail;
  to.meta.large = from.meta.large;
  to.meta.extra = from.meta.extra;
  to.touch();
  to.save();
}
