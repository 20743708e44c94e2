import { Saves } from '../../../src/server/saves.js';
import { parseOutputLimits } from '../../../src/core/output-limits.js';
import { DebugKnobs } from '../../../src/server/debug-knobs.js';
import type { RequestHandler } from '../../../src/cluster/bus/cluster-bus.js';
import { ClusterRouter } from '../../../src/cluster/cluster-router.js';
import { Coordinator, READ_HEDGE_INTERVAL_MS, type ReplicaClient } from '../../../src/cluster/coordinator.js';
import { ReplicaBatcher } from '../../../src/cluster/replica-batcher.js';
import { HintReplayer } from '../../../src/cluster/hint-replayer.js';
import { decodeRangeAnswer, ReplicaService } from '../../../src/cluster/replica-service.js';
import { LeaseService } from '../../../src/cluster/lease-service.js';
import type { Topology } from '../../../src/cluster/ring.js';
import { earlierPlacements, offRingNodes, type SlotTable } from '../../../src/cluster/slot-table.js';
import { RoutingViewTracker, type RoutingView } from '../../../src/cluster/routing-view.js';
import { ComingBack } from '../../../src/cluster/coming-back.js';
import { CatchUpDriver } from '../../../src/cluster/catch-up-driver.js';
import { decodeRecord, encodeRecord } from '../../../src/storage/record-codec.js';
import { Forwarder } from '../../../src/cluster/forwarder.js';
import { AclRegistry } from '../../../src/acl/acl-registry.js';
import { cachedTable, cachedTopology, internPlacements, VNODES } from './placement-cache.js';
import { SimRebalance } from './sim-rebalance.js';
import type { Keyspace, Entry } from '../../../src/commands/keyspace.js';
import type { ElementStore } from '../../../src/collections/element-store.js';
import type { CommandSpec } from '../../../src/commands/spec.js';
import { buildCommandTable } from '../../../src/commands/table.js';
import { Config } from '../../../src/core/config.js';
import { silentLogger } from '../../../src/core/logger.js';
import { Dispatcher } from '../../../src/server/dispatcher.js';
import type { NodeServices } from '../../../src/server/node-services.js';
import { PubSubHub } from '../../../src/pubsub/pubsub-hub.js';
import { KeyspaceNotifier } from '../../../src/pubsub/keyspace-notifier.js';
import { MonitorFeed } from '../../../src/server/monitor-feed.js';
import { ClientPause } from '../../../src/server/client-pause.js';
import { ClientTracking } from '../../../src/server/client-tracking.js';
import type { SessionState } from '../../../src/server/session-state.js';
import { ServerStats } from '../../../src/server/stats.js';
import { hlcStartDelay, Versioner } from '../../../src/server/versioner.js';
import type { Store } from '../../../src/storage/store.js';
import type { StoredRecord } from '../../../src/storage/types.js';
import type { SimClock } from './sim-clock.js';
import type { Endpoint, SimNet } from './sim-network.js';
import { SimHints, type HintDisk } from './sim-hints.js';
import { SimStore, type DiskImage, type StoreFaults } from './sim-store.js';
import type { Scheduler } from './scheduler.js';

interface StoredRecordAt {
  slot: number;
  key: Buffer;
  rec: StoredRecord;
}

/** The product's interval for persisting the HLC high-water mark (src/server/node.ts). */
const HLC_PERSIST_INTERVAL_MS = 500;
/** The product ticks hint handoff with gossip: a tenth of the node timeout, at least 100 ms. */
const HINT_TICK_MS = 200;
/** The default lease length, as a node runs it. */
const LEASE_MS = 3000;
/**
 * Gossip interval of the node timeout the simulated membership stands for (ten times the link
 * detector's 300 ms: a tenth of it, as cluster-node.ts): a placement held for fewer than
 * PLACEMENT_SETTLE_ROUNDS of these was a cluster forming, not a rebalance (earlierPlacements).
 */
const GOSSIP_INTERVAL_MS = 300;
const PLACEMENT_SETTLE_ROUNDS = 3;
/** Anti-entropy's interval between rounds in membership runs (the product's default is 1000 ms). */
const REBALANCE_INTERVAL_MS = 500;

