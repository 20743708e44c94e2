// Goal: a walk through the range cache hands out exactly what LMDB holds in its range, in order,
// forward and reverse, whatever earlier walks left cached: runs replayed and then continued from
// LMDB, walks stopped early, narrower and wider bounds than the walk that filled a run, a walk
// nested inside another over the same run, and eviction under a small byte bound. Method: real
// LMDB in a temp dir; seeded random bounds and stop points; every walk compared with a plain
// uncached LMDB range read of the same bounds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LmdbTables } from '../../src/storage/lmdb-tables.js';
import { RangeCache, type LmdbCursor } from '../../src/storage/range-cache.js';
import { encodeRecord } from '../../src/storage/record-codec.js';
import { ValueType } from '../../src/storage/types.js';
import { mulberry32 as rng } from '../sim/prng.js';

const dirs: string[] = [];
const tables: LmdbTables[] = [];

afterEach(async () => {
  for (const t of tables.splice(0)) await t.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Storage keys of short keys in slot 7: 2-byte slot ‖ 0x00-free bytes, as key-layout lays them out. */
function storageKey(i: number): Buffer {
  return Buffer.concat([Buffer.from([0x00, 0x07]), Buffer.from(`k${String(i).padStart(5, '0')}`)]);
}

async function filled(count: number, step: number): Promise<LmdbTables> {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-range-cache-'));
  dirs.push(d);
  const t = LmdbTables.open(d);
  tables.push(t);
  for (let i = 0; i < count; i += step) {
    const version = Buffer.alloc(16);
    version.writeUInt32BE(i + 1, 12);
    await t.data.put(storageKey(i), encodeRecord({ version, clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from(`v${i}`) }));
  }
  t.refreshReads();
  return t;
}

const id = (i: number): string => storageKey(i).toString('latin1');

/** Takes up to `take` entries from a cursor: their ids and values. */
function walk(c: LmdbCursor, take: number): string[] {
  const out: string[] = [];
  for (let n = 0; n < take; n++) {
    const e = c.next();
    if (e === undefined) break;
    out.push(`${e.id}=${(e.record.value as Buffer).toString()}`);
  }
  c.close();
  return out;
}

describe('RangeCache', () => {
  it('hands out what LMDB holds, forward and reverse, over random bounds and stops', async () => {
    const t = await filled(3000, 3);
    const plain = new RangeCache(0);
    for (const max of [16 << 20, 40_000]) {
      const cache = new RangeCache(max);
      const r = rng(max);
      for (let n = 0; n < 1500; n++) {
        // Few distinct bounds, so runs are replayed, continued and read with other far bounds.
        const a = Math.floor(r() * 40) * 75;
        const b = a + 1 + Math.floor(r() * 600);
        const reverse = r() < 0.5;
        const take = r() < 0.3 ? 1e9 : 1 + Math.floor(r() * 150);
        const got = walk(cache.cursor(t.data, id(a), id(b), reverse), take);
        const want = walk(plain.cursor(t.data, id(a), id(b), reverse), take);
        expect(got, `walk ${n}: [${a}, ${b}) reverse=${reverse} take=${take}`).toEqual(want);
      }
      const s = cache.stats();
      // The small bound holds about a hundred entries: runs are evicted almost as soon as filled.
      if (max > 1e6) expect(s.rangeCacheHits).toBeGreaterThan(500);
      else expect(s.rangeCacheEntries).toBeLessThan(100);
      expect(s.rangeCacheBytes).toBeLessThanOrEqual(max);
    }
  });

  it('a walk nested in another over the same run sees the same entries', async () => {
    const t = await filled(500, 1);
    const cache = new RangeCache(16 << 20);
    const plain = new RangeCache(0);
    const want = walk(plain.cursor(t.data, id(10), id(400), false), 1e9);
    // A run is cached from its second read on.
    walk(cache.cursor(t.data, id(10), id(400), false), 5);
    walk(cache.cursor(t.data, id(10), id(400), false), 20);
    // The outer walk replays 20 and opens LMDB; the inner one extends the run meanwhile.
    const outer = cache.cursor(t.data, id(10), id(400), false);
    const got: string[] = [];
    for (let n = 0; ; n++) {
      const e = outer.next();
      if (e === undefined) break;
      got.push(`${e.id}=${(e.record.value as Buffer).toString()}`);
      if (n === 30) expect(walk(cache.cursor(t.data, id(10), id(400), false), 200)).toEqual(want.slice(0, 200));
    }
    expect(got).toEqual(want);
    expect(walk(cache.cursor(t.data, id(10), id(400), false), 1e9)).toEqual(want);
  });

  it('clear() forgets what LMDB held, so a changed LMDB is read anew', async () => {
    const t = await filled(100, 1);
    const cache = new RangeCache(16 << 20);
    expect(walk(cache.cursor(t.data, id(0), id(100), false), 1e9)).toHaveLength(100);
    expect(walk(cache.cursor(t.data, id(0), id(100), false), 1e9)).toHaveLength(100);
    expect(cache.stats().rangeCacheEntries).toBe(100);
    await t.data.remove(storageKey(5));
    t.refreshReads();
    cache.clear();
    const after = walk(cache.cursor(t.data, id(0), id(100), false), 1e9);
    expect(after).toHaveLength(99);
    expect(after.some((e) => e.startsWith(id(5)))).toBe(false);
  });

  it('caches a range from its second read, and never one-off probes', async () => {
    const t = await filled(2000, 1);
    const cache = new RangeCache(16 << 20);
    for (let i = 0; i < 1000; i++) walk(cache.cursor(t.data, id(i), id(2000), false), 2);
    expect(cache.stats()).toMatchObject({ rangeCacheHits: 0, rangeCacheEntries: 0 });
    walk(cache.cursor(t.data, id(999), id(2000), false), 2);
    walk(cache.cursor(t.data, id(999), id(2000), false), 2);
    expect(cache.stats()).toMatchObject({ rangeCacheHits: 1, rangeCacheEntries: 2 });
  });

  it('remembers at least the last 2,048 bounds read once, however many probes came before', async () => {
    const t = await filled(12000, 1);
    const cache = new RangeCache(16 << 20);
    // Many more one-off bounds than it remembers: the early ones are forgotten...
    for (let i = 0; i < 10000; i++) walk(cache.cursor(t.data, id(i), id(12000), false), 1);
    walk(cache.cursor(t.data, id(0), id(12000), false), 1);
    expect(cache.stats()).toMatchObject({ rangeCacheEntries: 0 });
    // ...the last 2,048 are not: a second read of one caches it.
    walk(cache.cursor(t.data, id(10000 - 2048), id(12000), false), 1);
    expect(cache.stats().rangeCacheEntries).toBe(1);
  });
});
