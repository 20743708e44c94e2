import type { Config } from '../core/config.js';
import { firstBindHost } from '../server/bind.js';
import type { Logger } from '../core/logger.js';
import type { RingkvNode } from '../server/node.js';
import type { SessionState } from '../server/session-state.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { ReplySink } from '../server/connection.js';
import { ClusterBus } from './bus/cluster-bus.js';
import type { BusAddress, BusLinkInfo } from './bus/types.js';
import { Membership, type MemberRecord } from './membership.js';
import { MembershipLog } from './membership-log.js';
import { buildTopology, type Topology } from './ring.js';
import { SlotTable, earlierPlacements, offRingNodes } from './slot-table.js';
import { CollectionHealer } from './collection-healer.js';
import { clusterEvictionHost } from './eviction-delete.js';
import type { EvictionHost } from '../server/eviction/evictor.js';
import { Coordinator, READ_HEDGE_INTERVAL_MS, type ReplicaClient } from './coordinator.js';
import { ClusterRouter } from './cluster-router.js';
import type { OverlayKeyspace } from './overlay-keyspace.js';
import { clusterInfoText, type NodeInfo } from './cluster-replies.js';
import type { ClusterFacade } from '../server/node-services.js';
import { decodeRangeAnswer, ReplicaService } from './replica-service.js';
import { Forwarder } from './forwarder.js';
import { PeerClocks, anchoredNowMs } from './peer-clocks.js';
import { HintReplayer } from './hint-replayer.js';
import type { HintStore } from '../storage/hint-store.js';
import { AntiEntropy } from './anti-entropy.js';
import { CatchUpDriver } from './catch-up-driver.js';
import { ComingBack } from './coming-back.js';
import { ReplicaBatcher, type ReplicaBatch } from './replica-batcher.js';
import { LeaseService } from './lease-service.js';
import { LinkHealth, linkHealthOptions } from './link-health.js';
import { RoutingViewTracker, type RoutingView } from './routing-view.js';
import { slotShares, type ClusterObservation, type MemberObservation } from './cluster-observation.js';

/**
 * Below this node timeout peers' links are not judged: `fail` itself moves slots within a couple
 * of seconds, and suspicion a few hundred ms earlier would only add false alarms on a loaded
 * machine (a suspected replica gets no requests, so with W = N a false alarm fails writes).
 */
const LINK_JUDGEMENT_MIN_NODE_TIMEOUT_MS = 5000;

/** A lease request to a paused or cut-off peer must not hold an acquisition for long. */
const LEASE_REQUEST_TIMEOUT_MS = 500;
import { createHash } from 'node:crypto';
import type { AclDocument } from '../acl/acl-document.js';
import type { FunctionDocument, FunctionSummary } from '../scripting/function-document.js';
import { scriptingFor } from '../scripting/engine.js';
import { keySlot } from './slot.js';
import { announcedPorts, portForClient } from './announced-ports.js';

/** A `pub` / `spub` bus message: channel and message bytes; undefined when malformed. */
function publishedMessage(payload: unknown): { channel: Buffer; message: Buffer } | undefined {
  const p = payload as { c?: unknown; m?: unknown } | null;
  if (p === null || typeof p !== 'object' || !(p.c instanceof Uint8Array) || !(p.m instanceof Uint8Array)) return undefined;
  return { channel: Buffer.from(p.c.buffer, p.c.byteOffset, p.c.byteLength), message: Buffer.from(p.m.buffer, p.m.byteOffset, p.m.byteLength) };
}

/** Where this node is reachable, as advertised to clients and peers. */
export interface SelfAddress {
  host: string;
  port: number;
  busPort: number;
}

function advertisedHost(config: Config): string {
  const announced = config.str('cluster-announce-ip');
  if (announced) return announced;
  const first = firstBindHost(config.str('bind'));
  // A wildcard bind is no address a client can dial.
  return first === '0.0.0.0' || first === '::' ? '127.0.0.1' : first;
}

/** How stale the slot table may be before a lookup refreshes it. */
const TABLE_FRESH_MS = 20;

/** Gossip interval: a tenth of the node timeout, between 100 ms and 1 s. */
function gossipIntervalMs(config: Config): number {
  return Math.min(1000, Math.max(100, Math.floor(config.int('cluster-node-timeout') / 10)));
}

const NO_PLACEMENTS: readonly Topology[] = [];
/** A placement held for fewer gossip rounds than this was a cluster forming, not a rebalance. */
const PLACEMENT_SETTLE_ROUNDS = 3;
/**
 * The cluster shell around a node: bus, gossip timer, topology, coordinator and router. Decisions
 * live in pure modules (membership, ring, slot table, route, quorum); this class only moves their
 * inputs and outputs between sockets, timers and the store.
 */
