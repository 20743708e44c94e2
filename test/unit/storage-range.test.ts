// Goal: Store.scanRange visits exactly the records get() would return for every internal-namespace
// key in [start, end) of one slot, in byte order forward and reverse, whichever of the active
// memtable, the frozen memtable and LMDB holds them; it stops when told, and starting a scan never
// sorts or walks the memtable. Method: real LMDB in a fresh temp dir; records spread over the
// three sources with checkpointNow() (a checkpoint large enough to span several event-loop turns
// leaves a frozen memtable to observe); every scan is compared with a Map model over seeded random
// bounds; a spy on the memtable's whole-table orderings proves a scan does not use them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INLINE_KEY_MAX, keyHash } from '../../src/storage/key-layout.js';
import { LmdbTables } from '../../src/storage/lmdb-tables.js';
import { entryKey, Memtable } from '../../src/storage/memtable.js';
import { encodeRecord } from '../../src/storage/record-codec.js';
import { Store, type StoreOptions } from '../../src/storage/store.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';

const dirs: string[] = [];
const open: Store[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-range-'));
  dirs.push(d);
  return d;
}

async function openStore(dir: string, extra: Partial<StoreOptions> = {}): Promise<Store> {
  const s = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: 1e12, checkpointIntervalMs: 600_000, logSegmentBytes: 1 << 20, ...extra });
  open.push(s);
  return s;
}

async function reopen(s: Store, dir: string): Promise<Store> {
  await s.close();
  open.splice(open.indexOf(s), 1);
  return openStore(dir);
}

let wall = 1_700_000_000_000;
function nextVersion(): Buffer {
  const v = Buffer.alloc(16);
  v.writeUIntBE(++wall, 0, 6);
  v.writeUInt32BE(1, 12);
  return v;
}

const str = (value: string): StoredRecord => ({ version: nextVersion(), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from(value) });
const tomb = (): StoredRecord => ({ version: nextVersion(), clock: [], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) });
/** What a visit saw: the string value, or 'T' for a tombstone. */
const shown = (r: StoredRecord): string => (r.type === ValueType.Tombstone ? 'T' : (r.value as Buffer).toString());

/** An element record key as the collection layout builds it: 0xFF ‖ kind ‖ u32 len ‖ key ‖ 8-byte generation ‖ sub-key. */
function elementKey(kind: number, user: string, sub: Buffer | string): Buffer {
  const u = Buffer.from(user);
  const head = Buffer.alloc(2 + 4);
  head[0] = 0xff;
  head[1] = kind;
  head.writeUInt32BE(u.length, 2);
  const gen = Buffer.alloc(8);
  gen.writeUInt32BE(7, 4);
  return Buffer.concat([head, u, gen, Buffer.isBuffer(sub) ? sub : Buffer.from(sub)]);
}

const NS_START = Buffer.from([0xff, 0x00]);
const NS_END = Buffer.from([0xff, 0xff]);

function scan(s: Store, slot: number, start: Buffer, end: Buffer, reverse: boolean, max = Infinity): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  s.scanRange(slot, start, end, reverse, (key, record) => {
    out.push([key.toString('hex'), shown(record)]);
    return out.length < max;
  });
  return out;
}