/** What every node of one run shares. */
export interface ClusterEnv {
  readonly sched: Scheduler;
  readonly net: SimNet;
  readonly ids: readonly string[];
  readonly topology: Topology;
  readonly n: number;
  readonly r: number;
  readonly w: number;
  /** The ring walked further than N (sloppy quorum fallbacks), or undefined for strict quorums. */
  readonly extended: Topology | undefined;
  /** Whether node `from`'s failure detector currently holds node `to` alive. */
  believesAlive(from: number, to: number): boolean;
  /** A few ms for a group commit's fsync. */
  fsyncDelay(): number;
  storeFaults(index: number): StoreFaults;
  /**
   * A node starts (true) or ends (false) a write job on a slot: the run notes slots that two nodes
   * coordinated at once (their failure detectors disagreed on who leads the slot).
   */
  coordinating?(index: number, slot: number, active: boolean): void;
  /**
   * Coming back (catch-up.ts): each node routes by the real RoutingViewTracker (cut off from the
   * majority, it serves nothing) and, when it comes back (coming-back.ts), catches up by the real
   * CatchUpDriver before it coordinates its slots (SlotTable `standby`). `off` runs the same with
   * `cluster-catch-up-timeout-ms 0`, as a product with catching up switched off. Undefined: neither
   * (the slot table straight from the detector's view, as before).
   */
  readonly catchUp?: 'on' | 'off';
  /** What node `from` last heard from node `to` in its link pings: cut off, catching up, holding hints for `from`. */
  heard?(from: number, to: number): { isolated: boolean; catchingUp: boolean; holdsHints: boolean };
  /** Whether node `from`'s membership has declared node `to` failed (no news of it, directly or by gossip). */
  failed?(from: number, to: number): boolean;
  /** How long a cut-off node answers CLUSTERDOWN before it redirects to the majority. */
  readonly redirectAfterMs?: number;
  /** Traces each node's routing changes and catch-ups (SIM_TRACE). */
  readonly trace?: (line: string) => void;
  /**
   * Membership runs: the ring members (sorted ids) node `index` knows of when it boots, from its
   * disk or, for a node joining, itself alone; later ones arrive through `SimNode.learn`.
   * Undefined: every node of `ids` is a member for the whole run and `topology` is everyone's ring.
   */
  ringAtBoot?(index: number): readonly string[];
  /** What node `index` knows of a member's status ('left' after a decommission); undefined: not a member. */
  memberStatus?(index: number, id: string): 'active' | 'left' | undefined;
  /** The topology fingerprint a member last reported synced, as node `index` heard it (gossip's `synced`). */
  syncedOf?(index: number, id: string): string | undefined;
  /** Broken on purpose: gained slots are reported synced without being compared (nothing moves). */
  readonly skipHandoff?: boolean;
}

const commands = buildCommandTable();

/**
 * In cluster mode every keyed command is coordinated on an overlay; the node's own keyspace only
 * serves keyless commands, which never touch it. Reaching it is a routing bug, so it fails loudly.
 */
class NoLocalKeys implements Keyspace {
  now = 0;
  get(key: Buffer): Entry | undefined {
    throw new Error(`keyed command reached the local keyspace in cluster mode: ${key.toString('latin1')}`);
  }
  set(key: Buffer): void {
    this.get(key);
  }
  del(key: Buffer): boolean {
    this.get(key);
    return false;
  }
  version(key: Buffer): Buffer | undefined {
    this.get(key);
    return undefined;
  }
  get elements(): ElementStore {
    throw new Error('collection elements reached the local keyspace in cluster mode');
  }
  newGeneration(): Buffer {
    throw new Error('a collection was created on the local keyspace in cluster mode');
  }
  atomically<T>(fn: () => T): T {
    return fn();
  }
}

/** Stands in for node.store where commands would list or scan keys, which the workload never sends. */
const NO_STORE = new Proxy({}, {
  get(_t, name) {
    throw new Error(`node.store.${String(name)} is not simulated`);
  },
}) as unknown as Store;

/**
 * One incarnation of a node: the product's Dispatcher (with its CommandSequencer per session),
 * ClusterRouter, Coordinator, ReplicaBatcher and ReplicaService, wired as ClusterNode wires them,
 * over the simulated store, clock and bus. Membership, gossip and the phi detector are not run: the
 * slot table is built by the real SlotTable from the simulated detector's view (with coming back,
 * through the real RoutingViewTracker, ComingBack and CatchUpDriver). Runs whose slot lease another
 * node holds are relayed to it by the real Forwarder.
 */
