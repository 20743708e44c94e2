import { decodeRecord, encodedRecordSize, writeRecord } from './record-codec.js';
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
  | { op: LogOp.Put; slot: number; key: Buffer; record: StoredRecord }
  | { op: LogOp.Drop; slot: number; key: Buffer; version: Buffer }
  | { op: LogOp.FlushAll };

/** Encodes entries into one reusable scratch buffer; each payload is valid until the next call. */
export class LogEntryWriter {
  private scratch: Buffer = Buffer.allocUnsafe(4096);

  put(slot: number, key: Buffer, record: StoredRecord): Buffer {
    const size = HEAD_BYTES + key.length + encodedRecordSize(record);
    const buf = this.head(LogOp.Put, slot, key, size);
    writeRecord(record, buf, HEAD_BYTES + key.length);
    return buf.subarray(0, size);
  }

  drop(slot: number, key: Buffer, version: Buffer): Buffer {
    const size = HEAD_BYTES + key.length + VERSION_BYTES;
    const buf = this.head(LogOp.Drop, slot, key, size);
    version.copy(buf, HEAD_BYTES + key.length);
    return buf.subarray(0, size);
  }

  flushAll(): Buffer {
    return this.head(LogOp.FlushAll, 0, EMPTY, HEAD_BYTES).subarray(0, HEAD_BYTES);
  }

  /** Drops an oversized scratch after a huge entry so one big write does not pin memory. */
  shrink(): void {
    if (this.scratch.length > SCRATCH_KEEP_MAX) this.scratch = Buffer.allocUnsafe(4096);
  }

  private head(op: LogOp, slot: number, key: Buffer, size: number): Buffer {
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, this.scratch.length * 2));
    const buf = this.scratch;
    buf[0] = op;
    buf.writeUInt16BE(slot, 1);
    buf.writeUInt32BE(key.length, 3);
    key.copy(buf, HEAD_BYTES);
    return buf;
  }
}

const SCRATCH_KEEP_MAX = 1 << 20;
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
    case LogOp.Put:
      return { op, slot, key, record: decodeRecord(payload.subarray(bodyStart)) };
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
