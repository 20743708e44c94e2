// Goal: the replica side stores each replicated write's records together (Coordinator.applyLocalAll
// → Store.putAll, one commit-log entry), grouping consecutive records of one slot, skipping fenced
// writes and still reporting, per record index, the newer version it already held. Method: a
// ReplicaService over a fake host that records applyLocalAll calls; putRecords over a real Store
// (spied) and over a store without putAll.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReplicaService, type ReplicaHost } from '../../src/cluster/replica-service.js';
import { putRecords, type PutItem } from '../../src/storage/record-batch.js';
import { encodeRecord } from '../../src/storage/record-codec.js';
import { Store } from '../../src/storage/store.js';
import { ValueType, type PutOutcome, type RecordStore, type StoredRecord } from '../../src/storage/types.js';

type Handler = (from: string, payload: unknown) => unknown;

const version = (n: number): Buffer => {
  const v = Buffer.alloc(16);
  v.writeUIntBE(1_700_000_000_000 + n, 0, 6);
  return v;
};
const rec = (n: number): StoredRecord => ({ version: version(n), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from(`v${n}`) });
const b = (s: string): Buffer => Buffer.from(s);

/** A ReplicaService whose coordinator records each applyLocalAll call and answers `newer` for listed keys. */
function harness(newer: Map<string, Buffer> = new Map(), fencedSlots: number[] = []) {
  const handlers = new Map<string, Handler>();
  const calls: Array<{ slot: number; keys: string[] }> = [];
  const observed: string[] = [];
  const host = {
    bus: { handle: (name: string, fn: Handler) => handlers.set(name, fn) },
    node: {
      versioner: { now: () => 1, hlc: { observe: (v: Buffer) => observed.push(v.toString('hex')) } },
      store: { get: () => undefined, hasPendingDurability: () => false },
    },
    coordinator: {
      applyLocalAll: (slot: number, items: ReadonlyArray<PutItem>) => {
        calls.push({ slot, keys: items.map((i) => i.key.toString()) });
        return items.map((i) => newer.get(i.key.toString()));
      },
    },
    hints: { add: () => Promise.resolve() },
    leases: { grants: { fenced: (slot: number) => fencedSlots.includes(slot) } },
  } as unknown as ReplicaHost;
  new ReplicaService(host).register();
  return { handlers, calls, observed };
}

describe('replica writes', () => {
  it('stores consecutive records of one slot together and reports superseded records by index', () => {
    const { handlers, calls, observed } = harness(new Map([['k2', version(99)]]));
    const w = [1, b('k1'), encodeRecord(rec(1)), 1, b('k2'), encodeRecord(rec(2)), 2, b('k3'), encodeRecord(rec(3)), 1, b('k4'), encodeRecord(rec(4))];
    const response = handlers.get('rb')!('peer', { w, r: [] });
    expect(calls).toEqual([
      { slot: 1, keys: ['k1', 'k2'] },
      { slot: 2, keys: ['k3'] },
      { slot: 1, keys: ['k4'] },
    ]);
    expect(observed).toHaveLength(4);
    expect(response).toEqual({ r: [], s: [1, version(99)] });
  });

  it('leaves out fenced writes and keeps indexes of the rest', () => {
    const { handlers, calls } = harness(new Map([['k5', version(98)]]), [3]);
    const w = [
      2, b('k1'), encodeRecord(rec(1)),
      3, b('k2'), encodeRecord(rec(2)),
      3, b('k3'), encodeRecord(rec(3)),
      2, b('k4'), encodeRecord(rec(4)),
      2, b('k5'), encodeRecord(rec(5)),
    ];
    // Writes 1 and 2 (slot 3) come from a lease this node saw superseded.
    const response = handlers.get('rb')!('peer', { w, r: [], f: [1, 2, 7] });
    expect(calls).toEqual([
      { slot: 2, keys: ['k1'] },
      { slot: 2, keys: ['k4', 'k5'] },
    ]);
    expect(response).toEqual({ r: [], s: [4, version(98)], x: [1] });
  });

  it('stores all records of a single-slot write request in one call', async () => {
    const { handlers, calls } = harness();
    const i = [[b('a'), encodeRecord(rec(1))], [b('b'), encodeRecord(rec(2))], [b('c'), encodeRecord(rec(3))]];
    await expect(Promise.resolve(handlers.get('rw')!('peer', { s: 9, i }))).resolves.toBe(true);
    expect(calls).toEqual([{ slot: 9, keys: ['a', 'b', 'c'] }]);
  });
});

describe('putRecords', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('uses Store.putAll, and put per item on a store without it, with the same outcomes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-putrecords-'));
    dirs.push(dir);
    const store = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: 0 });
    try {
      const putAll = vi.spyOn(store, 'putAll');
      const put = vi.spyOn(store, 'put');
      store.put(4, b('x'), rec(10));
      put.mockClear();
      const items: PutItem[] = [{ key: b('x'), record: rec(5) }, { key: b('y'), record: rec(6) }];
      const viaStore = putRecords(store, 4, items);
      expect(putAll).toHaveBeenCalledTimes(1);
      expect(put).not.toHaveBeenCalled();
      const seen: string[] = [];
      const plain: RecordStore = {
        get: () => undefined,
        put: (slot, key, record): PutOutcome => {
          seen.push(`${slot}:${key.toString()}`);
          return key.toString() === 'x' ? { applied: false, previous: rec(10) } : { applied: true, previous: undefined };
        },
        hasPendingDurability: () => false,
        afterDurable: (cb) => cb(),
      };
      const viaPlain = putRecords(plain, 4, items);
      expect(seen).toEqual(['4:x', '4:y']);
      expect(viaStore.map((o) => o.applied)).toEqual([false, true]);
      expect(viaPlain.map((o) => o.applied)).toEqual([false, true]);
    } finally {
      await store.close();
    }
  });
});
