// Goal: a queue that pops all day does not make each pop walk past every element popped since the
// last checkpoint: deleted elements that hide nothing leave the ordered index, while deletions that
// hide an older record (one in LMDB) stay; scanRangeRaw still shows every tombstone (a replica
// completing a collection must learn of deletions). Method: a real Store (LMDB in a temp dir);
// 5,000 elements, 4,990 deleted; count what scanRange and scanRangeRaw visit, before and after a
// checkpoint. Then: a queue drained from its low end (ZPOPMIN) does not make each pop walk past every
// tombstone its earlier pops left in LMDB (in a cluster they live for the grace period): forward
// scans from a range's start begin at its floor, lowered by any live write below it.
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
const key = (i: number): Buffer => Buffer.concat([Buffer.from([0xff, 0x02, 0, 0, 0, 1, 0x71]), Buffer.alloc(8), Buffer.from(String(i).padStart(6, '0'))]);
const START = Buffer.from([0xff, 0x02]);
const END = Buffer.from([0xff, 0x03]);

function count(s: Store, raw: boolean): { visited: number; live: number } {
  let visited = 0;
  let live = 0;
  const visit = (_k: Buffer, r: StoredRecord): boolean => {
    visited++;
    if (r.type === ValueType.Element) live++;
    return true;
  };
  if (raw) s.scanRangeRaw(7, START, END, visit);
  else s.scanRange(7, START, END, false, visit);
  return { visited, live };
}

describe('deleted elements in range scans', () => {
  it.each([0, 60_000])('skip nothing that hides nothing (tombstone grace %i ms), and the raw scan shows every tombstone', async (graceMs) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-tomb-'));
    dirs.push(dir);
    const s = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: graceMs, checkpointIntervalMs: 600_000, checkpointEntries: 1_000_000 });
    open.push(s);
    for (let i = 0; i < 5000; i++) s.put(7, key(i), elem());
    for (let i = 0; i < 4990; i++) s.put(7, key(i), tomb());
    // Created and deleted in this memtable: the scan meets only the 10 live ones.
    expect(count(s, false)).toEqual({ visited: 10, live: 10 });
    expect(count(s, true)).toEqual({ visited: 5000, live: 10 });
    // In LMDB now (tombstones too while graced); deleting one of the live ones hides that record.
    await s.checkpointNow();
    s.put(7, key(4995), tomb());
    const after = count(s, false);
    expect(after.live).toBe(9);
    expect(after.visited).toBe(graceMs > 0 ? 5000 : 10);
  });
});

/** The prefix of the elements above: 0xFF, kind, u32 key length, key "q", 8-byte generation. */
const PREFIX = Buffer.concat([Buffer.from([0xff, 0x02, 0, 0, 0, 1, 0x71]), Buffer.alloc(8)]);
const PREFIX_END = Buffer.concat([Buffer.from([0xff, 0x02, 0, 0, 0, 1, 0x71]), Buffer.alloc(7), Buffer.from([1])]);

function firstLive(s: Store, from = PREFIX): { visited: number; key: string | undefined } {
  let visited = 0;
  let found: string | undefined;
  s.scanRange(7, from, PREFIX_END, false, (k, r) => {
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
