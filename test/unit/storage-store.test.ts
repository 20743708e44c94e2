// Goal: Store keeps Redis semantics and its own promises (LWW, tombstones, exact counts, ordered
// scans, expiry, FLUSHALL, restart) whether a record sits in the active memtable, the frozen one,
// the last checkpointed one (kept as a cache) or LMDB. Method: real LMDB in a fresh temp dir per test; checkpoints forced with checkpointNow()
// or close/open so each behaviour is checked on both sides of the memtable/LMDB boundary; a seeded
// random workload compared against a plain Map model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../src/storage/store.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';

const dirs: string[] = [];
const open: Store[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-store-'));
  dirs.push(d);
  return d;
}

async function openStore(dir: string, extra: Partial<StoreOptions> = {}): Promise<Store> {
  const s = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0, checkpointIntervalMs: 60_000, logSegmentBytes: 256 * 1024, ...extra });
  open.push(s);
  return s;
}

async function reopen(s: Store, dir: string, extra: Partial<StoreOptions> = {}): Promise<Store> {
  await s.close();
  open.splice(open.indexOf(s), 1);
  return openStore(dir, extra);
}

let wall = 1_700_000_000_000;
function nextVersion(): Buffer {
  const v = Buffer.alloc(16);
  v.writeUIntBE(++wall, 0, 6);
  v.writeUInt32BE(1, 12);
  return v;
}

function str(value: string, expiresAt = 0, version = nextVersion()): StoredRecord {
  return { version, clock: [], type: ValueType.String, expiresAt, value: Buffer.from(value) };
}

function tomb(version = nextVersion()): StoredRecord {
  return { version, clock: [], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) };
}

const k = (s: string): Buffer => Buffer.from(s);
const val = (r: StoredRecord | undefined): string | undefined => (r && r.type === ValueType.String ? (r.value as Buffer).toString() : undefined);
const durable = (s: Store): Promise<void> => new Promise((resolve, reject) => s.afterDurable((err) => (err ? reject(err) : resolve())));

function allKeys(s: Store, now = 0, limit = 7): string[] {
  const out: string[] = [];
  let pos: { slot: number; after?: Buffer } | null = { slot: 0 };
  for (let guard = 0; pos && guard < 100_000; guard++) {
    const r = s.scan(pos, limit, now);
    for (const e of r.entries) out.push(`${e.slot}:${e.key.toString('latin1')}`);
    pos = r.next;
  }
  return out;
}