export class ClusterNode implements ClusterFacade, ReplicaClient {
  readonly myId: string;
  readonly self: SelfAddress;
  readonly bus: ClusterBus;
  readonly membership: Membership;
  /** Logs joins, suspicions, failures, recoveries and departures, naming the node. */
  private readonly membershipLog: MembershipLog;
  readonly coordinator: Coordinator;
  /** Heals collections a replicated write found this replica out of line with (collection-lineage.ts). */
  readonly healer: CollectionHealer;
  private readonly replicaService: ReplicaService;
  readonly router: ClusterRouter;
  readonly leases: LeaseService;
  private readonly forwarder: Forwarder;
  /** Peers' clocks against this node's, from link pings: when a relayed request's sender gave up. */
  readonly peerClocks = new PeerClocks();
  /** What the forwarder needs to stamp relays with their deadline and refuse late ones. */
  readonly relayDeadlines: { readonly peers: PeerClocks; readonly waitMs: number; readonly logger: Logger };
  private readonly batcher = new ReplicaBatcher((nodeId, batch) => this.sendBatch(nodeId, batch));
  private topology!: Topology;
  /** The ring walked further than N: the nodes that stand in for unreachable owners. */
  private extended: Topology | undefined;
  private readonly hintReplayer: HintReplayer;
  readonly antiEntropy: AntiEntropy;
  /** A returning node's catch-up before it coordinates its slots again (catch-up.ts). */
  private readonly catchUp: CatchUpDriver;
  /** When this node is coming back and begins a catch-up (coming-back.ts). */
  private readonly comingBack: ComingBack;
  /** The placements before the membership changes of the current window, oldest first, kept until `until` (ms). */
  private transition: { from: readonly Topology[]; until: number } | undefined;
  private slotTable!: SlotTable;
  private topologyKey = '';
  /** Short, stable name of `topologyKey` that members gossip once they have synced to it. */
  private topologyFingerprint = '';
  /** When the current placement was built (ms). */
  private placementSince = Date.now();
  private tableInputs = '';
  private tableCheckedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Direct-link health of every peer (pings and any other frame), for routing. */
  private readonly links: LinkHealth;
  private readonly routingTracker: RoutingViewTracker;
  private routing: RoutingView | undefined;
  private linkTimer: NodeJS.Timeout | undefined;
  private hedgeTimer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private readonly startedAt = Date.now();
  private readonly sent: Record<string, number> = { ping: 0, meet: 0 };
  private readonly received: Record<string, number> = { ping: 0, meet: 0 };

