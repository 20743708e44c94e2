/**
 * Goal: the deeper digests of large slots (merkle-deep.ts) are exact: a digest splits into 64 once
 * it passes the threshold and drops its node once it shrinks, every node's digests add up to its
 * parent's, an index kept up to date through writes (also writes landing while a split scan is
 * halfway through the slot) equals one built from scratch, the descent between two replicas ends
 * at exactly the leaves holding the differing records, and listing those leaves with seeks finds
 * exactly the records under them while reading few others.
 * Method: a MerkleIndex with a small split threshold over one slot holding plain keys and the
 * members of one large hash; split scans simulated in key order over a model of the store, with a
 * seeded random workload applied between records; the descent run against a second index in
 * process with the shell's steps (descendStep, splitByDepth); listing simulated over the sorted
 * keys with leafStep's seeks.
 */
import { describe, expect, it } from 'vitest';
import { MerkleIndex } from '../../src/cluster/merkle.js';
import {
  DeepDigests, MAX_DEPTH, digitAt, intervalFrom, pathInterval, pathIntervals, positionOf, underPath, type Path,
} from '../../src/cluster/merkle-deep.js';
import { confirmed, descendStep, differingDigits, leafStep, splitByDepth, type NodeRef } from '../../src/cluster/anti-entropy-descend.js';
import { ElementKind, elementKey, elementPrefix, memberPosition } from '../../src/collections/record-keys.js';
import { encodeVersion } from '../../src/core/version.js';

const SLOT = 77;
const TAG = Buffer.from('0123456789abcdef', 'hex');
let wall = 1_700_000_000_000;
const nextVersion = (): Buffer => encodeVersion(wall++, 0, TAG);
const GEN = Buffer.from('0000000000000001', 'hex');
const HASH_PREFIX = elementPrefix(ElementKind.Member, Buffer.from('big'), GEN);
const memberKey = (i: number): Buffer => elementKey(HASH_PREFIX, memberPosition(Buffer.from(`field:${i}`)));
const plainKey = (i: number): Buffer => Buffer.from(`plain:${i}`);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The store as the index should see it: key (latin1) → version, and the keys in order. */
class Model extends Map<string, Buffer> {
  readonly ids: string[] = [];

  override set(id: string, version: Buffer): this {
    if (!this.has(id)) this.ids.splice(upperBound(this.ids, id), 0, id);
    return super.set(id, version);
  }

  override delete(id: string): boolean {
    if (!this.has(id)) return false;
    this.ids.splice(upperBound(this.ids, id) - 1, 1);
    return super.delete(id);
  }
}

