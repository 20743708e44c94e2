/**
 * Reading a whole RDB file (what redis-server's SAVE, BGSAVE and `redis-cli --rdb` write) into
 * the parts a loader needs: each key with its database, expiry and its value as a DUMP payload
 * would carry it (type byte and value, the same bytes), and the function libraries. Pure; the
 * file is given whole. Values are decoded on the way (readDumpValue) to find where each ends, so
 * a value ringkv could not hold stops the read with its reason.
 */
import { crc64 } from './crc64.js';
import { readDumpValue } from './dump-value.js';
import { check, RdbFormatError } from './rdb-errors.js';
import { OPCODE } from './rdb-file.js';
import { RdbReader } from './rdb-reader.js';


/** The newest RDB format read: Redis 7.2's (its new encodings are refused by the value reader). */
const RDB_VERSION_MAX = 11;

export type RdbFileEntry =
  | {
    kind: 'key';
    db: number;
    key: Buffer;
    /** Absolute expiry in Unix ms; 0: none. */
    expiresAtMs: number;
    /** The type byte and the value, as a DUMP payload holds them before its footer (a view of the file). */
    typedValue: Buffer;
    /** LRU idle seconds or LFU counter the file carries for the key, if any. */
    idleSeconds?: number;
    freq?: number;
  }
  | { kind: 'function'; code: Buffer }
  | { kind: 'aux'; name: string; value: string };

/** The file's RDB version; RdbFormatError when it is not an RDB file this reads. */
export function rdbVersion(buf: Buffer): number {
  check(buf.length >= 9 && buf.toString('latin1', 0, 5) === 'REDIS', 'not an RDB file (no REDIS magic)');
  const text = buf.toString('latin1', 5, 9);
  check(/^\d{4}$/.test(text), 'not an RDB file (bad version)');
  const version = Number(text);
  check(version >= 1 && version <= RDB_VERSION_MAX, `RDB version ${version} is not supported (1 to ${RDB_VERSION_MAX})`);
  return version;
}

/** Every entry of the file in order; checks the trailing CRC64 when the file has one (version 5 on, not zero). */
export function* rdbFileEntries(buf: Buffer): Generator<RdbFileEntry> {
  const version = rdbVersion(buf);
  const r = new RdbReader(buf);
  r.pos = 9;
  let db = 0;
  let expiresAtMs = 0;
  let idleSeconds: number | undefined;
  let freq: number | undefined;
  for (;;) {
    const type = r.byte();
    switch (type) {
      case OPCODE.EOF: {
        if (version >= 5 && r.remaining >= 8) {
          const stored = buf.readBigUInt64LE(r.pos);
          check(stored === 0n || stored === crc64(buf.subarray(0, r.pos)), 'RDB checksum mismatch: the file is damaged');
        }
        return;
      }
      case OPCODE.SELECTDB:
        db = r.length();
        continue;
      case OPCODE.RESIZEDB:
        r.length();
        r.length();
        continue;
      case OPCODE.EXPIRETIME_MS:
        expiresAtMs = Number(r.bytes(8).readBigUInt64LE(0));
        continue;
      case OPCODE.EXPIRETIME:
        expiresAtMs = r.bytes(4).readUInt32LE(0) * 1000;
        continue;
      case OPCODE.IDLE:
        idleSeconds = r.length();
        continue;
      case OPCODE.FREQ:
        freq = r.byte();
        continue;
      case OPCODE.AUX: {
        const name = r.string().toString('latin1');
        yield { kind: 'aux', name, value: r.string().toString('latin1') };
        continue;
      }
      case OPCODE.FUNCTION2:
        yield { kind: 'function', code: Buffer.from(r.string()) };
        continue;
      case OPCODE.FUNCTION:
        throw new RdbFormatError('functions in the format of Redis 7.0 release candidates are not supported');
      case OPCODE.MODULE_AUX:
        throw new RdbFormatError('the file holds module data, which ringkv cannot load');
      default: {
        const key = Buffer.from(r.string());
        const start = r.pos;
        readDumpValue(type, r);
        const typedValue = Buffer.concat([Buffer.from([type]), buf.subarray(start, r.pos)]);
        const entry: RdbFileEntry = { kind: 'key', db, key, expiresAtMs, typedValue };
        if (idleSeconds !== undefined) entry.idleSeconds = idleSeconds;
        if (freq !== undefined) entry.freq = freq;
        yield entry;
        expiresAtMs = 0;
        idleSeconds = undefined;
        freq = undefined;
      }
    }
  }
}