/**
 * As RingkvNode.open: how long a node restarting from `disk` waits for its clock before it serves
 * (its HLC mark may run ahead of what it issued). Callers boot the node after this much time.
 */
export function bootDelay(disk: DiskImage, clock: SimClock): number {
  return hlcStartDelay(Versioner.decodeHighWater(disk.meta.get('hlc-high-water')), clock.now());
}

export class SimNode implements Endpoint {
  alive = true;
  readonly handlers = new Map<string, RequestHandler>();
  readonly store: SimStore;
  readonly versioner: Versioner;
  readonly stats = new ServerStats();
  readonly coordinator: Coordinator;
  readonly dispatcher: Dispatcher;
  readonly router: ClusterRouter;
  readonly leases: LeaseService;
  readonly config: Config;
  readonly hints: SimHints;
  private slotTable: SlotTable;
  private tableKey = '';
  /** The ring this node routes by: everyone's shared one, or in membership runs its own. */
  topology: Topology;
  /** The ring walked further than N (sloppy quorum fallbacks), or undefined for strict quorums. */
  private extended: Topology | undefined;
  /** Ring members as this node knows them, sorted (membership runs). */
  ring: readonly string[];
  /** Placements before the membership changes of the current rebalance window, oldest first (cluster-node.ts `transition`). */
  private transition: readonly Topology[] | undefined;
  private transitionStarted = 0;
  /** When the current placement was built; an original member's was built long before the run. */
  private placementSince: number;
  /** The topology fingerprint this node reports synced (MemberRecord.synced), once its rebalance compared every gained slot. */
  synced: string | undefined;
  /** The rebalance (anti-entropy's topology-change half), in membership runs. */
  readonly rebalance: SimRebalance | undefined;
  /** Rebalance windows this incarnation closed, and how long they lasted (simulated ms). */
  readonly windowStats = { opened: 0, closed: 0, closedMs: 0 };
  private readonly batcher: ReplicaBatcher;
  private readonly replicaService: ReplicaService;
  private readonly forwarder: Forwarder;
  private readonly routingTracker: RoutingViewTracker | undefined;
  private readonly comingBack: ComingBack | undefined;
  /** The real catch-up driver, when the run simulates coming back. */
  readonly catchUpDriver: CatchUpDriver | undefined;
  /** The last routing view (isolation, standby), when the run simulates coming back. */
  routing: RoutingView | undefined;
  /** The process stands still until then (a stall: GC, SIGSTOP); its timers and messages wait. */
  pausedUntil = 0;
  /** Catch-ups begun and ended, and slot comparisons made, by this incarnation. */
  readonly catchUpStats = { begun: 0, ended: 0, comparisons: 0, pulled: 0, pushed: 0 };

