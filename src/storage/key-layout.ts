import { createHash, randomInt } from 'node:crypto';

/**
 * How user keys become LMDB keys. A storage key is `2-byte big-endian slot ‖ user key`, so one
 * slot is one contiguous key range. LMDB caps keys at 1978 bytes while Redis keys may be far
 * longer, so a user key over INLINE_KEY_MAX bytes is stored as
 * `slot ‖ first INLINE_KEY_MAX bytes ‖ 0xFF ‖ sha256(key)` with the full key kept in the value.
 *
 * Order: with the prefix exactly INLINE_KEY_MAX long, every short key compares against a long one
 * as the real keys do (a short key is at most the prefix length). Only long keys sharing their
 * first INLINE_KEY_MAX bytes are ordered by digest instead of by their tails; scans stay
 * consistent because positions are always translated to storage keys first.
 *
 * The memtables key their maps by the storage key read as latin1 (one char per byte): JS string
 * comparison then equals byte comparison, which keeps memtable order and LMDB order identical.
 */

export const SLOT_COUNT = 16384;
export const INLINE_KEY_MAX = 1900;
const DIGEST_BYTES = 32;
const LONG_KEY_MARKER = 0xff;
const SLOT_BYTES = 2;
/** Every long key maps to a storage key of exactly this length; short keys are never this long. */
export const LONG_STORAGE_KEY_BYTES = SLOT_BYTES + INLINE_KEY_MAX + 1 + DIGEST_BYTES;
const TIME_BYTES = 8;
const TWO_POW_32 = 2 ** 32;

/** Storage-key ids of each slot's first possible key; index SLOT_COUNT bounds the last slot. */
const SLOT_IDS: readonly string[] = Array.from({ length: SLOT_COUNT + 1 }, (_, s) => String.fromCharCode(s >> 8, s & 0xff));

export function checkSlot(slot: number): void {
  if (!(slot >= 0 && slot < SLOT_COUNT && (slot | 0) === slot)) throw new RangeError(`slot out of range: ${slot}`);
}

/** Id (latin1 storage key) of the start of `slot`; slot = SLOT_COUNT gives the end of the keyspace. */
export function slotStartId(slot: number): string {
  return SLOT_IDS[slot]!;
}

export function isLongKey(key: Buffer): boolean {
  return key.length > INLINE_KEY_MAX;
}

/** Memtable id of (slot, key): the storage key as a latin1 string. */
export function storageId(slot: number, key: Buffer): string {
  if (key.length <= INLINE_KEY_MAX) return SLOT_IDS[slot]! + key.toString('latin1');
  return longStorageKey(slot, key).toString('latin1');
}

/** A fresh storage key buffer (safe to hand to LMDB's asynchronous writes). */
export function storageKey(slot: number, key: Buffer): Buffer {
  if (key.length > INLINE_KEY_MAX) return longStorageKey(slot, key);
  const sk = Buffer.allocUnsafe(SLOT_BYTES + key.length);
  sk.writeUInt16BE(slot, 0);
  key.copy(sk, SLOT_BYTES);
  return sk;
}

const keyScratch = Buffer.allocUnsafe(SLOT_BYTES + INLINE_KEY_MAX);

/**
 * The storage key in a shared scratch buffer, valid until the next call: for synchronous LMDB
 * calls, which copy the key before returning (never for asynchronous writes).
 */
export function storageKeyTransient(slot: number, key: Buffer): Buffer {
  if (key.length > INLINE_KEY_MAX) return longStorageKey(slot, key);
  keyScratch.writeUInt16BE(slot, 0);
  key.copy(keyScratch, SLOT_BYTES);
  return keyScratch.subarray(0, SLOT_BYTES + key.length);
}

function longStorageKey(slot: number, key: Buffer): Buffer {
  const sk = Buffer.allocUnsafe(LONG_STORAGE_KEY_BYTES);
  sk.writeUInt16BE(slot, 0);
  key.copy(sk, SLOT_BYTES, 0, INLINE_KEY_MAX);
  sk[SLOT_BYTES + INLINE_KEY_MAX] = LONG_KEY_MARKER;
  createHash('sha256').update(key).digest().copy(sk, SLOT_BYTES + INLINE_KEY_MAX + 1);
  return sk;
}

