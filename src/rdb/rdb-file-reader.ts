/**
 * Reading an RDB file (what redis-server's SAVE, BGSAVE and `redis-cli --rdb` write) into the
 * parts a loader needs: each key with its database, expiry and its value as a DUMP payload would
 * carry it (type byte and value, the same bytes), and the function libraries. Values are decoded
 * on the way (readDumpValue) to find where each ends, so a value ringkv could not hold stops the
 * read with its reason. The file comes whole (rdbFileEntries) or a piece at a time
 * (rdbFileStream), holding at most a few records: files larger than memory load too.
 */
import type { FileHandle } from 'node:fs/promises';
import { crc64 } from './crc64.js';
import { readDumpValue } from './dump-value.js';
import { check, RdbFormatError, RdbTruncatedError } from './rdb-errors.js';
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

/** What a record read changes of the reading: the database, and the expiry and access information of the next key. */
interface ReadState {
  version: number;
  db: number;
  expiresAtMs: number;
  idleSeconds: number | undefined;
  freq: number | undefined;
}

/**
 * Reads one record at `r`: an entry, undefined for a record that only changes the state (a
 * database switch, an expiry …), or 'eof' at the EOF opcode (left before the checksum).
 */
function readRecord(r: RdbReader, st: ReadState): RdbFileEntry | undefined | 'eof' {
  const type = r.byte();
  switch (type) {
    case OPCODE.EOF:
      return 'eof';
    case OPCODE.SELECTDB:
      st.db = r.length();
      return undefined;
    case OPCODE.RESIZEDB:
      r.length();
      r.length();
      return undefined;
    case OPCODE.EXPIRETIME_MS:
      st.expiresAtMs = Number(r.bytes(8).readBigUInt64LE(0));
      return undefined;
    case OPCODE.EXPIRETIME:
      st.expiresAtMs = r.bytes(4).readUInt32LE(0) * 1000;
      return undefined;
    case OPCODE.IDLE:
      st.idleSeconds = r.length();
      return undefined;
    case OPCODE.FREQ:
      st.freq = r.byte();
      return undefined;
    case OPCODE.AUX: {
      const name = r.string().toString('latin1');
      return { kind: 'aux', name, value: r.string().toString('latin1') };
    }
    case OPCODE.FUNCTION2:
      return { kind: 'function', code: Buffer.from(r.string()) };
    case OPCODE.FUNCTION:
      throw new RdbFormatError('functions in the format of Redis 7.0 release candidates are not supported');
    case OPCODE.MODULE_AUX:
      throw new RdbFormatError('the file holds module data, which ringkv cannot load');
    default: {
      const key = Buffer.from(r.string());
      const start = r.pos;
      readDumpValue(type, r);
      const typedValue = Buffer.concat([Buffer.from([type]), r.buf.subarray(start, r.pos)]);
      const entry: RdbFileEntry = { kind: 'key', db: st.db, key, expiresAtMs: st.expiresAtMs, typedValue };
      if (st.idleSeconds !== undefined) entry.idleSeconds = st.idleSeconds;
      if (st.freq !== undefined) entry.freq = st.freq;
      st.expiresAtMs = 0;
      st.idleSeconds = undefined;
      st.freq = undefined;
      return entry;
    }
  }
}

/** Checks the 8 bytes after the EOF opcode against `crc` (the CRC64 of everything before them), when the file has them. */
function checkTrailer(st: ReadState, trailer: Buffer, crc: bigint): void {
  if (st.version < 5 || trailer.length < 8) return;
  const stored = trailer.readBigUInt64LE(0);
  check(stored === 0n || stored === crc, 'RDB checksum mismatch: the file is damaged');
}

/** Every entry of a file given whole, in order; checks the trailing CRC64 when the file has one (version 5 on, not zero). */
export function* rdbFileEntries(buf: Buffer): Generator<RdbFileEntry> {
  const st: ReadState = { version: rdbVersion(buf), db: 0, expiresAtMs: 0, idleSeconds: undefined, freq: undefined };
  const r = new RdbReader(buf);
  r.pos = 9;
  for (;;) {
    const e = readRecord(r, st);
    if (e === 'eof') {
      checkTrailer(st, buf.subarray(r.pos, r.pos + 8), crc64(buf.subarray(0, r.pos)));
      return;
    }
    if (e !== undefined) yield e;
  }
}

/** Bytes read from the file at a time, at least. */
const STREAM_READ_BYTES = 1 << 20;

/**
 * The same entries read from an open file a piece at a time: a record that does not fit in what
 * is held is read again once more of the file is (the piece held doubles until it fits), so what
 * is held stays about the size of the largest record.
 */
export async function* rdbFileStream(file: FileHandle): AsyncGenerator<RdbFileEntry> {
  let held = Buffer.alloc(0);
  let fileAt = 0;
  let ended = false;
  /** Reads at least `more` further bytes (or to the end of the file) onto what is held from `from` on. */
  const fill = async (from: number, more: number): Promise<void> => {
    const want = Math.max(more, STREAM_READ_BYTES);
    const next = Buffer.allocUnsafe(held.length - from + want);
    held.copy(next, 0, from);
    let filled = held.length - from;
    while (filled < next.length) {
      const { bytesRead } = await file.read(next, filled, next.length - filled, fileAt);
      if (bytesRead === 0) {
        ended = true;
        break;
      }
      fileAt += bytesRead;
      filled += bytesRead;
    }
    held = next.subarray(0, filled);
  };
  await fill(0, 9);
  const st: ReadState = { version: rdbVersion(held), db: 0, expiresAtMs: 0, idleSeconds: undefined, freq: undefined };
  let crc = crc64(held.subarray(0, 9));
  let at = 9;
  for (;;) {
    const r = new RdbReader(held);
    r.pos = at;
    // A failed read leaves the state as it was: it changes only once a record is read whole.
    const before = { ...st };
    let e: RdbFileEntry | undefined | 'eof';
    try {
      e = readRecord(r, st);
    } catch (err) {
      // Only a read past the end of what is held, by the file's own reader (not one inside a value).
      if (!(err instanceof RdbTruncatedError) || err.buf !== held || ended) throw err;
      Object.assign(st, before);
      // The record may run past what is held: keep it, read more (at least as much again), retry.
      await fill(at, held.length - at);
      at = 0;
      continue;
    }
    if (e === 'eof') {
      crc = crc64(held.subarray(at, r.pos), crc);
      if (held.length - r.pos < 8 && !ended) await fill(r.pos, 8);
      else held = held.subarray(r.pos);
      checkTrailer(st, held.subarray(0, 8), crc);
      return;
    }
    crc = crc64(held.subarray(at, r.pos), crc);
    at = r.pos;
    if (e !== undefined) yield e;
  }
}
