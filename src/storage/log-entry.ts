import { decodeRecord } from './record-codec.js';
import type { StoredRecord } from './types.js';

/**
 * Payload of one commit-log entry: `u8 op ‖ u16 slot ‖ u32 key length ‖ key ‖ body`.
 * Put bodies are an encoded record; Drop bodies are the 16-byte version of the record removed,
 * so a replay only removes that record or an older one, never a newer write; FlushAll has no
 * key and no body. The log frames payloads with a length and CRC; this module never sees those.
 *
 * Batch (several puts to one slot that must survive a crash together, e.g. a collection's
 * metadata and element records): `u8 op ‖ u16 slot ‖ u32 item count ‖ items`, each item
 * `u32 key length ‖ key ‖ u32 record length ‖ encoded record`. One frame has one checksum, so
 * replay sees all of its puts or none. The op codes are on disk: never renumber them.
 *
 * Group (one command's puts to several slots: a transaction, a script): `u8 op ‖ u16 0 ‖ u32 part
 * count ‖ (u32 length ‖ Put or Batch payload)…`, again one frame and one checksum, so a write
 * torn by a power failure cannot bring back one slot's part without the others.
 */

export const enum LogOp {
  Put = 1,
  Drop = 2,
  FlushAll = 3,
  Batch = 4,
  // 5 is the commit log's own sync mark (log-segments.ts SYNC_MARK_OP); replay never passes it here.
  Group = 6,
}

const HEAD_BYTES = 1 + 2 + 4;
const VERSION_BYTES = 16;

export type LogEntry =
  | { op: LogOp.Put; slot: number; key: Buffer; record: StoredRecord; encoded: Buffer }
  | { op: LogOp.Drop; slot: number; key: Buffer; version: Buffer }
  | { op: LogOp.FlushAll }
  | { op: LogOp.Batch; slot: number; items: BatchItem[] }
  | { op: LogOp.Group; parts: Buffer[] };

/** One put of a Batch entry. */
export interface BatchItem {
  key: Buffer;
  record: StoredRecord;
  encoded: Buffer;
}

/** Where entries are encoded: the commit log's in-place frame API. */
export interface FrameSink {
  reserveFrame(length: number): number;
  readonly frameBuffer: Buffer;
  commitFrame(): void;
}

/** Writes one keyed entry (head, key, then `tail`) straight into the log's frame buffer. */
function appendKeyed(log: FrameSink, op: LogOp, slot: number, key: Buffer, tail: Buffer): number {
  const size = HEAD_BYTES + key.length + tail.length;
  const at = log.reserveFrame(size);
  const buf = log.frameBuffer;
  writeHead(buf, at, op, slot, key);
  tail.copy(buf, at + HEAD_BYTES + key.length);
  log.commitFrame();
  return size;
}

/** Logs a put of an already encoded record; returns the payload size. */
export function appendPut(log: FrameSink, slot: number, key: Buffer, encodedRecord: Buffer): number {
  return appendKeyed(log, LogOp.Put, slot, key, encodedRecord);
}

/** Logs the local removal of the record with `version`; returns the payload size. */
export function appendDrop(log: FrameSink, slot: number, key: Buffer, version: Buffer): number {
  if (version.length !== VERSION_BYTES) throw new Error(`drop needs a ${VERSION_BYTES}-byte version`);
  return appendKeyed(log, LogOp.Drop, slot, key, version);
}

/** Logs puts to one slot as one entry (replayed all or none); returns the payload size. */
export function appendBatch(log: FrameSink, slot: number, items: ReadonlyArray<{ key: Buffer; encoded: Buffer }>): number {
  if (items.length === 0) throw new RangeError('a log batch needs at least one put');
  let size = HEAD_BYTES;
  for (const item of items) size += 4 + item.key.length + 4 + item.encoded.length;
  const at = log.reserveFrame(size);
  const buf = log.frameBuffer;
  buf[at] = LogOp.Batch;
  buf.writeUInt16BE(slot, at + 1);
  buf.writeUInt32BE(items.length, at + 3);
  let o = at + HEAD_BYTES;
  for (const { key, encoded } of items) {
    buf.writeUInt32BE(key.length, o);
    key.copy(buf, o + 4);
    o += 4 + key.length;
    buf.writeUInt32BE(encoded.length, o);
    encoded.copy(buf, o + 4);
    o += 4 + encoded.length;
  }
  log.commitFrame();
  return size;
}

