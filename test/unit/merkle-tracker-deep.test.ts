/**
 * Goal: the tracker keeps the deeper digests of a large slot equal to the store while split scans
 * run between writes: built at start before the index is offered, grown by split scans as the slot
 * fills, and equal, node for node, to a tree built from scratch from the final store contents.
 * Method: a real Store in a temp dir; one slot holding plain keys and the members of one hash;
 * a small split threshold and chunk size so split scans yield many times mid-slot; a seeded random
 * workload of puts, deletes and local drops between turns; then every comparable node is compared
 * with an index built by scanning the store synchronously.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MerkleIndex } from '../../src/cluster/merkle.js';
import { MAX_DEPTH } from '../../src/cluster/merkle-deep.js';
import { MerkleTracker } from '../../src/cluster/merkle-tracker.js';
import { keySlot } from '../../src/cluster/slot.js';
import { ElementKind, elementKey, elementPrefix, memberPosition } from '../../src/collections/record-keys.js';
import { encodeVersion } from '../../src/core/version.js';
import { Store } from '../../src/storage/store.js';
import { ValueType } from '../../src/storage/types.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function openStore(): Promise<Store> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-deep-'));
  dirs.push(dir);
  const s = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: 60_000, checkpointIntervalMs: 60_000 });
  stores.push(s);
  return s;
}

const SLOT = keySlot(Buffer.from('{hot}'));
const SPLIT = 24;
const TAG = Buffer.from('00000000000000bb', 'hex');
let wall = 1_700_000_000_000;
const PREFIX = elementPrefix(ElementKind.Member, Buffer.from('{hot}h'), Buffer.from('0000000000000001', 'hex'));
const keyOf = (i: number): Buffer => (i % 5 === 0 ? Buffer.from(`{hot}:${i}`) : elementKey(PREFIX, memberPosition(Buffer.from(`m${i}`))));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function churn(store: Store, next: () => number, ops: number, keys: number): void {
  for (let i = 0; i < ops; i++) {
    const key = keyOf(Math.floor(next() * keys));
    const r = next();
    if (r < 0.8) {
      store.put(SLOT, key, { version: encodeVersion(wall++, 0, TAG), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from('v') });
    } else if (r < 0.9) {
      store.put(SLOT, key, { version: encodeVersion(wall++, 0, TAG), clock: [], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) });
    } else {
      store.drop(SLOT, key);
    }
  }
}

/** An index of the store's slot with every due split scan run synchronously. */
function fromStore(store: Store): MerkleIndex {
  const index = new MerkleIndex({ deep: { splitRecords: SPLIT } });
  const scan = (visit: (key: Buffer, version: Buffer) => void): void => {
    let after: Buffer | undefined;
    for (;;) {
      const page = store.scanSlotRaw(SLOT, after, 1000);
      for (const e of page.entries) visit(e.key, e.record.version);
      if (page.next === null) break;
      after = page.next;
    }
  };
  scan((key, version) => index.update(SLOT, key, undefined, version));
  for (let slot = index.deep.nextWanting(); slot !== undefined; slot = index.deep.nextWanting()) {
    if (index.deep.beginSplit(slot, index.entryCount(slot)) === 0) continue;
    scan((key, version) => index.addScanned(slot, key, version));
    expect(index.deep.finishSplit(slot, index.slotXor(slot), index.entryCount(slot))).toBe(0);
  }
  return index;
}

function nodes(index: MerkleIndex): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (p: number[]): void => {
    const d = index.deep.children(SLOT, p);
    if (d === undefined) return;
    out.set(p.join('.'), d.toString('hex'));
    if (p.length + 1 < MAX_DEPTH) for (let digit = 0; digit < 64; digit++) visit([...p, digit]);
  };
  visit([]);
  return out;
}

async function settle(tracker: MerkleTracker): Promise<void> {
  for (let i = 0; i < 10_000 && tracker.splitsPending; i++) await new Promise((r) => setImmediate(r));
  expect(tracker.splitsPending).toBe(false);
}

describe('MerkleTracker with deeper digests', () => {
  it('split scans interleaved with writes end equal to a tree built from the store', async () => {
    const store = await openStore();
    const next = rng(11);
    // ~500 records: a root at start, its digests (~8 records each) not split yet.
    churn(store, next, 800, 600);
    await store.checkpointNow();
    churn(store, next, 300, 600);

    const tracker = new MerkleTracker(store, { chunkEntries: 37, deep: { splitRecords: SPLIT } });
    let building = true;
    const built = tracker.build().finally(() => (building = false));
    while (building) {
      churn(store, next, 15, 600);
      await new Promise((r) => setImmediate(r));
    }
    await built;
    expect(tracker.ready).toBe(true);
    expect(tracker.splitScans, 'the slot was split before the index was offered').toBeGreaterThan(0);
    const atStart = nodes(tracker.index);
    expect(atStart.size, 'the root only: its digests hold ~8 records each').toBe(1);

    // The slot keeps growing: new split scans run between writes.
    for (let round = 0; round < 200 || tracker.splitsPending; round++) {
      churn(store, next, 15, 12_000);
      await new Promise((r) => setImmediate(r));
      if (round > 5000) break;
    }
    await settle(tracker);
    const ours = nodes(tracker.index);
    const rebuilt = nodes(fromStore(store));
    expect(tracker.index.slotDigest(SLOT)).toBe(fromStore(store).slotDigest(SLOT));
    let common = 0;
    for (const [id, hex] of ours) {
      if (!rebuilt.has(id)) continue;
      common++;
      expect(hex, `node ${id}`).toBe(rebuilt.get(id));
    }
    expect(common).toBeGreaterThan(1);
    expect(ours.size).toBeGreaterThan(atStart.size);
    tracker.close();
  });
});
