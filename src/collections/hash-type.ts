import type { Keyspace } from '../commands/keyspace.js';
import { ValueType } from '../storage/types.js';
import { Collection } from './collection.js';
import { decodeHashOrder, encodeHashOrder, sortByInsertion, stampOf, stampValue, valueOf, type OrderedField } from './hash-order.js';
import { randomElements, type Picked } from './random-pick.js';
import { ElementKind } from './record-keys.js';

/** When a hash leaves listpack (hash-max-listpack-entries / -value), as Redis converts it. */
export interface HashLimits {
  entries: number;
  value: number;
}

/**
 * A hash over element records: one Member record per field (sub-key = field bytes, value = the
 * field's insertion stamp and value, hash-order.ts). Every operation costs what it touches: HGET
 * reads one record, HSET writes one record per field plus the metadata.
 *
 * Reply order (whole-hash replies): while the hash is a listpack for OBJECT ENCODING (at most
 * hash-max-listpack-entries fields, none longer than hash-max-listpack-value), insertion order, as
 * Redis replies from a listpack: the fields are read and sorted by stamp, a bounded cost. Once it
 * is a hashtable (for good), stored order, streamed, as before: Redis's dict order is no promise.
 *
 * A hash written before stamps existed (no order part in its metadata) reads with its fields in
 * byte order; the first field added to it while it is a listpack rewrites its fields stamped in
 * that order into a new generation (bounded by the listpack limits, once), so the new field comes
 * after them. A hashtable of that age is left as it is.
 */
export class HashType {
  private constructor(readonly c: Collection) {}

  static open(ks: Keyspace, key: Buffer): HashType | undefined {
    const c = Collection.open(ks, key, ValueType.Hash);
    return c && new HashType(c);
  }

  /** The hash under `key`, or a new empty one (written only if the command adds to it): new hashes carry stamps. */
  static openOrCreate(ks: Keyspace, key: Buffer): HashType {
    const c = Collection.openOrCreate(ks, key, ValueType.Hash);
    if (!c.existed) c.meta.extra = encodeHashOrder(0);
    return new HashType(c);
  }

  get size(): number {
    return this.c.size;
  }

  /** OBJECT ENCODING says listpack: replies come in insertion order. */
  get listpack(): boolean {
    return !this.c.meta.large;
  }

  /** The fields of this generation carry insertion stamps (see the class comment). */
  get stamped(): boolean {
    return this.c.meta.extra !== undefined;
  }

  get(field: Buffer): Buffer | undefined {
    const stored = this.c.get(ElementKind.Member, field);
    return stored === undefined ? undefined : this.valueOf(stored);
  }

  /** A field's value from its stored record value (what Collection.scan hands out). */
  valueOf(stored: Buffer): Buffer {
    return this.stamped ? valueOf(stored) : stored;
  }

  /** Sets a field; true when it is new. A new field goes last, an existing one keeps its place. */
  set(field: Buffer, value: Buffer, limits: HashLimits): boolean {
    const stored = this.c.get(ElementKind.Member, field);
    const added = stored === undefined;
    const large = this.c.meta.large || field.length > limits.value || value.length > limits.value || this.c.size + (added ? 1 : 0) > limits.entries;
    if (added && !large && !this.stamped) this.stampFields();
    if (this.stamped) this.c.put(ElementKind.Member, field, stampValue(added ? this.takeStamp() : stampOf(stored), value));
    else this.c.put(ElementKind.Member, field, value);
    if (added) this.c.resize(1);
    if (large) this.c.markLarge();
    return added;
  }

  /** Deletes a field; true when it existed. */
  delete(field: Buffer): boolean {
    if (this.c.get(ElementKind.Member, field) === undefined) return false;
    this.c.delete(ElementKind.Member, field);
    this.c.resize(-1);
    return true;
  }

  /** Fields in stored order from position `lo` (inclusive; Collection.scan) until `visit` returns false. */
  scan(visit: (field: Buffer, value: Buffer, position: Buffer) => boolean, lo?: Buffer): void {
    this.c.scan(ElementKind.Member, (field, stored, position) => visit(field, this.valueOf(stored), position), lo === undefined ? {} : { lo });
  }

  /**
   * Every field in reply order until `visit` returns false: insertion order while a listpack (read
   * whole and sorted: at most the listpack limit), stored order, streamed, once a hashtable.
   */
  each(visit: (field: Buffer, value: Buffer) => boolean): void {
    if (!this.listpack) return this.scan(visit);
    for (const f of this.inOrder()) if (!visit(f.field, f.value)) return;
  }

  /**
   * Random fields (HRANDFIELD with a count): `distinct` = up to `count` different fields, else
   * exactly `count` picks that may repeat. A listpack gives distinct picks in its own order: Redis
   * 7.0 returns the whole listpack when count >= size and, when count * 3 <= size, walks it picking
   * (lpRandomPairsUnique); in between its order is a temporary dict's, which promises nothing, so
   * insertion order serves there too. Repeated picks come in random order, as in Redis.
   */
  random(count: number, distinct: boolean): Picked[] {
    if (distinct && this.listpack) {
      if (count >= this.size) return this.inOrder().map((f) => [f.field, f.value]);
      const picked = randomElements(this.c, ElementKind.Member, count, true).map(([field, stored]) => this.ordered(field, stored));
      return sortByInsertion(picked).map((f) => [f.field, f.value]);
    }
    return randomElements(this.c, ElementKind.Member, count, distinct).map(([field, stored]) => [field, this.valueOf(stored)]);
  }

  /** One random field, or undefined when the hash is empty. */
  randomOne(): Picked | undefined {
    const pick = randomElements(this.c, ElementKind.Member, 1, true)[0];
    return pick && [pick[0], this.valueOf(pick[1])];
  }

  save(): void {
    this.c.save();
  }

  /** Every field with its stamp, in insertion order (0 for unstamped fields: then byte order). */
  private inOrder(): OrderedField[] {
    const fields: OrderedField[] = [];
    this.c.scan(ElementKind.Member, (field, stored) => {
      fields.push(this.ordered(Buffer.from(field), stored));
      return true;
    });
    return sortByInsertion(fields);
  }

  private ordered(field: Buffer, stored: Buffer): OrderedField {
    return this.stamped ? { field, value: valueOf(stored), stamp: stampOf(stored) } : { field, value: stored, stamp: 0 };
  }

  private takeStamp(): number {
    const stamp = decodeHashOrder(this.c.meta.extra!);
    this.c.meta.extra = encodeHashOrder(stamp + 1);
    return stamp;
  }

  /**
   * Gives an unstamped listpack hash stamps: its fields, in byte order (the order it has replied
   * in), written again stamped into a new generation, so no generation ever holds both layouts.
   */
  private stampFields(): void {
    const fields = this.inOrder().map((f) => ({ field: f.field, value: Buffer.from(f.value) }));
    this.c.startGeneration();
    fields.forEach((f, i) => this.c.put(ElementKind.Member, f.field, stampValue(i, f.value)));
    this.c.meta.extra = encodeHashOrder(fields.length);
  }
}
