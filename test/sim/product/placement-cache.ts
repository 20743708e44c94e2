import { buildTopology, type Topology } from '../../../src/cluster/ring.js';
import { SlotTable } from '../../../src/cluster/slot-table.js';

/**
 * Building a ring and walking its 16384 slots takes tens of ms, more than the rest of a run's
 * setup. Both are pure functions of their inputs, so runs in one process share them: the same
 * inputs give the same (immutable) objects, and replaying a seed is unaffected.
 */
const topologies = new Map<string, Topology>();
/** Ring tokens per node: fewer than the default 128, which only spreads load more evenly. */
export const VNODES = 16;
/** Tables built with earlier placements (a rebalance window), per placements array. */
const windowTables = new WeakMap<readonly Topology[], Map<string, SlotTable>>();
const topologyNumbers = new WeakMap<Topology, number>();
const placementLists = new Map<string, readonly Topology[]>();
let nextNumber = 0;

/**
 * One array per sequence of earlier placements, so nodes whose windows hold the same placements
 * share their slot tables (each walks 16384 slots against every earlier placement).
 */
export function internPlacements(previous: readonly Topology[]): readonly Topology[] {
  const key = previous.map((t) => {
    let n = topologyNumbers.get(t);
    if (n === undefined) topologyNumbers.set(t, (n = nextNumber++));
    return n;
  }).join(',');
  let list = placementLists.get(key);
  if (list === undefined) placementLists.set(key, (list = Object.freeze([...previous])));
  return list;
}
const tables = new WeakMap<Topology, Map<string, SlotTable>>();

export function cachedTopology(ids: readonly string[], n: number, vnodes: number): Topology {
  const key = `${ids.join(',')}|${n}|${vnodes}`;
  let t = topologies.get(key);
  if (t === undefined) {
    t = buildTopology(ids.map((id) => ({ id })), { n, vnodes });
    topologies.set(key, t);
  }
  return t;
}

export function cachedTable(
  topology: Topology, alive: ReadonlySet<string>, quorum: number,
  isolation?: 'down' | 'redirect', standby?: ReadonlySet<string>, previous?: readonly Topology[], leftRing?: ReadonlySet<string>,
): SlotTable {
  if (previous !== undefined && previous.length > 0) {
    // A window's placements are one array per window: its tables are cached with it.
    let byInputs = windowTables.get(previous);
    if (byInputs === undefined) windowTables.set(previous, (byInputs = new Map()));
    const key = `${topology.nodeIds.join(',')}|${[...alive].sort().join(',')}|${quorum}|${isolation ?? ''}|${[...(standby ?? [])].sort().join(',')}|${[...(leftRing ?? [])].sort().join(',')}`;
    let t = byInputs.get(key);
    if (t === undefined) {
      t = new SlotTable(topology, alive, quorum, previous, isolation, standby, leftRing);
      byInputs.set(key, t);
    }
    return t;
  }
  let byAlive = tables.get(topology);
  if (byAlive === undefined) tables.set(topology, (byAlive = new Map()));
  const key = `${[...alive].sort().join(',')}|${quorum}|${isolation ?? ''}|${[...(standby ?? [])].sort().join(',')}`;
  let t = byAlive.get(key);
  if (t === undefined) {
    t = new SlotTable(topology, alive, quorum, [], isolation, standby);
    byAlive.set(key, t);
  }
  return t;
}