  constructor(readonly node: RingkvNode, readonly hints: HintStore, generation: number, restored: MemberRecord[] | undefined) {
    const config = node.config;
    this.logger = node.logger;
    this.myId = node.nodeId;
    const ports = announcedPorts((name) => (config.str(name) === 'yes' ? 1 : config.int(name)), node.port);
    const busListenPort = ports.busListenPort;
    this.self = { host: advertisedHost(config), port: ports.port, busPort: ports.busPort };
    const me: MemberRecord = {
      id: this.myId, host: this.self.host, port: this.self.port, busPort: this.self.busPort,
      ...(ports.plainPort !== undefined ? { plainPort: ports.plainPort } : {}),
      zone: config.str('cluster-zone'), generation, heartbeat: 0, status: 'active', epoch: 0,
      ...(config.int('metrics-port') > 0 ? { httpPort: config.int('metrics-port') } : {}),
    };
    this.membership = new Membership(me, { nodeTimeoutMs: config.int('cluster-node-timeout') }, restored);
    // A restart: this node's data directory knew other members.
    this.comingBack = new ComingBack(restored !== undefined && restored.some((m) => m.id !== this.myId));
    this.membershipLog = new MembershipLog(this.logger, this.myId);
    const secret = config.str('cluster-secret') || config.str('requirepass');
    const bindHost = firstBindHost(config.str('bind'));
    this.bus = new ClusterBus({
      nodeId: this.myId,
      advertise: { host: this.self.host, port: this.self.busPort },
      listen: { host: bindHost, port: busListenPort },
      secret,
      logger: this.logger,
      // tls-cluster: read at every dial, so a certificate reloaded by CONFIG SET serves the next link.
      ...(config.bool('tls-cluster') ? { tls: () => node.tls } : {}),
      // A specific bind address is also the source of our outgoing bus links.
      ...(bindHost !== '0.0.0.0' && bindHost !== '::' && bindHost !== '127.0.0.1' ? { localAddress: bindHost } : {}),
    });
    this.relayDeadlines = { peers: this.peerClocks, waitMs: this.bus.requestTimeoutMs, logger: this.logger };
    this.links = new LinkHealth(linkHealthOptions(config.int('cluster-node-timeout')));
    // MOVED from a node cut off from the majority only once every peer has surely suspected it.
    this.routingTracker = new RoutingViewTracker(this.links.options.suspectAfterMs + this.links.options.pingIntervalMs);
    this.bus.on('lp', (from, payload) => {
      this.links.ping(from.nodeId, performance.now(), pingFlag(payload, 'i'), pingFlag(payload, 'c'));
      const clock = pingClock(payload);
      if (clock !== undefined) this.peerClocks.note(from.nodeId, clock.o, clock.t, anchoredNowMs());
      this.catchUp.noteHints(from.nodeId, pingFlag(payload, 'h'));
    });
    this.coordinator = new Coordinator(node.store, node.versioner, this, node.stats, this.logger);
    this.healer = new CollectionHealer({ store: node.store, replicas: this, logger: this.logger, replicasOf: (slot) => this.slotTable.replicas(slot) });
    this.coordinator.healer = this.healer;
    // FLUSHALL empties this replica: no collection is complete here any more.
    node.store.onFlushAll(() => this.coordinator.complete.clear());
    this.leases = new LeaseService({
      myId: this.myId,
      replicas: (slot) => this.slotTable.replicas(slot),
      reachable: (id) => this.reachable(id),
      // Asked on every leased command: the record itself, not self()'s copy of it.
      hasLeft: () => this.membership.record(this.myId)?.status === 'left',
      primaryElsewhere: (slot) => {
        const primary = this.slotTable?.primary(slot);
        return primary !== undefined && primary !== this.myId;
      },
      send: (id, request) => {
        const addr = this.busAddress(id);
        return addr ? this.bus.request(addr, 'lq', request, LEASE_REQUEST_TIMEOUT_MS) : Promise.reject(new Error(`unknown node ${id}`));
      },
      monotonicMs: () => performance.now(),
      wallMs: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
    }, config.int('cluster-lease-ms'), restored !== undefined);
    this.coordinator.fence = (slot, epoch) => this.leases.grants.fenced(slot, epoch);
    this.coordinator.onFenced = (slot, epoch) => this.leases.lost(slot, epoch);
    this.coordinator.leaseHeld = (slot, epoch) => this.leases.current(slot) === epoch;
    // A lease already taken anew (by another job whose lease ran out too) is shared, not replaced.
    this.coordinator.reacquireLease = async (slot) => {
      const held = this.leases.current(slot);
      if (held !== undefined) return held;
      const outcome = await this.leases.acquire(slot);
      return outcome.kind === 'held' ? outcome.epoch : undefined;
    };
    this.coordinator.isolated = () => this.routing?.isolation !== undefined;
    this.bus.handle('lq', (_from, payload) => this.leases.answer(payload));
    this.forwarder = new Forwarder(this);
    this.hintReplayer = new HintReplayer(this, hints);
    this.router = new ClusterRouter({
      myId: this.myId,
      table: () => this.table,
      clientAddress: (id, clientTls) => {
        const m = this.member(id);
        return m ? `${m.host}:${portForClient(m, clientTls)}` : undefined;
      },
      proxy: () => config.bool('cluster-proxy'),
      quorum: (s) => this.quorum(s),
      coordinate: (session, job, steps, sink) => this.coordinate(session, job, steps, sink),
      forward: (session, nodeId, commands, out, replies) => this.forwarder.forward(session, nodeId, commands, out, replies),
      runCommand: (session, spec, argv, out, ks) => node.dispatcher.run(session, spec, argv, out, ks),
      execTransaction: (session, out, ks, tx) => node.dispatcher.execTransaction(session, out, ks, tx),
      lookup: (name) => node.commands.get(name),
      lease: (slot) => this.leases.current(slot),
      acquireLease: (slot) => this.leases.acquire(slot),
      watchesRelayed: (session) => this.forwarder.watchesRelayed(session),
      unwatchRelayed: (session, keep) => this.forwarder.unwatchRelayed(session, keep),
      runLocal: (session, spec, argv, out) => node.dispatcher.run(session, spec, argv, out),
    });
    this.replicaService = new ReplicaService(this);
    this.replicaService.register();
    this.antiEntropy = new AntiEntropy({
      myId: this.myId, store: node.store, config, logger: this.logger, bus: this.bus,
      table: () => this.table,
      reachable: (id) => this.reachable(id),
      busAddress: (id) => this.busAddress(id),
      read: (id, slot, keys) => this.read(id, slot, keys),
      write: (id, slot, items) => this.write(id, slot, items),
      apply: (slot, key, rec, peer) => {
        node.versioner.hlc.observe(rec.version, Date.now());
        // Collection records go through the lineage judgement, as replicated writes do.
        const [item] = this.replicaService.judge(slot, [{ key, record: rec }], peer);
        if (item !== undefined) this.coordinator.applyLocal(slot, key, item.record);
      },
      rebalanced: (topology) => {
        if (topology === this.topology) this.membership.setSynced(this.topologyFingerprint);
      },
    });
    this.antiEntropy.register();
    this.catchUp = new CatchUpDriver({
      myId: this.myId,
      replicas: (slot) => this.topology.preferenceList(slot),
      peers: () => this.membership.ringMembers().map((m) => m.id).filter((id) => id !== this.myId),
      reachable: (id) => this.reachable(id),
      compare: (peer, slots) => this.antiEntropy.compareWith(peer, slots),
      comparing: () => config.int('anti-entropy-interval-ms') > 0 && config.int('cluster-catch-up-timeout-ms') > 0,
      timeoutMs: () => config.int('cluster-catch-up-timeout-ms'),
      // Peers judging links route back to a node after it has been healthy for their hysteresis.
      minimumMs: () => (this.linkTimer !== undefined ? this.links.options.healthyForMs + this.links.options.pingIntervalMs : 0),
      // Called from within a table rebuild too: the next one runs after it.
      changed: () => queueMicrotask(() => {
        this.membership.setCatchingUp(this.catchUp.active);
        this.rebuild(false);
        if (this.linkTimer !== undefined) this.pingPeers(this.membership.ringMembers().map((m) => m.id).filter((id) => id !== this.myId));
      }),
      logger: this.logger,
    });
    this.forwarder.register();
    this.bus.on('gossip', (from, payload) => {
      const clock = pingClock(payload);
      if (clock !== undefined) this.peerClocks.note(from.nodeId, clock.o, clock.t, anchoredNowMs());
      this.onGossip(payload);
    });
    this.bus.on('pub', (_from, payload) => {
      const p = publishedMessage(payload);
      if (p !== undefined) node.pubsub.publish(p.channel, p.message);
    });
    this.bus.on('spub', (_from, payload) => {
      const p = publishedMessage(payload);
      if (p !== undefined) node.pubsub.spublish(p.channel, p.message);
    });
    this.bus.on('acl', (_from, payload) => node.aclSync?.receive(payload));
    this.bus.on('functions', (_from, payload) => scriptingFor(node).receiveDocument(payload));
    // A peer that missed a change (down, restarting, joining) says what it holds; who holds newer sends it the document.
    this.bus.on('functions-sum', (from, payload) => {
      const doc = scriptingFor(node).answerSummary(payload);
      if (doc !== undefined) this.bus.send(from.address, 'functions', doc);
    });
    if (node.aclSync) node.aclSync.push = (doc) => this.broadcastAcl(doc);
    this.bus.on('flushall', (from) => {
      this.logger.warn({ from: from.nodeId }, 'FLUSHALL from a peer');
      void node.store.flushAll();
    });
    this.rebuild(true);
  }

