/**
 * The framing of a whole RDB file (Redis's rdbSaveRio), around the values dump-value.ts writes:
 * `REDIS0010`, auxiliary fields, the function libraries, database 0's keys (each with its expiry),
 * the EOF opcode and a CRC64 of everything before it. Built a piece at a time so a snapshot of
 * any size streams out without being held whole; pure, the caller decides where the bytes go.
 */
import { crc64 } from './crc64.js';
import { RDB_VERSION } from './dump-payload.js';
import { RdbWriter } from './rdb-writer.js';

/** The opcodes between an RDB file's values (rdb.h). */
export const OPCODE = {
  FUNCTION2: 0xf5,
  FUNCTION: 0xf6,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRETIME_MS: 0xfc,
  EXPIRETIME: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;

/** Adds up the CRC64 of what it is shown, for the file's last eight bytes. */
export class RdbChecksum {
  private crc = 0n;

  /** `chunk`, returned after it was counted. */
  add(chunk: Buffer): Buffer {
    this.crc = crc64(chunk, this.crc);
    return chunk;
  }

  /** The EOF opcode and the checksum of everything added and of the opcode. */
  end(): Buffer {
    const out = Buffer.alloc(9);
    out[0] = OPCODE.EOF;
    this.crc = crc64(out.subarray(0, 1), this.crc);
    out.writeBigUInt64LE(this.crc, 1);
    return out;
  }
}

/** The magic and version, then `aux` name/value pairs (redis-ver, ctime, …) as Redis writes them. */
export function rdbHeader(aux: ReadonlyArray<[string, string]>): Buffer {
  const w = new RdbWriter();
  w.raw(Buffer.from(`REDIS${String(RDB_VERSION).padStart(4, '0')}`, 'latin1'));
  for (const [name, value] of aux) {
    w.byte(OPCODE.AUX);
    w.string(Buffer.from(name, 'latin1'));
    // Numbers are written as integer-encoded strings where they fit, as rdbSaveAuxFieldStrInt does.
    w.string(Buffer.from(value, 'latin1'));
  }
  return w.take();
}

/** Switches the keys that follow to database `db`. */
export function rdbSelectDb(db: number): Buffer {
  const w = new RdbWriter();
  w.byte(OPCODE.SELECTDB);
  w.length(db);
  return w.take();
}

/**
 * One key: its absolute expiry in Unix ms (0: none), then `typedValue` (the type byte and value,
 * as writeDumpValue returns them) with the key written between the two.
 */
export function rdbKeyRecord(key: Buffer, expiresAtMs: number, typedValue: Buffer): Buffer {
  const w = new RdbWriter();
  if (expiresAtMs > 0) {
    const t = Buffer.allocUnsafe(9);
    t[0] = OPCODE.EXPIRETIME_MS;
    t.writeBigUInt64LE(BigInt(expiresAtMs), 1);
    w.raw(t);
  }
  w.raw(typedValue.subarray(0, 1));
  w.string(key);
  w.raw(typedValue.subarray(1));
  return w.take();
}

/** Function libraries as an RDB file and FUNCTION DUMP carry them: a FUNCTION2 opcode and the code, each. */
export function functionRecords(codes: Iterable<Buffer>): Buffer {
  const w = new RdbWriter();
  for (const code of codes) {
    w.byte(OPCODE.FUNCTION2);
    w.string(code);
  }
  return w.take();
}