describe('Store basics', () => {
  it('puts and gets strings and hashes, visible at once and durable after afterDurable', async () => {
    const dir = tempDir();
    const s = await openStore(dir);
    expect(s.get(1, k('a'))).toBeUndefined();
    const out = s.put(1, k('a'), str('1'));
    expect(out).toEqual({ applied: true, previous: undefined });
    expect(val(s.get(1, k('a')))).toBe('1');
    const hash = new Map([['f', Buffer.from('v')]]);
    s.put(2, k('h'), { version: nextVersion(), clock: [{ node: '0000000000000001', counter: 1 }], type: ValueType.LegacyHash, expiresAt: 0, value: hash });
    expect(s.hasPendingDurability()).toBe(true);
    await durable(s);
    expect(s.hasPendingDurability()).toBe(false);
    const s2 = await reopen(s, dir);
    expect(val(s2.get(1, k('a')))).toBe('1');
    const h = s2.get(2, k('h'))!;
    expect(h.type).toBe(ValueType.LegacyHash);
    expect((h.value as Map<string, Buffer>).get('f')!.toString()).toBe('v');
    expect(h.clock).toEqual([{ node: '0000000000000001', counter: 1 }]);
    expect(s2.keyCount()).toBe(2);
  });

  it('applies last-writer-wins in the memtable and against LMDB', async () => {
    const s = await openStore(tempDir());
    const v1 = nextVersion();
    const v2 = nextVersion();
    s.put(3, k('x'), str('new', 0, v2));
    const older = s.put(3, k('x'), str('old', 0, v1));
    expect(older.applied).toBe(false);
    expect(val(older.previous)).toBe('new');
    expect(s.put(3, k('x'), str('same', 0, v2)).applied).toBe(false);
    await s.checkpointNow();
    expect(s.put(3, k('x'), str('old', 0, v1)).applied).toBe(false);
    expect(val(s.get(3, k('x')))).toBe('new');
    const newer = s.put(3, k('x'), str('newer'));
    expect(newer.applied).toBe(true);
    expect(val(newer.previous)).toBe('new');
  });

  it('rejects invalid slots and records without changing anything', async () => {
    const s = await openStore(tempDir());
    expect(() => s.put(16384, k('a'), str('x'))).toThrow(/slot/);
    expect(() => s.put(-1, k('a'), str('x'))).toThrow(/slot/);
    expect(() => s.put(0, k('a'), { ...str('x'), version: Buffer.alloc(3) })).toThrow(/16-byte/);
    expect(() => s.put(0, k('a'), { ...str('x'), expiresAt: -5 })).toThrow(/expiresAt/);
    expect(s.get(0, k('a'))).toBeUndefined();
    expect(s.keyCount()).toBe(0);
    expect(s.hasPendingDurability()).toBe(false);
  });

  it('accepts the empty key', async () => {
    const dir = tempDir();
    const s = await openStore(dir);
    s.put(0, Buffer.alloc(0), str('empty'));
    const s2 = await reopen(s, dir);
    expect(val(s2.get(0, Buffer.alloc(0)))).toBe('empty');
    expect(allKeys(s2)).toEqual(['0:']);
  });
});

describe('tombstones', () => {
  it('hide the key from scans and counts but stay readable raw', async () => {
    const s = await openStore(tempDir(), { tombstoneGraceMs: 10_000 });
    s.put(7, k('a'), str('1'));
    s.put(7, k('b'), str('2'));
    expect(s.keyCount()).toBe(2);
    const del = s.put(7, k('a'), tomb());
    expect(del.applied).toBe(true);
    expect(s.keyCount()).toBe(1);
    expect(s.get(7, k('a'))!.type).toBe(ValueType.Tombstone);
    expect(allKeys(s)).toEqual(['7:b']);
    expect(s.scanSlotRaw(7, undefined, 10).entries.map((e) => e.key.toString())).toEqual(['a', 'b']);
    expect(s.countKeysInSlot(7, 0)).toBe(1);
    // An older write must not resurrect the key.
    const stale = { ...str('stale'), version: Buffer.from(s.get(7, k('b'))!.version) };
    stale.version.writeUIntBE(1, 0, 6);
    expect(s.put(7, k('a'), stale).applied).toBe(false);
  });

  it('are kept through checkpoints for the grace period, then purged by expireCycle', async () => {
    const dir = tempDir();
    let s = await openStore(dir, { tombstoneGraceMs: 5_000 });
    s.put(9, k('gone'), str('v'));
    const t = tomb();
    const deletedAt = t.version.readUIntBE(0, 6);
    expect(s.put(9, k('gone'), t).applied).toBe(true);
    s = await reopen(s, dir, { tombstoneGraceMs: 5_000 });
    expect(s.get(9, k('gone'))!.type).toBe(ValueType.Tombstone);
    expect(s.keyCount()).toBe(0);
    expect(s.expireCycle(deletedAt + 4_999, 100)).toBe(0);
    expect(s.get(9, k('gone'))).toBeDefined();
    expect(s.expireCycle(deletedAt + 5_000, 100)).toBe(1);
    expect(s.get(9, k('gone'))).toBeUndefined();
    s = await reopen(s, dir, { tombstoneGraceMs: 5_000 });
    expect(s.get(9, k('gone'))).toBeUndefined();
    expect(s.stats().keys).toBe(0);
  });

  it('are dropped at checkpoint when the grace is 0 (standalone)', async () => {
    const dir = tempDir();
    let s = await openStore(dir);
    s.put(1, k('a'), str('v'));
    await s.checkpointNow();
    s.put(1, k('a'), tomb());
    expect(s.get(1, k('a'))!.type).toBe(ValueType.Tombstone);
    s = await reopen(s, dir);
    expect(s.get(1, k('a'))).toBeUndefined();
    expect(s.keyCount()).toBe(0);
  });
});

