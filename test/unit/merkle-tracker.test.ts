/**
 * Goal: the anti-entropy index always equals the store's (key, version) set: built by a chunked
 * scan while writes, deletes and local drops keep arriving between chunks (also inside a slot the
 * scan is halfway through), kept up to date afterwards from the store's version events, and reset
 * by FLUSHALL. Method: a real Store in a temp dir; a tiny chunk size so the build yields mid-slot
 * (keys sharing a hash tag fill one slot); a seeded random workload runs between chunks; then the
 * index is compared, slot by slot, with one built from scratch from the final store contents.
 * The store's version events themselves are checked one path at a time (put, rejected put, drop,
 * active expiry, tombstone purge, FLUSHALL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MerkleIndex } from '../../src/cluster/merkle.js';
import { MerkleTracker } from '../../src/cluster/merkle-tracker.js';
import { keySlot, SLOT_COUNT } from '../../src/cluster/slot.js';
import { encodeVersion } from '../../src/core/version.js';
import { Store } from '../../src/storage/store.js';
import { ValueType } from '../../src/storage/types.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function openStore(tombstoneGraceMs = 60_000): Promise<Store> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-tracker-'));
  dirs.push(dir);
  const s = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs, checkpointIntervalMs: 60_000 });
  stores.push(s);
  return s;
}

const TAG = Buffer.from('00000000000000aa', 'hex');
let wall = 1_700_000_000_000;
const nextVersion = (): Buffer => encodeVersion(wall++, 0, TAG);
// Half the keys share a hash tag, so one slot holds hundreds of keys and the scan pauses inside it.
const keyOf = (i: number): Buffer => Buffer.from(i % 2 === 0 ? `{hot}:${i}` : `k:${i}`);

function put(store: Store, key: Buffer, tombstone = false): void {
  store.put(keySlot(key), key, {
    version: nextVersion(), clock: [], type: tombstone ? ValueType.Tombstone : ValueType.String, expiresAt: 0,
    value: tombstone ? Buffer.alloc(0) : Buffer.from('v'),
  });
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random puts, overwrites, deletes and local drops. */
function churn(store: Store, next: () => number, ops: number, keys: number): void {
  for (let i = 0; i < ops; i++) {
    const key = keyOf(Math.floor(next() * keys));
    const r = next();
    if (r < 0.6) put(store, key);
    else if (r < 0.85) put(store, key, true);
    else store.drop(keySlot(key), key);
  }
}

function fromStore(store: Store): MerkleIndex {
  const index = new MerkleIndex();
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    let after: Buffer | undefined;
    for (;;) {
      const page = store.scanSlotRaw(slot, after, 1000);
      for (const e of page.entries) index.update(slot, e.key, undefined, e.record.version);
      if (page.next === null) break;
      after = page.next;
    }
  }
  return index;
}

function expectSameIndex(actual: MerkleIndex, expected: MerkleIndex): void {
  const differing: number[] = [];
  for (let slot = 0; slot < SLOT_COUNT; slot++) if (actual.slotDigest(slot) !== expected.slotDigest(slot)) differing.push(slot);
  expect(differing).toEqual([]);
  expect(actual.rootDigest()).toBe(expected.rootDigest());
}

describe('MerkleTracker', () => {
  it('a build interleaved with writes, deletes and drops ends equal to the store, and stays equal', async () => {
    const store = await openStore();
    const next = rng(7);
    churn(store, next, 3000, 1500);
    // Half the data in LMDB, half in the memtable: the scan merges both.
    await store.checkpointNow();
    churn(store, next, 1500, 1500);

    const tracker = new MerkleTracker(store, { chunkEntries: 37 });
    let building = true;
    const built = tracker.build().finally(() => (building = false));
    let turns = 0;
    while (building) {
      churn(store, next, 20, 1500);
      turns++;
      await new Promise((r) => setImmediate(r));
    }
    await built;
    expect(turns).toBeGreaterThan(20);
    expect(tracker.ready).toBe(true);
    expectSameIndex(tracker.index, fromStore(store));

    churn(store, next, 2000, 1500);
    await store.checkpointNow();
    churn(store, next, 500, 1500);
    expectSameIndex(tracker.index, fromStore(store));
    tracker.close();
  });

  it('FLUSHALL empties the index, also in the middle of a build', async () => {
    const store = await openStore();
    churn(store, rng(3), 2000, 2000);
    const tracker = new MerkleTracker(store, { chunkEntries: 50 });
    const built = tracker.build();
    await new Promise((r) => setImmediate(r));
    expect(tracker.ready).toBe(false);
    await store.flushAll();
    await built;
    expect(tracker.ready).toBe(true);
    expect(tracker.index.rootDigest()).toBe(0n);
    put(store, keyOf(1));
    expectSameIndex(tracker.index, fromStore(store));
    tracker.close();
  });

  it('a closed tracker stops listening', async () => {
    const store = await openStore();
    const tracker = new MerkleTracker(store);
    await tracker.build();
    tracker.close();
    put(store, keyOf(1));
    expect(tracker.index.rootDigest()).toBe(0n);
  });
});

describe('Store version events', () => {
  it('report applied puts, drops, active expiry and tombstone purges; FLUSHALL has its own signal', async () => {
    const store = await openStore(1000);
    const events: string[] = [];
    const v = (b: Buffer | undefined): string => (b === undefined ? '-' : String(b.readUIntBE(0, 6) - 1_800_000_000_000));
    const off = store.onVersionChange((slot, key, oldV, newV) => events.push(`${key.toString()}:${v(oldV)}>${v(newV)}`));
    let flushes = 0;
    store.onFlushAll(() => flushes++);
    const at = (ms: number): Buffer => encodeVersion(1_800_000_000_000 + ms, 0, TAG);
    const rec = (version: Buffer, type = ValueType.String, expiresAt = 0) => ({ version, clock: [], type, expiresAt, value: type === ValueType.Tombstone ? Buffer.alloc(0) : Buffer.from('v') });
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    const t = Buffer.from('t');
    store.put(keySlot(a), a, rec(at(10)));
    store.put(keySlot(a), a, rec(at(20)));
    store.put(keySlot(a), a, rec(at(15)));
    store.drop(keySlot(a), a);
    store.put(keySlot(b), b, rec(at(30), ValueType.String, 1_800_000_000_100));
    store.put(keySlot(t), t, rec(at(40), ValueType.Tombstone));
    expect(events).toEqual(['a:->10', 'a:10>20', 'a:20>-', 'b:->30', 't:->40']);
    await store.checkpointNow();
    events.length = 0;
    store.expireCycle(1_800_000_000_200, 100);
    expect(events).toEqual(['b:30>-']);
    store.expireCycle(1_800_000_002_000, 100);
    expect(events).toEqual(['b:30>-', 't:40>-']);
    await store.flushAll();
    expect(flushes).toBe(1);
    off();
    store.put(keySlot(a), a, rec(at(50)));
    expect(events.length).toBe(2);
  });
});