/**
 * A FrameSink that collects entries as the parts of one Group entry: each reserveFrame/commitFrame
 * adds `u32 length ‖ payload`. appendGroup() then logs them as one frame.
 */
export class GroupParts implements FrameSink {
  frameBuffer: Buffer = Buffer.allocUnsafe(1024);
  used = 0;
  count = 0;
  private pending = 0;

  reserveFrame(length: number): number {
    const need = this.used + 4 + length;
    if (need > this.frameBuffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * this.frameBuffer.length));
      this.frameBuffer.copy(grown, 0, 0, this.used);
      this.frameBuffer = grown;
    }
    this.frameBuffer.writeUInt32BE(length, this.used);
    this.pending = length;
    return this.used + 4;
  }

  commitFrame(): void {
    this.used += 4 + this.pending;
    this.count++;
  }
}

/** Logs the collected parts as one Group entry (replayed all or none); returns the payload size. */
export function appendGroup(log: FrameSink, parts: GroupParts): number {
  const size = HEAD_BYTES + parts.used;
  const at = log.reserveFrame(size);
  const buf = log.frameBuffer;
  buf[at] = LogOp.Group;
  buf.writeUInt16BE(0, at + 1);
  buf.writeUInt32BE(parts.count, at + 3);
  parts.frameBuffer.copy(buf, at + HEAD_BYTES, 0, parts.used);
  log.commitFrame();
  return size;
}

/** Keys and encoded records staged in one buffer (held-puts.ts), addressed by item index. */
export interface StagedItems {
  readonly buf: Buffer;
  readonly keyAt: ArrayLike<number>;
  readonly keyLen: ArrayLike<number>;
  readonly recAt: ArrayLike<number>;
  readonly recLen: ArrayLike<number>;
}

/** Copies below this many bytes go byte by byte. */
const LOOP_COPY_MAX_BYTES = 64;

/**
 * Copies src[from, from + n) to dst at `at`. Buffer#copy of part of a buffer makes a view of that
 * part first (garbage on every put); a short key or record is cheaper copied in a loop.
 */
function copyStaged(src: Buffer, from: number, n: number, dst: Buffer, at: number): void {
  if (n < LOOP_COPY_MAX_BYTES) for (let i = 0; i < n; i++) dst[at + i] = src[from + i]!;
  else src.copy(dst, at, from, from + n);
}

/** appendPut of staged item `i`: the same entry, copied from the staging buffer. */
export function appendStagedPut(log: FrameSink, slot: number, staged: StagedItems, i: number): number {
  const keyLen = staged.keyLen[i]!;
  const recLen = staged.recLen[i]!;
  const size = HEAD_BYTES + keyLen + recLen;
  const at = log.reserveFrame(size);
  const buf = log.frameBuffer;
  buf[at] = LogOp.Put;
  buf.writeUInt16BE(slot, at + 1);
  buf.writeUInt32BE(keyLen, at + 3);
  copyStaged(staged.buf, staged.keyAt[i]!, keyLen, buf, at + HEAD_BYTES);
  copyStaged(staged.buf, staged.recAt[i]!, recLen, buf, at + HEAD_BYTES + keyLen);
  log.commitFrame();
  return size;
}

/** appendBatch of the staged items `indexes` (all of one slot), in that order. */
export function appendStagedBatch(log: FrameSink, slot: number, staged: StagedItems, indexes: readonly number[]): number {
  if (indexes.length === 0) throw new RangeError('a log batch needs at least one put');
  let size = HEAD_BYTES;
  for (const i of indexes) size += 4 + staged.keyLen[i]! + 4 + staged.recLen[i]!;
  const at = log.reserveFrame(size);
  const buf = log.frameBuffer;
  buf[at] = LogOp.Batch;
  buf.writeUInt16BE(slot, at + 1);
  buf.writeUInt32BE(indexes.length, at + 3);
  let o = at + HEAD_BYTES;
  for (const i of indexes) {
    const keyLen = staged.keyLen[i]!;
    buf.writeUInt32BE(keyLen, o);
    copyStaged(staged.buf, staged.keyAt[i]!, keyLen, buf, o + 4);
    o += 4 + keyLen;
    const recLen = staged.recLen[i]!;
    buf.writeUInt32BE(recLen, o);
    copyStaged(staged.buf, staged.recAt[i]!, recLen, buf, o + 4);
    o += 4 + recLen;
  }
  log.commitFrame();
  return size;
}