describe('long keys', () => {
  it('store, read, scan and survive restart for 10 KB and 1 MB keys, in key order', async () => {
    const dir = tempDir();
    let s = await openStore(dir);
    const k10 = Buffer.alloc(10 * 1024, 'm');
    const k1m = Buffer.alloc(1024 * 1024, 'm');
    k1m[k1m.length - 1] = 'z'.charCodeAt(0);
    const shortBefore = Buffer.from('l'.repeat(50));
    const shortAfter = Buffer.from('n');
    const prefixOfLong = Buffer.alloc(1900, 'm');
    for (const key of [k10, k1m, shortBefore, shortAfter, prefixOfLong]) s.put(5, key, str(`len${key.length}`));
    const check = (st: Store): void => {
      expect(val(st.get(5, k10))).toBe('len10240');
      expect(val(st.get(5, k1m))).toBe(`len${1024 * 1024}`);
      expect(st.get(5, Buffer.alloc(10 * 1024 + 1, 'm'))).toBeUndefined();
      const keys = allKeys(st, 0, 2).map((x) => x.slice(2));
      expect(keys.map((x) => x.length)).toEqual([50, 1900, 10 * 1024, 1024 * 1024, 1]);
      expect(keys[3]).toBe(k1m.toString('latin1'));
      expect(st.keyCount()).toBe(5);
    };
    check(s);
    await s.checkpointNow();
    check(s);
    s = await reopen(s, dir);
    check(s);
    // Overwrite and delete through LMDB-resident long keys.
    s.put(5, k1m, str('again'));
    s.drop(5, k10);
    s = await reopen(s, dir);
    expect(val(s.get(5, k1m))).toBe('again');
    expect(s.get(5, k10)).toBeUndefined();
    expect(s.keyCount()).toBe(4);
  });
});

describe('long keys and indexes', () => {
  it('expires and purges long keys found through the LMDB indexes', async () => {
    const s = await openStore(tempDir(), { tombstoneGraceMs: 100 });
    const ttlKey = Buffer.alloc(5000, 't');
    const delKey = Buffer.alloc(6000, 'd');
    s.put(3, ttlKey, str('soon', 1000));
    s.put(3, delKey, str('x'));
    const t = tomb();
    s.put(3, delKey, t);
    await s.checkpointNow();
    expect(s.expiresCount()).toBe(1);
    const deletedAt = t.version.readUIntBE(0, 6);
    expect(s.expireCycle(deletedAt + 100, 10)).toBe(2);
    expect(s.get(3, ttlKey)).toBeUndefined();
    expect(s.get(3, delKey)).toBeUndefined();
    expect(s.keyCount()).toBe(0);
    expect(s.expiresCount()).toBe(0);
    await s.checkpointNow();
    expect(s.scanSlotRaw(3, undefined, 10).entries).toEqual([]);
  });
});

