/**
 * Goal: on the real store, an eviction's tombstone beats the evicted value and anything older but
 * never a newer write; the store's used-bytes figure follows the records; and the tombstone is
 * purged a short while after the eviction (not after the delete grace), giving its bytes back.
 * Method: a Store in a temporary directory with a 24 h tombstone grace (cluster mode), versions
 * built by hand, expireCycle driven with chosen times.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';
import { encodeVersion } from '../../src/core/version.js';
import { evictionTombstone, EVICTION_TOMBSTONE_GRACE_MS } from '../../src/cluster/eviction-delete.js';
import { recordBytes } from '../../src/storage/data-size.js';

const GRACE_MS = 86_400_000;
const dirs: string[] = [];
const stores: Store[] = [];

async function openStore(): Promise<Store> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-evict-'));
  dirs.push(dir);
  const s = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: GRACE_MS, checkpointIntervalMs: 60_000 });
  stores.push(s);
  return s;
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const NODE_A = Buffer.from('00000000000000aa', 'hex');
const NODE_B = Buffer.from('00000000000000bb', 'hex');
const T0 = 1_700_000_000_000;

function value(wall: number, node: Buffer, text: string): StoredRecord {
  return { version: encodeVersion(wall, 0, node), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from(text) };
}

describe('eviction tombstones in the store', () => {
  it('beat the evicted value and stale copies of it, but not a newer write', async () => {
    const s = await openStore();
    const key = Buffer.from('k');
    const evicted = value(T0, NODE_A, 'old');
    expect(s.put(1, key, evicted).applied).toBe(true);
    const tomb = evictionTombstone(evicted, T0 + 5000, GRACE_MS);
    expect(s.put(1, key, tomb).applied).toBe(true);
    // Read repair or anti-entropy carrying the evicted value finds it superseded.
    expect(s.put(1, key, evicted).applied).toBe(false);
    expect(s.get(1, key)!.type).toBe(ValueType.Tombstone);
    // A write made after the evicted one, even in the same millisecond on another node, wins.
    const newer = { ...value(T0, NODE_B, 'new'), version: encodeVersion(T0, 1, NODE_B) };
    expect(s.put(1, key, newer).applied).toBe(true);
    expect(s.put(1, key, tomb).applied).toBe(false);
    expect((s.get(1, key)!.value as Buffer).toString()).toBe('new');
  });

  it('give their bytes back once purged, 10 s after the eviction', async () => {
    const s = await openStore();
    const key = Buffer.from('key');
    const evicted = value(T0, NODE_A, 'x'.repeat(1000));
    s.put(2, key, evicted);
    expect(s.dataBytes()).toBe(recordBytes(key.length, evicted));
    const evictedAt = T0 + 60_000;
    const tomb = evictionTombstone(evicted, evictedAt, GRACE_MS);
    s.put(2, key, tomb);
    expect(s.dataBytes()).toBe(recordBytes(key.length, tomb));
    expect(s.slotDataBytes(2)).toBe(s.dataBytes());
    await s.checkpointNow();
    // Within its grace the tombstone stays; a plain delete's would stay for 24 h.
    expect(s.expireCycle(evictedAt + EVICTION_TOMBSTONE_GRACE_MS - 1000, 1000)).toBe(0);
    expect(s.get(2, key)).toBeDefined();
    expect(s.expireCycle(evictedAt + EVICTION_TOMBSTONE_GRACE_MS + 1000, 1000)).toBe(1);
    expect(s.get(2, key)).toBeUndefined();
    expect(s.dataBytes()).toBe(0);
  });

  it('count the same bytes after a restart as before it', async () => {
    const s = await openStore();
    for (let i = 0; i < 100; i++) s.put(i % 7, Buffer.from(`k${i}`), value(T0 + i, NODE_A, 'v'.repeat(i)));
    s.put(3, Buffer.from('k3'), evictionTombstone(value(T0 + 3, NODE_A, 'vvv'), T0 + 1000, GRACE_MS));
    const before = s.dataBytes();
    const dir = dirs[0]!;
    await s.close();
    stores.splice(0);
    const again = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: GRACE_MS });
    stores.push(again);
    expect(again.dataBytes()).toBe(before);
  });
});
