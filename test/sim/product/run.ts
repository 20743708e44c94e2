import type { Topology } from '../../../src/cluster/ring.js';
import { cachedTopology, VNODES } from './placement-cache.js';
import { keySlot } from '../../../src/cluster/slot.js';
import { Prng } from '../prng.js';
import { forgottenKey, installConcurrentSequencer, removeKeyLocks, type Breakage } from './broken.js';
import { SimClient, type Counter, type OwnKey, type Queue } from './client.js';
import { SimClock } from './sim-clock.js';
import { SimNet, REQUEST_TIMEOUT_MS } from './sim-network.js';
import { bootDelay, SimNode, type ClusterEnv } from './sim-node.js';
import type { HintDisk } from './sim-hints.js';
import { emptyDisk, type DiskImage } from './sim-store.js';
import { Scheduler } from './scheduler.js';
import { leaveFinished } from '../../../src/tools/scale-down.js';
import { checkFinalState, checkQueues, checkQuorumReads, checkSortedSets, readEverything, readQueues, readSortedSets } from './final-checks.js';
import { FreshReadProbe, type Absence } from './fresh-reads.js';
import { BASE_DELAY_MAX_MS, BASE_DROP_RATE, BASE_DUP_RATE, scheduleFaults, scheduleMembership } from './nemesis.js';

export interface ProductSimOptions {
  seed: number;
  nodes: 3 | 5;
  /** Simulated ms of client load with faults; healing and the final checks come after. */
  workloadMs?: number;
  clientsPerNode?: number;
  bug?: Breakage;
  /**
   * Sloppy quorums (the product's default): writes for unreachable owners go to fallbacks as hints,
   * which the real HintReplayer hands back. Only with more nodes than N.
   */
  sloppy?: boolean;
  /**
   * Coming back (docs/decisions.md): nodes route by the real routing view and catch up by the real
   * CatchUpDriver after a restart or a partition (`on`), or run the same with catching up switched
   * off (`off`, `cluster-catch-up-timeout-ms 0`: the broken-on-purpose variant). Either way probe
   * keys are read at R=1 through every node and checked against what catching up promises.
   */
  catchUp?: 'on' | 'off';
  /**
   * Membership changes while clients pipeline and the other faults go on: a new node joins with an
   * empty disk, and a member leaves for good (RINGKV.LEAVE: decommissioned, then stopped and its disk
   * gone). With `sloppy` on 5 nodes hints reach fallbacks, and those for the node that left are
   * dropped (its status is `left`). Not with `catchUp`.
   */
  membership?: boolean;
  /**
   * Each home also has a sorted set whose three members are counters (ZINCRBY / ZSCORE); after the
   * final read, its score index (ZRANGE WITHSCORES) and count (ZCARD) must agree with the members.
   */
  sortedSets?: boolean;
  /**
   * Each home also has a list and a set the clients of that home use as job queues (LPUSH or SADD
   * of unique tokens, RPOP or SPOP), and a reliable queue (LMOVE to a processing list, LREM when
   * done): no token popped or delivered twice or resurrected, none acknowledged lost (client.ts, Queue).
   */
  queues?: boolean;
  /** The third key of each client's groups is a hash (HSET, HDEL, HGET, HLEN; model.ts applyHash). */
  hashes?: boolean;
  /** Traces stores, replies and faults touching keys that contain this text (to study one seed). */
  traceKey?: string;
  trace?: (line: string) => void;
}

export type ViolationKind =
  | 'order' | 'reply' | 'lost-write' | 'increment' | 'diverged' | 'stuck' | 'final-read'
  /** A key's reply or final value contradicts acknowledged writes after one of unknown outcome (finding 1). */
  | 'resurfaced'
  /** A counter lost increments while two nodes coordinated its slot at once (finding 2). */
  | 'contested'
  /** A read at R=1 through a node back from being away missed a write acknowledged while it was away. */
  | 'stale-read'
  /** A read at the default quorums under the final topology missed an acknowledged write (membership runs). */
  | 'quorum-read'
  /** A sorted set's score index or count disagrees with its members after healing. */
  | 'index'
  /** A queue popped a token twice, resurrected or lost one (lists). */
  | 'queue'
  /** A two-key write of unknown outcome took effect on one key only (finding 9). */
  | 'split';

