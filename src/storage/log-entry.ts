import { decodeRecord } from './record-codec.js';
import type { StoredRecord } from './types.js';

/**
 * Payload of one commit-log entry: `u8 op ‖ u16 slot ‖ u32 key length ‖ key ‖ body`.
 * Put bodies are an encoded record; Drop bodies are the 16-byte version of the record removed,
 * so a replay only removes that record or an older one, never a newer write; FlushAll has no
 * key and no body. The log frames payloads with a length and CRC; this module never sees those.
 */

export const enum LogOp {
  Put = 1,
  Drop = 2,
  FlushAll = 3,
}

const HEAD_BYTES = 1 + 2 + 4;
const VERSION_BYTES = 16;

export type LogEntry =
  | { op: LogOp.Put; slot: number; key: Buffer; record: StoredRecord; encoded: Buffer }
  | { op: LogOp.Drop; slot: number; key: Buffer; version: Buffer }
  | { op: LogOp.FlushAll };

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