  async start(seeds: string): Promise<void> {
    await this.bus.listen();
    for (const seed of seeds.split(/[\s,]+/).filter(Boolean)) {
      const m = /^(.+):(\d+)(?:@(\d+))?$/.exec(seed);
      if (!m) throw new Error(`cluster-seeds: cannot parse '${seed}' (host:port[@busport])`);
      this.meet(m[1]!, Number(m[2]), m[3] ? Number(m[3]) : Number(m[2]) + 10000);
    }
    const interval = gossipIntervalMs(this.node.config);
    this.timer = setInterval(() => {
      // Without link pings (a node timeout under LINK_JUDGEMENT_MIN_NODE_TIMEOUT_MS) catch-up moves on here.
      if (this.linkTimer === undefined) this.catchUp.tick(performance.now());
      this.tick();
      this.hintReplayer.tick(Date.now());
    }, interval);
    this.timer.unref();
    if (this.node.config.int('cluster-node-timeout') >= LINK_JUDGEMENT_MIN_NODE_TIMEOUT_MS) {
      this.linkTimer = setInterval(() => this.linkTick(), this.links.options.pingIntervalMs);
      this.linkTimer.unref();
    }
    this.hedgeTimer = setInterval(() => this.coordinator.hedgeReads(), READ_HEDGE_INTERVAL_MS);
    this.hedgeTimer.unref();
    this.tick();
    this.antiEntropy.start();
  }

  /** CONFIG SET changed the TLS material: the bus listener takes it for the links it accepts next. */
  reloadTls(): void {
    this.bus.reloadTls();
  }

  async stop(): Promise<void> {
    this.catchUp.stop();
    this.antiEntropy.stop();
    this.healer.stop();
    if (this.timer) clearInterval(this.timer);
    if (this.linkTimer) clearInterval(this.linkTimer);
    if (this.hedgeTimer) clearInterval(this.hedgeTimer);
    await this.bus.close();
    await this.hints.close();
  }

  /**
   * Takes this node off the ring: the status change propagates by gossip and every node rebuilds
   * its topology without it. Remaining replicas (N-1 of every list) still hold the data, and quorum
   * reads repair the nodes that took over.
   */
  leave(): void {
    this.membership.setStatus('left', Date.now());
    this.rebuild(true);
    this.tick();
  }

  /** FLUSHALL is cluster-wide: every node empties its store. */
  broadcastFlush(): void {
    for (const m of this.membership.members()) {
      if (m.id !== this.myId && m.status !== 'left') this.bus.send({ host: m.host, port: m.busPort }, 'flushall', {});
    }
  }

  /** The script cache a relayed EVALSHA takes its body from, and where a relayed body is cached (forwarder.ts). */
  readonly scripts = {
    bodyOf: (sha: string): Buffer | undefined => scriptingFor(this.node).bodyOf(sha),
    cache: (body: Buffer): void => scriptingFor(this.node).cacheRelayed(body),
  };

  /** Function libraries reach every member (function-document.ts; receivers merge entry by entry). */
  broadcastFunctions(doc: FunctionDocument): void {
    for (const m of this.membership.members()) {
      if (m.id !== this.myId && m.status !== 'left') this.bus.send({ host: m.host, port: m.busPort }, 'functions', doc);
    }
  }

  /** Every member hears which function libraries this node holds (and sends back what it lacks). */
  broadcastFunctionSummary(summary: FunctionSummary): void {
    for (const m of this.membership.members()) {
      if (m.id !== this.myId && m.status !== 'left') this.bus.send({ host: m.host, port: m.busPort }, 'functions-sum', summary);
    }
  }

  /** ACL users reach every member (acl-document.ts; receivers keep the newest). */
  broadcastAcl(doc: AclDocument): void {
    for (const m of this.membership.members()) {
      if (m.id !== this.myId && m.status !== 'left') this.bus.send({ host: m.host, port: m.busPort }, 'acl', doc);
    }
  }

  meet(host: string, port: number, busPort: number): void {
    this.sent.meet!++;
    // Gossip reaches a node through its bus port; the client port comes back in its member record.
    this.membership.meet(host, busPort);
    this.tick();
  }

  private tick(): void {
    const now = Date.now();
    const { targets, digest: bare } = this.membership.tick(now, Math.random);
    // Stamped with this process's clock, as link pings are: clusters with a node timeout too short
    // for link pings learn each other's clocks from gossip (peer-clocks.ts).
    const digest = { ...bare, o: performance.timeOrigin, t: anchoredNowMs() };
    for (const t of targets) {
      this.sent.ping!++;
      this.bus.send({ host: t.host, port: t.busPort }, 'gossip', digest);
    }
    // A member whose link dropped is dialled every round, so a refused dial (its process is gone)
    // is known within one round even when gossip picked other targets.
    for (const m of this.membership.members()) {
      if (m.id === this.myId || targets.some((t) => t.id === m.id) || !this.membership.isAlive(m.id, now)) continue;
      const addr = { host: m.host, port: m.busPort };
      if (this.bus.linkState(addr) === 'disconnected') this.bus.send(addr, 'gossip', digest);
    }
    this.rebuild(false);
    // Once per gossip round, not per table refresh: changes show within one interval (at most 1 s).
    this.membershipLog.observe(this.membership, new Set(this.ringMembers(now).map((m) => m.id)), now);
  }

  /**
   * Every ping interval: judge each peer's link from what arrived (link-health.ts), replace the
   * link of a peer silent past the request deadline, refresh routing, and ping every ring member,
   * saying whether this node is cut off from the majority.
   */
  private linkTick(): void {
    const now = performance.now();
    const peers = this.membership.ringMembers().map((m) => m.id).filter((id) => id !== this.myId);
    const known = new Set(peers);
    for (const id of this.links.tracked()) if (!known.has(id)) this.links.forget(id);
    for (const id of peers) {
      this.links.track(id, now);
      const heard = this.bus.lastHeard(id);
      if (heard !== undefined) this.links.heard(id, heard);
    }
    for (const e of this.links.evaluate(now)) {
      const m = this.member(e.peer);
      const name = `node ${e.peer.slice(0, 12)} (${m ? `${m.host}:${m.port}` : '?'})`;
      if (e.kind === 'suspected') {
        this.logger.warn({ peer: e.peer, silenceMs: e.silenceMs }, `link to ${name} suspected: silent for ${e.silenceMs} ms, routing around it`);
      } else if (e.kind === 'unreachable') {
        // Requests already sent wait until here, the bus deadline: a peer that merely stalled answers them.
        const addr = this.busAddress(e.peer);
        const failed = addr ? this.bus.dropLink(addr, `silent for ${e.silenceMs} ms`) : 0;
        this.logger.warn({ peer: e.peer, silenceMs: e.silenceMs, failedRequests: failed }, `link to ${name} given up after ${e.silenceMs} ms of silence: dialling afresh`);
      } else {
        this.logger.info({ peer: e.peer }, `link to ${name} healthy again: routing to it`);
      }
    }
    // A stall of this process longer than a peer waits before suspecting it: the others may have
    // routed around it and taken writes it has not seen.
    if (this.comingBack.stalled(this.links.lastStall(), this.links.options.suspectAfterMs)) this.catchUp.begin('stall', now);
    this.catchUp.tick(now);
    this.rebuild(false);
    this.pingPeers(peers);
  }