export interface ProductSimReport {
  seed: number;
  nodes: number;
  bug: Breakage;
  violations: Array<{ kind: ViolationKind; text: string }>;
  stats: Record<string, number>;
  /** Digest of every reply and every replica's final records: equal digests, identical runs. */
  digest: string;
  /** Error replies the clients got, by their first words. */
  errors: Record<string, number>;
}

/** A failure detector declares a peer down after this long without hearing from it. */
const DETECT_MS = 300;
/**
 * Membership declares a member failed after this long without news of it, directly or through the
 * gossip of members it hears (coming back only): ten times the link detector's delay, as the
 * product's node timeout (15 s) is to its link suspicion (1.5 s).
 */
const FAILED_MS = 10 * DETECT_MS;
const DETECTOR_TICK_MS = 50;
/** The preStop hook's wait for a leave (src/tools/prestop.ts): gossip's time to spread it, and its poll. */
const PRESTOP_PROPAGATE_MS = 5000;
const PRESTOP_POLL_MS = 1000;

/** Node id sets runs draw from: each gives another ring placement, and all are cached. */
const ID_SETS = 16;

/** The node ids of a run, from a small fixed pool so rings and slot tables are built once per process. */
function nodeIds(seed: number, count: number): string[] {
  const prng = new Prng(0x5eed_0000 + count * 1000 + (seed % ID_SETS));
  const ids = new Set<string>();
  while (ids.size < count) {
    let id = '';
    for (let i = 0; i < 5; i++) id += Math.floor(prng.next() * 0x1_0000_0000).toString(16).padStart(8, '0');
    ids.add(id);
  }
  return [...ids];
}

/** A key in a slot whose preference list `node` heads, found by trying tags in a fixed order. */
function keyOwnedBy(topology: Topology, nodeId: string, prefix: string): string {
  for (let i = 0; ; i++) {
    const tag = `${prefix}-${i}`;
    if (topology.preferenceList(keySlot(Buffer.from(tag)))[0] === nodeId) return `{${tag}}`;
  }
}

/**
 * One run: N nodes of the real product in this process, clients pipelining against them while the
 * network, clocks and disks misbehave, then healing, a final read of every key at R=N, and the
 * property checks. Everything random comes from one seeded PRNG, so a seed replays exactly.
 */
