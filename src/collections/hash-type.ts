import type { Keyspace } from '../commands/keyspace.js';
import { ValueType } from '../storage/types.js';
import { Collection } from './collection.js';
import { ElementKind } from './record-keys.js';

/** When a hash leaves listpack (hash-max-listpack-entries / -value), as Redis converts it. */
export interface HashLimits {
  entries: number;
  value: number;
}

/**
 * A hash over element records: one Member record per field (sub-key = field bytes, value = the
 * field's value). Every operation costs what it touches: HGET reads one record, HSET writes one
 * record per field plus the metadata.
 */
export class HashType {
  private constructor(readonly c: Collection) {}

  static open(ks: Keyspace, key: Buffer): HashType | undefined {
    const c = Collection.open(ks, key, ValueType.Hash);
    return c && new HashType(c);
  }

  static openOrCreate(ks: Keyspace, key: Buffer): HashType {
    return new HashType(Collection.openOrCreate(ks, key, ValueType.Hash));
  }

  get size(): number {
    return this.c.size;
  }

  get(field: Buffer): Buffer | undefined {
    return this.c.get(ElementKind.Member, field);
  }

  /** Sets a field; true when it is new. */
  set(field: Buffer, value: Buffer, limits: HashLimits): boolean {
    const added = this.get(field) === undefined;
    this.c.put(ElementKind.Member, field, value);
    if (added) this.c.resize(1);
    if (field.length > limits.value || value.length > limits.value || this.c.size > limits.entries) this.c.markLarge();
    return added;
  }

  /** Deletes a field; true when it existed. */
  delete(field: Buffer): boolean {
    if (this.get(field) === undefined) return false;
    this.c.delete(ElementKind.Member, field);
    this.c.resize(-1);
    return true;
  }

  /** Fields in stored order from position `lo` (inclusive; Collection.scan) until `visit` returns false. */
  scan(visit: (field: Buffer, value: Buffer, position: Buffer) => boolean, lo?: Buffer): void {
    this.c.scan(ElementKind.Member, visit, lo === undefined ? {} : { lo });
  }

  save(): void {
    this.c.save();
  }
}