describe('scan', () => {
  it('merges active memtable, frozen memtable and LMDB in order, newest source winning', async () => {
    const s = await openStore(tempDir());
    const model = new Map<string, string>();
    const put = (slot: number, key: string, v: string): void => {
      s.put(slot, k(key), str(v));
      model.set(`${slot}:${key}`, v);
    };
    for (let i = 0; i < 60; i++) put(i % 3, `k${String(i).padStart(3, '0')}`, `a${i}`);
    await s.checkpointNow();
    for (let i = 30; i < 90; i++) put(i % 3, `k${String(i).padStart(3, '0')}`, `b${i}`);
    for (let i = 0; i < 90; i += 7) {
      s.drop(i % 3, k(`k${String(i).padStart(3, '0')}`));
      model.delete(`${i % 3}:k${String(i).padStart(3, '0')}`);
    }
    for (let i = 1; i < 90; i += 11) {
      s.put(i % 3, k(`k${String(i).padStart(3, '0')}`), tomb());
      model.delete(`${i % 3}:k${String(i).padStart(3, '0')}`);
    }
    const expected = [...model.keys()].sort((a, b) => {
      const [sa, ka] = a.split(':');
      const [sb, kb] = b.split(':');
      return Number(sa) - Number(sb) || (ka! < kb! ? -1 : ka! > kb! ? 1 : 0);
    });
    for (const limit of [1, 3, 10, 1000]) expect(allKeys(s, 0, limit)).toEqual(expected);
    expect(s.keyCount()).toBe(model.size);
    for (const [id, v] of model) {
      const [slot, key] = id.split(':');
      expect(val(s.get(Number(slot), k(key!)))).toBe(v);
    }
    // Mid-checkpoint: writes land in the active memtable while the frozen one is written.
    const pending = s.checkpointNow();
    put(2, 'k000', 'during');
    expect(allKeys(s, 0, 5)).toEqual([...expected, '2:k000'].sort((a, b) => {
      const [sa, ka] = a.split(':');
      const [sb, kb] = b.split(':');
      return Number(sa) - Number(sb) || (ka! < kb! ? -1 : ka! > kb! ? 1 : 0);
    }));
    await pending;
    expect(val(s.get(2, k('k000')))).toBe('during');
  });

  it('skips expired records, continues from a position and reads raw slots', async () => {
    const s = await openStore(tempDir());
    s.put(4, k('a'), str('1', 1000));
    s.put(4, k('b'), str('2'));
    s.put(4, k('c'), str('3', 5000));
    s.put(6, k('d'), str('4'));
    expect(allKeys(s, 2000)).toEqual(['4:b', '4:c', '6:d']);
    expect(s.scan({ slot: 4, after: k('b') }, 10, 0).entries.map((e) => e.key.toString())).toEqual(['c', 'd']);
    const raw1 = s.scanSlotRaw(4, undefined, 2);
    expect(raw1.entries.map((e) => e.key.toString())).toEqual(['a', 'b']);
    expect(raw1.next!.toString()).toBe('b');
    const raw2 = s.scanSlotRaw(4, raw1.next!, 2);
    expect(raw2.entries.map((e) => e.key.toString())).toEqual(['c']);
    expect(raw2.next).toBeNull();
    expect(s.scanSlotRaw(5, undefined, 10)).toEqual({ entries: [], next: null });
    expect(s.countKeysInSlot(4, 2000)).toBe(2);
    expect(s.countKeysInSlot(4, 0)).toBe(3);
    expect(s.countKeysInSlot(6, 0)).toBe(1);
  });

  it('returns early on long runs of hidden records but always makes progress', async () => {
    const s = await openStore(tempDir(), { tombstoneGraceMs: 1000 });
    for (let i = 0; i < 3000; i++) s.put(0, k(`t${String(i).padStart(5, '0')}`), tomb());
    s.put(0, k('zzz'), str('live'));
    await s.checkpointNow();
    let calls = 0;
    let pos: { slot: number; after?: Buffer } | null = { slot: 0 };
    const found: string[] = [];
    while (pos) {
      const r = s.scan(pos, 1, 0);
      calls++;
      found.push(...r.entries.map((e) => e.key.toString()));
      pos = r.next;
    }
    expect(found).toEqual(['zzz']);
    expect(calls).toBeGreaterThan(1);
  });
});