  /**
   * Tells each peer whether this node is cut off from the majority (`i`), catching up after being
   * away (`c`), and whether it holds hints for that peer (`h`), which a peer catching up waits for.
   */
  private pingPeers(peers: readonly string[]): void {
    const i = this.routing?.isolation !== undefined ? 1 : 0;
    const c = this.catchUp.active ? 1 : 0;
    for (const id of peers) {
      const addr = this.busAddress(id);
      // `o`, `t`: this process's clock, so peers can tell when a request relayed from here was given up (peer-clocks.ts).
      if (addr !== undefined && addr.port !== 0) this.bus.send(addr, 'lp', { i, c, h: this.hints.pendingBytes(id) > 0 ? 1 : 0, o: performance.timeOrigin, t: anchoredNowMs() });
    }
  }

  private onGossip(payload: unknown): void {
    this.received.ping!++;
    try {
      const { topologyChanged } = this.membership.receive(Date.now(), payload as Parameters<Membership['receive']>[1]);
      if (topologyChanged) this.rebuild(true);
    } catch (err) {
      this.logger.warn({ err }, 'ignored a malformed gossip message');
    }
  }

  /** Recomputes the ring when membership changed and the slot table when liveness changed. */
  private rebuild(membershipChanged: boolean): void {
    const config = this.node.config;
    const now = Date.now();
    this.tableCheckedAt = now;
    const members = this.ringMembers(now);
    const key = members.map((m) => `${m.id}/${m.zone ?? ''}`).join(',');
    if (membershipChanged || key !== this.topologyKey || !this.topology) {
      const n = config.int('replication-factor');
      const vnodes = config.int('cluster-vnodes');
      const before = this.topology;
      this.topology = buildTopology(members, { n, vnodes });
      // Keep the old placement for a while: reads also ask the old replicas, writes reach them too,
      // and primaries stay on nodes that have the data, while anti-entropy moves slots to new owners.
      if (before && key !== this.topologyKey) {
        const settled = now - this.placementSince >= PLACEMENT_SETTLE_ROUNDS * gossipIntervalMs(config);
        // A window that has run out keeps nothing, even if the table has not been rebuilt since.
        const kept = this.transition && now <= this.transition.until ? this.transition.from : NO_PLACEMENTS;
        const from = earlierPlacements(kept, before, settled, members, this.myId, { n, vnodes });
        this.transition = from.length > 0 ? { from, until: now + config.int('cluster-rebalance-window-ms') } : undefined;
      }
      this.extended = members.length > n ? buildTopology(members, { n: Math.min(members.length, n + 2), vnodes }) : undefined;
      if (key !== this.topologyKey) {
        this.placementSince = now;
        this.topologyFingerprint = createHash('sha1').update(key).digest('hex').slice(0, 16);
      }
      this.topologyKey = key;
      // Rewritten on every change of the member list; one that cannot be written (a full disk) is
      // only what a restart would start from.
      this.node.store.setMeta('cluster-members', Buffer.from(JSON.stringify(this.membership.members())))
        .catch((err: unknown) => this.logger.warn({ err: String(err) }, 'member list not persisted'));
    }
    const routing = this.routingTracker.update({
      nowMs: performance.now(), self: this.myId, members: members.map((m) => m.id),
      gone: (id) => !this.membership.isAlive(id, now) || this.refusedPeer(id),
      refused: (id) => this.refusedPeer(id),
      linked: (id) => this.links.routable(id),
      stepsAside: (id) => this.links.claimsIsolation(id),
      // Link pings say it at once where they run; gossip says it within a round otherwise.
      catchingUp: (id) => (this.linkTimer !== undefined ? this.links.claimsCatchingUp(id) : this.membership.record(id)?.catchingUp === true),
      selfCatchingUp: this.catchUp.active,
    });
    if (routing.isolation !== this.routing?.isolation) this.logIsolation(routing);
    const steppingAside = routing.isolation !== undefined && this.routing?.isolation === undefined;
    this.routing = routing;
    // Back in the majority: after a restart, or after being cut off, writes went on without it.
    const comeBack = this.comingBack.routed(routing.isolation !== undefined);
    if (comeBack !== undefined) this.catchUp.begin(comeBack, performance.now());
    if (steppingAside) this.abandonPeers(members.map((m) => m.id));
    const alive = routing.alive;
    // The cluster is up while every slot can answer reads; a write that cannot reach W replicas fails
    // on its own with NOREPLICAS instead of taking the whole cluster down (clients stop at 'fail').
    const needed = config.int('read-quorum');
    if (this.transition && (now > this.transition.until || this.everyoneSynced(members, alive))) {
      this.logger.info({ timedOut: now > this.transition.until }, 'rebalance finished: new owners serve their slots alone');
      this.transition = undefined;
    }
    const from = this.transition?.from ?? NO_PLACEMENTS;
    // Nodes that left the ring but still answer: reads of the slots they held still ask them.
    const leftRing = offRingNodes(from, members.map((m) => m.id), this.myId, (id) => this.membership.isAlive(id, now) && !this.refusedPeer(id));
    // Building a table walks all 16384 slots: only do it when one of its inputs changed.
    const inputs = `${[...alive].sort().join(',')}|${needed}|${routing.isolation ?? ''}|${[...routing.standby].sort().join(',')}|${[...leftRing].sort().join(',')}`;
    if (this.slotTable && this.slotTable.topology === this.topology && this.slotTable.previous === from && inputs === this.tableInputs) return;
    this.tableInputs = inputs;
    const next = new SlotTable(this.topology, alive, needed, from, routing.isolation, routing.standby, leftRing);
    // Always the new table: one with the same primaries can still differ in replicas (a node
    // joining as a standby, the earlier placements of a rebalance), which coordinators write to.
    if (this.slotTable && (next.signature !== this.slotTable.signature || next.ok !== this.slotTable.ok || next.moving !== this.slotTable.moving)) {
      this.logger.info({ ranges: next.ranges.length, ok: next.ok, alive: alive.size, isolation: next.isolation }, 'slot table changed');
    }
    this.slotTable = next;
    this.endShardSubscriptionsElsewhere();
  }

