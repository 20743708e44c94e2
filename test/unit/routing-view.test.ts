/**
 * Goal: the nodes of a partition agree on who serves a slot: the majority routes around the node
 * it cannot reach, the cut-off node steps aside (CLUSTERDOWN, then MOVED once the majority surely
 * routes around it), two halves never both step aside, and following redirects from any node
 * never loops in the cases the fault suite runs.
 * Method: RoutingViewTracker (pure) per node with scripted reachability, then SlotTable and
 * decideRoute over a real ring, following MOVED from every node for every slot.
 */
import { describe, expect, it } from 'vitest';
import { RoutingViewTracker, type RoutingView } from '../../src/cluster/routing-view.js';
import { SlotTable } from '../../src/cluster/slot-table.js';
import { buildTopology } from '../../src/cluster/ring.js';
import { decideRoute } from '../../src/cluster/route.js';
import { SLOT_COUNT } from '../../src/cluster/slot.js';

const REDIRECT_AFTER_MS = 1950;

interface World {
  members: string[];
  /** Directed: a → b heard. Missing pairs are cut. */
  links: Set<string>;
  gone: Set<string>;
  refused: Set<string>;
  /** Nodes whose pings say they are cut off. */
  claims: Set<string>;
  /** Nodes catching up after being away (their own word, and what their pings say). */
  catching: Set<string>;
}

function world(members: string[]): World {
  const links = new Set<string>();
  for (const a of members) for (const b of members) if (a !== b) links.add(`${a}>${b}`);
  return { members, links, gone: new Set(), refused: new Set(), claims: new Set(), catching: new Set() };
}

function cut(w: World, node: string, others: readonly string[]): void {
  for (const o of others) {
    w.links.delete(`${node}>${o}`);
    w.links.delete(`${o}>${node}`);
  }
}

function view(tracker: RoutingViewTracker, w: World, self: string, nowMs: number): RoutingView {
  return tracker.update({
    nowMs, self, members: w.members,
    gone: (id) => w.gone.has(id) || w.refused.has(id),
    refused: (id) => w.refused.has(id),
    linked: (id) => w.links.has(`${self}>${id}`),
    stepsAside: (id) => w.claims.has(id),
    catchingUp: (id) => w.catching.has(id),
    selfCatchingUp: w.catching.has(self),
  });
}

/** Follows a client from `start` through MOVED for every slot; returns the outcome per slot. */
function follow(tables: Map<string, SlotTable>, start: string): { served: number; down: number; loops: number; maxHops: number } {
  let served = 0, down = 0, loops = 0, maxHops = 0;
  for (let slot = 0; slot < SLOT_COUNT; slot += 7) {
    let at = start;
    const seen = new Set<string>();
    for (let hops = 0; ; hops++) {
      if (seen.has(at)) {
        loops++;
        break;
      }
      seen.add(at);
      const table = tables.get(at)!;
      const route = decideRoute({
        slots: [slot], myId: at, primary: (s) => table.primary(s), replicas: (s) => table.replicas(s),
        isWrite: true, readonlySession: false, proxy: false, forwarded: false, isolated: table.isolation,
      });
      maxHops = Math.max(maxHops, hops);
      if (route.kind === 'coordinate') {
        served++;
        break;
      }
      if (route.kind === 'moved') {
        at = route.node;
        continue;
      }
      down++;
      break;
    }
  }
  return { served, down, loops, maxHops };
}

/** Ring ids are 40 hex characters; the scripted names are single hex letters. */
const ringId = (name: string): string => name.repeat(40);

/** Each node's slot table, keyed by ring id. */
function tablesAt(w: World, trackers: Map<string, RoutingViewTracker>, nowMs: number): Map<string, SlotTable> {
  const topology = buildTopology(w.members.map((name) => ({ id: ringId(name) })), { n: 3, vnodes: 16 });
  const out = new Map<string, SlotTable>();
  for (const name of w.members) {
    const v = view(trackers.get(name)!, w, name, nowMs);
    out.set(ringId(name), new SlotTable(topology, new Set([...v.alive].map(ringId)), 2, [], v.isolation, new Set([...v.standby].map(ringId))));
  }
  return out;
}

