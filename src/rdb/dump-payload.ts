/**
 * The DUMP payload around a value: `type ‖ value ‖ RDB version (u16 LE) ‖ CRC64 (u64 LE)`, the CRC
 * (crc64.ts) covering everything before it. Redis 7.0 writes RDB version 10 and refuses payloads
 * of a newer version or with a wrong checksum before it looks at the value.
 */
import { crc64 } from './crc64.js';
import { RdbFormatError } from './rdb-errors.js';
import { RdbReader } from './rdb-reader.js';
import { readDumpValue, writeDumpValue, type DumpValue } from './dump-value.js';

export const RDB_VERSION = 10;
const FOOTER_BYTES = 10;

export function createDumpPayload(v: DumpValue): Buffer {
  return withDumpFooter(writeDumpValue(v));
}

/** `body` followed by the RDB version and the CRC64 of both (DUMP, FUNCTION DUMP). */
export function withDumpFooter(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length + FOOTER_BYTES);
  body.copy(out, 0);
  out.writeUInt16LE(RDB_VERSION, body.length);
  out.writeBigUInt64LE(crc64(out.subarray(0, body.length + 2)), body.length + 2);
  return out;
}

/** verifyDumpPayload: false when the footer is missing, the version too new or the checksum wrong. */
export function verifyDumpPayload(p: Buffer): boolean {
  if (p.length < FOOTER_BYTES) return false;
  const footer = p.length - FOOTER_BYTES;
  if (p.readUInt16LE(footer) > RDB_VERSION) return false;
  return crc64(p.subarray(0, p.length - 8)) === p.readBigUInt64LE(footer + 2);
}

/**
 * The value of a verified payload; RdbFormatError when it is not a value ringkv can hold. As in
 * Redis, the reader sees the whole payload, footer included (a value cut short may run into it),
 * and bytes left after the value are not looked at.
 */
export function readDumpPayload(p: Buffer): DumpValue {
  const r = new RdbReader(p);
  return readDumpValue(r.byte(), r);
}

export { RdbFormatError };