export function appendFlushAll(log: FrameSink): void {
  const at = log.reserveFrame(HEAD_BYTES);
  writeHead(log.frameBuffer, at, LogOp.FlushAll, 0, EMPTY);
  log.commitFrame();
}

function writeHead(buf: Buffer, at: number, op: LogOp, slot: number, key: Buffer): void {
  buf[at] = op;
  buf.writeUInt16BE(slot, at + 1);
  buf.writeUInt32BE(key.length, at + 3);
  key.copy(buf, at + HEAD_BYTES);
}

const EMPTY = Buffer.alloc(0);

/** Parses a payload; the result holds views into `payload`, so pass a buffer nobody reuses. */
export function decodeLogEntry(payload: Buffer): LogEntry {
  if (payload.length < HEAD_BYTES) throw new Error(`log entry of ${payload.length} bytes is shorter than its header`);
  const op = payload[0]!;
  const slot = payload.readUInt16BE(1);
  if (op === LogOp.Batch) return { op, slot, items: decodeBatchItems(payload, payload.readUInt32BE(3)) };
  if (op === LogOp.Group) return { op, parts: decodeGroupParts(payload, payload.readUInt32BE(3)) };
  const keyLen = payload.readUInt32BE(3);
  const bodyStart = HEAD_BYTES + keyLen;
  if (bodyStart > payload.length) throw new Error(`log entry key length ${keyLen} runs past the entry`);
  const key = payload.subarray(HEAD_BYTES, bodyStart);
  switch (op) {
    case LogOp.Put: {
      const encoded = payload.subarray(bodyStart);
      return { op, slot, key, record: decodeRecord(encoded), encoded };
    }
    case LogOp.Drop:
      if (payload.length - bodyStart !== VERSION_BYTES) throw new Error('log drop entry without a 16-byte version');
      return { op, slot, key, version: payload.subarray(bodyStart) };
    case LogOp.FlushAll:
      if (payload.length !== HEAD_BYTES) throw new Error('log flush entry with a body');
      return { op };
    default:
      throw new Error(`unknown log op ${op}`);
  }
}

function decodeGroupParts(payload: Buffer, count: number): Buffer[] {
  const parts: Buffer[] = [];
  let o = HEAD_BYTES;
  for (let i = 0; i < count; i++) {
    const part = lengthPrefixed(payload, o, 'part');
    if (part[0] !== LogOp.Put && part[0] !== LogOp.Batch) throw new Error(`log group part with op ${part[0]}`);
    parts.push(part);
    o += 4 + part.length;
  }
  if (o !== payload.length) throw new Error(`log group entry has ${payload.length - o} bytes after its ${count} parts`);
  return parts;
}

function decodeBatchItems(payload: Buffer, count: number): BatchItem[] {
  if (count === 0) throw new Error('log batch entry without puts');
  const items: BatchItem[] = [];
  let o = HEAD_BYTES;
  for (let i = 0; i < count; i++) {
    const key = lengthPrefixed(payload, o, 'key');
    o += 4 + key.length;
    const encoded = lengthPrefixed(payload, o, 'record');
    o += 4 + encoded.length;
    items.push({ key, record: decodeRecord(encoded), encoded });
  }
  if (o !== payload.length) throw new Error(`log batch entry has ${payload.length - o} bytes after its ${count} puts`);
  return items;
}

/** The `u32 length ‖ bytes` field at `at`, as a view. */
function lengthPrefixed(payload: Buffer, at: number, what: string): Buffer {
  if (at + 4 > payload.length) throw new Error(`log batch ${what} length runs past the entry`);
  const len = payload.readUInt32BE(at);
  if (at + 4 + len > payload.length) throw new Error(`log batch ${what} of ${len} bytes runs past the entry`);
  return payload.subarray(at + 4, at + 4 + len);
}