/** Index of the first id above `after` (ids ascending). */
function upperBound(ids: readonly string[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function put(index: MerkleIndex, model: Model, key: Buffer, passed = true): void {
  const id = key.toString('latin1');
  const version = nextVersion();
  index.update(SLOT, key, model.get(id), version, passed);
  model.set(id, version);
}

function remove(index: MerkleIndex, model: Model, key: Buffer, passed = true): void {
  const id = key.toString('latin1');
  const old = model.get(id);
  if (old === undefined) return;
  index.update(SLOT, key, old, undefined, passed);
  model.delete(id);
}

/** The smallest model key above `after` (the store's ordered scan). */
function nextKey(model: Model, after: string | undefined): string | undefined {
  return model.ids[after === undefined ? 0 : upperBound(model.ids, after)];
}

/**
 * Runs split scans until no slot waits for one, as the tracker does: in key order, reading each
 * key's version when the scan reaches it; `between` may write between records, telling the index
 * whether the scan has passed the key written.
 */
function splitAll(index: MerkleIndex, model: Model, between?: (passed: (key: Buffer) => boolean) => void): number {
  let scans = 0;
  for (let slot = index.deep.nextWanting(); slot !== undefined; slot = index.deep.nextWanting()) {
    if (index.deep.beginSplit(slot, index.entryCount(slot)) === 0) continue;
    scans++;
    let after: string | undefined;
    for (let id = nextKey(model, after); id !== undefined; id = nextKey(model, after)) {
      index.addScanned(slot, Buffer.from(id, 'latin1'), model.get(id)!);
      after = id;
      const at = after;
      between?.((key) => key.toString('latin1') <= at);
    }
    expect(index.deep.finishSplit(slot, index.slotXor(slot), index.entryCount(slot)), 'nodes that did not add up').toBe(0);
  }
  return scans;
}

function fromScratch(model: Model, splitRecords: number): MerkleIndex {
  const index = new MerkleIndex({ deep: { splitRecords } });
  for (const [id, version] of model) index.update(SLOT, Buffer.from(id, 'latin1'), undefined, version);
  splitAll(index, model);
  return index;
}

/** Every comparable node: path → its 64 digests (hex). */
function nodes(index: MerkleIndex): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (path: number[]): void => {
    const d = index.deep.children(SLOT, path);
    if (d === undefined) return;
    out.set(path.join('.'), d.toString('hex'));
    if (path.length + 1 >= MAX_DEPTH) return;
    for (let digit = 0; digit < 64; digit++) visit([...path, digit]);
  };
  visit([]);
  return out;
}

function xorOf(digests: Buffer): string {
  const x = Buffer.alloc(8);
  for (let d = 0; d < 64; d++) for (let i = 0; i < 8; i++) x[i]! ^= digests[d * 8 + i]!;
  return x.toString('hex');
}

/** Every node's 64 digests XOR to its parent's digest (the root's to the slot's XOR). */
function expectConsistent(index: MerkleIndex): void {
  for (const [id, hex] of nodes(index)) {
    const path = id === '' ? [] : id.split('.').map(Number);
    const want = path.length === 0
      ? index.slotXor(SLOT).toString('hex')
      : index.deep.children(SLOT, path.slice(0, -1))!.subarray(path[path.length - 1]! * 8, path[path.length - 1]! * 8 + 8).toString('hex');
    expect(xorOf(Buffer.from(hex, 'hex')), `node ${id}`).toBe(want);
  }
}

describe('positions', () => {
  it('a member record sits at its member hash; other keys spread by a hash of the key', () => {
    const key = memberKey(5);
    const position = memberPosition(Buffer.from('field:5'));
    expect(positionOf(key)).toBe(position.readUInt32BE(0));
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[digitAt(positionOf(plainKey(i)), 0)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('a path covers exactly the positions whose digits it names', () => {
    const next = rng(3);
    for (let i = 0; i < 2000; i++) {
      const position = Math.floor(next() * 2 ** 32);
      const path = [digitAt(position, 0), digitAt(position, 1)];
      const [lo, hi] = pathInterval(path);
      expect(position >= lo && position < hi).toBe(true);
      expect(underPath(position, path)).toBe(true);
      expect(underPath(position, [path[0]!, (path[1]! + 1) % 64])).toBe(false);
    }
    expect(pathIntervals([[1], [1, 5], [2], [7, 3]])).toEqual([[2 ** 26, 3 * 2 ** 26], [7 * 2 ** 26 + 3 * 2 ** 20, 7 * 2 ** 26 + 4 * 2 ** 20]]);
    expect(intervalFrom([[10, 20], [30, 40]], 25)).toBe(1);
    expect(intervalFrom([[10, 20], [30, 40]], 40)).toBe(2);
  });
});

describe('deeper digests', () => {
  it('split past the threshold, level by level, and drop their nodes when the slot shrinks', () => {
    const index = new MerkleIndex({ deep: { splitRecords: 16 } });
    const model = new Model();
    for (let i = 0; i < 10; i++) put(index, model, plainKey(i));
    expect(index.deep.nextWanting()).toBeUndefined();
    for (let i = 0; i < 3000; i++) put(index, model, memberKey(i));
    expect(index.deep.nextWanting()).toBe(SLOT);
    expect(index.deep.children(SLOT, []), 'no digests before the split scan').toBeUndefined();
    const scans = splitAll(index, model);
    expect(scans, 'root, then level 1 (3010/64 ≈ 47 > 16), then level 2 stops (≈ 0.7)').toBe(2);
    expect(index.deep.children(SLOT, [])).toBeDefined();
    expect(index.deep.nodes).toBe(65);
    expectConsistent(index);

    for (let i = 0; i < 2990; i++) remove(index, model, memberKey(i));
    expect(index.deep.nodes, 'a 20-record slot keeps its root and at most a few nodes (a quarter of 16 is 4)').toBeLessThan(5);
    for (let i = 2990; i < 3000; i++) remove(index, model, memberKey(i));
    for (let i = 0; i < 10; i++) remove(index, model, plainKey(i));
    expect(index.deep.nodes).toBe(0);
  });

  it('kept up to date through writes, also mid-scan, equal a rebuild from scratch', () => {
    for (const seed of [1, 2, 3, 4]) {
      const next = rng(seed);
      const index = new MerkleIndex({ deep: { splitRecords: 12 } });
      const model = new Model();
      const churn = (passed: (key: Buffer) => boolean = () => true): void => {
        const i = Math.floor(next() * 2500);
        const key = next() < 0.8 ? memberKey(i) : plainKey(i % 300);
        if (next() < 0.3) remove(index, model, key, passed(key));
        else put(index, model, key, passed(key));
      };
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 1500; i++) churn();
        // Writes land between the split scan's records, before and after its position.
        splitAll(index, model, (passed) => {
          if (next() < 0.05) churn(passed);
        });
        expectConsistent(index);
      }
      splitAll(index, model);
      const rebuilt = fromScratch(model, 12);
      expect(index.slotDigest(SLOT)).toBe(rebuilt.slotDigest(SLOT));
      const ours = nodes(index);
      const theirs = nodes(rebuilt);
      expect(ours.size, 'the root and most of its 64 digests split').toBeGreaterThan(33);
      // The same data; shapes may differ where one merged and the other did not split: compare common nodes.
      let common = 0;
      for (const [id, hex] of ours) {
        if (!theirs.has(id)) continue;
        common++;
        expect(hex, `seed ${seed} node ${id}`).toBe(theirs.get(id));
      }
      expect(common).toBeGreaterThan(32);
    }
  });

  it('stop splitting at the node budget', () => {
    const index = new MerkleIndex({ deep: { splitRecords: 4, maxNodes: 3 } });
    const model = new Model();
    for (let i = 0; i < 4000; i++) put(index, model, memberKey(i));
    splitAll(index, model);
    expect(index.deep.nodes).toBe(3);
    expect(index.deep.nextWanting(), 'nothing queued beyond the budget').toBeUndefined();
    expect(() => new DeepDigests({ splitRecords: -1 })).toThrow(RangeError);
    expectConsistent(index);
  });
});

/** The shell's descent, with `peer` answering in process. */
function descend(ours: MerkleIndex, peer: MerkleIndex): { leaves: NodeRef[]; asked: number } {
  const roots: NodeRef[] = [{ slot: SLOT, path: [] }];
  const ask = (nodes: readonly NodeRef[]): Array<Buffer | undefined> => nodes.map((n) => peer.deep.children(n.slot, n.path));
  const mine = (nodes: readonly NodeRef[]): Array<Buffer | undefined> => nodes.map((n) => ours.deep.children(n.slot, n.path));
  const first = descendStep(roots, mine(roots), ask(roots));
  expect(first.leaves).toEqual([]);
  let next = confirmed(first.next, descendStep(roots, mine(roots), ask(roots)).next);
  const leaves: NodeRef[] = [];
  let asked = 1;
  while (next.length > 0) {
    const split = splitByDepth(next, (n) => n.path.length < MAX_DEPTH && ours.deep.children(n.slot, n.path) !== undefined);
    leaves.push(...split.leaves);
    if (split.ask.length === 0) break;
    asked += split.ask.length;
    const step = descendStep(split.ask, mine(split.ask), ask(split.ask));
    leaves.push(...step.leaves);
    next = step.next;
  }
  return { leaves, asked };
}

describe('descent between two replicas', () => {
  it('ends at exactly the leaves holding the differing records, each small', () => {
    const a = new MerkleIndex({ deep: { splitRecords: 64 } });
    const b = new MerkleIndex({ deep: { splitRecords: 64 } });
    const modelA = new Model();
    const modelB = new Model();
    // One 20,000-member hash and some plain keys, the same on both...
    for (let i = 0; i < 20_000; i++) {
      const key = memberKey(i);
      const version = nextVersion();
      for (const [index, model] of [[a, modelA], [b, modelB]] as const) {
        index.update(SLOT, key, undefined, version);
        model.set(key.toString('latin1'), version);
      }
    }
    for (let i = 0; i < 200; i++) {
      const key = plainKey(i);
      const version = nextVersion();
      a.update(SLOT, key, undefined, version);
      modelA.set(key.toString('latin1'), version);
      b.update(SLOT, key, undefined, version);
      modelB.set(key.toString('latin1'), version);
    }
    splitAll(a, modelA);
    splitAll(b, modelB);
    // ...then b misses five writes and a delete, and holds one record a lacks.
    const missed = [memberKey(10), memberKey(10_000), memberKey(19_999), plainKey(7), memberKey(123), memberKey(777)];
    for (const key of missed.slice(0, 5)) put(a, modelA, key);
    remove(a, modelA, missed[5]!);
    put(b, modelB, memberKey(30_000));
    const differing = [...missed, memberKey(30_000)];

    const { leaves, asked } = descend(a, b);
    const under = (key: Buffer): boolean => leaves.some((l) => underPath(positionOf(key), l.path));
    for (const key of differing) expect(under(key), `differing key under a leaf`).toBe(true);
    expect(leaves.length).toBeLessThanOrEqual(differing.length);
    // Every leaf holds a difference.
    for (const leaf of leaves) expect(differing.some((k) => underPath(positionOf(k), leaf.path))).toBe(true);
    // A slot of 20,200 records split down to leaves of ~5 (20,200 / 64²).
    const listed = [...modelA.keys()].filter((id) => under(Buffer.from(id, 'latin1'))).length;
    expect(listed, 'records under the leaves').toBeLessThan(differing.length * 20);
    expect(asked).toBeLessThan(1 + differing.length * 3);
  });

  it('a leaf where the peer has no node yet is listed at that depth', () => {
    const ours = Buffer.alloc(64 * 8, 1);
    const theirs = Buffer.from(ours);
    theirs[8 * 5] = 0;
    const { next, leaves } = descendStep([{ slot: 1, path: [3] }, { slot: 2, path: [] }], [ours, ours], [theirs, undefined]);
    expect(next).toEqual([{ slot: 1, path: [3, 5] }]);
    expect(leaves).toEqual([{ slot: 2, path: [] }]);
    expect(differingDigits(ours, theirs)).toEqual([5]);
    expect(confirmed([{ slot: 1, path: [1] }, { slot: 1, path: [2] }], [{ slot: 1, path: [2] }])).toEqual([{ slot: 1, path: [2] }]);
  });
});

describe('listing leaves with seeks', () => {
  it('finds exactly the records under the leaves and skips the rest of the collection', () => {
    const keys: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) keys.push(memberKey(i));
    for (let i = 0; i < 300; i++) keys.push(plainKey(i));
    // Another collection's members right after the first's.
    const other = elementPrefix(ElementKind.Member, Buffer.from('big2'), GEN);
    for (let i = 0; i < 2000; i++) keys.push(elementKey(other, memberPosition(Buffer.from(`m:${i}`))));
    keys.sort(Buffer.compare);
    const leaves: Path[] = [[5, 9], [5, 10, 2], [40], [63, 63, 63]];
    const intervals = pathIntervals(leaves);
    const want = keys.filter((k) => leaves.some((p) => underPath(positionOf(k), p)));

    const got: Buffer[] = [];
    let read = 0;
    let i = 0;
    while (i < keys.length) {
      read++;
      const step = leafStep(keys[i]!, intervals);
      if (step.take) got.push(keys[i]!);
      if (step.seekAfter === undefined) {
        i++;
        continue;
      }
      // The store's scan: the first key strictly after the target.
      const target = step.seekAfter;
      expect(Buffer.compare(target, keys[i]!)).toBeGreaterThan(0);
      while (i < keys.length && Buffer.compare(keys[i]!, target) <= 0) {
        expect(leaves.some((p) => underPath(positionOf(keys[i]!), p)), 'a seek skipped a wanted key').toBe(false);
        i++;
      }
    }
    expect(got.map((k) => k.toString('hex'))).toEqual(want.map((k) => k.toString('hex')));
    expect(want.length).toBeGreaterThan(300);
    // The plain keys are walked; of the members, about those wanted plus a few seeks per collection.
    expect(read).toBeLessThan(want.length + 300 + 40);
  });
});

describe('deeper digests on the wire', () => {
  it('checks peers\' requests and answers, and knows an earlier release\'s refusal', async () => {
    const { isNodesRequest, isLeavesRequest, decodeNodesResponse, isUnknownRequest } = await import('../../src/cluster/anti-entropy-wire.js');
    const { BusError } = await import('../../src/cluster/bus/types.js');
    expect(isNodesRequest({ q: [[5, []], [16383, [63, 0, 1]]] })).toBe(true);
    expect(isNodesRequest({ q: [[5, [0, 0, 0, 0]]] }), 'a leaf has no node under it').toBe(false);
    expect(isNodesRequest({ q: [[16384, []]] })).toBe(false);
    expect(isNodesRequest({ q: [[1, [64]]] })).toBe(false);
    expect(isLeavesRequest({ q: [[1, [[1, 2, 3, 4], []]]] })).toBe(true);
    expect(isLeavesRequest({ q: [[1, [[1, 2, 3, 4, 5]]]] })).toBe(false);
    expect(isLeavesRequest({ q: [[1, 'x']] })).toBe(false);
    const digests = Buffer.alloc(512, 7);
    const decoded = decodeNodesResponse({ r: [digests, null] }, 2);
    expect(decoded[0]!.equals(digests)).toBe(true);
    expect(decoded[1]).toBeUndefined();
    expect(() => decodeNodesResponse({ r: [Buffer.alloc(8)] }, 1)).toThrow();
    expect(() => decodeNodesResponse({ r: [] }, 1)).toThrow();
    expect(isUnknownRequest(new BusError('remote', "unknown bus request 'ae-nodes'"))).toBe(true);
    expect(isUnknownRequest(new BusError('timeout', 'timed out'))).toBe(false);
  });
});
