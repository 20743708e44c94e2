/**
 * Goal: while slots move, the slot table names the right old owners, and the rebalance window keeps
 * the right earlier placements: every settled one (a replica gained in an intermediate placement
 * counts), the ring without the node for a node that just joined, none for a cluster forming.
 * Method: topologies built from sha1-derived node ids; slot tables over them with all nodes alive;
 * compare leavingReplicas and movingFor with preference lists computed directly.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildTopology, type Topology } from '../../src/cluster/ring.js';
import { SLOT_COUNT } from '../../src/cluster/slot.js';
import { SlotTable, earlierPlacements } from '../../src/cluster/slot-table.js';

const nodeId = (i: number): string => createHash('sha1').update(`ringkv-rebalance-${i}`).digest('hex');
const ids = Array.from({ length: 5 }, (_, i) => nodeId(i));
const options = { n: 3, vnodes: 64 };
const ring = (...which: number[]): Topology => buildTopology(which.map((i) => ({ id: ids[i]! })), options);
const allAlive = new Set(ids);

describe('slot table while slots move', () => {
  it('names as old owners the nodes a slot moved away from, and counts slots in and out per node', () => {
    const before = ring(0, 1, 2, 3);
    const after = ring(0, 1, 2); // node 3 left
    const table = new SlotTable(after, allAlive, 2, [before]);
    let moved = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const expected = before.preferenceList(slot).filter((id) => !after.preferenceList(slot).includes(id));
      expect(table.leavingReplicas(slot)).toEqual(expected);
      if (expected.length > 0) moved++;
    }
    expect(table.moving).toBe(moved);
    expect(table.movingFor(ids[3]!)).toEqual({ in: 0, out: moved });
    const gained = [0, 1, 2].reduce((s, i) => s + table.movingFor(ids[i]!).in, 0);
    expect(gained).toBe(moved);
  });

  it('leaves out old owners that are not alive, and has none outside a window', () => {
    const table = new SlotTable(ring(0, 1, 2), new Set(ids.slice(0, 3)), 2, [ring(0, 1, 2, 3)]);
    for (let slot = 0; slot < SLOT_COUNT; slot += 97) expect(table.leavingReplicas(slot)).toEqual([]);
    const calm = new SlotTable(ring(0, 1, 2), allAlive, 2);
    expect(calm.moving).toBe(0);
    expect(calm.movingFor(ids[0]!)).toEqual({ in: 0, out: 0 });
  });

  it('asks a replica gained in an intermediate placement too', () => {
    const first = ring(0, 1, 2);
    const middle = ring(0, 1, 2, 3); // node 3 joined
    const now = ring(0, 1, 2, 3, 4); // then node 4
    const table = new SlotTable(now, allAlive, 2, [first, middle]);
    let intermediateOnly = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const current = now.preferenceList(slot);
      const old = new Set([...first.preferenceList(slot), ...middle.preferenceList(slot)].filter((id) => !current.includes(id)));
      expect(new Set(table.leavingReplicas(slot))).toEqual(old);
      if (middle.preferenceList(slot).includes(ids[3]!) && !current.includes(ids[3]!)) intermediateOnly++;
    }
    expect(intermediateOnly, 'some slots gained node 3 and lost it again').toBeGreaterThan(0);
  });
});

describe('earlier placements of a rebalance window', () => {
  const members = (...which: number[]) => which.map((i) => ({ id: ids[i]! }));

  it('keeps a settled placement, after those already kept', () => {
    const a = ring(0, 1, 2);
    const b = ring(0, 1, 2, 3);
    expect(earlierPlacements([], a, true, members(0, 1, 2, 3), ids[0]!, options)).toEqual([a]);
    expect(earlierPlacements([a], b, true, members(0, 1, 2, 3, 4), ids[0]!, options)).toEqual([a, b]);
  });

  it('keeps nothing new for a placement held only briefly (a cluster forming)', () => {
    const kept = [ring(0, 1, 2)];
    expect(earlierPlacements([], ring(0, 1), false, members(0, 1, 2), ids[0]!, options)).toEqual([]);
    expect(earlierPlacements(kept, ring(0, 1, 2, 3), false, members(0, 1, 2, 3, 4), ids[0]!, options)).toBe(kept);
  });

  it('gives a node that joined the ring the others had, never its placement alone', () => {
    const joiner = ids[3]!;
    const from = earlierPlacements([], ring(3), true, members(0, 1, 2, 3), joiner, options);
    expect(from).toHaveLength(1);
    for (let slot = 0; slot < SLOT_COUNT; slot += 31) expect(from[0]!.preferenceList(slot)).toEqual(ring(0, 1, 2).preferenceList(slot));
  });

  it('keeps at most four, always the oldest', () => {
    const placements = [ring(0, 1, 2), ring(0, 1, 2, 3), ring(0, 1, 2, 3, 4), ring(1, 2, 3, 4)];
    const before = ring(2, 3, 4);
    const from = earlierPlacements(placements, before, true, members(2, 3, 4), ids[2]!, options);
    expect(from).toEqual([placements[0], placements[2], placements[3], before]);
    expect(from[0]).toBe(placements[0]);
    expect(from).toHaveLength(4);
  });
});