  constructor(
    private readonly env: ClusterEnv,
    readonly index: number,
    readonly epoch: number,
    disk: DiskImage,
    hintDisk: HintDisk,
    readonly clock: SimClock,
  ) {
    const myId = env.ids[index]!;
    this.ring = env.ringAtBoot?.(index) ?? env.ids;
    this.topology = env.ringAtBoot !== undefined ? cachedTopology(this.ring, env.n, VNODES) : env.topology;
    this.extended = env.ringAtBoot !== undefined ? this.extendedFor(this.ring) : env.extended;
    // As ClusterNode: an original member's placement is old news; a restart or a join builds it now.
    this.placementSince = epoch === 0 && this.ring.length > 1 ? -1_000_000 : env.sched.now;
    this.config = new Config([
      ['cluster-enabled', 'yes'],
      ['replication-factor', String(env.n)],
      ['read-quorum', String(env.r)],
      ['write-quorum', String(env.w)],
      ...(env.catchUp === 'off' ? [['cluster-catch-up-timeout-ms', '0'] as [string, string]] : []),
    ]);
    this.store = new SimStore(disk, (fn) => this.later(env.fsyncDelay(), fn), env.storeFaults(index));
    this.hints = new SimHints(hintDisk, (fn) => this.later(env.fsyncDelay(), fn));
    this.versioner = new Versioner(myId, Versioner.decodeHighWater(this.store.getMeta('hlc-high-water')), clock);
    this.persistHighWater();
    if (env.catchUp !== undefined) {
      this.routingTracker = new RoutingViewTracker(env.redirectAfterMs ?? 0);
      // As ClusterNode: a node whose disk knew the others (any incarnation after the first) restarted.
      this.comingBack = new ComingBack(epoch > 0);
      this.catchUpDriver = new CatchUpDriver({
        myId,
        replicas: (slot) => this.topology.preferenceList(slot),
        peers: () => env.ids.filter((id) => id !== myId),
        reachable: (id) => env.believesAlive(index, this.indexOf(id)),
        compare: (peer, slots) => this.compareWith(peer, slots),
        comparing: () => this.config.int('cluster-catch-up-timeout-ms') > 0,
        timeoutMs: () => this.config.int('cluster-catch-up-timeout-ms'),
        // Peers route to a node the moment their detector hears it: no hysteresis to wait out.
        minimumMs: () => 0,
        changed: () => {
          if (this.catchUpDriver!.active) this.catchUpStats.begun++;
          else this.catchUpStats.ended++;
          queueMicrotask(() => {
            if (this.alive) this.refreshTable();
          });
        },
        logger: silentLogger,
        sleep: (ms) => new Promise<void>((resolve) => this.later(ms, resolve)),
      });
    }
    this.handlers.set('ae-sim', (_from, payload) => this.slotRecords(new Set((payload as { s: number[] }).s)));
    this.slotTable = this.buildTable();
    this.batcher = new ReplicaBatcher(
      (nodeId, batch) => env.net.request(index, this.indexOf(nodeId), 'rb', batch),
      (fn) => this.later(0, fn),
    );
    const client: ReplicaClient = {
      myId,
      reachable: (nodeId) => env.believesAlive(index, this.indexOf(nodeId)),
      read: (nodeId, slot, keys) => this.batcher.read(nodeId, slot, keys),
      write: (nodeId, slot, items, epoch) => this.batcher.write(nodeId, slot, items, epoch),
      readRange: async (nodeId, slot, start, end, limit) =>
        decodeRangeAnswer(await env.net.request(index, this.indexOf(nodeId), 'el', { s: slot, a: start, b: end, n: limit })),
      writeHint: async (nodeId, owner, slot, items) => {
        await env.net.request(index, this.indexOf(nodeId), 'rw', { s: slot, i: items, h: owner });
      },
    };
    this.coordinator = new Coordinator(this.store, this.versioner, client, this.stats, silentLogger);
    // As ClusterNode: slot leases over the simulated bus, on the node's own monotonic clock.
    this.leases = new LeaseService({
      myId,
      replicas: (slot) => this.slotTable.replicas(slot),
      reachable: client.reachable,
      hasLeft: () => env.memberStatus?.(index, myId) === 'left',
      primaryElsewhere: (slot) => {
        const primary = this.slotTable.primary(slot);
        return primary !== undefined && primary !== myId;
      },
      send: (id, request) => env.net.request(index, this.indexOf(id), 'lq', request),
      monotonicMs: () => clock.monotonic(),
      wallMs: () => clock.now(),
      sleep: (ms) => new Promise<void>((resolve) => this.later(ms, resolve)),
    }, LEASE_MS, epoch > 0);
    this.coordinator.fence = (slot, e) => this.leases.grants.fenced(slot, e);
    this.coordinator.onFenced = (slot, e) => this.leases.lost(slot, e);
    this.coordinator.leaseHeld = (slot, e) => this.leases.current(slot) === e;
    // The product's CollectionHealer is not simulated: no copy is adopted from another replica (the
    // coordinator merges instead), but a copy a read merged is settled here as the healer settles it.
    this.coordinator.healer = { adopt: () => Promise.resolve(false), settle: (slot, key, rec) => this.store.replace(slot, key, rec) };
    this.handlers.set('lq', (_from, payload) => this.leases.answer(payload));
    const dispatcher = (): Dispatcher => this.dispatcher;
    const pubsub = new PubSubHub();
    const services: NodeServices = {
      config: this.config,
      logger: silentLogger,
      store: NO_STORE,
      stats: this.stats,
      nodeId: myId,
      startedAt: 0,
      saves: new Saves(() => Promise.reject(new Error('SAVE is not simulated')), () => 0, () => 0, 0),
      commands,
      servesSlot: (slot) => this.slotTable.primary(slot) === myId,
      listedKeyCount: () => 0,
      now: () => this.versioner.now(),
      port: 0,
      clients: () => [],
      get blockedClients() {
        return dispatcher().blocked;
      },
      cluster: undefined,
      flushAll: () => Promise.reject(new Error('FLUSHALL is not simulated')),
      execTransaction: (session, out, ks) => this.dispatcher.execTransaction(session, out, ks),
      shutdown: () => undefined,
      pubsub,
      notifier: new KeyspaceNotifier(pubsub),
      monitor: new MonitorFeed(),
      pause: new ClientPause((name) => commands.get(name)),
      tracking: new ClientTracking(() => undefined),
      debug: new DebugKnobs(),
      outputLimits: parseOutputLimits(this.config.str('client-output-buffer-limit')),
      client: () => undefined,
    };
    this.dispatcher = new Dispatcher(services, commands, new NoLocalKeys());
    this.dispatcher.awaitDurable = (cb) => {
      if (!this.store.hasPendingDurability()) return false;
      this.store.afterDurable(() => cb());
      return true;
    };
    this.router = new ClusterRouter({
      myId,
      table: () => this.slotTable,
      clientAddress: (id) => `127.0.0.1:${7000 + this.indexOf(id)}`,
      proxy: () => false,
      quorum: (s) => this.quorum(s),
      coordinate: (session, job, steps, sink) => {
        // As ClusterNode.coordinate: the job over the slot's preference list, sloppy when enabled.
        const { r, w } = this.quorum(session);
        if (job.isWrite) env.coordinating?.(index, job.slot, true);
        const result = this.coordinator.run({
          slot: job.slot, keys: job.keys, replicas: this.slotTable.replicas(job.slot), isWrite: job.isWrite, blind: job.blind,
          fallbacks: this.extended ? this.extended.preferenceList(job.slot) : [],
          previousReplicas: this.slotTable.leavingReplicas(job.slot),
          r, w, proto: session.proto, steps, epoch: job.epoch,
        }, sink);
        if (result instanceof Promise) {
          return job.isWrite
            ? result.then((done) => {
              session.lastWrite = done;
              if (this.alive) env.coordinating?.(index, job.slot, false);
            })
            : result;
        }
        if (job.isWrite) {
          session.lastWrite = result;
          env.coordinating?.(index, job.slot, false);
        }
        return undefined;
      },
      forward: (session, nodeId, cmds, out, replies) => this.forwarder.forward(session, nodeId, cmds, out, replies),
      runCommand: (session, spec, argv, out, ks) => this.dispatcher.run(session, spec, argv, out, ks),
      execTransaction: (session, out, ks, tx) => this.dispatcher.execTransaction(session, out, ks, tx),
      lookup: (name): CommandSpec | undefined => commands.get(name),
      lease: (slot) => this.leases.current(slot),
      acquireLease: (slot) => this.leases.acquire(slot),
      watchesRelayed: (session) => this.forwarder.watchesRelayed(session),
      unwatchRelayed: (session, keep) => this.forwarder.unwatchRelayed(session, keep),
      runLocal: (session, spec, argv, out) => this.dispatcher.run(session, spec, argv, out),
    });
    this.dispatcher.router = this.router;
    // As ClusterNode: runs are relayed to the node that holds their slot's lease (cluster-router.ts).
    const acl = new AclRegistry(commands, { pubsubAllChannels: () => false, logMaxLen: () => 128 });
    this.forwarder = new Forwarder({
      bus: {
        request: (addr, type, payload) => env.net.request(index, addr.port, type, payload),
        handle: (type, handler) => this.handlers.set(type, handler),
      },
      node: { dispatcher: this.dispatcher, acl },
      router: this.router,
      busAddress: (id) => ({ host: 'sim', port: this.indexOf(id) }),
      reachable: client.reachable,
      sleep: (ms) => new Promise<void>((resolve) => this.later(ms, resolve)),
    });
    this.forwarder.register();
    this.replicaService = new ReplicaService({
      bus: { handle: (type, handler) => this.handlers.set(type, handler) },
      node: { versioner: this.versioner, store: this.store },
      coordinator: this.coordinator,
      hints: this.hints,
      leases: this.leases,
    });
    this.replicaService.register();
    const replayer = new HintReplayer({
      member: (id) => {
        if (env.memberStatus === undefined) return env.ids.includes(id) ? { status: 'active' } : undefined;
        const status = env.memberStatus(index, id);
        return status === undefined ? undefined : { status };
      },
      reachable: client.reachable,
      write: client.write,
      node: { logger: silentLogger },
    }, this.hints);
    const tick = (): void => {
      replayer.tick(this.clock.now());
      this.later(HINT_TICK_MS, tick);
    };
    this.later(HINT_TICK_MS, tick);
    // As ClusterNode: quorum reads still waiting a whole interval also ask the next replica.
    const hedge = (): void => {
      this.coordinator.hedgeReads();
      this.later(READ_HEDGE_INTERVAL_MS, hedge);
    };
    this.later(READ_HEDGE_INTERVAL_MS, hedge);
    this.rebalance = env.ringAtBoot === undefined ? undefined : new SimRebalance({
      myId,
      topology: () => this.topology,
      reachable: client.reachable,
      entryCounts: () => {
        const counts = new Map<number, number>();
        for (const e of this.store.entries()) counts.set(e.slot, (counts.get(e.slot) ?? 0) + 1);
        return counts;
      },
      compare: async (peer, slots, handoff) => {
        await this.compareWith(peer, slots, handoff);
      },
      rebalanced: (topology) => {
        // As ClusterNode: only the topology it routes by now counts.
        if (topology === this.topology) this.synced = this.ring.join(',');
      },
      later: (ms, fn) => this.later(ms, fn),
      skipHandoff: env.skipHandoff === true,
    }, REBALANCE_INTERVAL_MS, env.sched.now);
  }

