// Goal: the reclaimer drops exactly the elements whose collection life ended (deleted, overwritten,
// expired, superseded by a newer generation, or without metadata past the grace period) and keeps
// the elements of live collections, including a newer generation whose metadata has not arrived.
// Method: isOrphan on each case; then ElementReclaimer over a real Store (LMDB in a temp dir) with
// elements of several keys and generations, stepped with a small budget until a full sweep.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';
import { ElementReclaimer, isOrphan } from '../../src/collections/reclaimer.js';
import { encodeMeta } from '../../src/collections/meta-codec.js';
import { elementKey, elementPrefix, ElementKind } from '../../src/collections/record-keys.js';

const dirs: string[] = [];
const open: Store[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const NOW = 1_700_000_100_000;
function version(ms: number): Buffer {
  const v = Buffer.alloc(16);
  v.writeUIntBE(ms, 0, 6);
  v.writeUInt32BE(7, 12);
  return v;
}
const gen = (ms: number): Buffer => version(ms).subarray(0, 8);
const meta = (g: Buffer, ms: number, expiresAt = 0): StoredRecord => ({
  version: version(ms), clock: [], type: ValueType.Set, expiresAt,
  value: encodeMeta({ generation: g, size: 1, head: 0, tail: 0, large: false }, false),
});
const tomb = (ms: number): StoredRecord => ({ version: version(ms), clock: [], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) });
const str = (ms: number): StoredRecord => ({ version: version(ms), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from('s') });
const elem = (ms: number): StoredRecord => ({ version: version(ms), clock: [], type: ValueType.Element, expiresAt: 0, value: Buffer.alloc(0) });

describe('isOrphan', () => {
  const g1 = gen(NOW - 50_000);
  const g2 = gen(NOW - 40_000);
  const g3 = gen(NOW - 30_000);
  it('judges each kind of metadata', () => {
    expect(isOrphan(g1, meta(g2, NOW - 40_000), NOW, 0)).toBe(true);
    expect(isOrphan(g2, meta(g2, NOW - 40_000), NOW, 0)).toBe(false);
    expect(isOrphan(g3, meta(g2, NOW - 40_000), NOW, 0), 'a newer life whose metadata is still travelling').toBe(false);
    expect(isOrphan(g2, tomb(NOW - 35_000), NOW, 0)).toBe(true);
    expect(isOrphan(g3, tomb(NOW - 35_000), NOW, 0), 'created after the deletion').toBe(false);
    expect(isOrphan(g2, str(NOW - 35_000), NOW, 0)).toBe(true);
    expect(isOrphan(g2, meta(g2, NOW - 40_000, NOW - 1), NOW, 0), 'expired').toBe(true);
    expect(isOrphan(g2, meta(g2, NOW - 40_000, NOW + 1000), NOW, 0)).toBe(false);
    expect(isOrphan(g2, undefined, NOW, 60_000), 'within the grace period').toBe(false);
    expect(isOrphan(g2, undefined, NOW, 10_000)).toBe(true);
  });
});

describe('ElementReclaimer', () => {
  it('sweeps every slot in bounded steps and keeps live elements', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-reclaim-'));
    dirs.push(dir);
    const s = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0, checkpointIntervalMs: 600_000 });
    open.push(s);
    const live = gen(NOW - 20_000);
    const old = gen(NOW - 60_000);
    const put = (slot: number, key: string, g: Buffer, n: number, first = 0): Array<[number, Buffer]> => {
      const p = elementPrefix(ElementKind.Member, Buffer.from(key), g);
      return Array.from({ length: n }, (_, i) => {
        const rk = elementKey(p, Buffer.from(`m${first + i}`));
        s.put(slot, rk, elem(NOW - 10_000));
        return [slot, rk] as [number, Buffer];
      });
    };
    // Slot 5: a live set with leftovers of an older life. Slot 900: a deleted set. Slot 16000: a set overwritten by a string.
    s.put(5, Buffer.from('a'), meta(live, NOW - 20_000));
    const kept = put(5, 'a', live, 30);
    const stale: Array<[number, Buffer]> = [...put(5, 'a', old, 25), ...put(900, 'b', old, 40), ...put(16000, 'c', old, 10)];
    s.put(900, Buffer.from('b'), tomb(NOW - 30_000));
    s.put(16000, Buffer.from('c'), str(NOW - 30_000));
    // A future life of 'a' whose metadata has not arrived: kept.
    const future = put(5, 'a', gen(NOW - 5_000), 5);
    // Most in LMDB, a few in the memtable: the sweep reads LMDB alone, so those few wait for the
    // checkpoint that puts them there.
    await s.checkpointNow();
    const late = put(900, 'b', old, 3, 100);
    const r = new ElementReclaimer(s, 0);
    let dropped = 0;
    const sweep = (): void => {
      for (let i = 0; i < 20_000 && dropped < stale.length; i++) dropped += r.step(NOW, 50);
    };
    sweep();
    expect(dropped).toBe(stale.length);
    for (const [slot, rk] of late) expect(s.get(slot, rk)?.type, 'not swept before its checkpoint').toBe(ValueType.Element);
    stale.push(...late);
    await s.checkpointNow();
    sweep();
    expect(dropped).toBe(stale.length);
    for (const [slot, rk] of stale) expect(s.get(slot, rk)).toBeUndefined();
    for (const [slot, rk] of [...kept, ...future]) expect(s.get(slot, rk)?.type).toBe(ValueType.Element);
    expect(s.keyCount(), 'elements never count as keys').toBe(2);
  });
});

describe('ElementReclaimer, ended lives', () => {
  it('reclaims a deleted, an overwritten and an expired collection at once, even in a cluster (long grace), and keeps a live one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-reclaim-'));
    dirs.push(dir);
    const s = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 86_400_000, checkpointIntervalMs: 600_000 });
    open.push(s);
    const r = new ElementReclaimer(s, 86_400_000);
    s.onVersionChange((slot, key, _o, _n, previous, next) => r.noteChange(slot, key, previous, next));
    const g = gen(NOW - 20_000);
    const make = (slot: number, key: string, n: number, expiresAt = 0): Buffer[] => {
      s.put(slot, Buffer.from(key), meta(g, NOW - 20_000, expiresAt));
      const p = elementPrefix(ElementKind.Member, Buffer.from(key), g);
      return Array.from({ length: n }, (_, i) => {
        const rk = elementKey(p, Buffer.from(`m${i}`));
        s.put(slot, rk, elem(NOW - 20_000));
        return rk;
      });
    };
    const deleted = make(10, 'del', 40);
    const overwritten = make(11, 'ovr', 30);
    const expired = make(12, 'exp', 20, NOW - 1);
    const live = make(13, 'live', 10);
    s.put(10, Buffer.from('del'), tomb(NOW - 10_000));
    s.put(11, Buffer.from('ovr'), str(NOW - 10_000));
    s.drop(12, Buffer.from('exp'));
    let dropped = 0;
    // Far fewer steps than a sweep of 16,384 slots would need at this budget.
    for (let i = 0; i < 20; i++) dropped += r.step(NOW, 16);
    expect(dropped).toBe(90);
    for (const [slot, keys] of [[10, deleted], [11, overwritten], [12, expired]] as const) for (const rk of keys) expect(s.get(slot, rk)).toBeUndefined();
    for (const rk of live) expect(s.get(13, rk)?.type).toBe(ValueType.Element);
  });
});
