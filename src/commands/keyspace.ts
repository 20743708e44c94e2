import { StringForm, ValueType } from '../storage/types.js';
import type { ElementStore } from '../collections/element-store.js';

export { StringForm, ValueType };

/** A live value as commands see it: never a tombstone, never past its expiry. */
export interface Entry {
  /** String, or a collection type whose value is its metadata (src/collections/meta-codec.ts). */
  type: KeyType;
  value: Buffer;
  /** Absolute expiry in Unix ms; 0 = none. */
  expiresAt: number;
  /** Version of the stored record (WATCH compares it). */
  version: Buffer;
  /** A string's form (OBJECT ENCODING); absent means Compact. */
  form?: StringForm;
}

/**
 * The data a command reads and writes. Command handlers see only this, so the same handler
 * runs against the local store (standalone) or against records a coordinator fetched from a quorum
 * of replicas (cluster), whose writes it then replicates.
 */
export interface Keyspace {
  /** The time the command runs at (Unix ms); one value for the whole command. */
  readonly now: number;
  get(key: Buffer): Entry | undefined;
  /**
   * Stores a value (new version), replacing whatever the key held. expiresAt 0 = no TTL. For a
   * collection type the value is its metadata; its elements go through `elements`. `form` is a
   * string's form (absent: Compact); a command that rewrites a value it did not change (EXPIRE,
   * RENAME, COPY …) passes the entry's own, as Redis keeps the same object.
   */
  set(key: Buffer, type: KeyType, value: Buffer, expiresAt: number, form?: StringForm): void;
  /**
   * The value stored at `key` even if its time is up but it is not yet removed (DEBUG OBJECT, which
   * in Redis looks at the dictionary as is); undefined where only live values are at hand.
   */
  peek?(key: Buffer): Entry | undefined;
  /** Deletes a live key (a tombstone); false when there was nothing to delete. */
  del(key: Buffer): boolean;
  /**
   * The version of the key's latest write, a deletion included; undefined when it was never
   * written (or its record is gone). WATCH compares it: a key set and deleted again has changed.
   */
  version(key: Buffer): Buffer | undefined;
  /** Element records of collections (src/collections/). */
  readonly elements: ElementStore;
  /** A fresh generation for a collection being created (8 bytes, unique to this write). */
  newGeneration(): Buffer;
}

/** What a key can hold as commands see it. */
export type KeyType = ValueType.String | ValueType.Hash | ValueType.List | ValueType.Set | ValueType.ZSet | ValueType.Stream | ValueType.FragmentedString;

/** The string a key holds, undefined when missing; throws WRONGTYPE for other types. */
export function isString(e: Entry): e is Entry & { value: Buffer } {
  return e.type === ValueType.String;
}

/** TYPE's answer for a live entry. */
export function typeName(type: KeyType): string {
  switch (type) {
    case ValueType.String:
    case ValueType.FragmentedString:
      return 'string';
    case ValueType.Hash:
      return 'hash';
    case ValueType.List:
      return 'list';
    case ValueType.Set:
      return 'set';
    case ValueType.ZSet:
      return 'zset';
    case ValueType.Stream:
      return 'stream';
  }
}

/**
 * The latest expiry a record can hold: Unix ms fit in 2^53 (year 287396). Redis accepts expiry
 * times up to 2^63 ms; a key set to expire later than this expires at this time instead, which no
 * client can tell apart from never (PEXPIRETIME reports this value).
 */
export const EXPIRES_AT_MAX = Number.MAX_SAFE_INTEGER;