  private extendedFor(ring: readonly string[]): Topology | undefined {
    return this.env.extended !== undefined && ring.length > this.env.n ? cachedTopology(ring, Math.min(ring.length, this.env.n + 2), VNODES) : undefined;
  }

  /**
   * The node learns a new member set (gossip brought a join or a leave), as ClusterNode.rebuild
   * with a changed membership: the ring is built again from the members (the real buildTopology),
   * the placement it replaces joins the rebalance window (the real earlierPlacements: kept only if
   * it had settled), and the slot table is rebuilt with it, so the coordinator also reads from and
   * writes to the slots' earlier owners until the window closes.
   */
  learn(ring: readonly string[]): void {
    if (ring.join(',') === this.ring.join(',')) return;
    const now = this.env.sched.now;
    const before = this.topology;
    this.ring = ring;
    this.topology = cachedTopology(ring, this.env.n, VNODES);
    const settled = now - this.placementSince >= PLACEMENT_SETTLE_ROUNDS * GOSSIP_INTERVAL_MS;
    const from = earlierPlacements(this.transition ?? [], before, settled, ring.map((id) => ({ id })), this.id, { n: this.env.n, vnodes: VNODES });
    if (from.length > 0 && this.transition === undefined) {
      this.windowStats.opened++;
      this.transitionStarted = now;
    }
    this.transition = from.length > 0 ? internPlacements(from) : undefined;
    this.extended = this.extendedFor(ring);
    this.placementSince = now;
    this.env.trace?.(`t=${now} node ${this.index} learns ring ${ring.map((id) => this.indexOf(id)).join(',')}${this.transition ? ` (window of ${this.transition.length} earlier placements)` : ' (no window)'}`);
    this.refreshTable();
  }