/** The model's records in [start, end), ascending or descending by key bytes. */
function expected(model: Map<string, string>, start: Buffer, end: Buffer, reverse: boolean): Array<[string, string]> {
  const out = [...model]
    .filter(([hex]) => {
      const key = Buffer.from(hex, 'hex');
      return Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0;
    })
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')));
  return reverse ? out.reverse() : out;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Compares seeded random ranges (bounds on keys, between keys, the whole namespace) in both directions. */
function checkAgainstModel(s: Store, slot: number, model: Map<string, string>, keys: Buffer[], seed: number): void {
  const r = rng(seed);
  const pick = (): Buffer => {
    const base = keys[Math.floor(r() * keys.length)]!;
    const roll = r();
    if (roll < 0.4) return base;
    if (roll < 0.7) return Buffer.concat([base, Buffer.from([Math.floor(r() * 256)])]);
    return base.subarray(0, Math.max(2, Math.floor(r() * base.length)));
  };
  const ranges: Array<[Buffer, Buffer]> = [[NS_START, NS_END]];
  for (let i = 0; i < 60; i++) ranges.push([pick(), pick()]);
  for (const [start, end] of ranges) {
    for (const reverse of [false, true]) {
      expect(scan(s, slot, start, end, reverse), `${start.toString('hex')}..${end.toString('hex')} reverse=${reverse}`).toEqual(expected(model, start, end, reverse));
    }
  }
}

describe('scanRange', () => {
  it('merges active, frozen and LMDB in byte order both ways, newest source winning, tombstones shown, removals hidden', async () => {
    const dir = tempDir();
    let s = await openStore(dir);
    const slot = 9;
    const model = new Map<string, string>();
    const keys: Buffer[] = [];
    const put = (key: Buffer, rec: StoredRecord): void => {
      s.put(slot, key, rec);
      model.set(key.toString('hex'), shown(rec));
    };
    // Sub-keys with bytes across the whole range, so byte order differs from any text order.
    for (let i = 0; i < 120; i++) {
      const sub = Buffer.from([(i * 37) & 0xff, i >> 3, 0x80 + (i % 5)]);
      keys.push(elementKey(1 + (i % 3), `h${i % 4}`, sub));
    }
    // Layer 1, LMDB: every key.
    keys.forEach((key, i) => put(key, str(`lmdb${i}`)));
    // Neighbours that must never show: user keys, escaped 0xFF 0xFF keys, the same elements in another slot.
    s.put(slot, Buffer.from('plain'), str('user'));
    s.put(slot, Buffer.from([0xff, 0xff, 0x01]), str('escaped user key'));
    s.put(slot + 1, keys[0]!, str('other slot'));
    await s.checkpointNow();
    // Layer 2, becomes the frozen memtable: a third of the keys, some as tombstones.
    keys.forEach((key, i) => {
      if (i % 3 === 0) put(key, i % 2 === 0 ? tomb() : str(`frozen${i}`));
    });
    // Enough filler (in another slot) that the checkpoint spans several event-loop turns.
    for (let i = 0; i < 12_000; i++) s.put(100, Buffer.from(`filler${i}`), str('f'));
    const checkpoint = s.checkpointNow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.stats().frozenEntries).toBeGreaterThan(0);
    // Layer 3, the active memtable: overwrites of LMDB and frozen records, local removals, new keys.
    keys.forEach((key, i) => {
      if (i % 5 === 0) put(key, str(`active${i}`));
      else if (i % 7 === 0) {
        s.drop(slot, key);
        model.delete(key.toString('hex'));
      } else if (i % 11 === 0) put(key, tomb());
    });
    for (let i = 0; i < 10; i++) {
      const key = elementKey(2, 'fresh', `n${i}`);
      keys.push(key);
      put(key, str(`new${i}`));
    }
    expect(s.stats().frozenEntries).toBeGreaterThan(0);
    checkAgainstModel(s, slot, model, keys, 1);
    // get() agrees with what the scan showed, key by key.
    for (const [hex, v] of model) expect(shown(s.get(slot, Buffer.from(hex, 'hex'))!)).toBe(v);
    await checkpoint;
    checkAgainstModel(s, slot, model, keys, 2);
    // All of it from LMDB after a restart (the drops reached LMDB as removals).
    s = await reopen(s, dir);
    checkAgainstModel(s, slot, model, keys, 3);
    expect(scan(s, slot + 1, NS_START, NS_END, false)).toEqual([[keys[0]!.toString('hex'), 'other slot']]);
  });

  it('stops as soon as visit returns false, in both directions and in every source', async () => {
    const s = await openStore(tempDir());
    const keys = Array.from({ length: 30 }, (_, i) => elementKey(4, 'z', `m${String(i).padStart(2, '0')}`));
    keys.forEach((key, i) => i < 10 && s.put(3, key, str(`v${i}`)));
    await s.checkpointNow();
    keys.forEach((key, i) => i >= 10 && s.put(3, key, str(`v${i}`)));
    const first = scan(s, 3, NS_START, NS_END, false, 3);
    expect(first.map(([, v]) => v)).toEqual(['v0', 'v1', 'v2']);
    const last = scan(s, 3, NS_START, NS_END, true, 2);
    expect(last.map(([, v]) => v)).toEqual(['v29', 'v28']);
    // The last record before a bound (what a ZSET's "highest score below x" needs).
    const below = scan(s, 3, NS_START, keys[12]!, true, 1);
    expect(below.map(([, v]) => v)).toEqual(['v11']);
    const belowLmdb = scan(s, 3, NS_START, keys[5]!, true, 1);
    expect(belowLmdb.map(([, v]) => v)).toEqual(['v4']);
    // Stopping left nothing open that blocks later writes and checkpoints.
    s.put(3, keys[0]!, str('again'));
    await s.checkpointNow();
    expect(scan(s, 3, keys[0]!, keys[1]!, false)).toEqual([[keys[0]!.toString('hex'), 'again']]);
  });

  it('judges a write of the element a scan stopped on by what LMDB holds, without reading LMDB again', async () => {
    const dir = tempDir();
    const first = await openStore(dir);
    const keys = Array.from({ length: 5 }, (_, i) => elementKey(4, 'q', `m${i}`));
    const stored = keys.map((key, i) => {
      const rec = str(`v${i}`);
      first.put(3, key, rec);
      return rec;
    });
    await first.checkpointNow();
    // Opened again: the elements are in LMDB only (no memtable keeps what it checkpointed).
    const s = await reopen(first, dir);
    const reads = vi.spyOn(LmdbTables.prototype, 'readRecord');
    // A pop: the first element, from LMDB, then its tombstone; then the next one the same way.
    for (const [i, reverse] of [[0, false], [4, true]] as const) {
      expect(scan(s, 3, NS_START, NS_END, reverse, 1)).toEqual([[keys[i]!.toString('hex'), `v${i}`]]);
      // Older than what LMDB holds: refused, and the refusal names LMDB's record.
      const stale = { ...tomb(), version: Buffer.from(stored[i]!.version) };
      stale.version.writeUIntBE(stale.version.readUIntBE(0, 6) - 1, 0, 6);
      const refused = s.put(3, keys[i]!, stale);
      expect(refused.applied).toBe(false);
      expect(shown(refused.previous!)).toBe(`v${i}`);
      expect(s.put(3, keys[i]!, tomb()).applied).toBe(true);
    }
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    expect(scan(s, 3, NS_START, NS_END, false).map(([, v]) => v)).toEqual(['T', 'v1', 'v2', 'v3', 'T']);
    await s.checkpointNow();
    expect(scan(s, 3, NS_START, NS_END, false).map(([, v]) => v)).toEqual(['T', 'v1', 'v2', 'v3', 'T']);
  });

  it('visits long keys with their full key, including those sharing the first INLINE_KEY_MAX bytes, and honours long bounds', async () => {
    const dir = tempDir();
    let s = await openStore(dir);
    const slot = 77;
    const prefix = 'p'.repeat(INLINE_KEY_MAX);
    const model = new Map<string, string>();
    const keys: Buffer[] = [];
    const add = (key: Buffer, v: string): void => {
      s.put(slot, key, str(v));
      model.set(key.toString('hex'), v);
      keys.push(key);
    };
    // Keys longer than INLINE_KEY_MAX sharing their prefix, a short key equal to that prefix's
    // start, and short neighbours on both sides.
    for (let i = 0; i < 6; i++) add(elementKey(5, 'big', prefix + `tail${i}`), `long${i}`);
    add(elementKey(5, 'big', prefix.slice(0, 100)), 'short-inside');
    add(elementKey(5, 'big', 'a'), 'short-before');
    add(elementKey(5, 'big', 'q'), 'short-after');
    add(elementKey(5, 'big', Buffer.concat([Buffer.from(prefix.slice(0, INLINE_KEY_MAX - 10)), Buffer.alloc(10, 0x70)])), 'short-prefix');
    await s.checkpointNow();
    add(elementKey(5, 'big', prefix + 'tail-active'), 'long-active');
    const sortKeys = (xs: Array<[string, string]>): Array<[string, string]> => [...xs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const check = (start: Buffer, end: Buffer): void => {
      for (const reverse of [false, true]) {
        const got = scan(s, slot, start, end, reverse);
        const want = expected(model, start, end, reverse);
        // Long keys sharing a prefix come in digest order: compare as sets, and the rest in order.
        expect(sortKeys(got)).toEqual(sortKeys(want));
        const isLong = ([hex]: [string, string]): boolean => hex.length / 2 > INLINE_KEY_MAX;
        expect(got.filter((e) => !isLong(e))).toEqual(want.filter((e) => !isLong(e)));
      }
    };
    check(NS_START, NS_END);
    const longs = keys.filter((key) => key.length > INLINE_KEY_MAX).sort(Buffer.compare);
    check(longs[2]!, longs[4]!);
    check(longs[1]!, NS_END);
    check(NS_START, longs[3]!);
    check(elementKey(5, 'big', 'b'), longs[0]!);
    for (const got of scan(s, slot, NS_START, NS_END, false)) expect(model.get(got[0])).toBe(got[1]);
    s = await reopen(s, dir);
    check(NS_START, NS_END);
    check(longs[2]!, longs[5]!);
  });

  it('shows nothing from before a FLUSHALL, before or after LMDB is cleared, and what was written after it', async () => {
    const dir = tempDir();
    let s = await openStore(dir);
    const a = elementKey(1, 'k', 'a');
    const b = elementKey(1, 'k', 'b');
    s.put(4, a, str('old-lmdb'));
    await s.checkpointNow();
    s.put(4, b, str('old-mem'));
    const flushed = s.flushAll();
    expect(scan(s, 4, NS_START, NS_END, false)).toEqual([]);
    s.put(4, b, str('new'));
    expect(scan(s, 4, NS_START, NS_END, false)).toEqual([[b.toString('hex'), 'new']]);
    await flushed;
    expect(scan(s, 4, NS_START, NS_END, true)).toEqual([[b.toString('hex'), 'new']]);
    s = await reopen(s, dir);
    expect(scan(s, 4, NS_START, NS_END, false)).toEqual([[b.toString('hex'), 'new']]);
  });

  it('refuses ranges outside the internal namespace and visits nothing for empty ranges', async () => {
    const s = await openStore(tempDir());
    const a = elementKey(1, 'k', 'a');
    s.put(0, a, str('v'));
    const noop = (): boolean => true;
    expect(() => s.scanRange(0, Buffer.from('a'), NS_END, false, noop)).toThrow(RangeError);
    expect(() => s.scanRange(0, NS_START, Buffer.from([0xff, 0xff, 0x00]), false, noop)).toThrow(RangeError);
    expect(() => s.scanRange(16384, NS_START, NS_END, false, noop)).toThrow(RangeError);
    expect(scan(s, 0, a, a, false)).toEqual([]);
    expect(scan(s, 0, NS_END, NS_START, true)).toEqual([]);
    expect(scan(s, 0, a, Buffer.concat([a, Buffer.from([0])]), true)).toEqual([[a.toString('hex'), 'v']]);
  });

  it('starts without sorting or walking the memtable, however many entries it holds', async () => {
    const s = await openStore(tempDir(), { checkpointEntries: 1e9 });
    for (let i = 0; i < 200_000; i++) s.put(i % 16384, Buffer.from(`user${i}`), str('x'));
    const sorted = vi.spyOn(Memtable.prototype, 'sorted');
    const sortedSlot = vi.spyOn(Memtable.prototype, 'sortedSlot');
    const started = performance.now();
    for (let i = 0; i < 2000; i++) {
      s.put(5, elementKey(3, 'list', `e${String(i).padStart(5, '0')}`), str(`v${i}`));
      const seen = scan(s, 5, NS_START, NS_END, i % 2 === 1, 5);
      expect(seen.length).toBe(Math.min(5, i + 1));
    }
    const ms = performance.now() - started;
    expect(sorted).not.toHaveBeenCalled();
    expect(sortedSlot).not.toHaveBeenCalled();
    // A walk of 200k entries per scan would take seconds for 2000 scans; seeks take milliseconds.
    expect(ms).toBeLessThan(2000);
  });
});

describe('Memtable ordered index', () => {
  it('holds internal-namespace keys only and iterates a range both ways', () => {
    const m = new Memtable();
    const encoded = encodeRecord(str('v'));
    const insert = (slot: number, key: Buffer): void => {
      m.insert(slot, key, keyHash(slot, key), encoded, 0, -1, false);
    };
    insert(1, Buffer.from('plain'));
    insert(1, Buffer.from([0xff, 0xff, 0x41]));
    insert(1, Buffer.from([0xff, 0x01, 0x41]));
    insert(1, Buffer.from([0xff, 0x01, 0x40]));
    insert(2, Buffer.from([0xff, 0x01, 0x39]));
    const ids = (reverse: boolean): string[] => [...m.rangeEntries('\u0000', '\uffff', reverse)].map((e) => `${e.slot}:${entryKey(e).toString('hex')}`);
    expect(ids(false)).toEqual(['1:ff0140', '1:ff0141', '2:ff0139']);
    expect(ids(true)).toEqual(['2:ff0139', '1:ff0141', '1:ff0140']);
  });
});
