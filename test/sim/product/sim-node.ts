import type { RequestHandler } from '../../../src/cluster/bus/cluster-bus.js';
import { ClusterRouter } from '../../../src/cluster/cluster-router.js';
import { Coordinator, READ_HEDGE_INTERVAL_MS, type ReplicaClient } from '../../../src/cluster/coordinator.js';
import { ReplicaBatcher } from '../../../src/cluster/replica-batcher.js';
import { HintReplayer } from '../../../src/cluster/hint-replayer.js';
import { decodeRangeAnswer, ReplicaService } from '../../../src/cluster/replica-service.js';
import { LeaseService } from '../../../src/cluster/lease-service.js';
import type { Topology } from '../../../src/cluster/ring.js';
import type { SlotTable } from '../../../src/cluster/slot-table.js';
import { cachedTable } from './placement-cache.js';
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
import { Versioner } from '../../../src/server/versioner.js';
import type { Store } from '../../../src/storage/store.js';
import type { SimClock } from './sim-clock.js';
import type { Endpoint, SimNet } from './sim-network.js';
import { SimHints, type HintDisk } from './sim-hints.js';
import { SimStore, type DiskImage, type StoreFaults } from './sim-store.js';
import type { Scheduler } from './scheduler.js';

/** The product's interval for persisting the HLC high-water mark (src/server/node.ts). */
const HLC_PERSIST_INTERVAL_MS = 500;
/** The product ticks hint handoff with gossip: a tenth of the node timeout, at least 100 ms. */
const HINT_TICK_MS = 200;
/** The default lease length, as a node runs it. */
const LEASE_MS = 3000;

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
 * slot table is built by the real SlotTable from the simulated detector's view.
 */
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
  private readonly batcher: ReplicaBatcher;

  constructor(
    private readonly env: ClusterEnv,
    readonly index: number,
    readonly epoch: number,
    disk: DiskImage,
    hintDisk: HintDisk,
    readonly clock: SimClock,
  ) {
    const myId = env.ids[index]!;
    this.config = new Config([
      ['cluster-enabled', 'yes'],
      ['replication-factor', String(env.n)],
      ['read-quorum', String(env.r)],
      ['write-quorum', String(env.w)],
    ]);
    this.store = new SimStore(disk, (fn) => this.later(env.fsyncDelay(), fn), env.storeFaults(index));
    this.hints = new SimHints(hintDisk, (fn) => this.later(env.fsyncDelay(), fn));
    this.versioner = new Versioner(myId, Versioner.decodeHighWater(this.store.getMeta('hlc-high-water')), clock);
    this.persistHighWater();
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
      send: (id, request) => env.net.request(index, this.indexOf(id), 'lq', request),
      monotonicMs: () => clock.monotonic(),
      wallMs: () => clock.now(),
      sleep: (ms) => new Promise<void>((resolve) => this.later(ms, resolve)),
    }, LEASE_MS, epoch > 0);
    this.coordinator.fence = (slot, e) => this.leases.grants.fenced(slot, e);
    this.coordinator.onFenced = (slot, e) => this.leases.lost(slot, e);
    this.coordinator.leaseHeld = (slot, e) => this.leases.current(slot) === e;
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
          fallbacks: env.extended ? env.extended.preferenceList(job.slot) : [],
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
      forward: () => Promise.reject(new Error('cluster-proxy is not simulated')),
      runCommand: (session, spec, argv, out, ks) => this.dispatcher.run(session, spec, argv, out, ks),
      execTransaction: (session, out, ks, tx) => this.dispatcher.execTransaction(session, out, ks, tx),
      lookup: (name): CommandSpec | undefined => commands.get(name),
      lease: (slot) => this.leases.current(slot),
      acquireLease: (slot) => this.leases.acquire(slot),
      watchesRelayed: () => undefined,
      unwatchRelayed: () => undefined,
      runLocal: (session, spec, argv, out) => this.dispatcher.run(session, spec, argv, out),
    });
    this.dispatcher.router = this.router;
    new ReplicaService({
      bus: { handle: (type, handler) => this.handlers.set(type, handler) },
      node: { versioner: this.versioner, store: this.store },
      coordinator: this.coordinator,
      hints: this.hints,
      leases: this.leases,
    }).register();
    const replayer = new HintReplayer({
      member: (id) => (env.ids.includes(id) ? { status: 'active' } : undefined),
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

  private buildTable(): SlotTable {
    const alive = new Set<string>();
    this.env.ids.forEach((id, j) => {
      if (j === this.index || this.env.believesAlive(this.index, j)) alive.add(id);
    });
    const key = [...alive].join(',');
    if (key === this.tableKey) return this.slotTable;
    this.tableKey = key;
    return cachedTable(this.env.topology, alive, this.env.r);
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
    this.env.sched.after(delayMs, () => {
      if (this.alive) fn();
    });
  }

  private persistHighWater(): void {
    this.store.setMeta('hlc-high-water', this.versioner.highWaterToPersist(this.clock.now()));
    this.later(HLC_PERSIST_INTERVAL_MS, () => this.persistHighWater());
  }
}