  /** Whether a rebalance window is open here (earlier placements still asked). */
  get moving(): boolean {
    return this.transition !== undefined;
  }

  /** INFO's ringkv_rebalance_slots_moving: slots whose replica set differs from an earlier placement of the window. */
  get movingSlots(): number {
    this.refreshTable();
    return this.slotTable.moving;
  }

  get id(): string {
    return this.env.ids[this.index]!;
  }

  get table(): SlotTable {
    return this.slotTable;
  }

  /** Called on every detector tick: the real SlotTable, rebuilt when this node's view changed. */
  refreshTable(): void {
    const next = this.buildTable();
    if (next !== this.slotTable) this.slotTable = next;
  }

  crash(): void {
    this.alive = false;
    this.store.crash();
  }

  /** Every detector tick, as ClusterNode's link tick: the catch-up moves on, then the table. */
  linkTick(): void {
    const driver = this.catchUpDriver;
    if (driver !== undefined) {
      // As ClusterNode's link tick: a stall of this process long enough for peers to route around it.
      const stall = this.lastStall;
      if (stall !== undefined && this.comingBack!.stalled(stall, stall.suspectAfterMs)) driver.begin('stall', this.env.sched.now);
      const heard = this.env.heard!;
      this.env.ids.forEach((id, j) => {
        if (j !== this.index && this.env.believesAlive(this.index, j)) driver.noteHints(id, heard(this.index, j).holdsHints);
      });
      driver.tick(this.env.sched.now);
    }
    this.refreshTable();
  }

