import type { Keyspace } from '../commands/keyspace.js';
import { parseInt64 } from '../commands/args.js';
import { ValueType } from '../storage/types.js';
import { Collection } from './collection.js';
import { randomElements } from './random-pick.js';
import { ElementKind } from './record-keys.js';

/**
 * A set over element records.
 *
 * Layout: one Member record per member, sub-key = the member's bytes, value = empty. SISMEMBER,
 * SADD and SREM touch one record per member; SCARD reads the metadata's exact size.
 *
 * Encoding (OBJECT ENCODING, as Redis 7.0): "intset" while every member is an integer Redis keeps
 * in an intset (a canonical base-10 int64: no leading zeros, no '+', not "-0") and the size is at
 * most set-max-intset-entries; "hashtable" from the first member that breaks either rule, for
 * good (the metadata's `large` flag). The layout is the same either way; the flag also decides
 * reply order: Redis walks an intset in numeric order, so an intset's members are sorted
 * numerically before a reply (at most set-max-intset-entries of them), where byte order would
 * put "10" before "9".
 */
export class SetType {
  private constructor(readonly c: Collection) {}

  /** The set under `key`; undefined when missing; WRONGTYPE for another type. */
  static open(ks: Keyspace, key: Buffer): SetType | undefined {
    const c = Collection.open(ks, key, ValueType.Set);
    return c && new SetType(c);
  }

  static openOrCreate(ks: Keyspace, key: Buffer): SetType {
    return new SetType(Collection.openOrCreate(ks, key, ValueType.Set));
  }

  /**
   * A new empty set under `key`, whatever the key held (SINTERSTORE and the other *STORE
   * commands): no expiry, as Redis's setKey leaves none.
   */
  static create(ks: Keyspace, key: Buffer): SetType {
    return new SetType(Collection.create(ks, key, ValueType.Set, 0));
  }

  get size(): number {
    return this.c.size;
  }

  /** Still "intset" for OBJECT ENCODING: every member a canonical int64, no more than the limit. */
  get intset(): boolean {
    return !this.c.meta.large;
  }

  has(member: Buffer): boolean {
    return this.c.get(ElementKind.Member, member) !== undefined;
  }

  /** Adds a member; true when it is new. `intsetMax`: set-max-intset-entries. */
  add(member: Buffer, intsetMax: number): boolean {
    if (this.has(member)) return false;
    this.c.put(ElementKind.Member, member, EMPTY);
    this.c.resize(1);
    // Redis converts on the add that breaks the intset rules, never on one that adds nothing.
    if (!isIntsetMember(member) || this.c.size > intsetMax) this.c.markLarge();
    return true;
  }

  /** Removes a member; true when it was there. */
  remove(member: Buffer): boolean {
    if (!this.has(member)) return false;
    this.c.delete(ElementKind.Member, member);
    this.c.resize(-1);
    return true;
  }

  /**
   * Members in stored order (hash order, Collection.scan) from position `lo` (inclusive) until
   * `visit` returns false; `member` and `position` are only valid during the call.
   */
  scan(visit: (member: Buffer, position: Buffer) => boolean, lo?: Buffer): void {
    this.c.scan(ElementKind.Member, (sub, _value, position) => visit(sub, position), lo === undefined ? {} : { lo });
  }

  /** Every member, in the order Redis replies with them (numeric for an intset). O(size). */
  members(): Buffer[] {
    const out: Buffer[] = [];
    this.scan((m) => {
      out.push(Buffer.from(m));
      return true;
    });
    return this.intset ? sortNumerically(out) : out;
  }

  /** Up to `count` different members chosen at random (all of them when count >= size), as SRANDMEMBER / SPOP. */
  randomDistinct(count: number): Buffer[] {
    return randomElements(this.c, ElementKind.Member, Math.min(count, this.size), true).map(([m]) => m);
  }

  /** Removes and returns up to `count` different members chosen at random (SPOP). */
  pop(count: number): Buffer[] {
    const picked = this.randomDistinct(count);
    for (const m of picked) this.c.delete(ElementKind.Member, m);
    this.c.resize(-picked.length);
    return picked;
  }

  /** Empties the set in O(1): its elements become unreachable with its generation, as after DEL. */
  clear(): void {
    this.c.resize(-this.size);
  }

  /**
   * Fills a set just made by create() with distinct members (a *STORE result), without probing
   * for members a new generation cannot hold. `intset`: the encoding Redis's result would have.
   */
  fill(members: readonly Buffer[], intset: boolean): void {
    if (this.c.existed || this.size !== 0) throw new Error('fill() is only for a set create() just made');
    for (const m of members) this.c.put(ElementKind.Member, m, EMPTY);
    this.c.resize(members.length);
    if (!intset) this.c.markLarge();
  }

  /** `count` members chosen at random, repeats allowed (SRANDMEMBER with a negative count). */
  randomWithRepeats(count: number): Buffer[] {
    return randomElements(this.c, ElementKind.Member, count, false).map(([m]) => m);
  }

  /** Writes what changed; deletes the key once it is empty. */
  save(): void {
    this.c.save();
  }
}

const EMPTY = Buffer.alloc(0);

/** A member Redis would keep in an intset: the canonical text of an int64 (string2ll). */
export function isIntsetMember(member: Buffer): boolean {
  return parseInt64(member) !== undefined;
}

/** Canonical int64 texts in numeric order (the order Redis walks an intset in). */
export function sortNumerically(members: Buffer[]): Buffer[] {
  const keyed = members.map((m) => ({ m, n: parseInt64(m) ?? 0n }));
  keyed.sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return keyed.map((k) => k.m);
}
