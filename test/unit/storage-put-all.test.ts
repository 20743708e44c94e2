// Goal: Store.putAll applies each item exactly as put() would (last-writer-wins against the store
// and the batch's earlier items, counts, TTL reaping, version listeners), checks everything before
// changing anything, and survives a restart. Crash atomicity (one log entry, all or none) is in
// storage-crash.test.ts. Method: real LMDB in a fresh temp dir; records on both sides of a
// checkpoint; outcomes and state compared with what a sequence of put() calls gives.
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

async function openStore(dir?: string, extra: Partial<StoreOptions> = {}): Promise<{ s: Store; dir: string }> {
  const d = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-putall-'));
  if (dir === undefined) dirs.push(d);
  const s = await Store.open({ dir: d, appendfsync: 'always', tombstoneGraceMs: 0, checkpointIntervalMs: 600_000, ...extra });
  open.push(s);
  return { s, dir: d };
}

let wall = 1_700_000_000_000;
function nextVersion(): Buffer {
  const v = Buffer.alloc(16);
  v.writeUIntBE(++wall, 0, 6);
  v.writeUInt32BE(1, 12);
  return v;
}

const str = (value: string, expiresAt = 0, version = nextVersion()): StoredRecord => ({ version, clock: [], type: ValueType.String, expiresAt, value: Buffer.from(value) });
const tomb = (): StoredRecord => ({ version: nextVersion(), clock: [], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) });
const k = (s: string): Buffer => Buffer.from(s);
const val = (r: StoredRecord | undefined): string | undefined => (r === undefined ? undefined : r.type === ValueType.Tombstone ? 'T' : (r.value as Buffer).toString());

describe('putAll', () => {
  it('decides each item by last-writer-wins against memtable, LMDB and earlier items of the batch', async () => {
    const { s } = await openStore();
    const oldInLmdb = str('lmdb-old');
    s.put(3, k('in-lmdb'), oldInLmdb);
    s.put(3, k('newer-in-lmdb'), str('lmdb-new', 0, Buffer.from('ffffffffffff0000000000000000000f', 'hex')));
    await s.checkpointNow();
    const memOld = str('mem-old');
    s.put(3, k('in-mem'), memOld);
    const first = str('first');
    const stale = str('stale', 0, Buffer.from('000000000001000000000000000000aa', 'hex'));
    const items = [
      { key: k('in-lmdb'), record: str('a') },
      { key: k('newer-in-lmdb'), record: str('b') },
      { key: k('in-mem'), record: str('c') },
      { key: k('dup'), record: first },
      // Older than the batch's own earlier item for the same key: loses against it.
      { key: k('dup'), record: stale },
      { key: k('fresh'), record: tomb() },
    ];
    const outcomes = s.putAll(3, items);
    expect(outcomes.map((o) => o.applied)).toEqual([true, false, true, true, false, true]);
    expect(val(outcomes[0]!.previous)).toBe('lmdb-old');
    expect(val(outcomes[1]!.previous)).toBe('lmdb-new');
    expect(val(outcomes[2]!.previous)).toBe('mem-old');
    expect(outcomes[3]!.previous).toBeUndefined();
    expect(outcomes[4]!.previous).toBe(first);
    expect(outcomes[5]!.previous).toBeUndefined();
    expect(['in-lmdb', 'newer-in-lmdb', 'in-mem', 'dup', 'fresh'].map((key) => val(s.get(3, k(key))))).toEqual(['a', 'lmdb-new', 'c', 'first', 'T']);
    // A later item for the same key that is newer replaces the earlier one.
    const again = s.putAll(3, [{ key: k('dup2'), record: str('x') }, { key: k('dup2'), record: str('y') }]);
    expect(again.map((o) => o.applied)).toEqual([true, true]);
    expect(val(again[1]!.previous)).toBe('x');
    expect(val(s.get(3, k('dup2')))).toBe('y');
    // Live keys: in-lmdb, newer-in-lmdb, in-mem, dup, dup2 (fresh is a tombstone).
    expect(s.keyCount()).toBe(5);
    expect(s.slotKeyCount(3)).toBe(5);
    await s.checkpointNow();
    expect(s.keyCount()).toBe(5);
    expect(val(s.get(3, k('dup')))).toBe('first');
  });

  it('changes nothing when any item is invalid, and nothing when every item loses', async () => {
    const { s } = await openStore();
    s.put(1, k('a'), str('kept'));
    // All synchronous: bytes appended to the log since `before` are still in its open group.
    const before = s.stats().logPendingBytes;
    const bad: StoredRecord = { version: nextVersion(), clock: [], type: ValueType.LegacyHash, expiresAt: 0, value: Buffer.from("not a map") };
    expect(() => s.putAll(1, [{ key: k('a'), record: str('new') }, { key: k('b'), record: bad }])).toThrow();
    expect(() => s.putAll(1, [{ key: k('a'), record: str('new') }, { key: k('b'), record: { ...str('x'), version: Buffer.alloc(3) } }])).toThrow(TypeError);
    expect(() => s.putAll(16384, [{ key: k('a'), record: str('new') }])).toThrow(RangeError);
    expect(val(s.get(1, k('a')))).toBe('kept');
    expect(s.get(1, k('b'))).toBeUndefined();
    expect(s.keyCount()).toBe(1);
    const lost = s.putAll(1, [{ key: k('a'), record: str('old', 0, Buffer.alloc(16)) }]);
    expect(lost).toEqual([{ applied: false, previous: s.get(1, k('a')) }]);
    expect(s.putAll(1, [])).toEqual([]);
    expect(s.stats().logPendingBytes).toBe(before);
  });

  it('tells version listeners about every applied item once all of them are in', async () => {
    const { s } = await openStore();
    s.put(2, k('m'), str('old'));
    const seen: string[] = [];
    s.onVersionChange((slot, key, oldV, newV) => {
      // Each listener call already sees the whole batch.
      seen.push(`${slot}:${key}:${oldV === undefined ? '-' : 'old'}:${newV === undefined ? '-' : 'new'}:${val(s.get(2, k('e2')))}`);
    });
    s.putAll(2, [
      { key: k('m'), record: str('meta') },
      { key: k('e1'), record: str('one') },
      { key: k('e1'), record: str('too old', 0, Buffer.alloc(16)) },
      { key: k('e2'), record: str('two') },
    ]);
    expect(seen).toEqual(['2:m:old:new:two', '2:e1:-:new:two', '2:e2:-:new:two']);
  });

  it('reaps items with a short TTL and keeps everything across a restart', async () => {
    const { s, dir } = await openStore();
    const now = Date.now();
    s.putAll(6, [
      { key: k('short'), record: str('s', now + 50) },
      { key: k('long'), record: str('l', now + 1e9) },
      { key: k('plain'), record: str('p') },
    ]);
    expect(s.expiresCount()).toBe(2);
    expect(s.expireCycle(now + 100, 100)).toBe(1);
    expect(s.get(6, k('short'))).toBeUndefined();
    expect(s.keyCount()).toBe(2);
    await s.close();
    open.splice(open.indexOf(s), 1);
    const { s: again } = await openStore(dir);
    expect(['short', 'long', 'plain'].map((key) => val(again.get(6, k(key))))).toEqual([undefined, 'l', 'p']);
    expect(again.keyCount()).toBe(2);
    expect(again.expiresCount()).toBe(1);
  });
});
