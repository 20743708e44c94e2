/**
 * What a record holds. A tombstone records a delete so replicas can tell "deleted" from "never
 * seen". These codes are written to disk and travel between nodes: they can never change.
 *
 * A collection is one metadata record under the user key (Hash, List, Set, ZSet, Stream; its value is the
 * metadata, src/collections/meta-codec.ts) and one Element record per element under an internal
 * record key (src/collections/record-keys.ts). LegacyHash is the former whole-value hash, only
 * read to migrate a data directory written before the per-element layout.
 */
export const enum ValueType {
  Tombstone = 0,
  String = 1,
  LegacyHash = 2,
  Element = 3,
  Hash = 4,
  List = 5,
  Set = 6,
  ZSet = 7,
  Stream = 8,
  /**
   * A string stored as a metadata record (meta-codec.ts; size = the string's length) plus
   * fixed-size fragments as Position element records (src/strings/fragmented-string.ts), so SETBIT,
   * SETRANGE and APPEND on a large value write one fragment. TYPE says `string`. Numbered from the
   * top of the byte so new collection types can take the low numbers.
   */
  FragmentedString = 0xf0,
}

/**
 * How Redis 7.0 would hold a string value: what OBJECT ENCODING reports, which depends on the
 * command that made the value, not only on its bytes. Only String records carry one (a
 * FragmentedString is always raw). These codes are written to disk and travel between nodes: they
 * can never change.
 */
export const enum StringForm {
  /** A client's value, as Redis's tryObjectEncoding holds it: int, embstr up to 44 bytes, raw beyond. */
  Compact = 0,
  /** Text the server made (INCRBYFLOAT's result): embstr up to 44 bytes, raw beyond, never int. */
  Text = 1,
  /** Changed in place (APPEND, SETRANGE, SETBIT, BITFIELD, BITOP, PFADD …): raw whatever its length. */
  Raw = 2,
}

/** Value types whose record value is plain bytes (everything but LegacyHash and Tombstone). */
export function isBytesType(type: number): boolean {
  return type === ValueType.String || (type >= ValueType.Element && type <= ValueType.Stream) || type === ValueType.FragmentedString;
}

/**
 * A tombstone's expiresAt has no other use: this value marks the deletion of a key that was
 * absent (a DEL a coordinator made to bury a write of unknown outcome). WATCH treats such a
 * tombstone as the absence it replaced (server/local-keyspace.ts watchVersion), as Redis leaves a
 * key it did not delete untouched.
 */
export const TOMBSTONE_OF_NOTHING = 1;

/** Hash fields keyed by the field's bytes as a latin1 string (a 1:1 byte mapping), values raw. */
export type HashValue = Map<string, Buffer>;

/** One entry of a vector clock: a node's 16-hex-digit tag and how many writes it coordinated. */
export interface ClockEntry {
  node: string;
  counter: number;
}

/**
 * A stored value with everything replication needs. `version` is the 16-byte big-endian
 * HLC timestamp (48-bit ms, 16-bit logical) followed by the 64-bit node tag, so a plain byte
 * comparison orders versions; higher wins.
 */
export interface StoredRecord {
  version: Buffer;
  clock: ClockEntry[];
  type: ValueType;
  /** Absolute expiry in Unix ms; 0 = no expiry. */
  expiresAt: number;
  /** Bytes (string, element, collection metadata), a legacy hash's map, or an empty buffer for a tombstone. */
  value: Buffer | HashValue;
  /** A String record's form; absent means Compact (and is the only value for every other type). */
  form?: StringForm;
}

/** appendfsync, with Redis's meaning: when an acknowledged write is on disk. */
export type FsyncPolicy = 'always' | 'everysec' | 'no';

export interface PutOutcome {
  /** False when the present record has an equal or higher version (last writer wins). */
  applied: boolean;
  /** The record that was there before (possibly a tombstone or expired), if any. */
  previous: StoredRecord | undefined;
}

/**
 * The record-level part of the store that replication needs: last-writer-wins reads and writes, and
 * a wait for durability. The coordinator and the replica side use only this, so they can run over
 * another implementation of it (the deterministic simulation's store).
 */
export interface RecordStore {
  /** Raw record, including tombstones and records already past their expiry. */
  get(slot: number, key: Buffer): StoredRecord | undefined;
  /** Writes only if rec.version is higher than the present one (or nothing is present). */
  put(slot: number, key: Buffer, rec: StoredRecord, encoded?: Buffer): PutOutcome;
  /**
   * Records (tombstones included) with start <= key < end in byte order within `slot`, ascending
   * or descending, until `visit` returns false: collection elements (src/collections/).
   */
  scanRange(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean, options?: ScanRangeOptions): void;
  /** scanRange forward with every tombstone, also those that hide nothing here (a replica completing a collection). */
  scanRangeRaw(slot: number, start: Buffer, end: Buffer, visit: (key: Buffer, record: StoredRecord) => boolean): void;
  /** Writes are waiting to become durable under the current fsync policy. */
  hasPendingDurability(): boolean;
  /** Calls back once every write made so far is durable (or failed to become so). */
  afterDurable(cb: (err?: Error) => void): void;
}

/** Position for ordered scans across the keyspace: slot, then key bytes. */
export interface ScanPosition {
  slot: number;
  /** Continue strictly after this key within `slot`; undefined = from the start of the slot. */
  after?: Buffer;
}

export interface ScanEntry {
  slot: number;
  key: Buffer;
  record: StoredRecord;
}

/** How Store.scanRange reads. */
export interface ScanRangeOptions {
  /** False to visit every tombstone, also those in known runs of them (reclaiming a dead collection's records). */
  skipDead?: boolean;
  /**
   * False for background walks: what they read is not read again soon and would only push hot
   * ranges out of the range cache. A walk of a dead collection never uses it.
   */
  cached?: boolean;
  /**
   * Read LMDB alone, as of the last checkpoint, without the memtables: for the reclaimer's sweep,
   * which finds what it reclaims there soon enough and would otherwise make every memtable bring
   * its ordered index up to date for it (memtable.ts).
   */
  checkpointedOnly?: boolean;
  /**
   * The visitor reads records' type and value alone: memtable entries come without their version
   * or clock (record-codec.ts, decodeRecordValue), which costs a quarter of a full decode.
   */
  valuesOnly?: boolean;
  /**
   * A read that starts where no read will start again (a random probe: SPOP, SRANDMEMBER): LMDB
   * is read without the range cache, which would only note the bound and forget it, but what it
   * stops on is still remembered for the write that follows (a pop's deletion).
   */
  once?: boolean;
}
