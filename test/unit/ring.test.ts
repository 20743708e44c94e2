/**
 * Goal: ring placement is deterministic, replicates each slot on enough distinct nodes (and zones),
 * moves few slots when membership changes, and yields compact CLUSTER SLOTS ranges.
 * Method: topologies built from sha1-derived node ids; compare builds under member-order
 * permutations; check every slot's preference list; measure the fraction of slot primaries that
 * move when a node joins (expected ~1/(members+1)) and the number of contiguous primary ranges,
 * printing both.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type RingMember, buildTopology, slotRanges } from '../../src/cluster/ring.js';
import { SLOT_COUNT } from '../../src/cluster/slot.js';

const nodeId = (i: number): string => createHash('sha1').update(`ringkv-node-${i}`).digest('hex');
const members = (count: number, zoneOf?: (i: number) => string): RingMember[] =>
  Array.from({ length: count }, (_, i) => (zoneOf ? { id: nodeId(i), zone: zoneOf(i) } : { id: nodeId(i) }));

const allSlots = (): number[] => Array.from({ length: SLOT_COUNT }, (_, slot) => slot);

function permute<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('buildTopology', () => {
  it('is identical whatever order members are given in', () => {
    const base = members(7, (i) => `z${i % 3}`);
    const reference = buildTopology(base, { n: 3 });
    for (const seed of [1, 2, 3, 4]) {
      const other = buildTopology(permute(base, seed), { n: 3 });
      expect(other.nodeIds).toEqual(reference.nodeIds);
      expect(other.owners).toEqual(reference.owners);
      const differing = allSlots().filter(
        (slot) => other.preferenceList(slot).join() !== reference.preferenceList(slot).join(),
      );
      expect(differing).toEqual([]);
    }
  });

  it.each([
    [1, 3],
    [2, 3],
    [3, 3],
    [5, 3],
    [10, 3],
    [4, 1],
    [6, 5],
  ])('gives every slot min(n, members) distinct nodes (%i members, n=%i)', (count, n) => {
    const topology = buildTopology(members(count), { n });
    const bad = allSlots().filter((slot) => {
      const list = topology.preferenceList(slot);
      return (
        list.length !== Math.min(n, count) ||
        new Set(list).size !== list.length ||
        topology.nodeIds[topology.owners[slot]!] !== list[0]
      );
    });
    expect(bad).toEqual([]);
  });

  it('shares list instances between slots and freezes them', () => {
    const topology = buildTopology(members(10), { n: 3 });
    const distinct = new Set<readonly string[]>();
    for (let slot = 0; slot < SLOT_COUNT; slot++) distinct.add(topology.preferenceList(slot));
    expect(distinct.size).toBeLessThanOrEqual(10 * 128);
    expect(Object.isFrozen(topology.preferenceList(0))).toBe(true);
  });

  it('puts replicas in distinct zones when there are enough zones', () => {
    const topology = buildTopology(members(9, (i) => `zone-${i % 3}`), { n: 3 });
    const zoneOf = new Map(members(9, (i) => `zone-${i % 3}`).map((m) => [m.id, m.zone]));
    const bad = allSlots().filter(
      (slot) => new Set(topology.preferenceList(slot).map((id) => zoneOf.get(id))).size !== 3,
    );
    expect(bad).toEqual([]);
  });

  it('uses every zone first, then fills with distinct nodes', () => {
    const ms = members(4, (i) => (i < 3 ? 'big' : 'small'));
    const zoneOf = new Map(ms.map((m) => [m.id, m.zone]));
    const topology = buildTopology(ms, { n: 3 });
    const bad = allSlots().filter((slot) => {
      const list = topology.preferenceList(slot);
      return new Set(list).size !== 3 || new Set(list.map((id) => zoneOf.get(id))).size !== 2;
    });
    expect(bad).toEqual([]);
  });

  it('spreads slot primaries roughly evenly', () => {
    const topology = buildTopology(members(10), { n: 3 });
    const perNode = new Array<number>(10).fill(0);
    for (let slot = 0; slot < SLOT_COUNT; slot++) perNode[topology.owners[slot]!]!++;
    const mean = SLOT_COUNT / 10;
    console.log(`10 nodes, 128 vnodes: primary slots per node min ${Math.min(...perNode)}, max ${Math.max(...perNode)}, mean ${mean}`);
    expect(Math.min(...perNode)).toBeGreaterThan(mean * 0.6);
    expect(Math.max(...perNode)).toBeLessThan(mean * 1.5);
  });

  it.each([3, 10])('moves about 1/(n+1) of slot primaries when node %i+1 joins', (count) => {
    const before = buildTopology(members(count), { n: 3 });
    const after = buildTopology(members(count + 1), { n: 3 });
    const joined = nodeId(count);
    const movedSlots = allSlots().filter((slot) => before.preferenceList(slot)[0] !== after.preferenceList(slot)[0]);
    // Consistent hashing: slots only ever move to the newcomer, never between old members.
    expect(movedSlots.filter((slot) => after.preferenceList(slot)[0] !== joined)).toEqual([]);
    const moved = movedSlots.length;
    const fraction = moved / SLOT_COUNT;
    const ideal = 1 / (count + 1);
    console.log(`${count} -> ${count + 1} nodes: ${moved} slot primaries moved = ${fraction.toFixed(4)} (ideal ${ideal.toFixed(4)})`);
    expect(fraction).toBeGreaterThan(ideal * 0.5);
    expect(fraction).toBeLessThan(ideal * 1.6);
  });

  it.each([3, 10])('keeps CLUSTER SLOTS compact for %i nodes with 128 vnodes', (count) => {
    const topology = buildTopology(members(count), { n: 3, vnodes: 128 });
    const ranges = topology.slotRanges();
    console.log(`${count} nodes x 128 vnodes: ${ranges.length} CLUSTER SLOTS ranges`);
    expect(ranges.length).toBeLessThanOrEqual(count * 128);
    expect(ranges[0]!.start).toBe(0);
    expect(ranges[ranges.length - 1]!.end).toBe(SLOT_COUNT - 1);
  });

  it('rejects invalid members and options', () => {
    expect(() => buildTopology([], { n: 3 })).toThrow(RangeError);
    expect(() => buildTopology([{ id: 'abc' }], { n: 3 })).toThrow(/40 lowercase hex/);
    expect(() => buildTopology([{ id: nodeId(1) }, { id: nodeId(1) }], { n: 3 })).toThrow(/duplicate/);
    expect(() => buildTopology(members(2), { n: 0 })).toThrow(RangeError);
    expect(() => buildTopology(members(2), { n: 3, vnodes: 0 })).toThrow(RangeError);
    expect(() => buildTopology(members(2), { n: 3 }).preferenceList(SLOT_COUNT)).toThrow(RangeError);
  });
});

describe('primaryFor', () => {
  it('is the first alive node of the preference list', () => {
    const topology = buildTopology(members(5), { n: 3 });
    const [first, second, third] = topology.preferenceList(42);
    expect(topology.primaryFor(42, () => true)).toBe(first);
    expect(topology.primaryFor(42, (id) => id !== first)).toBe(second);
    expect(topology.primaryFor(42, (id) => id === third)).toBe(third);
    expect(topology.primaryFor(42, () => false)).toBeUndefined();
  });
});

describe('slotRanges', () => {
  it('folds per-slot primaries into maximal ascending ranges and skips unserved slots', () => {
    const primaryOf = (slot: number): string | undefined =>
      slot < 100 ? 'a' : slot < 200 ? undefined : slot < 300 ? 'a' : slot < 16000 ? 'b' : 'a';
    expect(slotRanges(primaryOf)).toEqual([
      { start: 0, end: 99, node: 'a' },
      { start: 200, end: 299, node: 'a' },
      { start: 300, end: 15999, node: 'b' },
      { start: 16000, end: 16383, node: 'a' },
    ]);
  });

  it('covers every slot exactly once for a topology', () => {
    const topology = buildTopology(members(4), { n: 2 });
    const isAlive = (id: string): boolean => id !== topology.nodeIds[0];
    const ranges = topology.slotRanges((slot) => topology.primaryFor(slot, isAlive));
    let expected = 0;
    for (const r of ranges) {
      expect(r.start).toBe(expected);
      expect(r.node).not.toBe(topology.nodeIds[0]);
      expected = r.end + 1;
    }
    expect(expected).toBe(SLOT_COUNT);
  });
});