  /**
   * Shard channels live where their slot is: once this node no longer replicates a channel's slot,
   * its subscribers here are unsubscribed with a `sunsubscribe` frame (Redis 7 does the same when
   * a slot leaves a shard), and clients subscribe again where CLUSTER SLOTS now points.
   */
  private endShardSubscriptionsElsewhere(): void {
    const pubsub = this.node.pubsub;
    if (pubsub.registry.size('shard') === 0) return;
    const table = this.slotTable;
    const dropped = pubsub.dropShardChannels((channel) => table.replicas(keySlot(channel)).includes(this.myId));
    if (dropped > 0) this.logger.info({ subscriptions: dropped }, 'shard channel subscriptions ended: their slots moved to other nodes');
  }

  /**
   * PUBLISH reaches every node, as in Redis Cluster: one bus message to each other alive member, at
   * low priority (a flood of messages is dropped before it can delay replication on the same link).
   */
  broadcastPublish(channel: Buffer, message: Buffer): void {
    const now = Date.now();
    for (const m of this.membership.members()) {
      if (m.id === this.myId || m.status === 'left' || !this.membership.isAlive(m.id, now)) continue;
      this.bus.sendLowPriority({ host: m.host, port: m.busPort }, 'pub', { c: channel, m: message });
    }
  }

  /** SPUBLISH reaches the subscribers of the slot's other replicas. */
  shardPublish(slot: number, channel: Buffer, message: Buffer): void {
    for (const id of this.table.replicas(slot)) {
      if (id === this.myId) continue;
      const addr = this.busAddress(id);
      if (addr !== undefined) this.bus.sendLowPriority(addr, 'spub', { c: channel, m: message });
    }
  }

  /**
   * A node that steps aside answers every request still waiting on its peers now (as outcome
   * unknown): it cannot reach them, and its clients are about to learn a slot map without it. A
   * cluster client that drops its connection to a node no longer in the map resends the commands
   * still in flight there (ioredis: "Connection is closed", retryDelayOnFailover) — an INCR that
   * reached a replica before the cut would then count twice.
   */
  private abandonPeers(ids: readonly string[]): void {
    for (const id of ids) {
      const addr = id === this.myId ? undefined : this.busAddress(id);
      if (addr !== undefined) this.bus.dropLink(addr, 'this node is cut off from the majority');
    }
  }

  private logIsolation(routing: RoutingView): void {
    const reach = `reaches ${routing.reached} of ${routing.voters} voting members`;
    if (routing.isolation === 'down') this.logger.warn(`cut off from the majority (${reach}): serving no slot, answering CLUSTERDOWN`);
    else if (routing.isolation === 'redirect') this.logger.warn(`still cut off (${reach}): answering MOVED to the majority's nodes`);
    else if (this.routing !== undefined) this.logger.info(`majority reachable again (${reach}): serving slots`);
  }

  /**
   * The old placement can go once every alive member of the ring reports it has compared every slot
   * it gained with a replica that had the data; members gossip that as their `synced` fingerprint.
   */
  private everyoneSynced(members: ReadonlyArray<{ id: string }>, alive: ReadonlySet<string>): boolean {
    return members.every((m) => !alive.has(m.id) || this.membership.record(m.id)?.synced === this.topologyFingerprint);
  }

  /**
   * Ring members, less those dead for longer than cluster-dead-node-removal-ms: their slots then
   * move to the remaining nodes (anti-entropy streams them). A node that comes back rejoins the ring.
   */
  private ringMembers(now: number): ReturnType<Membership['ringMembers']> {
    const removeAfter = this.node.config.int('cluster-dead-node-removal-ms');
    const all = this.membership.ringMembers();
    if (removeAfter === 0) return all;
    return all.filter((m) => {
      if (m.id === this.myId || this.membership.state(m.id, now) !== 'fail') return true;
      const heard = this.membership.lastHeard(m.id) ?? this.startedAt;
      return now - heard < removeAfter;
    });
  }

  /**
   * The current slot table, refreshed when older than a few ms: liveness changes with time, and
   * routing must agree with what CLUSTER NODES reports the moment it reports it.
   */
  get table(): SlotTable {
    if (Date.now() - this.tableCheckedAt > TABLE_FRESH_MS) this.rebuild(false);
    return this.slotTable;
  }

  get currentEpoch(): number {
    return this.membership.epoch();
  }

  member(id: string): Readonly<MemberRecord> | undefined {
    return this.membership.record(id);
  }

  busAddress(id: string): BusAddress | undefined {
    const m = this.member(id);
    return m ? { host: m.host, port: m.busPort } : undefined;
  }