describe('RoutingViewTracker', () => {
  it('a node catching up stays a replica but coordinates no slot another alive replica can, and redirects never loop', () => {
    const w = world(['a', 'b', 'c', 'd']);
    const t = new Map(w.members.map((id) => [id, new RoutingViewTracker(REDIRECT_AFTER_MS)]));
    w.catching.add('c');
    const tables = tablesAt(w, t, 0);
    const c = ringId('c');
    for (const [, table] of tables) {
      expect(table.alive.has(c)).toBe(true);
      expect(table.slotsOf(c)).toBe(0);
      expect(table.ok).toBe(true);
    }
    for (const start of w.members) expect(follow(tables, ringId(start))).toMatchObject({ down: 0, loops: 0 });
    // Everyone catching up (a whole cluster restarted): the usual primaries, no slot left out.
    for (const id of w.members) w.catching.add(id);
    const all = tablesAt(w, t, 100);
    const usual = tablesAt(world(w.members), new Map(w.members.map((id) => [id, new RoutingViewTracker(REDIRECT_AFTER_MS)])), 100);
    expect(all.get(c)!.signature).toBe(usual.get(c)!.signature);
  });

  it('partition-one of three: the majority routes around the cut-off node, which steps aside', () => {
    const w = world(['a', 'b', 'c']);
    const t = new Map(w.members.map((id) => [id, new RoutingViewTracker(REDIRECT_AFTER_MS)]));
    expect(view(t.get('c')!, w, 'c', 0)).toMatchObject({ isolation: undefined, voters: 3, reached: 3 });
    cut(w, 'c', ['a', 'b']);
    const a = view(t.get('a')!, w, 'a', 1000);
    expect([...a.alive].sort()).toEqual(['a', 'b']);
    expect(a.isolation).toBeUndefined();
    const c = view(t.get('c')!, w, 'c', 1000);
    expect(c.isolation).toBe('down');
    expect([...c.alive].sort()).toEqual(['a', 'b']);
    expect(view(t.get('c')!, w, 'c', 1000 + REDIRECT_AFTER_MS - 1).isolation).toBe('down');
    expect(view(t.get('c')!, w, 'c', 1000 + REDIRECT_AFTER_MS).isolation).toBe('redirect');
  });

  it('a cut-off node stays isolated after it has declared everyone failed (longer than the node timeout)', () => {
    const w = world(['a', 'b', 'c']);
    const t = new RoutingViewTracker(REDIRECT_AFTER_MS);
    view(t, w, 'c', 0);
    cut(w, 'c', ['a', 'b']);
    view(t, w, 'c', 1000);
    // After the node timeout the cut-off node's membership calls both others failed.
    w.gone.add('a');
    w.gone.add('b');
    const later = view(t, w, 'c', 20_000);
    expect(later.isolation).toBe('redirect');
    expect([...later.alive].sort()).toEqual(['a', 'b']);
    expect(t.departedMembers()).toEqual([]);
  });

  it('the majority forgets a member it saw fail, so a later split of the rest keeps one side serving', () => {
    const w = world(['a', 'b', 'c']);
    const t = new Map(w.members.map((id) => [id, new RoutingViewTracker(REDIRECT_AFTER_MS)]));
    // c dies: refused, then failed.
    cut(w, 'c', ['a', 'b']);
    w.refused.add('c');
    for (const id of ['a', 'b']) expect(view(t.get(id)!, w, id, 1000).isolation).toBeUndefined();
    w.refused.delete('c');
    w.gone.add('c');
    // Then a and b lose each other: exactly half each; the half with the lowest id keeps serving.
    cut(w, 'a', ['b']);
    expect(view(t.get('a')!, w, 'a', 5000).isolation).toBeUndefined();
    expect(view(t.get('b')!, w, 'b', 5000).isolation).toBe('down');
  });

  it('a member back from failure votes again', () => {
    const w = world(['a', 'b', 'c']);
    const t = new RoutingViewTracker(REDIRECT_AFTER_MS);
    w.gone.add('c');
    cut(w, 'a', ['c']);
    view(t, w, 'a', 0);
    expect(t.departedMembers()).toEqual(['c']);
    w.gone.delete('c');
    view(t, w, 'a', 1000);
    expect(t.departedMembers()).toEqual([]);
  });

  it('no redirect loop from any node, before and after the cut-off node starts redirecting', () => {
    for (const members of [['a', 'b', 'c'], ['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'd', 'e']]) {
      const w = world(members);
      const trackers = new Map(members.map((id) => [id, new RoutingViewTracker(REDIRECT_AFTER_MS)]));
      const victim = members[members.length - 1]!;
      cut(w, victim, members.filter((m) => m !== victim));
      for (const now of [1000, 1000 + REDIRECT_AFTER_MS]) {
        const tables = tablesAt(w, trackers, now);
        for (const start of members) {
          const r = follow(tables, ringId(start));
          expect(r.loops, `${members.length} nodes, from ${start} at ${now}`).toBe(0);
          expect(r.maxHops).toBeLessThanOrEqual(2);
          // Only the cut-off node says CLUSTERDOWN, and only before it redirects.
          if (start !== victim || now > 1000) expect(r.down).toBe(0);
        }
      }
    }
  });

  it('a 2 + 3 split: the two step aside together, the three serve everything, no loop', () => {
    const members = ['a', 'b', 'c', 'd', 'e'];
    const w = world(members);
    const trackers = new Map(members.map((id) => [id, new RoutingViewTracker(REDIRECT_AFTER_MS)]));
    for (const x of ['a', 'b']) cut(w, x, ['c', 'd', 'e']);
    tablesAt(w, trackers, 1000);
    const tables = tablesAt(w, trackers, 1000 + REDIRECT_AFTER_MS);
    expect(tables.get(ringId('a'))!.isolation).toBe('redirect');
    expect(tables.get(ringId('b'))!.isolation).toBe('redirect');
    expect(tables.get(ringId('c'))!.isolation).toBeUndefined();
    for (const start of members) {
      const r = follow(tables, ringId(start));
      expect(r.loops).toBe(0);
      expect(r.down).toBe(0);
    }
    // Neither minority node is advertised as serving anything, by anyone.
    for (const table of tables.values()) {
      expect(table.slotsOf(ringId('a')) + table.slotsOf(ringId('b'))).toBe(0);
    }
  });

  it('an isolated node advertises the majority and reports cluster_state fail', () => {
    const w = world(['a', 'b', 'c']);
    const trackers = new Map(w.members.map((id) => [id, new RoutingViewTracker(REDIRECT_AFTER_MS)]));
    cut(w, 'c', ['a', 'b']);
    const tables = tablesAt(w, trackers, 1000);
    const c = tables.get(ringId('c'))!;
    expect(c.ok).toBe(false);
    expect(c.slotsOf(ringId('c'))).toBe(0);
    expect(c.signature).toBe(tables.get(ringId('a'))!.signature + '|down');
    expect(tables.get(ringId('a'))!.ok).toBe(true);
  });

  it('a node that still says it is cut off is not routed to, but does not make others isolated', () => {
    const w = world(['a', 'b', 'c']);
    const t = new RoutingViewTracker(REDIRECT_AFTER_MS);
    // c came back from a partition and still says so; then a is cut off. b reaches c: majority.
    w.claims.add('c');
    cut(w, 'a', ['b', 'c']);
    const b = view(t, w, 'b', 1000);
    expect(b.isolation).toBeUndefined();
    expect([...b.alive]).toEqual(['b']);
    w.claims.delete('c');
    expect([...view(t, w, 'b', 1100).alive].sort()).toEqual(['b', 'c']);
  });
});

describe('decideRoute on an isolated node', () => {
  const base = {
    slots: [5], myId: 'c', primary: () => 'a', replicas: () => ['c', 'a', 'b'], isWrite: false,
    readonlySession: false, proxy: false, forwarded: false,
  };
  it('answers CLUSTERDOWN first, MOVED later, CLUSTERDOWN throughout in proxy mode', () => {
    expect(decideRoute({ ...base, isolated: 'down' })).toEqual({ kind: 'error', message: 'CLUSTERDOWN The cluster is down' });
    expect(decideRoute({ ...base, isolated: 'redirect' })).toEqual({ kind: 'moved', slot: 5, node: 'a' });
    expect(decideRoute({ ...base, isolated: 'redirect', proxy: true })).toEqual({ kind: 'error', message: 'CLUSTERDOWN The cluster is down' });
  });
  it('still serves READONLY reads of its own replicas and commands a peer relayed', () => {
    expect(decideRoute({ ...base, isolated: 'down', readonlySession: true })).toEqual({ kind: 'coordinate', slot: 5 });
    expect(decideRoute({ ...base, isolated: 'down', forwarded: true })).toEqual({ kind: 'coordinate', slot: 5 });
  });
});