describe('expiry', () => {
  it('expireCycle removes expired records from the memtable and through the LMDB index, bounded by maxWork', async () => {
    const dir = tempDir();
    let s = await openStore(dir);
    for (let i = 0; i < 50; i++) s.put(i % 5, k(`e${i}`), str('x', 1000 + i));
    s.put(0, k('later'), str('y', 10_000));
    s.put(0, k('forever'), str('z'));
    expect(s.keyCount()).toBe(52);
    expect(s.expiresCount()).toBe(51);
    // Still in the memtable, where LMDB's index cannot see them yet: reaped all the same.
    expect(s.expireCycle(5000, 20)).toBe(20);
    expect(s.keyCount()).toBe(32);
    await s.checkpointNow();
    expect(s.expireCycle(5000, 1000)).toBe(30);
    expect(s.expireCycle(5000, 1000)).toBe(0);
    expect(s.keyCount()).toBe(2);
    expect(s.expiresCount()).toBe(1);
    expect(s.get(0, k('e0'))).toBeUndefined();
    s = await reopen(s, dir);
    expect(s.keyCount()).toBe(2);
    expect(s.expiresCount()).toBe(1);
    expect(s.expireCycle(20_000, 1000)).toBe(1);
    expect(s.keyCount()).toBe(1);
    expect(s.expiresCount()).toBe(0);
  });

  it('does not reap a record whose TTL was changed or removed after indexing', async () => {
    const s = await openStore(tempDir());
    s.put(1, k('a'), str('v', 1000));
    s.put(1, k('b'), str('v', 1000));
    await s.checkpointNow();
    s.put(1, k('a'), str('persisted'));
    s.put(1, k('b'), str('extended', 9000));
    expect(s.expireCycle(5000, 100)).toBe(0);
    await s.checkpointNow();
    expect(s.expireCycle(5000, 100)).toBe(0);
    expect(s.expireCycle(9000, 100)).toBe(1);
    expect(val(s.get(1, k('a')))).toBe('persisted');
    expect(s.expiresCount()).toBe(0);
  });
});

describe('counts, meta, restart and FLUSHALL', () => {
  it('keeps exact counts through overwrites, drops and restarts, and keeps meta', async () => {
    const dir = tempDir();
    let s = await openStore(dir);
    for (let i = 0; i < 100; i++) s.put(i % 10, k(`c${i}`), str('v', i % 4 === 0 ? 1e12 : 0));
    for (let i = 0; i < 100; i += 2) s.put(i % 10, k(`c${i}`), str('w'));
    for (let i = 0; i < 100; i += 5) s.drop(i % 10, k(`c${i}`));
    s.drop(0, k('never-existed'));
    const keys = s.keyCount();
    const expires = s.expiresCount();
    const perSlot = Array.from({ length: 10 }, (_, slot) => s.countKeysInSlot(slot, 0));
    expect(keys).toBe(80);
    expect(expires).toBe(0);
    await s.setMeta('hlc', Buffer.from([1, 2, 3]));
    expect(s.getMeta('hlc')).toEqual(Buffer.from([1, 2, 3]));
    expect(s.getMeta('missing')).toBeUndefined();
    s = await reopen(s, dir);
    expect(s.keyCount()).toBe(keys);
    expect(s.expiresCount()).toBe(expires);
    expect(Array.from({ length: 10 }, (_, slot) => s.countKeysInSlot(slot, 0))).toEqual(perSlot);
    expect(s.getMeta('hlc')).toEqual(Buffer.from([1, 2, 3]));
    const st = s.stats();
    expect(st.keys).toBe(keys);
    expect(st.logBytes).toBe(0);
    expect(st.lmdbBytes).toBeGreaterThan(0);
  });

  it('FLUSHALL empties everything durably; writes after it survive', async () => {
    const dir = tempDir();
    let s = await openStore(dir);
    for (let i = 0; i < 20; i++) s.put(i, k(`f${i}`), str('v', i === 3 ? 1e12 : 0));
    await s.checkpointNow();
    s.put(1, k('mem'), str('memtable only'));
    await s.setMeta('node', Buffer.from('id'));
    const flushed = s.flushAll();
    expect(s.keyCount()).toBe(0);
    expect(s.get(1, k('f1'))).toBeUndefined();
    expect(allKeys(s)).toEqual([]);
    s.put(2, k('after'), str('kept'));
    await flushed;
    expect(s.keyCount()).toBe(1);
    expect(s.expiresCount()).toBe(0);
    s = await reopen(s, dir);
    expect(allKeys(s)).toEqual(['2:after']);
    expect(s.keyCount()).toBe(1);
    expect(s.getMeta('node')!.toString()).toBe('id');
  });
});

