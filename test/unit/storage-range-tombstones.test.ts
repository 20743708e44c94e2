// Goal: a queue that pops all day does not make each pop walk past every element popped since the
// last checkpoint: deleted elements that hide nothing leave the ordered index, while deletions that
// hide an older record (one in LMDB) stay; scanRangeRaw still shows every tombstone (a replica
// completing a collection must learn of deletions). Method: a real Store (LMDB in a temp dir);
// 5,000 elements, 4,990 deleted; count what scanRange and scanRangeRaw visit, before and after a
// checkpoint.
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