  /** Whether this node holds hints for `target` (its link pings say so). */
  holdsHintsFor(target: string): boolean {
    return this.hints.targets().includes(target);
  }

  private buildTable(): SlotTable {
    if (this.routingTracker !== undefined) return this.buildRoutedTable(this.routingTracker);
    const alive = new Set<string>();
    for (const id of this.ring) {
      const j = this.indexOf(id);
      if (j === this.index || this.env.believesAlive(this.index, j)) alive.add(id);
    }
    this.closeWindow(alive);
    // As ClusterNode.rebuild: nodes of the window's placements off the ring that still answer.
    const leftRing = offRingNodes(this.transition ?? [], this.ring, this.id, (id) => this.env.believesAlive(this.index, this.indexOf(id)));
    const key = `${this.ring.join(',')}|${this.transitionStarted}:${this.transition?.length ?? 0}|${[...alive].join(',')}|${[...leftRing].sort().join(',')}`;
    if (key === this.tableKey) return this.slotTable;
    this.tableKey = key;
    return cachedTable(this.topology, alive, this.env.r, undefined, undefined, this.transition, leftRing);
  }

  /**
   * As ClusterNode.rebuild: the window closes once every alive ring member reports the current
   * topology synced (the cap, cluster-rebalance-window-ms, is 10 minutes: never within a run).
   */
  private closeWindow(alive: ReadonlySet<string>): void {
    if (this.transition === undefined || this.env.syncedOf === undefined) return;
    const fingerprint = this.ring.join(',');
    const synced = (id: string): boolean => (id === this.id ? this.synced : this.env.syncedOf!(this.index, id)) === fingerprint;
    if (!this.ring.every((id) => !alive.has(id) || synced(id))) return;
    this.env.trace?.(`t=${this.env.sched.now} node ${this.index} closes its rebalance window`);
    this.transition = undefined;
    this.windowStats.closed++;
    this.windowStats.closedMs += this.env.sched.now - this.transitionStarted;
  }

  /** As ClusterNode.rebuild: the routing view from the detector and pings, coming back, and the table. */
  private buildRoutedTable(tracker: RoutingViewTracker): SlotTable {
    const env = this.env;
    const me = this.index;
    const idx = (id: string): number => this.indexOf(id);
    const routing = tracker.update({
      nowMs: env.sched.now, self: this.id, members: this.ring,
      gone: (id) => env.failed!(me, idx(id)),
      refused: () => false,
      linked: (id) => env.believesAlive(me, idx(id)),
      stepsAside: (id) => env.heard!(me, idx(id)).isolated,
      catchingUp: (id) => env.heard!(me, idx(id)).catchingUp,
      selfCatchingUp: this.catchUpDriver?.active ?? false,
    });
    this.routing = routing;
    const comeBack = this.comingBack!.routed(routing.isolation !== undefined);
    // begin() calls changed(), which rebuilds once more with the node in standby.
    if (comeBack !== undefined) this.catchUpDriver!.begin(comeBack, env.sched.now);
    const key = `${[...routing.alive].sort().join(',')}|${routing.isolation ?? ''}|${[...routing.standby].sort().join(',')}`;
    if (key === this.tableKey) return this.slotTable;
    this.tableKey = key;
    env.trace?.(`t=${env.sched.now} node ${me} routes: alive ${[...routing.alive].map(idx).sort().join(',')}` +
      `${routing.isolation ? ` isolated (${routing.isolation})` : ''}${routing.standby.size > 0 ? ` standby ${[...routing.standby].map(idx).sort().join(',')}` : ''}`);
    return cachedTable(this.topology, routing.alive, env.r, routing.isolation, routing.standby);
  }

