// Goal: a small element range the store holds whole for random picks (range-snapshots.ts) always
// shows what a scan of the range shows, whatever wrote to it: puts, deletions, overwrites,
// purges at checkpoints, FLUSHALL; a range grown past 1,024 elements is not held, and is held
// again once it is small; a held value does not change when the buffer it was written from does.
// Method: a real Store (LMDB in a temp dir); seeded random writes over three collections' ranges,
// checkpoints among them; after every step smallRange is compared with scanRange's live records.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RangeSnapshots } from '../../src/storage/range-snapshots.js';
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
const elem = (value: Buffer): StoredRecord => ({ version: version(), clock: [], type: ValueType.Element, expiresAt: 0, value });
const tomb = (): StoredRecord => ({ version: version(), clock: [], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) });
/** An element range's prefix: 0xFF, kind 2, the user key (one byte), an 8-byte generation. */
const prefix = (c: number): Buffer => Buffer.from([0xff, 0x02, 0, 0, 0, 1, 0x61 + c, 0, 0, 0, 0, 0, 0, 0, c]);
const end = (c: number): Buffer => {
  const p = prefix(c);
  p[p.length - 1]!++;
  return p;
};
const key = (c: number, i: number): Buffer => Buffer.concat([prefix(c), Buffer.from(String(i).padStart(5, '0'))]);

function scanned(s: Store, c: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  s.scanRange(7, prefix(c), end(c), false, (k, r) => {
    if (r.type === ValueType.Element) out.push([k.toString('latin1'), (r.value as Buffer).toString()]);
    return true;
  });
  return out;
}

function held(s: Store, c: number): Array<[string, string]> | undefined {
  return s.smallRange(7, prefix(c), end(c))?.map((e) => [e.id, e.value.toString()]);
}

async function store(): Promise<Store> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-snap-'));
  dirs.push(dir);
  const s = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: 0, checkpointIntervalMs: 600_000, checkpointEntries: 1_000_000 });
  open.push(s);
  return s;
}

describe('small ranges held whole', () => {
  it('show what a scan shows after random writes, checkpoints and FLUSHALL', async () => {
    const s = await store();
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let step = 0; step < 6000; step++) {
      const c = rand(3);
      const i = rand(c === 2 ? 1500 : 300);
      const op = rand(10);
      if (op < 5) s.put(7, key(c, i), elem(Buffer.from(`v${step}`)));
      else if (op < 9) s.put(7, key(c, i), tomb());
      else if (step % 7 === 0) await s.checkpoint();
      const look = rand(3);
      const want = scanned(s, look);
      const got = held(s, look);
      if (want.length > 1024) expect(got).toBeUndefined();
      else expect(got).toEqual(want);
    }
    await s.flushAll();
    for (let c = 0; c < 3; c++) expect(held(s, c)).toEqual([]);
    s.put(7, key(1, 5), elem(Buffer.from('after')));
    expect(held(s, 1)).toEqual([[key(1, 5).toString('latin1'), 'after']]);
  });

  it('are held again once small, and not for a part of a range', async () => {
    const s = await store();
    for (let i = 0; i < 1100; i++) s.put(7, key(0, i), elem(Buffer.from('x')));
    expect(held(s, 0)).toBeUndefined();
    for (let i = 0; i < 100; i++) s.put(7, key(0, i), tomb());
    expect(held(s, 0)).toHaveLength(1000);
    // Growing past the limit drops it; a part of a range is never held.
    for (let i = 0; i < 100; i++) s.put(7, key(0, i), elem(Buffer.from('y')));
    expect(held(s, 0)).toBeUndefined();
    expect(s.smallRange(7, key(0, 10), end(0))).toBeUndefined();
  });

  it('keep the value written, not the buffer it was written from', async () => {
    const s = await store();
    expect(held(s, 0)).toEqual([]);
    const v = Buffer.from('first');
    s.put(7, key(0, 1), elem(v));
    v.write('SECON');
    expect(held(s, 0)).toEqual([[key(0, 1).toString('latin1'), 'first']]);
  });
});

describe('RangeSnapshots', () => {
  it('forgets the least recently used range past its bytes, and a range past its entries', () => {
    const entries = (n: number): Array<{ id: string; value: Buffer }> => Array.from({ length: n }, (_, i) => ({ id: `k${i}`, value: Buffer.alloc(10) }));
    // About 600 bytes a range of three: four fit in 2,400.
    const snaps = new RangeSnapshots(4, 2400);
    for (const r of ['a', 'b', 'c', 'd']) snaps.set(r, entries(3));
    snaps.get('a');
    snaps.set('e', entries(3));
    snaps.set('f', entries(3));
    expect(['a', 'b', 'c', 'd', 'e', 'f'].filter((r) => snaps.holds(r))).toEqual(['a', 'd', 'e', 'f']);
    const few = new RangeSnapshots(4, 1 << 20);
    few.set('a', entries(3));
    few.noteWrite('a', 'k9', Buffer.alloc(1));
    expect(few.get('a')?.map((e) => e.id)).toEqual(['k0', 'k1', 'k2', 'k9']);
    few.noteWrite('a', 'k00', Buffer.alloc(1));
    expect(few.holds('a')).toBe(false);
    few.set('e', entries(5));
    expect(few.holds('e')).toBe(false);
  });
});
