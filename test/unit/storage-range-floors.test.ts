// Goal: a queue drained from its low end (ZPOPMIN) does not make each pop walk past every
// tombstone its earlier pops left in LMDB (in a cluster, tombstones live for the grace period).
// Method: a real Store with a long tombstone grace; 5,000 elements of one range, 4,990 deleted and
// checkpointed; count what forward scans from the range's start visit, then write below the floor
// and check the scan sees it, then forget floors on FLUSHALL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';

const dirs: string[] = [];
const open: Store[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

let wall = 1_700_000_000_000;
const version = (): Buffer => {
  const v = Buffer.alloc(16);
  v.writeUIntBE(++wall, 0, 6);
  return v;
};
const elem = (): StoredRecord => ({ version: version(), clock: [], type: ValueType.Element, expiresAt: 0, value: Buffer.alloc(0) });
const tomb = (): StoredRecord => ({ version: version(), clock: [], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) });
/** The prefix of one element range: 0xFF, kind, u32 key length, key "q", 8-byte generation. */
const PREFIX = Buffer.concat([Buffer.from([0xff, 0x02, 0, 0, 0, 1, 0x71]), Buffer.alloc(8)]);
const END = Buffer.concat([Buffer.from([0xff, 0x02, 0, 0, 0, 1, 0x71]), Buffer.alloc(7), Buffer.from([1])]);
const key = (i: number): Buffer => Buffer.concat([PREFIX, Buffer.from(String(i).padStart(6, '0'))]);

function firstLive(s: Store, from = PREFIX): { visited: number; key: string | undefined } {
  let visited = 0;
  let found: string | undefined;
  s.scanRange(7, from, END, false, (k, r) => {
    visited++;
    if (r.type === ValueType.Tombstone) return true;
    found = k.subarray(PREFIX.length).toString();
    return false;
  });
  return { visited, key: found };
}

describe('range floors', () => {
  it('let a scan from the start of a range skip the tombstones below its first live element', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-floor-'));
    dirs.push(dir);
    const s = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: 86_400_000, checkpointIntervalMs: 600_000, checkpointEntries: 1_000_000 });
    open.push(s);
    for (let i = 0; i < 5000; i++) s.put(7, key(i), elem());
    await s.checkpointNow();
    for (let i = 0; i < 4990; i++) s.put(7, key(i), tomb());
    await s.checkpointNow();
    // The first scan walks the tombstones once; the next ones start at the first live element.
    expect(firstLive(s)).toEqual({ visited: 4991, key: '004990' });
    expect(firstLive(s)).toEqual({ visited: 1, key: '004990' });
    // Pops at the low end move the floor along with them.
    s.put(7, key(4990), tomb());
    expect(firstLive(s)).toEqual({ visited: 2, key: '004991' });
    expect(firstLive(s)).toEqual({ visited: 1, key: '004991' });
    // A scan from a bound above the floor does not move it; one from below uses it.
    expect(firstLive(s, key(4995))).toEqual({ visited: 1, key: '004995' });
    expect(firstLive(s, key(10))).toEqual({ visited: 1, key: '004991' });
    // An element written below the floor is seen (ZADD of a lower score).
    s.put(7, key(7), elem());
    expect(firstLive(s)).toEqual({ visited: 1, key: '000007' });
    s.put(7, key(7), tomb());
    expect(firstLive(s).key).toBe('004991');
    await s.flushAll();
    s.put(7, key(3), elem());
    expect(firstLive(s)).toEqual({ visited: 1, key: '000003' });
  });
});
