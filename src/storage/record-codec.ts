import { isBytesType, StringForm, ValueType, type ClockEntry, type HashValue, type StoredRecord } from './types.js';

/**
 * Binary form of a StoredRecord, shared by the commit log and LMDB. Layout (big-endian):
 *
 *   u8  format (RECORD_FORMAT_V1, or RECORD_FORMAT_V2 for a String record whose form is not Compact)
 *   u8  type (ValueType)
 *   u8  string form (StringForm; RECORD_FORMAT_V2 only)
 *   16  version
 *   u32 expiresAt high word, u32 expiresAt low word (Unix ms; 0 = no expiry)
 *   u16 clock entry count, then per entry: 8-byte node tag, u32 counter
 *   value: String, Element and collection metadata → u32 length, bytes;
 *          LegacyHash → u32 field count, then (u32 len, field, u32 len, value)*;
 *          Tombstone → nothing
 *
 * Every length is explicit so a decoder can prove the buffer is exactly one record: a torn or
 * misdirected read fails loudly instead of yielding a plausible wrong value.
 *
 * Every record that has no string form to carry is written as V1, byte for byte as before the
 * form existed, so data directories and log segments written earlier read unchanged (as Compact).
 */

export const RECORD_FORMAT_V1 = 0x01;
export const RECORD_FORMAT_V2 = 0x02;

const VERSION_BYTES = 16;
const TAG_BYTES = 8;
const CLOCK_ENTRY_BYTES = TAG_BYTES + 4;
const HEADER_BYTES = 1 + 1 + VERSION_BYTES + 8 + 2;
const CLOCK_ENTRIES_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const TWO_POW_32 = 2 ** 32;
const NODE_TAG_RE = /^[0-9a-f]{16}$/;

/** A stored record failed validation on read: the bytes are not a record this code wrote. */
export class RecordCorruptError extends Error {
  constructor(message: string) {
    super(`corrupt record: ${message}`);
    this.name = 'RecordCorruptError';
  }
}

/** Bytes encodeRecord/writeRecord will produce; throws on a record that cannot be encoded. */
export function encodedRecordSize(rec: StoredRecord): number {
  checkRecordShape(rec);
  let size = HEADER_BYTES + (hasForm(rec) ? 1 : 0) + rec.clock.length * CLOCK_ENTRY_BYTES;
  switch (rec.type) {
    case ValueType.Tombstone:
      return size;
    case ValueType.LegacyHash:
      size += 4;
      for (const [field, value] of rec.value as HashValue) size += 8 + field.length + value.length;
      return size;
    default:
      return size + 4 + (rec.value as Buffer).length;
  }
}

export function encodeRecord(rec: StoredRecord): Buffer {
  const buf = Buffer.allocUnsafe(encodedRecordSize(rec));
  writeRecordUnchecked(rec, buf, 0);
  return buf;
}

/**
 * Writes `rec` into `buf` at `offset` (the caller sized it with encodedRecordSize) and returns the
 * offset after it. Lets the commit log encode straight into its payload without a temporary.
 */
export function writeRecord(rec: StoredRecord, buf: Buffer, offset: number): number {
  checkRecordShape(rec);
  return writeRecordUnchecked(rec, buf, offset);
}

function writeRecordUnchecked(rec: StoredRecord, buf: Buffer, offset: number): number {
  let o = offset;
  const withForm = hasForm(rec);
  buf[o++] = withForm ? RECORD_FORMAT_V2 : RECORD_FORMAT_V1;
  buf[o++] = rec.type;
  if (withForm) buf[o++] = rec.form!;
  o += rec.version.copy(buf, o);
  o = buf.writeUInt32BE(Math.floor(rec.expiresAt / TWO_POW_32), o);
  o = buf.writeUInt32BE(rec.expiresAt >>> 0, o);
  o = buf.writeUInt16BE(rec.clock.length, o);
  for (const entry of rec.clock) {
    o += buf.write(entry.node, o, TAG_BYTES, 'hex');
    o = buf.writeUInt32BE(entry.counter, o);
  }
  if (isBytesType(rec.type)) {
    const value = rec.value as Buffer;
    o = buf.writeUInt32BE(value.length, o);
    o += value.copy(buf, o);
  } else if (rec.type === ValueType.LegacyHash) {
    const hash = rec.value as HashValue;
    o = buf.writeUInt32BE(hash.size, o);
    for (const [field, value] of hash) {
      o = buf.writeUInt32BE(field.length, o);
      // Fields are byte strings carried as latin1 (one char per byte), so this is a 1:1 copy.
      o += buf.write(field, o, field.length, 'latin1');
      o = buf.writeUInt32BE(value.length, o);
      o += value.copy(buf, o);
    }
  }
  return o;
}

