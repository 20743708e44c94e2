// Goal: a queue that pops all day does not make each pop walk past every element popped since the
// last checkpoint: deleted elements that hide nothing leave the ordered index, while deletions that
// hide an older record (one in LMDB) stay; scanRangeRaw still shows every tombstone (a replica
// completing a collection must learn of deletions). Method: a real Store (LMDB in a temp dir);
// 5,000 elements, 4,990 deleted; count what scanRange and scanRangeRaw visit, before and after a
// checkpoint. Then: a queue drained from its low end (ZPOPMIN) does not make each pop walk past every
// tombstone its earlier pops left in LMDB (in a cluster they live for the grace period), nor does one
// drained from its high end (ZPOPMAX), nor random probes (SPOP): scans jump the runs of tombstones
// the store learned (dead-runs.ts), and any live write inside a run splits it.
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

function lastLive(s: Store): { visited: number; key: string | undefined } {
  let visited = 0;
  let found: string | undefined;
  s.scanRange(7, PREFIX, PREFIX_END, true, (k, r) => {
    visited++;
    if (r.type === ValueType.Tombstone) return true;
    found = k.subarray(PREFIX.length).toString();
    return false;
  });
  return { visited, key: found };
}

/** Tombstones the store's range scans walked so far (INFO's store_range_tombstones_walked). */
const walked = (s: Store): number => s.stats().rangeTombstonesWalked!;

describe('runs of deleted elements', () => {
  async function openStore(): Promise<Store> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-runs-'));
    dirs.push(dir);
    const s = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: 86_400_000, checkpointIntervalMs: 600_000, checkpointEntries: 1_000_000 });
    open.push(s);
    return s;
  }

  it('let a scan from the end of a range skip the tombstones above its last live element (ZPOPMAX)', async () => {
    const s = await openStore();
    for (let i = 0; i < 5000; i++) s.put(7, key(i), elem());
    await s.checkpointNow();
    for (let i = 4999; i >= 10; i--) s.put(7, key(i), tomb());
    await s.checkpointNow();
    expect(lastLive(s)).toEqual({ visited: 4991, key: '000009' });
    expect(lastLive(s)).toEqual({ visited: 1, key: '000009' });
    s.put(7, key(9), tomb());
    expect(lastLive(s)).toEqual({ visited: 2, key: '000008' });
    expect(lastLive(s)).toEqual({ visited: 1, key: '000008' });
    // An element written above the last live one is seen (ZADD of a higher score).
    s.put(7, key(4000), elem());
    expect(lastLive(s)).toEqual({ visited: 1, key: '004000' });
    s.put(7, key(4000), tomb());
    expect(lastLive(s).key).toBe('000008');
    // The low end did not learn from the high end's scans, and learns on its own.
    expect(firstLive(s)).toEqual({ visited: 1, key: '000000' });
  });

  it('let probes at random positions skip the runs of tombstones between live elements (SPOP)', async () => {
    const s = await openStore();
    for (let i = 0; i < 5000; i++) s.put(7, key(i), elem());
    await s.checkpointNow();
    // Every element but each 100th deleted: runs of 99 tombstones between live ones.
    for (let i = 0; i < 5000; i++) if (i % 100 !== 50) s.put(7, key(i), tomb());
    await s.checkpointNow();
    const probe = (at: number): string | undefined => firstLive(s, key(at)).key;
    expect(probe(120)).toBe('000150');
    // Once walked, a run is jumped: the second full scan walks no tombstone.
    const before = walked(s);
    expect(count(s, false).live).toBe(50);
    const wholeScan = (): { visited: number; live: number } => {
      let visited = 0;
      let live = 0;
      s.scanRange(7, PREFIX, PREFIX_END, false, (_k, r) => {
        visited++;
        if (r.type === ValueType.Element) live++;
        return true;
      });
      return { visited, live };
    };
    expect(wholeScan().live).toBe(50);
    const first = walked(s) - before;
    expect(first).toBeGreaterThan(4000);
    expect(wholeScan()).toEqual({ visited: 50, live: 50 });
    expect(walked(s) - before).toBe(first);
    for (let i = 0; i < 50; i++) expect(probe(i * 100 + 1)).toBe(key(i * 100 + 50).subarray(PREFIX.length).toString());
    // Popping a live element joins the runs on both sides of it; a write inside a run is seen.
    s.put(7, key(1050), tomb());
    expect(probe(960)).toBe('001150');
    expect(probe(960)).toBe('001150');
    s.put(7, key(1000), elem());
    expect(probe(960)).toBe('001000');
    expect(probe(1001)).toBe('001150');
    expect(wholeScan().live).toBe(50);
    expect(walked(s) - before).toBeLessThan(first + 10);
    // Runs are memory only: a restart starts without them, and walks again once.
    expect(s.stats().deadRuns).toBeGreaterThan(0);
  });

  it('give way to live elements however they arrive: a replica batch, a healing copy, log replay after a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-runs-'));
    dirs.push(dir);
    const opts = { dir, appendfsync: 'no' as const, tombstoneGraceMs: 86_400_000, checkpointIntervalMs: 600_000, checkpointEntries: 1_000_000 };
    let s = await Store.open(opts);
    open.push(s);
    for (let i = 0; i < 1000; i++) s.put(7, key(i), elem());
    await s.checkpointNow();
    for (let i = 0; i < 990; i++) s.put(7, key(i), tomb());
    expect(firstLive(s).key).toBe('000990');
    expect(lastLive(s).key).toBe('000999');
    // Another coordinator's write, applied as one batch with its metadata.
    s.putAll(7, [{ key: key(500), record: elem() }, { key: Buffer.from('meta'), record: elem() }]);
    expect(firstLive(s)).toEqual({ visited: 1, key: '000500' });
    s.put(7, key(500), tomb());
    expect(firstLive(s).key).toBe('000990');
    // A replica healing a collection writes whatever version is present.
    s.replace(7, key(20), elem());
    expect(firstLive(s)).toEqual({ visited: 1, key: '000020' });
    // Not yet checkpointed: after a restart the log replays it, and the store starts without runs.
    s.put(7, key(30), elem());
    await s.close();
    open.splice(open.indexOf(s), 1);
    s = await Store.open(opts);
    open.push(s);
    expect(s.stats().deadRuns).toBe(0);
    expect(firstLive(s).key).toBe('000020');
    s.put(7, key(20), tomb());
    expect(firstLive(s).key).toBe('000030');
    expect(firstLive(s)).toEqual({ visited: 1, key: '000030' });
  });

  it('forget everything at FLUSHALL', async () => {
    const s = await openStore();
    for (let i = 0; i < 100; i++) s.put(7, key(i), elem());
    await s.checkpointNow();
    for (let i = 0; i < 90; i++) s.put(7, key(i), tomb());
    expect(firstLive(s).key).toBe('000090');
    expect(s.stats().deadRuns).toBe(1);
    await s.flushAll();
    expect(s.stats().deadRuns).toBe(0);
    s.put(7, key(3), elem());
    expect(firstLive(s)).toEqual({ visited: 1, key: '000003' });
  });
});
