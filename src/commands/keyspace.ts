import type { HashValue } from '../storage/types.js';
import { ValueType } from '../storage/types.js';

export { ValueType };

/** A live value as commands see it: never a tombstone, never past its expiry. */
export interface Entry {
  type: ValueType.String | ValueType.Hash;
  value: Buffer | HashValue;
  /** Absolute expiry in Unix ms; 0 = none. */
  expiresAt: number;
  /** Version of the stored record (WATCH compares it). */
  version: Buffer;
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
  /** Stores a value (new version), replacing whatever the key held. expiresAt 0 = no TTL. */
  set(key: Buffer, type: ValueType.String | ValueType.Hash, value: Buffer | HashValue, expiresAt: number): void;
  /** Deletes a live key (a tombstone); false when there was nothing to delete. */
  del(key: Buffer): boolean;
  /**
   * The version of the key's latest write, a deletion included; undefined when it was never
   * written (or its record is gone). WATCH compares it: a key set and deleted again has changed.
   */
  version(key: Buffer): Buffer | undefined;
}

/** The string a key holds, undefined when missing; throws WRONGTYPE for other types. */
export function isString(e: Entry): e is Entry & { value: Buffer } {
  return e.type === ValueType.String;
}

export function isHash(e: Entry): e is Entry & { value: HashValue } {
  return e.type === ValueType.Hash;
}

/**
 * The latest expiry a record can hold: Unix ms fit in 2^53 (year 287396). Redis accepts expiry
 * times up to 2^63 ms; a key set to expire later than this expires at this time instead, which no
 * client can tell apart from never (PEXPIRETIME reports this value).
 */
export const EXPIRES_AT_MAX = Number.MAX_SAFE_INTEGER;