/** The record has a string form other than the default to write (V2). */
function hasForm(rec: StoredRecord): boolean {
  return rec.form !== undefined && rec.form !== StringForm.Compact;
}

function isStringForm(form: number): form is StringForm {
  return form === StringForm.Compact || form === StringForm.Text || form === StringForm.Raw;
}

/** Checked before any byte is written, so a bad record never reaches the log or LMDB. */
function checkRecordShape(rec: StoredRecord): void {
  if (rec.form !== undefined) {
    if (!isStringForm(rec.form)) throw new RangeError(`unknown string form ${String(rec.form)}`);
    if (rec.form !== StringForm.Compact && rec.type !== ValueType.String) throw new TypeError('only a String record has a string form');
  }
  if (!Buffer.isBuffer(rec.version) || rec.version.length !== VERSION_BYTES) {
    throw new TypeError(`record version must be a ${VERSION_BYTES}-byte Buffer`);
  }
  const e = rec.expiresAt;
  if (!Number.isSafeInteger(e) || e < 0) throw new RangeError(`record expiresAt must be a non-negative integer, got ${e}`);
  if (rec.clock.length > CLOCK_ENTRIES_MAX) throw new RangeError(`vector clock has ${rec.clock.length} entries`);
  for (const entry of rec.clock) checkClockEntry(entry);
  switch (rec.type) {
    case ValueType.Tombstone:
      if (!Buffer.isBuffer(rec.value) || rec.value.length !== 0) throw new TypeError('tombstone value must be an empty Buffer');
      return;
    case ValueType.LegacyHash:
      if (!(rec.value instanceof Map)) throw new TypeError('hash record value must be a Map');
      return;
    default:
      if (!isBytesType(rec.type)) throw new TypeError(`unknown record type ${String(rec.type)}`);
      if (!Buffer.isBuffer(rec.value)) throw new TypeError('record value must be a Buffer');
      if (rec.value.length > U32_MAX) throw new RangeError('value too large to encode');
  }
}

function checkClockEntry(entry: ClockEntry): void {
  if (!NODE_TAG_RE.test(entry.node)) throw new TypeError(`vector clock node must be 16 lowercase hex digits, got ${entry.node}`);
  const c = entry.counter;
  if (!Number.isInteger(c) || c < 0 || c > U32_MAX) throw new RangeError(`vector clock counter out of range: ${c}`);
}

const NO_CLOCK: readonly ClockEntry[] = Object.freeze([]);
const NO_VERSION = Buffer.alloc(VERSION_BYTES);

/**
 * The type and value of the record in buf[from, end), without its version or clock (the result
 * carries a zero version and no clock): for scans that read element values (LRANGE, HGETALL,
 * ZRANGE), where a full decode of each element (two views, a clock array, 220 ns) cost four times
 * what reading its value does. Other record kinds are decoded in full. Must never reach code that
 * judges versions.
 */
export function decodeRecordValue(buf: Buffer, from: number, end: number): StoredRecord {
  const type = buf[from + 1]!;
  if (buf[from] !== RECORD_FORMAT_V1 || (type !== ValueType.Element && type !== ValueType.Tombstone) || end - from < HEADER_BYTES) {
    return decodeRecord(buf.subarray(from, end));
  }
  const at = from + 2 + VERSION_BYTES;
  const expiresAt = buf.readUInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
  if (type === ValueType.Tombstone) return { version: NO_VERSION, clock: NO_CLOCK as ClockEntry[], type, expiresAt, value: EMPTY };
  const o = at + 10 + buf.readUInt16BE(at + 8) * CLOCK_ENTRY_BYTES;
  const len = o + 4 <= end ? buf.readUInt32BE(o) : -1;
  if (len < 0 || o + 4 + len > end) throw new RecordCorruptError(`element value runs past the end of its ${end - from}-byte record`);
  return { version: NO_VERSION, clock: NO_CLOCK as ClockEntry[], type, expiresAt, value: buf.subarray(o + 4, o + 4 + len) };
}

/**
 * Parses one record occupying all of `buf`. The result's version and values are views into
 * `buf` (no copies), so pass a buffer nobody will overwrite.
 */