/**
 * Record keys in the internal namespace (collection elements) start with 0xFF and a byte that is
 * not 0xFF; user keys that start with 0xFF are stored as 0xFF 0xFF … (src/collections/record-keys.ts),
 * so the two never meet. True for the storage key of an internal record, long or short.
 */
export function isInternalStorageKey(sk: Buffer): boolean {
  return sk.length > SLOT_BYTES + 1 && sk[SLOT_BYTES] === 0xff && sk[SLOT_BYTES + 1] !== 0xff;
}

export function isLongStorageKey(sk: Buffer): boolean {
  return sk.length === LONG_STORAGE_KEY_BYTES && sk[SLOT_BYTES + INLINE_KEY_MAX] === LONG_KEY_MARKER;
}

export function storageKeySlot(sk: Buffer): number {
  return sk.readUInt16BE(0);
}

/** The user key of a short storage key, as a view into it (for a storage key nobody else holds). */
export function shortUserKeyView(sk: Buffer): Buffer {
  return sk.subarray(SLOT_BYTES);
}

/** The user key of a short storage key, copied. */
export function shortUserKey(sk: Buffer): Buffer {
  return Buffer.from(sk.subarray(SLOT_BYTES));
}

/** LMDB value for a long key: u32 key length ‖ key ‖ encoded record. */
export function wrapLongKeyValue(key: Buffer, record: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + key.length + record.length);
  out.writeUInt32BE(key.length, 0);
  key.copy(out, 4);
  record.copy(out, 4 + key.length);
  return out;
}

/** Splits a long-key LMDB value into the full key and the record bytes (views, not copies). */
export function unwrapLongKeyValue(value: Buffer): { key: Buffer; record: Buffer } {
  if (value.length < 4) throw new Error('corrupt long-key value: no key length');
  const len = value.readUInt32BE(0);
  if (len <= INLINE_KEY_MAX || 4 + len > value.length) throw new Error(`corrupt long-key value: key length ${len}`);
  return { key: value.subarray(4, 4 + len), record: value.subarray(4 + len) };
}

/** Index key `8-byte big-endian time ‖ storage key`, for the expiry and tombstone indexes. */
export function indexKey(time: number, sk: Buffer): Buffer {
  const ik = Buffer.allocUnsafe(TIME_BYTES + sk.length);
  writeTime(ik, time);
  sk.copy(ik, TIME_BYTES);
  return ik;
}

/** The smallest index key whose time is `time`; as a range end it excludes every later time. */
export function indexTimeBound(time: number): Buffer {
  const b = Buffer.allocUnsafe(TIME_BYTES);
  writeTime(b, Math.max(0, time));
  return b;
}

export function indexKeyStorageKey(ik: Buffer): Buffer {
  return ik.subarray(TIME_BYTES);
}

function writeTime(buf: Buffer, time: number): void {
  buf.writeUInt32BE(Math.floor(time / TWO_POW_32), 0);
  buf.writeUInt32BE(time >>> 0, 4);
}

/** Per-process seed: clients cannot pick keys that all land in one memtable hash chain. */
const HASH_SEED = randomInt(0x7fffffff);
/** Keys longer than this are hashed on a sample (head, tail, length); equality is still checked in full. */
const HASH_BYTES_MAX = 4096;

/**
 * 30-bit hash of (slot, key) for the memtable index (FNV-1a with a final mix). Computed in JS on
 * the key bytes because building a string per lookup costs more than the whole hash.
 */
export function keyHash(slot: number, key: Buffer): number {
  let h = HASH_SEED ^ slot;
  const n = key.length;
  if (n <= HASH_BYTES_MAX) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  } else {
    const half = HASH_BYTES_MAX >> 1;
    for (let i = 0; i < half; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
    for (let i = n - half; i < n; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
    h = Math.imul(h ^ n, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h & 0x3fffffff;
}

/** Byte equality; a JS loop beats the native call for the short keys that dominate. */
export function bytesEqual(a: Buffer, b: Buffer): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (n > 64) return a.equals(b);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The first key past every key that starts with key[0, n): the prefix with its last byte below
 * 0xFF raised by one (trailing 0xFF bytes dropped); undefined when it is only 0xFF bytes.
 */
export function prefixUpperBound(key: Buffer, n: number = key.length): Buffer | undefined {
  while (n > 0 && key[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const upper = Buffer.from(key.subarray(0, n));
  upper[n - 1]!++;
  return upper;
}