  /**
   * Anti-entropy's comparison of `slots` with `peer`, simulated: the peer sends every record it
   * holds in them over the simulated bus, newer ones are applied here (through the replica's
   * lineage judgement, as AntiEntropy's apply), and those newer here are written to the peer with
   * the ordinary replica write. The real one (AntiEntropy.compareWith) walks Merkle digests of the
   * store instead of sending everything, which the simulated store has no index for. `handoff`
   * slots (the node left their replica set) only push.
   */
  private async compareWith(peer: string, slots: readonly number[], handoff?: ReadonlySet<number>): Promise<number[]> {
    const wanted = new Set(slots);
    const answer = (await this.env.net.request(this.index, this.indexOf(peer), 'ae-sim', { s: slots })) as Array<[number, Uint8Array, Uint8Array]>;
    const theirs = new Map<string, StoredRecordAt>();
    for (const [slot, key, rec] of answer) {
      const k = Buffer.from(key);
      theirs.set(`${slot}:${k.toString('latin1')}`, { slot, key: k, rec: decodeRecord(Buffer.from(rec)) });
    }
    for (const t of theirs.values()) {
      // A slot this node no longer replicates is only handed over, never taken in (anti-entropy.ts).
      if (handoff?.has(t.slot)) continue;
      const mine = this.store.get(t.slot, t.key);
      if (mine !== undefined && Buffer.compare(mine.version, t.rec.version) >= 0) continue;
      this.versioner.hlc.observe(t.rec.version, this.clock.now());
      const [item] = this.replicaService.judge(t.slot, [{ key: t.key, record: t.rec }], peer);
      if (item !== undefined) this.coordinator.applyLocal(t.slot, t.key, item.record);
      this.catchUpStats.pulled++;
    }
    const push = new Map<number, Array<[Buffer, Buffer]>>();
    for (const e of this.store.entries()) {
      if (!wanted.has(e.slot)) continue;
      const t = theirs.get(`${e.slot}:${e.key.toString('latin1')}`);
      if (t !== undefined && Buffer.compare(t.rec.version, e.rec.version) >= 0) continue;
      let items = push.get(e.slot);
      if (items === undefined) push.set(e.slot, (items = []));
      items.push([e.key, encodeRecord(e.rec)]);
    }
    await Promise.all([...push].map(([slot, items]) => {
      this.catchUpStats.pushed += items.length;
      return this.batcher.write(peer, slot, items);
    }));
    this.catchUpStats.comparisons += slots.length;
    return [...slots];
  }

  /** A peer's comparison: every record this node holds in the slots asked for. */
  private slotRecords(slots: ReadonlySet<number>): Array<[number, Buffer, Buffer]> {
    const out: Array<[number, Buffer, Buffer]> = [];
    for (const e of this.store.entries()) if (slots.has(e.slot)) out.push([e.slot, e.key, encodeRecord(e.rec)]);
    return out;
  }

  private quorum(session: SessionState): { r: number; w: number } {
    return { r: session.consistency?.r ?? this.env.r, w: session.consistency?.w ?? this.env.w };
  }

  private indexOf(nodeId: string): number {
    const i = this.env.ids.indexOf(nodeId);
    if (i < 0) throw new Error(`unknown node ${nodeId}`);
    return i;
  }

  /** Schedules work of this incarnation; it never runs once the node crashed. */
  private later(delayMs: number, fn: () => void): void {
    const run = (): void => {
      if (!this.alive) return;
      // A stalled process runs nothing; what was due runs when it resumes.
      if (this.env.sched.now < this.pausedUntil) this.env.sched.after(this.pausedUntil - this.env.sched.now, run);
      else fn();
    };
    this.env.sched.after(delayMs, run);
  }

  /**
   * The process stood still from `fromMs` to `toMs` (simulated), as link health sees a stall of its
   * own timers: the real ComingBack decides whether that was long enough to catch up after.
   */
  stalled(fromMs: number, toMs: number, suspectAfterMs: number): void {
    this.lastStall = { fromMs, toMs, suspectAfterMs };
  }

  private lastStall: { fromMs: number; toMs: number; suspectAfterMs: number } | undefined;

  get paused(): boolean {
    return this.env.sched.now < this.pausedUntil;
  }

  private persistHighWater(): void {
    this.store.setMeta('hlc-high-water', this.versioner.highWaterToPersist(this.clock.now()));
    this.later(HLC_PERSIST_INTERVAL_MS, () => this.persistHighWater());
  }
}