export async function runProductSim(opts: ProductSimOptions): Promise<ProductSimReport> {
  const bug = opts.bug ?? 'none';
  const workloadMs = opts.workloadMs ?? 1500;
  const prng = new Prng(opts.seed);
  const sched = new Scheduler(2_000_000);
  const count = opts.nodes;
  const membership = opts.membership === true;
  if (membership && opts.catchUp !== undefined) throw new Error('membership runs do not simulate coming back');
  // A membership run has one node more: the one that joins (index `count`), not a member at first.
  const ids = nodeIds(opts.seed, membership ? count + 1 : count);
  const total = ids.length;
  const n = 3;
  const violations: ProductSimReport['violations'] = [];
  const violation = (kind: ViolationKind, text: string): void => {
    violations.push({ kind, text });
  };

  const nodes: SimNode[] = [];
  const net = new SimNet(sched, prng, (i) => nodes[i]!);
  net.dropRate = BASE_DROP_RATE;
  net.dupRate = BASE_DUP_RATE;
  const lastHeard: number[][] = ids.map(() => ids.map(() => 0));
  // What each node last heard from each other in its link pings (coming back only).
  const noFlags = { isolated: false, catchingUp: false, holdsHints: false };
  const heard: Array<Array<typeof noFlags>> = ids.map(() => ids.map(() => noFlags));
  // Nodes away (crashed, or cut off both ways), for what catching up promises after they come back.
  const absences: Absence[] = [];
  // When each node last had news of each other, directly or by gossip (coming back only).
  const lastNews: number[][] = ids.map(() => ids.map(() => 0));
  const topology = cachedTopology(membership ? [...ids.slice(0, count)].sort() : ids, n, VNODES);
  // Membership runs: every member set the run went through (the newest last), the version at which
  // a node left, and the newest version each node has heard of (-1: a joiner that met nobody yet).
  const rings: Array<readonly string[]> = [topology.nodeIds];
  const leftAt = new Map<string, number>();
  const known: number[] = ids.map((_, i) => (i < count ? 0 : -1));
  const env: ClusterEnv = {
    sched, net, ids, topology, n, r: 2, w: 2,
    extended: opts.sloppy && count > n ? cachedTopology(ids, Math.min(count, n + 2), VNODES) : undefined,
    believesAlive: (from, to) => sched.now - lastHeard[from]![to]! <= DETECT_MS,
    ...(opts.catchUp !== undefined ? {
      catchUp: opts.catchUp,
      heard: (from: number, to: number) => heard[from]![to]!,
      failed: (from: number, to: number) => sched.now - lastNews[from]![to]! > FAILED_MS,
      // As the product: a cut-off node redirects once every peer has surely suspected it.
      redirectAfterMs: DETECT_MS + DETECTOR_TICK_MS,
      ...(opts.trace !== undefined ? { trace: opts.trace } : {}),
    } : {}),
    ...(membership ? {
      ringAtBoot: (i: number) => (known[i]! >= 0 ? rings[known[i]!]! : [ids[i]!]),
      memberStatus: (i: number, id: string) => {
        const v = known[i]!;
        if (v < 0) return id === ids[i] ? 'active' as const : undefined;
        const left = leftAt.get(id);
        if (left !== undefined && left <= v) return 'left' as const;
        return rings[v]!.includes(id) ? 'active' as const : undefined;
      },
      // Gossip carries `synced` with the heartbeat: a member this node hears, as it is now.
      syncedOf: (i: number, id: string) => {
        const j = ids.indexOf(id);
        return nodes[j]!.alive && sched.now - lastHeard[i]![j]! <= DETECT_MS ? nodes[j]!.synced : undefined;
      },
      skipHandoff: bug === 'no-handoff',
      ...(opts.trace !== undefined ? { trace: opts.trace } : {}),
    } : {}),
    fsyncDelay: () => prng.int(0, 3),
    storeFaults: (i) => {
      if (opts.traceKey !== undefined) {
        const t = opts.traceKey;
        return {
          observe: (key, rec, applied) => {
            if (key.toString('latin1').includes(t)) {
              const v = rec.value instanceof Buffer ? rec.value.toString('latin1') : '(hash)';
              opts.trace?.(`t=${sched.now} node ${i} put ${key.toString('latin1')}=${JSON.stringify(rec.type === 0 ? '(tombstone)' : v)} v=${rec.version.toString('hex').slice(0, 16)} ${applied ? 'applied' : 'older, kept'}`);
            }
          },
        };
      }
      if (bug === 'lying-fsync') return { lyingFsync: true };
      if (bug === 'replica-forgets' && i === 0) return { forget: forgottenKey };
      return {};
    },
  };
  // Write jobs in flight per slot and node; a slot two nodes coordinated at the same time is contested.
  const writing = new Map<number, Map<number, number>>();
  const contested = new Set<number>();
  env.coordinating = (index, slot, active) => {
    let bySlot = writing.get(slot);
    if (bySlot === undefined) writing.set(slot, (bySlot = new Map()));
    const n = (bySlot.get(index) ?? 0) + (active ? 1 : -1);
    if (n > 0) bySlot.set(index, n);
    else bySlot.delete(index);
    if (bySlot.size > 1) contested.add(slot);
  };
  const disks: DiskImage[] = ids.map(() => emptyDisk());
  const hintDisks: HintDisk[] = ids.map(() => new Map());
  const clocks = ids.map(() => new SimClock(sched, prng.int(-100, 100), prng.int(-2000, 2000)));
  const boot = (i: number, epoch: number): SimNode => {
    const node = new SimNode(env, i, epoch, disks[i]!, hintDisks[i]!, clocks[i]!);
    if (bug === 'no-key-locks') removeKeyLocks(node);
    nodes[i] = node;
    return node;
  };
  for (let i = 0; i < count; i++) boot(i, 0);
  // The node that joins later is no process yet: a placeholder that runs nothing.
  for (let i = count; i < total; i++) boot(i, -1).crash();
  const departed = new Set<number>();
  const unjoined = new Set<number>(ids.map((_, i) => i).filter((i) => i >= count));

  const detectorTick = (): void => {
    // A stalled process neither hears nor is heard.
    const running = (i: number): boolean => nodes[i]!.alive && !nodes[i]!.paused;
    for (let i = 0; i < total; i++) {
      if (!running(i)) continue;
      for (let j = 0; j < total; j++) {
        if (!running(j) || net.blocked(j, i)) continue;
        lastHeard[i]![j] = sched.now;
        if (opts.catchUp !== undefined && j !== i) {
          const from = nodes[j]!;
          heard[i]![j] = { isolated: from.routing?.isolation !== undefined, catchingUp: from.catchUpDriver?.active ?? false, holdsHints: from.holdsHintsFor(ids[i]!) };
        }
      }
    }
    if (opts.catchUp !== undefined) {
      // Gossip: a node has news of whatever the nodes it hears had news of.
      for (let i = 0; i < count; i++) {
        if (!nodes[i]!.alive) continue;
        for (let j = 0; j < count; j++) {
          if (j === i || sched.now - lastHeard[i]![j]! > 0) continue;
          lastNews[i]![j] = sched.now;
          for (let k = 0; k < count; k++) lastNews[i]![k] = Math.max(lastNews[i]![k]!, lastNews[j]![k]!);
        }
      }
    }
    if (membership) spreadMembership(running);
    for (const node of nodes) if (node.alive && !node.paused) node.linkTick();
    // A cut-off the node's own routing view saw is one it comes back from.
    for (const a of absences) {
      if (a.kind === 'cut-off' && a.from <= sched.now && (a.to === undefined || sched.now <= a.to) && nodes[a.node]!.routing?.isolation !== undefined) a.noticed = true;
    }
    sched.after(DETECTOR_TICK_MS, detectorTick);
  };
  /**
   * Gossip of the member set: a node adopts the newest change any node it heard this tick knows of
   * (one hop per tick, through whatever the network lets through), and rebuilds its ring from it.
   */
  const spreadMembership = (running: (i: number) => boolean): void => {
    const before = [...known];
    for (let i = 0; i < total; i++) {
      if (!running(i)) continue;
      for (let j = 0; j < total; j++) {
        if (j !== i && before[j]! > known[i]! && lastHeard[i]![j] === sched.now) known[i] = before[j]!;
      }
      if (known[i] !== before[i]) nodes[i]!.learn(rings[known[i]!]!);
    }
  };
  detectorTick();

  // Clients: each owns keys in slots its home node leads, and shares counters with its home's other clients.
  const clients: SimClient[] = [];
  // Two string counters and one hash field per home: the hash's field is an element record, read
  // from the coordinator's own replica once completed (docs/decisions.md, "Collections").
  const counters: Counter[][] = ids.slice(0, count).map((id, h) => [
    ...[0, 1].map((c) => ({ key: `${keyOwnedBy(topology, id, `ctr${h}.${c}`)}ctr`, acked: 0, uncertain: 0 })),
    { key: `${keyOwnedBy(topology, id, `hctr${h}`)}hctr`, field: 'n', acked: 0, uncertain: 0 },
    ...(opts.sortedSets === true ? ['m0', 'm1', 'm2'].map((field) => ({ key: `${keyOwnedBy(topology, id, `zctr${h}`)}zctr`, field, zset: true, acked: 0, uncertain: 0 })) : []),
  ]);
  const queues: Queue[][] = ids.slice(0, count).map((id, h) => (opts.queues !== true ? [] : (['list', 'set', 'zset', 'reliable', 'stream'] as const).map((kind) => {
    const tag = keyOwnedBy(topology, id, `q${h}${kind}`);
    const q: Queue = { key: `${tag}q`, kind, pushed: new Map<string, boolean>(), popped: new Set<string>(), uncertainPops: 0 };
    if (kind === 'reliable') Object.assign(q, { processing: `${tag}processing`, moved: new Set<string>(), removing: new Set<string>() });
    if (kind === 'stream') q.ids = new Map<string, string>();
    return q;
  })));
  const perNode = opts.clientsPerNode ?? 2;
  for (let h = 0; h < count; h++) {
    for (let c = 0; c < perNode; c++) {
      const name = `c${h}.${c}`;
      const groups: OwnKey[][] = [0, 1, 2].map((g) => {
        const tag = keyOwnedBy(topology, ids[h]!, `${name}.g${g}`);
        return [0, 1, 2].map((k): OwnKey => ({ key: `${tag}k${k}`, value: null, certain: true, acked: 0, hadUncertain: false, ...(opts.hashes === true && k === 2 ? { hash: true } : {}) }));
      });
      clients.push(new SimClient(name, prng, groups, counters[h]!, {
        now: () => sched.now,
        after: (ms, fn) => sched.after(ms, fn),
        stopAt: workloadMs,
        violation,
        ...(opts.traceKey !== undefined && opts.trace ? { trace: { key: opts.traceKey, log: opts.trace } } : {}),
        openSession: (node, session) => {
          if (bug === 'concurrent-sequencer') installConcurrentSequencer(node, session);
        },
        view: () => {
          // Asks one live node for its slot map, as a cluster client refreshes it.
          // A cluster client asks nodes it knows from the slot map: not a joiner that met nobody yet.
          const live = nodes.filter((x) => x.alive && known[x.index]! >= 0);
          if (live.length === 0) return () => undefined;
          const table = prng.pick(live).table;
          return (key) => {
            const primary = table.primary(keySlot(Buffer.from(key, 'latin1')));
            const node = primary === undefined ? undefined : nodes[ids.indexOf(primary)];
            return node?.alive ? node : undefined;
          };
        },
      }, queues[h]!));
    }
  }
  for (const c of clients) c.start();

  const away = (i: number, kind: Absence['kind']): void => {
    absences.push({ node: i, kind, from: sched.now, to: undefined, noticed: false });
  };
  /** Ends node i's absences of the kind (or all) that last past `at`. */
  const back = (i: number, at: number, kind?: Absence['kind']): void => {
    for (const a of absences) {
      if (a.node === i && (kind === undefined || a.kind === kind) && (a.to === undefined || a.to > at)) a.to = Math.max(a.from, at);
    }
  };
  const settleEnd = workloadMs + 2 * REQUEST_TIMEOUT_MS + 1000;
  let probe: FreshReadProbe | undefined;
  if (opts.catchUp !== undefined) {
    const keys = ids.flatMap((id, h) => [0, 1, 2].map((k) => `${keyOwnedBy(topology, id, `fresh${h}.${k}`)}f`));
    probe = new FreshReadProbe(keys, prng, {
      now: () => sched.now,
      after: (ms, fn) => sched.after(ms, fn),
      nodes: () => nodes,
      view: () => {
        const live = nodes.filter((x) => x.alive && !x.paused);
        if (live.length === 0) return () => undefined;
        const table = prng.pick(live).table;
        return (key) => {
          const primary = table.primary(keySlot(Buffer.from(key, 'latin1')));
          const node = primary === undefined ? undefined : nodes[ids.indexOf(primary)];
          return node?.alive && !node.paused ? node : undefined;
        };
      },
      absences: () => absences,
      writeUntil: workloadMs,
      // Every node is back within a few hundred ms of healing: reading on past that adds cost, not checks.
      readUntil: workloadMs + 2000,
      violation,
    });
    probe.start();
  }

  // Faults, all during the workload.
  const down = new Set<number>();
  let catchUpsBegun = 0;
  let catchUpsEnded = 0;
  let catchUpPulled = 0;
  let healed = false;
  // What incarnations that crashed or stopped did for the rebalance (membership runs' figures).
  const retired = { windowsOpened: 0, windowsClosed: 0, windowMs: 0, slotsCompared: 0, pulled: 0, pushed: 0 };
  const retire = (node: SimNode): void => {
    retired.windowsOpened += node.windowStats.opened;
    retired.windowsClosed += node.windowStats.closed;
    retired.windowMs += node.windowStats.closedMs;
    retired.slotsCompared += node.rebalance?.stats.slotsCompared ?? 0;
    retired.pulled += node.catchUpStats.pulled;
    retired.pushed += node.catchUpStats.pushed;
  };
  const crash = (i: number): void => {
    if (down.has(i) || departed.has(i) || unjoined.has(i)) return;
    down.add(i);
    faults.crashes++;
    opts.trace?.(`t=${sched.now} crash node ${i}`);
    const node = nodes[i]!;
    catchUpsBegun += node.catchUpStats.begun;
    catchUpsEnded += node.catchUpStats.ended;
    catchUpPulled += node.catchUpStats.pulled;
    retire(node);
    node.crash();
    for (const bySlot of writing.values()) bySlot.delete(i);
    for (const c of clients) c.nodeCrashed(node);
    probe?.nodeCrashed(node);
    away(i, 'crash');
  };
  const starting = new Set<number>();
  const restart = (i: number): void => {
    if (!down.has(i) || departed.has(i) || starting.has(i)) return;
    const up = (): void => {
      starting.delete(i);
      if (!down.has(i) || departed.has(i)) return;
      down.delete(i);
      opts.trace?.(`t=${sched.now} restart node ${i}`);
      boot(i, nodes[i]!.epoch + 1);
      back(i, sched.now, 'crash');
    };
    const wait = bootDelay(disks[i]!, clocks[i]!);
    if (wait === 0) return up();
    starting.add(i);
    sched.after(wait, up);
  };
  const faults = scheduleFaults(sched, prng, net, total, workloadMs, {
    crash,
    restart,
    jumpClock: (i, delta) => clocks[i]!.jump(delta),
    isolate: (i, ms) => {
      away(i, 'cut-off');
      back(i, sched.now + ms, 'cut-off');
    },
    ...(opts.catchUp !== undefined ? {
      stall: (i: number, ms: number) => {
        const node = nodes[i]!;
        if (!node.alive || node.paused) return;
        const from = sched.now;
        node.pausedUntil = from + ms;
        // Away as the product sees it: stalled for at least as long as peers wait before suspecting it.
        if (ms >= DETECT_MS) absences.push({ node: i, kind: 'stall', from, to: from + ms, noticed: true });
        sched.after(ms, () => {
          if (nodes[i] !== node || !node.alive) return;
          // Its own pause is not its peers' silence (link-health.ts leaves it out), and the overdue
          // link tick runs before anything that waited in its sockets: the stall is judged first.
          for (let j = 0; j < count; j++) if (j !== i) lastHeard[i]![j] = lastHeard[i]![j]! + ms;
          node.stalled(from, sched.now, DETECT_MS);
          node.linkTick();
        });
      },
    } : {}),
  }, () => healed, opts.trace);

  // Membership changes: a join and a leave, during the workload.
  const changes = { joins: 0, leaves: 0, joinedAt: -1, leftAt: -1, decommissionedAt: -1, leaveUnfinished: 0 };
  let leaver: number | undefined;
  const newRing = (ring: readonly string[]): number => {
    rings.push(Object.freeze([...ring].sort()));
    return rings.length - 1;
  };
  // The preStop hook's view of the leave (src/tools/prestop.ts): the members it polls, whether it saw slots moving.
  let leaveWatch: { others: number[]; since: number; sawMoving: boolean } | undefined;
  /**
   * Stops the node that left for good (its pod goes, and its disk with it) when the product's preStop
   * hook would: every other member that answers reports no slot moving (INFO's
   * ringkv_rebalance_slots_moving, >0 while its rebalance window is open), and a move was seen or
   * gossip had time to spread (the real `leaveFinished`, polled every second as the hook does).
   */
  const decommission = (force: boolean): void => {
    if (leaver === undefined || departed.has(leaver) || leaveWatch === undefined) return;
    const reports = leaveWatch.others.map((j) => (nodes[j]!.alive && !nodes[j]!.paused ? (nodes[j]!.movingSlots) : undefined));
    if (reports.some((r) => r !== undefined && r > 0)) leaveWatch.sawMoving = true;
    const done = leaveFinished(reports, leaveWatch.sawMoving, sched.now - leaveWatch.since, PRESTOP_PROPAGATE_MS);
    if (!done && !force) return;
    if (!done) changes.leaveUnfinished++;
    opts.trace?.(`t=${sched.now} node ${leaver} decommissioned (stopped for good, disk gone)`);
    const node = nodes[leaver]!;
    if (node.alive) {
      retire(node);
      node.crash();
      for (const c of clients) c.nodeCrashed(node);
    }
    down.delete(leaver);
    departed.add(leaver);
    changes.decommissionedAt = sched.now;
  };
  if (membership) {
    const joiner = count;
    scheduleMembership(sched, prng, count, {
      join: () => {
        // A new process with an empty disk, started with the cluster's seeds: it meets one member now.
        const seeds = rings[rings.length - 1]!.map((id) => ids.indexOf(id)).filter((i) => nodes[i]!.alive);
        if (seeds.length === 0) return false;
        unjoined.delete(joiner);
        disks[joiner] = emptyDisk();
        hintDisks[joiner] = new Map();
        boot(joiner, 0);
        const v = newRing([...rings[rings.length - 1]!, ids[joiner]!]);
        // The meet is one exchange: the seed learns of the new node, the new node of every member. Its
        // placement alone lasted no time, so it keeps no window (earlierPlacements: not settled), as a
        // node started with cluster-seeds.
        const seed = prng.pick(seeds);
        known[seed] = v;
        known[joiner] = v;
        nodes[seed]!.learn(rings[v]!);
        nodes[joiner]!.learn(rings[v]!);
        changes.joins++;
        changes.joinedAt = sched.now;
        opts.trace?.(`t=${sched.now} node ${joiner} joins`);
        return true;
      },
      leave: () => {
        // RINGKV.LEAVE on a member that runs: it takes itself off the ring at once, gossip tells the rest.
        const candidates = rings[rings.length - 1]!.map((id) => ids.indexOf(id)).filter((i) => i !== joiner && nodes[i]!.alive);
        if (candidates.length === 0) return false;
        const i = prng.pick(candidates);
        const v = newRing(rings[rings.length - 1]!.filter((id) => id !== ids[i]));
        leftAt.set(ids[i]!, v);
        known[i] = v;
        nodes[i]!.learn(rings[v]!);
        leaver = i;
        leaveWatch = { others: rings[v]!.map((id) => ids.indexOf(id)), since: sched.now, sawMoving: false };
        changes.leaves++;
        changes.leftAt = sched.now;
        opts.trace?.(`t=${sched.now} node ${i} leaves`);
        return true;
      },
    });
    const watch = (): void => {
      decommission(false);
      if (leaver === undefined || !departed.has(leaver)) sched.after(PRESTOP_POLL_MS, watch);
    };
    watch();
  }

  await sched.runUntil(workloadMs);
  // Heal: every block lifted, the network clean, every node back.
  healed = true;
  net.blocks.clear();
  for (let i = 0; i < total; i++) back(i, sched.now, 'cut-off');
  // A stall still running goes on to its end (at most 800 ms into the settling time).
  net.dropRate = 0;
  net.dupRate = 0;
  net.delayMax = BASE_DELAY_MAX_MS;
  for (const i of [...down]) restart(i);
  await sched.runUntil(settleEnd);
  // Failures are only ever healed into place: checking below must not race the detector.
  net.blocks.clear();
  for (const c of clients) if (!c.idle) violation('stuck', `${c.name} still waits for replies ${2 * REQUEST_TIMEOUT_MS + 1000} ms after healing: ${c.waitingOn}`);

  const own = clients.flatMap((c) => c.groups.flat());
  const allCounters = counters.flat();
  const keys = [...own.map((k) => ({ key: k.key, ...(k.hash === true ? { hash: true } : {}) })), ...allCounters];
  let finalTopology = topology;
  let members: SimNode[] = nodes;
  let readStart = settleEnd;
  if (membership) {
    // A leave whose rebalance has not finished by now is cut short: the node stops all the same.
    decommission(true);
    finalTopology = cachedTopology(rings[rings.length - 1]!, n, VNODES);
    members = finalTopology.nodeIds.map((id) => nodes[ids.indexOf(id)]!);
    // First at the default quorums, through each slot's primary under the final topology: what a
    // client reads once the change is over, before the R=N read below repairs anything.
    const quorumReads = readEverything(members, keys, 2, violation);
    readStart += REQUEST_TIMEOUT_MS + 500;
    await sched.runUntil(readStart);
    checkQuorumReads(own, allCounters, quorumReads, violation);
  }
  // Final read of every key at R=N, pipelined per node, then time for read repair to land.
  const finals = readEverything(members, keys, n, violation);
  await sched.runUntil(readStart + REQUEST_TIMEOUT_MS + 500);
  const digest = checkFinalState({ own, counters: allCounters, finals, contested, topology: finalTopology, nodes, n }, violation);
  const zsets = [...new Set(allCounters.filter((c) => c.zset === true).map((c) => c.key))];
  if (zsets.length > 0) {
    const listed = readSortedSets(members, zsets, n, violation);
    await sched.runUntil(sched.now + REQUEST_TIMEOUT_MS + 500);
    checkSortedSets(allCounters, finals, listed, violation);
  }
  const allQueues = queues.flat();
  if (allQueues.length > 0) {
    const lists = readQueues(members, allQueues, n, violation);
    await sched.runUntil(sched.now + REQUEST_TIMEOUT_MS + 500);
    checkQueues(allQueues, lists, violation);
  }

  const sum = (f: (c: SimClient) => number): number => clients.reduce((a, c) => a + f(c), 0);
  /** Over the incarnations still running (crashed ones were counted as they went). */
  const live = (f: (x: SimNode) => number): number => nodes.reduce((a, x) => a + (x.alive ? f(x) : 0), 0);
  return {
    seed: opts.seed,
    nodes: count,
    bug,
    violations,
    digest,
    errors: Object.fromEntries(clients.flatMap((c) => [...c.stats.errors]).reduce((m, [k, v]) => m.set(k, (m.get(k) ?? 0) + v), new Map<string, number>())),
    stats: {
      ...faults,
      hints: nodes.reduce((a, x) => a + x.hints.added, 0),
      hintsDelivered: nodes.reduce((a, x) => a + x.hints.delivered, 0),
      events: sched.processed,
      messages: net.stats.messages,
      dropped: net.stats.dropped,
      duplicated: net.stats.duplicated,
      blocked: net.stats.blocked,
      timeouts: net.stats.timeouts,
      batches: sum((c) => c.stats.batches),
      commands: sum((c) => c.stats.commands),
      checkedReplies: sum((c) => c.stats.checkedReplies),
      lostReplies: sum((c) => c.stats.lostReplies),
      incrAcked: allCounters.reduce((a, c) => a + c.acked, 0),
      incrUncertain: allCounters.reduce((a, c) => a + c.uncertain, 0),
      queuePushes: allQueues.reduce((a, q) => a + [...q.pushed.values()].filter(Boolean).length, 0),
      queuePops: allQueues.reduce((a, q) => a + q.popped.size, 0),
      quorumFailures: nodes.reduce((a, x) => a + x.coordinator.stats.quorumFailures, 0),
      restamps: nodes.reduce((a, x) => a + x.coordinator.stats.restamps, 0),
      hedgedReads: nodes.reduce((a, x) => a + x.coordinator.stats.hedgedReads, 0),
      sharedReads: nodes.reduce((a, x) => a + x.coordinator.stats.sharedReads, 0),
      groupedJobs: nodes.reduce((a, x) => a + x.coordinator.stats.groupedJobs, 0),
      contestedSlots: contested.size,
      ...(membership ? {
        ...changes,
        windowsOpened: retired.windowsOpened + live((x) => x.windowStats.opened),
        windowsClosed: retired.windowsClosed + live((x) => x.windowStats.closed),
        windowMs: retired.windowMs + live((x) => x.windowStats.closedMs),
        windowsOpenAtEnd: members.filter((x) => x.alive && x.moving).length,
        rebalanceSlotsCompared: retired.slotsCompared + live((x) => x.rebalance?.stats.slotsCompared ?? 0),
        rebalancePulled: retired.pulled + live((x) => x.catchUpStats.pulled),
        rebalancePushed: retired.pushed + live((x) => x.catchUpStats.pushed),
      } : {}),
      ...(probe !== undefined ? {
        catchUps: catchUpsBegun + nodes.reduce((a, x) => a + x.catchUpStats.begun, 0),
        catchUpsEnded: catchUpsEnded + nodes.reduce((a, x) => a + x.catchUpStats.ended, 0),
        catchUpPulled: catchUpPulled + nodes.reduce((a, x) => a + x.catchUpStats.pulled, 0),
        freshWrites: probe.stats.acked,
        freshReads: probe.stats.reads,
        freshChecked: probe.stats.checked,
        freshBehind: probe.stats.behind,
      } : {}),
    },
  };
}