  nodes(): NodeInfo[] {
    const now = Date.now();
    return this.membership.members().map((m) => {
      let state = this.membership.state(m.id, now);
      // A peer this node cannot hear directly is out of its routing: flag it as Redis flags a suspect.
      if (state === 'ok' && (!this.links.routable(m.id) || this.links.claimsIsolation(m.id))) state = 'pfail';
      const addr = { host: m.host, port: m.busPort };
      return {
        id: m.id, host: m.host, port: m.port, plainPort: m.plainPort, busPort: m.busPort, self: m.id === this.myId, state,
        left: m.status === 'left', pingSent: 0, pongRecv: this.membership.lastHeard(m.id) ?? 0, epoch: m.epoch,
        connected: m.id === this.myId || this.bus.linkState(addr) === 'connected',
      };
    });
  }

  messageStats(): { sent: Record<string, number>; received: Record<string, number> } {
    return { sent: this.sent, received: this.received };
  }

  busLinks(): BusLinkInfo[] {
    return this.bus.links();
  }

  infoSection(): string {
    const c = this.coordinator.stats;
    const moving = this.table.movingFor(this.myId);
    return clusterInfoText(this).replace(/\r\n$/, '\r\n') +
      `ringkv_reads:${c.reads}\r\nringkv_writes:${c.writes}\r\nringkv_read_repairs:${c.readRepairs}\r\nringkv_writes_restamped:${c.restamps}\r\nringkv_quorum_failures:${c.quorumFailures}\r\nringkv_hedged_reads:${c.hedgedReads}\r\nringkv_shared_reads:${c.sharedReads}\r\nringkv_grouped_jobs:${c.groupedJobs}\r\nringkv_fetch_rounds:${c.fetchRounds}\r\n` +
      `ringkv_relays_expired:${this.forwarder.expired}\r\n` +
      `ringkv_rebalance_slots_moving:${this.slotTable.moving}\r\nringkv_rebalance_slots_in:${moving.in}\r\nringkv_rebalance_slots_out:${moving.out}\r\n` +
      `ringkv_rebalance_window_left_ms:${this.transition ? Math.max(0, this.transition.until - Date.now()) : 0}\r\n` +
      `ringkv_member_status:${this.member(this.myId)?.status ?? 'active'}\r\n` +
      `ringkv_links_suspected:${this.links.tracked().filter((id) => this.links.suspected(id)).length}\r\n` +
      `ringkv_isolated:${this.routing?.isolation ?? 'no'}\r\n` +
      `ringkv_catching_up:${this.catchUp.active ? 1 : 0}\r\n` +
      `ringkv_catch_up_slots_left:${this.catchUp.progress(performance.now()).slotsLeft}\r\n` +
      `ringkv_catch_up_hint_holders:${this.catchUp.progress(performance.now()).hintHolders}\r\n` +
      `ringkv_leases_held:${this.leases.heldCount()}\r\nringkv_lease_acquisitions:${this.leases.acquisitions}\r\nringkv_fenced_writes:${this.leases.fencedWrites}\r\n` +
      `ringkv_collection_syncs:${this.coordinator.stats.collectionSyncs}\r\nringkv_collection_sync_records:${this.coordinator.stats.collectionSyncRecords}\r\n` +
      `ringkv_list_repacks:${this.coordinator.stats.listRepacks}\r\nringkv_lease_retries:${this.coordinator.stats.leaseRetries}\r\n` +
      `ringkv_collections_complete:${this.coordinator.complete.size}\r\n` +
      `ringkv_collection_heals:${this.healer.stats.healed}\r\n` +
      `ringkv_collection_heals_failed:${this.healer.stats.failed}\r\n` +
      `ringkv_collection_heals_pending:${this.healer.pending}\r\n` +
      `ringkv_hinted_writes:${this.coordinator.hintedHandoffs}\r\nringkv_hints_stored:${this.hints.added}\r\nringkv_hints_delivered:${this.hints.delivered}\r\n` +
      `ringkv_hints_dropped:${this.hints.dropped}\r\nringkv_hints_pending_bytes:${this.hints.pendingBytes()}\r\nringkv_hints_targets:${this.hints.targets().length}\r\n` +
      this.antiEntropy.infoText();
  }

  /** The cluster and this node's background work as numbers (Prometheus metrics, dashboard). */
  observation(): ClusterObservation {
    const now = Date.now();
    const table = this.table;
    const shares = slotShares(table);
    const records = new Map(this.membership.members().map((m) => [m.id, m]));
    const members: MemberObservation[] = this.nodes().map((n) => {
      const share = shares.get(n.id);
      const rec = records.get(n.id);
      return {
        id: n.id, host: n.host, port: n.port, busPort: n.busPort, httpPort: rec?.httpPort, state: n.state,
        status: rec?.status ?? 'active', phi: this.membership.phi(n.id, now),
        slotsPrimary: share?.primary ?? 0, slotsReplica: share?.replica ?? 0,
      };
    });
    const moving = table.movingFor(this.myId);
    const ae = this.antiEntropy.progress();
    return {
      myId: this.myId, stateOk: table.ok, epoch: this.currentEpoch, isolated: this.routing?.isolation !== undefined,
      members, ranges: table.ranges, coordinator: this.coordinator.stats,
      hints: {
        hintedWrites: this.coordinator.hintedHandoffs, stored: this.hints.added, delivered: this.hints.delivered,
        dropped: this.hints.dropped, pendingBytes: this.hints.pendingBytes(), targets: this.hints.targets().length,
      },
      antiEntropy: { ...this.antiEntropy.stats, indexReady: ae.indexReady, slotsQueued: ae.slotsQueued, fullPasses: ae.fullPasses, lastFullPassMs: ae.lastFullPassMs },
      rebalance: {
        slotsMoving: table.moving, slotsIn: moving.in, slotsOut: moving.out, slotsToSync: ae.rebalanceSlotsToSync,
        windowLeftMs: this.transition ? Math.max(0, this.transition.until - now) : 0,
      },
      leases: { held: this.leases.heldCount(), acquisitions: this.leases.acquisitions, fencedWrites: this.leases.fencedWrites },
      collections: {
        complete: this.coordinator.complete.size, healsPending: this.healer.pending, heals: this.healer.stats.healed, healsFailed: this.healer.stats.failed,
      },
      linksSuspected: this.links.tracked().filter((id) => this.links.suspected(id)).length,
    };
  }