describe('FLUSHALL racing other work', () => {
  it('is exact when it lands during a checkpoint and is followed by writes', async () => {
    const dir = tempDir();
    let s = await openStore(dir);
    for (let i = 0; i < 3000; i++) s.put(i % 50, k(`pre${i}`), str('v', i % 3 === 0 ? 1e12 : 0));
    const checkpoint = s.checkpointNow();
    const flushed = s.flushAll();
    s.put(1, k('post'), str('kept'));
    const second = s.flushAll();
    s.put(2, k('post2'), str('kept too'));
    await Promise.all([checkpoint, flushed, second]);
    expect(s.keyCount()).toBe(1);
    expect(allKeys(s)).toEqual(['2:post2']);
    await s.checkpointNow();
    s = await reopen(s, dir);
    expect(allKeys(s)).toEqual(['2:post2']);
    expect(s.keyCount()).toBe(1);
    expect(s.expiresCount()).toBe(0);
  });
});

describe('checkpoint triggers', () => {
  it('checkpoints on its own when the memtable reaches checkpointEntries', async () => {
    const s = await openStore(tempDir(), { checkpointEntries: 100 });
    for (let i = 0; i < 450; i++) s.put(i % 16384, k(`t${i}`), str('v'));
    await durable(s);
    for (let i = 0; i < 200 && s.stats().checkpoints < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.stats().checkpoints).toBeGreaterThanOrEqual(1);
    expect(s.keyCount()).toBe(450);
    expect(allKeys(s, 0, 1000).length).toBe(450);
  });

  it('checkpoints on the interval when the memtable is small', async () => {
    const s = await openStore(tempDir(), { checkpointIntervalMs: 20 });
    s.put(0, k('a'), str('v'));
    for (let i = 0; i < 200 && s.stats().checkpoints < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.stats().checkpoints).toBeGreaterThanOrEqual(1);
    expect(s.stats().memtableEntries).toBe(0);
    expect(val(s.get(0, k('a')))).toBe('v');
  });
});

describe('appendfsync modes', () => {
  for (const mode of ['always', 'everysec', 'no'] as const) {
    it(`acknowledges and persists under ${mode}`, async () => {
      const dir = tempDir();
      let s = await openStore(dir, { appendfsync: mode });
      for (let i = 0; i < 100; i++) s.put(i, k(`m${i}`), str(`${i}`));
      await durable(s);
      s = await reopen(s, dir, { appendfsync: mode });
      expect(s.keyCount()).toBe(100);
      expect(val(s.get(42, k('m42')))).toBe('42');
    });
  }
});