export function decodeRecord(buf: Buffer): StoredRecord {
  const end = buf.length;
  if (end < HEADER_BYTES) throw new RecordCorruptError(`${end} bytes is shorter than a record header`);
  const format = buf[0]!;
  if (format !== RECORD_FORMAT_V1 && format !== RECORD_FORMAT_V2) throw new RecordCorruptError(`unknown format byte 0x${format.toString(16)}`);
  const type = buf[1]!;
  if (type !== ValueType.Tombstone && type !== ValueType.LegacyHash && !isBytesType(type)) {
    throw new RecordCorruptError(`unknown value type ${type}`);
  }
  let o = 2;
  let form: StringForm | undefined;
  if (format === RECORD_FORMAT_V2) {
    need(buf, o, 1 + HEADER_BYTES - 2, 'header');
    const f = buf[o++]!;
    if (type !== ValueType.String || !isStringForm(f) || f === StringForm.Compact) throw new RecordCorruptError(`string form ${f} on a record of type ${type}`);
    form = f;
  }
  const version = buf.subarray(o, o + VERSION_BYTES);
  o += VERSION_BYTES;
  const hi = buf.readUInt32BE(o);
  const expiresAt = hi * TWO_POW_32 + buf.readUInt32BE(o + 4);
  if (!Number.isSafeInteger(expiresAt)) throw new RecordCorruptError(`expiresAt beyond 2^53`);
  o += 8;
  const clockCount = buf.readUInt16BE(o);
  o += 2;
  need(buf, o, clockCount * CLOCK_ENTRY_BYTES, 'vector clock');
  const clock: ClockEntry[] = new Array<ClockEntry>(clockCount);
  for (let i = 0; i < clockCount; i++) {
    clock[i] = { node: buf.toString('hex', o, o + TAG_BYTES), counter: buf.readUInt32BE(o + TAG_BYTES) };
    o += CLOCK_ENTRY_BYTES;
  }
  let value: Buffer | HashValue;
  if (type === ValueType.Tombstone) {
    value = EMPTY;
  } else if (isBytesType(type)) {
    need(buf, o, 4, 'string length');
    const len = buf.readUInt32BE(o);
    o += 4;
    need(buf, o, len, 'string value');
    value = buf.subarray(o, o + len);
    o += len;
  } else {
    need(buf, o, 4, 'hash field count');
    const count = buf.readUInt32BE(o);
    o += 4;
    const hash: HashValue = new Map();
    for (let i = 0; i < count; i++) {
      need(buf, o, 4, 'hash field length');
      const flen = buf.readUInt32BE(o);
      o += 4;
      need(buf, o, flen + 4, 'hash field');
      const field = buf.toString('latin1', o, o + flen);
      o += flen;
      const vlen = buf.readUInt32BE(o);
      o += 4;
      need(buf, o, vlen, 'hash value');
      hash.set(field, buf.subarray(o, o + vlen));
      o += vlen;
    }
    if (hash.size !== count) throw new RecordCorruptError('duplicate hash field');
    value = hash;
  }
  if (o !== end) throw new RecordCorruptError(`${end - o} trailing bytes`);
  return form === undefined ? { version, clock, type, expiresAt, value } : { version, clock, type, expiresAt, value, form };
}

function need(buf: Buffer, offset: number, bytes: number, what: string): void {
  if (offset + bytes > buf.length) throw new RecordCorruptError(`${what} runs past the end (${offset}+${bytes} > ${buf.length})`);
}

/** Shared empty value for decoded tombstones; records are treated as immutable. */
const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Header fields read straight from an encoded record this module wrote, without decoding it
 * (checkpoints need only these per entry). The buffer must be a valid record.
 */
export function encodedType(buf: Buffer): number {
  return buf[1]!;
}

function versionOffset(buf: Buffer): number {
  return buf[0] === RECORD_FORMAT_V2 ? 3 : 2;
}

export function encodedVersionMs(buf: Buffer): number {
  return buf.readUIntBE(versionOffset(buf), 6);
}

export function encodedExpiresAt(buf: Buffer): number {
  const o = versionOffset(buf) + VERSION_BYTES;
  return buf.readUInt32BE(o) * TWO_POW_32 + buf.readUInt32BE(o + 4);
}

/** Milliseconds part of a version (its first 48 bits); the time a tombstone was written. */
export function versionMs(version: Buffer): number {
  return version.readUIntBE(0, 6);
}