  /** RINGKV.DIGEST: see AntiEntropy.digest. */
  antiEntropyDigest(slot?: number): bigint | undefined {
    return this.antiEntropy.digest(slot);
  }

  quorum(session: SessionState): { r: number; w: number } {
    const config = this.node.config;
    return {
      r: session.consistency?.r ?? config.int('read-quorum'),
      w: session.consistency?.w ?? config.int('write-quorum'),
    };
  }

  private coordinate(
    session: SessionState,
    job: { slot: number; keys: Buffer[]; isWrite: boolean; blind: boolean; epoch?: number },
    steps: ReadonlyArray<(out: ReplyWriter, ks: OverlayKeyspace) => void>,
    sink: ReplySink,
  ): Promise<unknown> | void {
    const { r, w } = this.quorum(session);
    const sloppy = this.node.config.bool('cluster-sloppy-quorum') && this.extended !== undefined;
    const result = this.coordinator.run({
      slot: job.slot, keys: job.keys, replicas: this.slotTable.replicas(job.slot), isWrite: job.isWrite, blind: job.blind,
      fallbacks: sloppy ? this.extended!.preferenceList(job.slot) : [],
      previousReplicas: this.slotTable.leavingReplicas(job.slot),
      r, w, proto: session.proto, steps, epoch: job.epoch,
    }, sink);
    if (result instanceof Promise) {
      return job.isWrite ? result.then((done) => (session.lastWrite = done)) : result;
    }
    if (job.isWrite) session.lastWrite = result;
    return undefined;
  }

  /** Our connection attempts to the peer's bus port are refused: its process is gone. */
  private refusedPeer(id: string): boolean {
    if (id === this.myId) return false;
    const addr = this.busAddress(id);
    return addr !== undefined && this.bus.refused(addr);
  }

  /**
   * Whether requests may be sent to a member: alive to the failure detector, its bus port not
   * refusing us, and its direct link not suspected (link-health.ts). A refused connection or a
   * silent link takes it out at once instead of after cluster-node-timeout: quorum rounds skip
   * it (and fail at once when too few are left), and routing moves its slots to the next replica
   * (routing-view.ts); read-modify-write follows once its lease ran out (slot-leases.ts).
   */
  /** maxmemory in a cluster: evictions of this node's primary slots, replicated as deletes (eviction-delete.ts). */
  evictionHost(): EvictionHost {
    return clusterEvictionHost({
      myId: this.myId,
      primary: (slot) => this.slotTable?.primary(slot),
      replicas: (slot) => this.slotTable?.replicas(slot) ?? [],
      reachable: (id) => this.reachable(id),
      applyLocal: (slot, key, rec, encoded) => void this.coordinator.applyLocal(slot, key, rec, encoded),
      write: (id, slot, items) => this.write(id, slot, items),
      graceMs: () => this.node.config.int('tombstone-grace-ms'),
      logger: this.logger,
    });
  }

  reachable(nodeId: string): boolean {
    if (!this.membership.isAlive(nodeId, Date.now())) return false;
    if (nodeId === this.myId) return true;
    return !this.refusedPeer(nodeId) && !this.links.suspected(nodeId);
  }

  read(nodeId: string, slot: number, keys: readonly Buffer[]): Promise<Array<Buffer | null>> {
    return this.batcher.read(nodeId, slot, keys);
  }

  async readRange(nodeId: string, slot: number, start: Buffer, end: Buffer, limit: number): Promise<{ items: Array<[Buffer, Buffer]>; next: Buffer | undefined }> {
    const addr = this.busAddress(nodeId);
    if (!addr) throw new Error(`unknown node ${nodeId}`);
    const answer = await this.bus.request(addr, 'el', { s: slot, a: start, b: end, n: limit });
    return decodeRangeAnswer(answer);
  }

  async writeHint(nodeId: string, owner: string, slot: number, items: ReadonlyArray<[Buffer, Buffer]>): Promise<void> {
    const addr = this.busAddress(nodeId);
    if (!addr) throw new Error(`unknown node ${nodeId}`);
    await this.bus.request(addr, 'rw', { s: slot, i: items, h: owner });
  }

  write(nodeId: string, slot: number, items: ReadonlyArray<[Buffer, Buffer]>, epoch?: number): Promise<Buffer | undefined> {
    return this.batcher.write(nodeId, slot, items, epoch);
  }

  private async sendBatch(nodeId: string, batch: ReplicaBatch): Promise<unknown> {
    const addr = this.busAddress(nodeId);
    if (!addr) throw new Error(`unknown node ${nodeId}`);
    const response = this.bus.request(addr, 'rb', batch);
    // The batch is assembled at the end of a turn: send it now rather than one turn later.
    this.bus.flushNow(addr);
    return response;
  }

}

/** A link ping's word on the sender: `i` cut off from the majority, `c` catching up, `h` holds hints for us. */
function pingClock(payload: unknown): { o: number; t: number } | undefined {
  const p = payload as Record<string, unknown> | null;
  return typeof p === 'object' && p !== null && typeof p.o === 'number' && typeof p.t === 'number' ? { o: p.o, t: p.t } : undefined;
}

function pingFlag(payload: unknown, flag: 'i' | 'c' | 'h'): boolean {
  return typeof payload === 'object' && payload !== null && (payload as Record<string, unknown>)[flag] === 1;
}