describe('seeded random workload against a model', () => {
  it.each([0, 1e12])('matches a Map model across checkpoints and restarts (tombstone grace %d)', async (grace) => {
    const seed = 424242 + grace;
    let x = seed;
    const rand = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    const dir = tempDir();
    let s = await openStore(dir, { tombstoneGraceMs: grace, checkpointEntries: 64 });
    const model = new Map<string, StoredRecord>();
    for (let step = 0; step < 4000; step++) {
      const slot = rand(4);
      const key = `r${rand(150)}`;
      const id = `${slot}:${key}`;
      const op = rand(100);
      if (op < 60) {
        const rec = str(`v${step}`, rand(5) === 0 ? 1e12 : 0);
        expect(s.put(slot, k(key), rec).applied).toBe(true);
        model.set(id, rec);
      } else if (op < 75) {
        const rec = tomb();
        s.put(slot, k(key), rec);
        model.set(id, rec);
      } else if (op < 85) {
        s.drop(slot, k(key));
        model.delete(id);
      } else if (op < 95) {
        const got = s.get(slot, k(key));
        const want = model.get(id);
        const where = `seed ${seed} step ${step} ${id}`;
        // With grace 0 a checkpoint may already have turned a tombstone into absence.
        if (grace === 0 && want?.type === ValueType.Tombstone && got === undefined) continue;
        expect(got === undefined ? undefined : got.version.toString('hex'), where).toBe(want?.version.toString('hex'));
      } else if (op < 98) {
        await s.checkpointNow();
      } else {
        s = await reopen(s, dir, { tombstoneGraceMs: grace, checkpointEntries: 64 });
        // With grace 0, tombstones do not survive a checkpoint: they read as absent.
        if (grace === 0) for (const [mid, rec] of model) if (rec.type === ValueType.Tombstone) model.delete(mid);
      }
      if (step % 500 === 0) {
        const live = [...model.entries()].filter(([, r]) => r.type !== ValueType.Tombstone);
        expect(s.keyCount(), `seed ${seed} step ${step}`).toBe(live.length);
        expect(s.expiresCount()).toBe(live.filter(([, r]) => r.expiresAt > 0).length);
        expect(allKeys(s, 0, 13).sort()).toEqual(live.map(([id]) => `${id.split(':')[0]}:${id.split(':')[1]}`).sort());
      }
    }
  });
});

describe('a command writing several slots after a power failure', () => {
  /** A copy of the directory as a crash would leave it, the last log entry cut after `keep` of its bytes. */
  function crashImage(dir: string, keep: (payloadLength: number) => number): string {
    const copy = tempDir();
    fs.cpSync(dir, copy, { recursive: true });
    const seg = fs.readdirSync(copy).filter((f) => f.startsWith('commit-')).sort().pop()!;
    const file = path.join(copy, seg);
    const bytes = fs.readFileSync(file);
    let pos = 0;
    let last = -1;
    while (pos + 8 <= bytes.length && bytes.readUInt32BE(pos) !== 0) {
      const len = bytes.readUInt32BE(pos);
      if (!(len === 9 && bytes[pos + 8] === 5)) last = pos; // not a sync mark
      pos += 8 + len;
    }
    fs.truncateSync(file, last + 8 + keep(bytes.readUInt32BE(last)));
    fs.rmSync(path.join(copy, 'ringkv.lock'), { force: true });
    return copy;
  }

  it('comes back whole or not at all when the log write was torn', async () => {
    const dir = tempDir();
    const s = await openStore(dir);
    s.put(1, k('before'), str('kept'));
    await durable(s);
    // A transaction or script: puts to three slots held back and logged when it returns.
    s.atomically(() => {
      s.put(100, k('tx-a'), str('1'));
      s.put(200, k('tx-b'), str('2'));
      s.put(100, k('tx-c'), str('3'));
    });
    await durable(s);
    const whole = await openStore(crashImage(dir, (n) => n));
    expect([val(whole.get(100, k('tx-a'))), val(whole.get(200, k('tx-b'))), val(whole.get(100, k('tx-c')))]).toEqual(['1', '2', '3']);
    // Torn after its first slot's part: nothing of it may come back (each slot used to be its own
    // entry, and the first slot's came back alone).
    const torn = await openStore(crashImage(dir, (n) => Math.floor(n * 0.75)));
    expect(val(torn.get(1, k('before')))).toBe('kept');
    expect([torn.get(100, k('tx-a')), torn.get(200, k('tx-b')), torn.get(100, k('tx-c'))]).toEqual([undefined, undefined, undefined]);
  });
});
