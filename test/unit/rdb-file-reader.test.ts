// Goal: an RDB file read a piece at a time (rdbFileStream) gives the same entries as the file read
// whole (rdbFileEntries), whatever the sizes of its records against the pieces read (values larger
// than a piece, records across piece edges); a damaged checksum, a damaged value and a file cut
// short are refused by both, with the reason. Method: files written with rdb-file.ts's framing and
// dump-value.ts's values (seeded sizes), read both ways from a temp file.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDumpValue, type DumpValue } from '../../src/rdb/dump-value.js';
import { OPCODE, RdbChecksum, rdbHeader, rdbKeyRecord, rdbSelectDb } from '../../src/rdb/rdb-file.js';
import { rdbFileEntries, rdbFileStream, type RdbFileEntry } from '../../src/rdb/rdb-file-reader.js';
import { RdbWriter } from '../../src/rdb/rdb-writer.js';
import { mulberry32 } from '../sim/prng.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-rdb-reader-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A file of `n` keys over two databases: strings (some of several MB), lists, hashes, sorted sets, a library. */
function rdbFile(seed: number, n: number): Buffer {
  const rand = mulberry32(seed);
  const crc = new RdbChecksum();
  const parts: Buffer[] = [crc.add(rdbHeader([['redis-ver', '7.0.15'], ['redis-bits', '64']]))];
  const fn = new RdbWriter();
  fn.byte(OPCODE.FUNCTION2);
  fn.string(Buffer.from("#!lua name=lib\nredis.register_function('f', function() return 1 end)"));
  parts.push(crc.add(fn.take()));
  for (const db of [0, 3]) {
    parts.push(crc.add(rdbSelectDb(db)));
    for (let i = 0; i < n; i++) {
      const kind = Math.floor(rand() * 5);
      const size = rand() < 0.02 ? 1_500_000 + Math.floor(rand() * 2_000_000) : Math.floor(rand() * 300);
      let v: DumpValue;
      if (kind === 0) v = { kind: 'string', value: Buffer.alloc(size, 0x61 + (i % 26)) };
      else if (kind === 1) v = { kind: 'list', items: Array.from({ length: 1 + (size % 50) }, (_, j) => Buffer.from(`item-${j}-${'x'.repeat(size % 40)}`)) };
      else if (kind === 2) v = { kind: 'hash', pairs: Array.from({ length: 1 + (size % 30) }, (_, j) => [Buffer.from(`f${j}`), Buffer.from(`v${j}`)] as [Buffer, Buffer]) };
      else if (kind === 3) v = { kind: 'zset', entries: Array.from({ length: 1 + (size % 40) }, (_, j) => [Buffer.from(`m${j}`), j / 3 - 5] as [Buffer, number]) };
      else v = { kind: 'set', members: Array.from({ length: 1 + (size % 20) }, (_, j) => Buffer.from(String(j * 7))) };
      const expiresAt = rand() < 0.3 ? 1_800_000_000_000 + i : 0;
      parts.push(crc.add(rdbKeyRecord(Buffer.from(`db${db}:key:${i}`), expiresAt, writeDumpValue(v))));
    }
  }
  parts.push(crc.end());
  return Buffer.concat(parts);
}

async function streamed(file: string): Promise<RdbFileEntry[]> {
  const h = await open(file, 'r');
  try {
    const out: RdbFileEntry[] = [];
    for await (const e of rdbFileStream(h)) out.push(e);
    return out;
  } finally {
    await h.close();
  }
}

/** Entries as comparable text: deep equality over multi-megabyte buffers is slow, a digest is not. */
function digest(entries: RdbFileEntry[]): string[] {
  return entries.map((e) => {
    if (e.kind === 'key') return `key ${e.db} ${e.key.toString('latin1')} ${e.expiresAtMs} ${e.typedValue.length} ${createHash('sha1').update(e.typedValue).digest('hex')}`;
    if (e.kind === 'function') return `function ${e.code.toString('latin1')}`;
    return `aux ${e.name}=${e.value}`;
  });
}

function written(name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('RDB files read whole and a piece at a time', () => {
  for (const seed of [1, 2, 3]) {
    it(`give the same entries (seed ${seed})`, async () => {
      const bytes = rdbFile(seed, 400);
      // Several values larger than one piece (1 MB): the reader must grow what it holds.
      expect(bytes.length).toBeGreaterThan(4 << 20);
      const whole = [...rdbFileEntries(bytes)];
      expect(whole.filter((e) => e.kind === 'key')).toHaveLength(800);
      expect(whole.filter((e) => e.kind === 'function')).toHaveLength(1);
      expect(digest(await streamed(written(`ok-${seed}.rdb`, bytes)))).toEqual(digest(whole));
    }, 60_000);
  }

  it('refuse a damaged checksum, a damaged value and a file cut short, both ways', async () => {
    const bytes = rdbFile(7, 200);
    const badCrc = Buffer.from(bytes);
    badCrc[badCrc.length - 1] ^= 0xff;
    const badValue = Buffer.from(bytes);
    // A length byte of the first key's value: the value no longer reads as one.
    const firstKey = bytes.indexOf('db0:key:0');
    badValue[firstKey + 'db0:key:0'.length + 1] = 0xff;
    const short = bytes.subarray(0, Math.floor(bytes.length * 0.7));
    for (const [name, b, reason] of [['crc', badCrc, /checksum/], ['value', badValue, /./], ['short', short, /end of payload|runs past/]] as const) {
      expect(() => [...rdbFileEntries(b)], name).toThrow(reason);
      await expect(streamed(written(`bad-${name}.rdb`, b)), name).rejects.toThrow(reason);
    }
  }, 60_000);
});
