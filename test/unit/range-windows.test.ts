// Goal: what the store holds of element ranges in memory (range-windows.ts) always shows what a
// scan shows, whatever wrote to it: puts, deletions, overwrites, purges at checkpoints, FLUSHALL.
// Whole small ranges (random picks): a range grown past 1,024 elements is not held, and is held
// again once it is small; a held value does not change when the buffer it was written from does.
// Stretches read from either end (pops, ZRANGE 0 9, LRANGE 0 99): readElements answers what a
// scan answers, from either end and from inside, in chunks, while writes land inside, before and
// after the stretch held. Method: a real Store (LMDB in a temp dir); seeded random writes over
// three collections' ranges, checkpoints among them; after every step smallRange and
// readElements are compared with scanRange's live records.
import { describe, expect, it } from 'vitest';
import { rangeOfKey } from '../../src/storage/dead-runs.js';
import { ElementReader } from '../../src/storage/element-reads.js';
import { RangeWindows } from '../../src/storage/range-windows.js';
import type { Store } from '../../src/storage/store.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';
import { tempStores, versions } from '../helpers/temp-store.js';
import { mulberry32 as rng } from '../sim/prng.js';

const openStore = tempStores('ringkv-windows-');
const version = versions();
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

/**
 * readElements over [from, to) of collection c (whole-range bounds when undefined), chunk by chunk
 * of `n` until nothing is left or `chunks` were read, as [id, value] in read order.
 */
function read(s: Store, c: number, reverse: boolean, n: number, chunks: number, from?: Buffer, to?: Buffer): Array<[string, string]> {
  let lo = from ?? prefix(c);
  let hi = to ?? end(c);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < chunks; i++) {
    const { entries, next } = s.readElements(7, lo, hi, reverse, n);
    expect(entries.length).toBeLessThanOrEqual(n);
    for (const [k, v] of entries) out.push([k.toString('latin1'), v.toString()]);
    if (next === undefined) break;
    expect(entries).toHaveLength(n);
    if (reverse) hi = next;
    else lo = next;
  }
  return out;
}

function held(s: Store, c: number): Array<[string, string]> | undefined {
  return s.smallRange(7, prefix(c), end(c))?.map((e) => [e.id, e.value.toString()]);
}

function store(): Promise<Store> {
  return openStore({ appendfsync: 'no', tombstoneGraceMs: 0, checkpointIntervalMs: 600_000, checkpointEntries: 1_000_000 });
}

describe('small ranges held whole', () => {
  it('show what a scan shows after random writes, checkpoints and FLUSHALL', async () => {
    const s = await store();
    const next = rng(12345);
    const rand = (n: number): number => Math.floor(next() * n);
    // The third collection starts big (past 1,024, so held only by stretches) and in LMDB.
    for (let i = 0; i < 4000; i += 2) s.put(7, key(2, i), elem(Buffer.from(`first${i}`)));
    await s.checkpoint();
    for (let step = 0; step < 8000; step++) {
      const c = rand(3);
      const i = rand(c === 2 ? 4000 : 300);
      const op = rand(10);
      if (op < 5) s.put(7, key(c, i), elem(Buffer.from(`v${step}`)));
      else if (op < 9) s.put(7, key(c, i), tomb());
      else if (step % 7 === 0) await s.checkpoint();
      const look = rand(3);
      const want = scanned(s, look);
      const got = held(s, look);
      if (want.length > 1024) expect(got).toBeUndefined();
      else expect(got).toEqual(want);
      // A read from an end or from inside, of a few chunks: what the scan shows there, in order.
      const reverse = rand(2) === 1;
      const n = [1, 1, 5, 16, 128][rand(5)]!;
      const chunks = 1 + rand(4);
      const inside = rand(4) === 0 ? key(look, rand(look === 2 ? 4000 : 300)) : undefined;
      const from = reverse ? undefined : inside;
      const to = reverse ? inside : undefined;
      let span = want.filter(([id]) => (from === undefined || id >= from.toString('latin1')) && (to === undefined || id < to.toString('latin1')));
      if (reverse) span = span.reverse();
      expect(read(s, look, reverse, n, chunks, from, to), `step ${step}`).toEqual(span.slice(0, n * chunks));
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

  it('do not scan a range again that was found too big, until an element there is removed', () => {
    // A size that says "small" while the range holds more (a cluster's drifted count) must not
    // make every pick scan 1,025 elements first.
    const keys = Array.from({ length: 1100 }, (_, i) => key(0, i));
    let scans = 0;
    const reader = new ElementReader((_slot, start, stop, _reverse, visit) => {
      scans++;
      for (const k of keys) {
        if (Buffer.compare(k, start) < 0 || Buffer.compare(k, stop) >= 0) continue;
        if (!visit(k, elem(Buffer.from('x')))) return;
      }
    }, 512);
    for (let i = 0; i < 5; i++) expect(reader.small(7, prefix(0), end(0))).toBeUndefined();
    expect(scans).toBe(1);
    // An element added there leaves it too big; one removed may make it small.
    const range = rangeOfKey(7, keys[0]!)!;
    reader.windows.noteWrite(range, keys[0]!.toString('latin1'), keys[0]!, Buffer.from('y'));
    expect(reader.small(7, prefix(0), end(0))).toBeUndefined();
    expect(scans).toBe(1);
    keys.splice(0, 100);
    reader.windows.noteWrite(range, key(0, 0).toString('latin1'), key(0, 0), undefined);
    expect(reader.small(7, prefix(0), end(0))).toHaveLength(1000);
    expect(scans).toBe(2);
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

describe('RangeWindows', () => {
  it('forgets the least recently used range past its bytes, and a range past its entries', () => {
    const entries = (n: number): Array<{ id: string; key: Buffer; value: Buffer }> => Array.from({ length: n }, (_, i) => ({ id: `k${i}`, key: Buffer.from(`k${i}`), value: Buffer.alloc(10) }));
    // About 660 bytes a window of three: four fit in 2,800.
    const snaps = new RangeWindows(4, 2800);
    for (const r of ['a', 'b', 'c', 'd']) snaps.set(r, false, entries(3), 'a', 'z');
    snaps.get('a', false);
    snaps.set('e', false, entries(3), 'a', 'z');
    snaps.set('f', false, entries(3), 'a', 'z');
    expect(['a', 'b', 'c', 'd', 'e', 'f'].filter((r) => snaps.holds(r))).toEqual(['a', 'd', 'e', 'f']);
    const few = new RangeWindows(4, 1 << 20);
    few.set('a', true, entries(3), 'a', 'z');
    few.noteWrite('a', 'k9', Buffer.from('k9'), Buffer.alloc(1));
    expect(few.get('a', true)?.entries.map((e) => e.id)).toEqual(['k0', 'k1', 'k2', 'k9']);
    // Full: a window read from the high end gives up its low end, and says so.
    few.noteWrite('a', 'k00', Buffer.from('k00'), Buffer.alloc(1));
    expect(few.get('a', true)).toMatchObject({ lo: 'k00', hi: 'z' });
    expect(few.get('a', true)?.entries.map((e) => e.id)).toEqual(['k00', 'k1', 'k2', 'k9']);
    // Outside the stretch held: nothing to note.
    few.noteWrite('a', 'A', Buffer.from('A'), Buffer.alloc(1));
    expect(few.get('a', true)?.entries).toHaveLength(4);
    few.set('e', false, entries(5), 'a', 'z');
    expect(few.holds('e')).toBe(false);
  });
});
