/**
 * Deterministic cluster simulation: K nodes in one process on a fake clock and a fake network
 * (delays with a long tail, drops, duplicates, partitions between node groups, crash and restart),
 * all driven by one seeded PRNG, so a seed replays a run exactly.
 *
 * Each node is the real Membership plus a small Dynamo replication model: a Map store of
 * StoredRecords (durable across crashes, as the commit log makes them), a coordinator that routes by
 * `buildTopology(ringMembers)` + `primaryFor(slot, isAlive)`, stamps versions with HybridClock,
 * writes to the preference list and acknowledges after W acks (WriteQuorum), and reads from R
 * replicas (ReadQuorum) with read repair. Clients send random writes of unique values and reads to
 * random nodes, follow MOVED, and record what they observed for the checker.
 *
 * A run: bootstrap (nodes MEET a seed) until views converge; workload under faults; heal (faults
 * stop, crashed nodes restart) and wait for views to converge again; a final read of every key;
 * then the checks. `bug` breaks the model on purpose, to prove the checks catch what they claim to.
 */
import { createHash } from 'node:crypto';
import { type GossipDigest, type MemberRecord, Membership, type MembershipOptions } from '../../src/cluster/membership.js';
import { ReadQuorum, WriteQuorum } from '../../src/cluster/quorum.js';
import { type Topology, buildTopology } from '../../src/cluster/ring.js';
import { keySlot } from '../../src/cluster/slot.js';
import { type HlcTimestamp, HybridClock } from '../../src/core/hlc.js';
import { compareVersions } from '../../src/core/version.js';
import { type StoredRecord, ValueType } from '../../src/storage/types.js';
import { type CheckResult, type IssuedWrite, type Outcome, type ReadOp, type WriteOp, checkHistory } from './checker.js';
import { EventQueue } from './event-queue.js';
import { Prng } from './prng.js';

export const N = 3;
export const W = 2;
export const R = 2;

const GOSSIP_INTERVAL_MS = 200;
const MEMBERSHIP: MembershipOptions = { nodeTimeoutMs: 2000, heartbeatIntervalMs: GOSSIP_INTERVAL_MS };
const QUORUM_TIMEOUT_MS = 1000;
const CLIENT_TIMEOUT_MS = 1500;
const REDIRECTS_MAX = 5;
const FINAL_READ_TRIES_MAX = 3;
/** Bound on reaching agreement after bootstrap or heal; a few node timeouts. */
export const CONVERGE_LIMIT_MS = 10_000;
const CONVERGE_POLL_MS = 100;
const SETTLE_MS = 2000;
const EVENTS_MAX = 3_000_000;
/** Physical clocks start at a realistic Unix time; HLC versions carry it. */
const SIM_EPOCH_MS = 1_700_000_000_000;
const SKEW_MAX_MS = 50;
const TOPOLOGY_CACHE_MAX = 256;

export type ModelBug = 'none' | 'ack-after-one' | 'replica-drops-writes';

export interface SimOptions {
  seed: number;
  /** Default 4–7, from the seed. */
  nodes?: number;
  /** Simulated time under faults; default 30 s. */
  workloadMs?: number;
  /** Concurrent clients; default 6. */
  clients?: number;
  /** Distinct keys, few so that writes contend; default 16. */
  keys?: number;
  bug?: ModelBug;
}

export interface SimStats {
  nodes: number;
  events: number;
  busMessages: number;
  gossipMessages: number;
  dropped: number;
  duplicated: number;
  dropRate: number;
  partitions: number;
  crashes: number;
  writesAcked: number;
  writesFailed: number;
  writesUnknown: number;
  readsOk: number;
  readsFailed: number;
  moved: number;
  readRepairs: number;
  bootstrapMs: number | undefined;
  healConvergeMs: number | undefined;
}

export interface SimReport {
  seed: number;
  stats: SimStats;
  check: CheckResult;
  /** Acknowledged writes held by fewer than W preference-list replicas once the run settled. */
  underReplicated: number;
  /** Keys whose preference-list replicas still differ after the final read pass repaired them. */
  divergentKeys: number;
  /** Everything that breaks a promise, one line each; empty for a correct model. */
  violations: string[];
  /** FNV-1a over deliveries and client outcomes: equal for equal seeds. */
  trace: string;
}

type BusMessage =
  | { kind: 'gossip'; digest: GossipDigest }
  | { kind: 'write'; req: number; key: string; record: StoredRecord }
  | { kind: 'write-ack'; req: number }
  | { kind: 'read'; req: number; key: string }
  | { kind: 'read-reply'; req: number; record: StoredRecord | undefined }
  | { kind: 'repair'; key: string; record: StoredRecord };

type ClientReply =
  | { kind: 'ok'; version: string | undefined; value: string | undefined }
  | { kind: 'moved'; to: string }
  | { kind: 'error'; reason: string };

interface ClientRequest {
  attempt: number;
  client: SimClient;
  op: 'set' | 'get';
  key: string;
  value: string;
}

interface PendingWrite {
  quorum: WriteQuorum;
  request: ClientRequest;
  version: Buffer;
  answered: boolean;
}

interface PendingRead {
  quorum: ReadQuorum;
  request: ClientRequest;
  answered: boolean;
  /** Replica → version it was repaired to; a later, newer reply means repairing it again. */
  repaired: Map<string, string>;
}

interface ClientOp {
  kind: 'set' | 'get';
  key: string;
  value: string;
  startMs: number;
  hops: number;
  tries: number;
}

interface SimClient {
  index: number;
  /** Current attempt id; 0 when idle, so late replies and timers are ignored. */
  attempt: number;
  op: ClientOp | undefined;
  /** Keys still to read in the final pass; undefined for a random-workload client. */
  script: string[] | undefined;
  stopped: boolean;
}

const topologies = new Map<string, Topology>();

function topologyFor(membership: Membership): Topology {
  const members = membership.ringMembers();
  const key = members.map((m) => `${m.id}/${m.zone ?? ''}`).join(',');
  let topology = topologies.get(key);
  if (topology === undefined) {
    if (topologies.size >= TOPOLOGY_CACHE_MAX) topologies.clear();
    topology = buildTopology(members, { n: N });
    topologies.set(key, topology);
  }
  return topology;
}

/** Last writer wins; returns whether the record replaced what was there. */
function applyRecord(store: Map<string, StoredRecord>, key: string, record: StoredRecord): boolean {
  const current = store.get(key);
  if (current !== undefined && compareVersions(record.version, current.version) <= 0) return false;
  store.set(key, record);
  return true;
}

const hex = (v: Buffer): string => v.toString('hex');

class SimNode {
  up = true;
  /** Bumped on crash, so timers and quorum deadlines of a dead incarnation do nothing. */
  life = 0;
  generation = 1;
  readonly pastGenerations: number[] = [];
  membership!: Membership;
  clock!: HybridClock;
  readonly store = new Map<string, StoredRecord>();
  readonly writes = new Map<number, PendingWrite>();
  readonly reads = new Map<number, PendingRead>();
  persisted: { members: MemberRecord[]; hlc: HlcTimestamp } | undefined;
  readonly host: string;
  readonly port: number;
  readonly busPort: number;
  readonly zone: string;
  readonly tag: Buffer;

  constructor(readonly index: number, readonly id: string, readonly skewMs: number) {
    this.host = `10.0.0.${index + 1}`;
    this.port = 7000 + index;
    this.busPort = 17000 + index;
    this.zone = `z${index % 3}`;
    this.tag = Buffer.from(id.slice(0, 16), 'hex');
  }
}

export function runSimulation(options: SimOptions): SimReport {
  return new Simulation(options).run();
}

class Simulation {
  private readonly rng: Prng;
  private readonly rngFn: () => number;
  private readonly queue = new EventQueue(EVENTS_MAX);
  private readonly nodes: SimNode[];
  private readonly byId = new Map<string, SimNode>();
  private readonly byAddress = new Map<string, SimNode>();
  private readonly keys: string[];
  private readonly bug: ModelBug;
  private readonly workloadMs: number;
  private readonly clientCount: number;
  private group: number[];
  /** Bumped per partition, so a scheduled heal ends only the partition it was scheduled for. */
  private partitionSeq = 0;
  private faults = false;
  private readonly dropRate: number;
  private readonly dupRate: number;
  private reqSeq = 0;
  private attemptSeq = 0;
  private valueSeq = 0;
  private traceHash = 0x811c9dc5;
  private readonly writes: WriteOp[] = [];
  private readonly reads: ReadOp[] = [];
  private readonly finalReads: ReadOp[] = [];
  private readonly issued = new Map<string, IssuedWrite>();
  private readonly clients: SimClient[] = [];
  private readonly violations: string[] = [];
  private readonly stats: SimStats;

  constructor(private readonly options: SimOptions) {
    this.rng = new Prng(options.seed);
    this.rngFn = () => this.rng.next();
    this.bug = options.bug ?? 'none';
    this.workloadMs = options.workloadMs ?? 30_000;
    this.clientCount = options.clients ?? 6;
    const count = options.nodes ?? 4 + (options.seed % 4);
    if (!Number.isInteger(count) || count < N) throw new RangeError(`the model needs at least ${N} nodes: ${count}`);
    this.nodes = Array.from({ length: count }, (_, i) => {
      const id = createHash('sha1').update(`sim-${options.seed}-node-${i}`).digest('hex');
      return new SimNode(i, id, this.rng.int(-SKEW_MAX_MS, SKEW_MAX_MS));
    });
    for (const n of this.nodes) {
      this.byId.set(n.id, n);
      this.byAddress.set(`${n.host}:${n.busPort}`, n);
    }
    this.keys = Array.from({ length: options.keys ?? 16 }, (_, i) => `key:${i}`);
    this.group = this.nodes.map(() => 0);
    this.dropRate = this.rng.int(0, 10) / 100;
    this.dupRate = this.rng.int(0, 5) / 100;
    this.stats = {
      nodes: count, events: 0, busMessages: 0, gossipMessages: 0, dropped: 0, duplicated: 0, dropRate: this.dropRate,
      partitions: 0, crashes: 0, writesAcked: 0, writesFailed: 0, writesUnknown: 0, readsOk: 0, readsFailed: 0,
      moved: 0, readRepairs: 0, bootstrapMs: undefined, healConvergeMs: undefined,
    };
  }

  run(): SimReport {
    this.boot(this.nodes[0]!);
    for (const n of this.nodes.slice(1)) this.queue.schedule(this.rng.int(0, 500), () => this.boot(n));
    this.queue.runUntil(500);
    // Measured from the first boot, not from the first poll.
    const joined = this.awaitConvergence();
    this.stats.bootstrapMs = joined === undefined ? undefined : this.queue.now;
    if (this.stats.bootstrapMs === undefined) this.violations.push(`views did not converge within ${CONVERGE_LIMIT_MS} ms of bootstrap`);

    const start = this.queue.now;
    const end = start + this.workloadMs;
    this.faults = true;
    this.scheduleCrashes(start, end);
    this.schedulePartitions(start, end);
    this.scheduleFinalBurst(end);
    for (let i = 0; i < this.clientCount; i++) this.startClient(undefined);
    this.queue.runUntil(end);

    this.heal();
    this.stats.healConvergeMs = this.awaitConvergence();
    if (this.stats.healConvergeMs === undefined) this.violations.push(`views did not converge within ${CONVERGE_LIMIT_MS} ms of healing`);
    this.awaitClientsIdle();
    const underReplicated = this.countUnderReplicated();

    this.startClient([...this.keys]);
    this.awaitClientsIdle();
    this.queue.runUntil(this.queue.now + SETTLE_MS);
    const divergentKeys = this.countDivergent();
    this.checkGenerations();
    if (!this.converged()) this.violations.push('views disagree at the end of the run');

    const check = checkHistory({ writes: this.writes, reads: this.reads, finalReads: this.finalReads, issued: this.issued });
    for (const w of check.lostWrites) this.violations.push(`lost write on ${w.key}: acked ${w.acked}, final read ${w.read ?? 'nothing'}`);
    for (const r of check.staleReads) this.violations.push(`stale read on ${r.key} at ${r.startMs}: needed ${r.required}, got ${r.read ?? 'nothing'}`);
    for (const p of check.phantomReads) this.violations.push(`phantom read on ${p.key}: ${p.version}=${p.value ?? ''}`);
    for (const k of check.unreadKeys) this.violations.push(`final read of ${k} never succeeded`);
    if (underReplicated > 0) this.violations.push(`${underReplicated} acknowledged writes on fewer than W replicas`);
    if (divergentKeys > 0) this.violations.push(`${divergentKeys} keys still differ between replicas after read repair`);
    this.stats.events = this.queue.eventsProcessed;
    return {
      seed: this.options.seed, stats: this.stats, check, underReplicated, divergentKeys,
      violations: this.violations, trace: (this.traceHash >>> 0).toString(16).padStart(8, '0'),
    };
  }

  // ---- time, trace --------------------------------------------------------------------------

  private phys(node: SimNode): number {
    return SIM_EPOCH_MS + this.queue.now + node.skewMs;
  }

  private trace(text: string): void {
    let h = this.traceHash;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    this.traceHash = h;
  }

  // ---- nodes: boot, crash, restart, gossip ---------------------------------------------------

  private boot(node: SimNode): void {
    const self: MemberRecord = {
      id: node.id, host: node.host, port: node.port, busPort: node.busPort, zone: node.zone,
      generation: node.generation, heartbeat: 0, status: 'active', epoch: 0,
    };
    node.membership = new Membership(self, MEMBERSHIP, node.persisted?.members);
    node.clock = new HybridClock(node.tag, node.persisted?.hlc);
    const seed = this.nodes[0]!;
    if (node !== seed) node.membership.meet(seed.host, seed.busPort);
    this.scheduleGossip(node, this.queue.now + this.rng.int(0, GOSSIP_INTERVAL_MS));
  }

  /** The shell persists members and the HLC high-water mark; the store is durable by itself. */
  private crash(node: SimNode): void {
    node.persisted = { members: node.membership.members(), hlc: node.clock.last() };
    node.up = false;
    node.life++;
    node.writes.clear();
    node.reads.clear();
    this.stats.crashes++;
    this.trace(`crash ${node.index} @${this.queue.now}`);
  }

  private restart(node: SimNode): void {
    node.pastGenerations.push(node.generation);
    node.generation++;
    node.up = true;
    this.boot(node);
    this.trace(`restart ${node.index} @${this.queue.now}`);
  }

  private scheduleGossip(node: SimNode, at: number): void {
    const life = node.life;
    this.queue.schedule(at, () => {
      if (node.life !== life || !node.up) return;
      const { targets, digest } = node.membership.tick(this.phys(node), this.rngFn);
      for (const t of targets) {
        const to = (t.id !== '' ? this.byId.get(t.id) : undefined) ?? this.byAddress.get(`${t.host}:${t.busPort}`);
        if (to === undefined || to === node) continue;
        this.stats.gossipMessages++;
        this.send(node, to, { kind: 'gossip', digest });
      }
      this.scheduleGossip(node, this.queue.now + this.rng.int(GOSSIP_INTERVAL_MS * 0.8, GOSSIP_INTERVAL_MS * 1.2));
    });
  }

  // ---- network -------------------------------------------------------------------------------

  private delay(): number {
    let d = 1 + Math.floor(this.rng.exponential(2));
    if (this.faults && this.rng.chance(0.02)) d += this.rng.int(20, 300);
    return Math.min(d, 1000);
  }

  /** Bus messages suffer every fault; whether a partition or crash drops them is decided on arrival. */
  private send(from: SimNode, to: SimNode, msg: BusMessage): void {
    this.stats.busMessages++;
    if (this.faults && this.rng.chance(this.dropRate)) {
      this.stats.dropped++;
      return;
    }
    const copies = this.faults && this.rng.chance(this.dupRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      this.queue.after(this.delay(), () => {
        if (!to.up || this.group[from.index] !== this.group[to.index]) {
          this.stats.dropped++;
          return;
        }
        this.trace(`${msg.kind} ${from.index}>${to.index} @${this.queue.now}`);
        this.onBus(to, from, msg);
      });
    }
  }

  private onBus(node: SimNode, from: SimNode, msg: BusMessage): void {
    switch (msg.kind) {
      case 'gossip':
        node.membership.receive(this.phys(node), msg.digest);
        return;
      case 'write':
        if (this.bug !== 'replica-drops-writes') applyRecord(node.store, msg.key, msg.record);
        node.clock.observe(msg.record.version, this.phys(node));
        this.send(node, from, { kind: 'write-ack', req: msg.req });
        return;
      case 'write-ack':
        this.onWriteAck(node, msg.req, from.id);
        return;
      case 'read':
        this.send(node, from, { kind: 'read-reply', req: msg.req, record: node.store.get(msg.key) });
        return;
      case 'read-reply':
        this.onReadReply(node, msg.req, from.id, msg.record);
        return;
      case 'repair':
        applyRecord(node.store, msg.key, msg.record);
        node.clock.observe(msg.record.version, this.phys(node));
        return;
    }
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** One node down at a time, for 0.5–5 s; the first crash comes early so every seed has one. */
  private scheduleCrashes(start: number, end: number): void {
    const next = (at: number): void => {
      if (at >= end) return;
      this.queue.schedule(at, () => {
        if (!this.faults) return;
        const victim = this.rng.pick(this.nodes.filter((n) => n.up));
        this.crash(victim);
        const back = this.queue.now + this.rng.int(500, 5000);
        this.queue.schedule(back, () => {
          if (this.faults && !victim.up) this.restart(victim);
        });
        next(back + this.rng.int(500, 4000));
      });
    };
    next(start + this.rng.int(500, 3000));
  }

  /** The nodes split into two random groups that cannot talk, for 0.5–5 s at a time. */
  private schedulePartitions(start: number, end: number): void {
    const next = (at: number): void => {
      if (at >= end) return;
      this.queue.schedule(at, () => {
        if (!this.faults) return;
        const id = this.partition();
        const heal = this.queue.now + this.rng.int(500, 5000);
        this.queue.schedule(heal, () => {
          if (this.partitionSeq === id) this.group = this.nodes.map(() => 0);
        });
        next(heal + this.rng.int(500, 4000));
      });
    };
    next(start + this.rng.int(500, 5000));
  }

  private partition(): number {
    const order = this.rng.shuffle(this.nodes.map((n) => n.index));
    const cut = this.rng.int(1, this.nodes.length - 1);
    this.group = this.nodes.map(() => 0);
    order.forEach((index, i) => (this.group[index] = i < cut ? 1 : 0));
    this.stats.partitions++;
    this.trace(`partition ${this.group.join('')} @${this.queue.now}`);
    return ++this.partitionSeq;
  }

  /** Shortly before the heal, a crash and a partition that only the heal ends, so every run has something to heal. */
  private scheduleFinalBurst(end: number): void {
    this.queue.schedule(end - this.rng.int(100, 1000), () => {
      const up = this.nodes.filter((n) => n.up);
      if (up.length > 1) this.crash(this.rng.pick(up));
      this.partition();
    });
  }

  private heal(): void {
    this.faults = false;
    this.group = this.nodes.map(() => 0);
    for (const n of this.nodes) if (!n.up) this.restart(n);
    for (const c of this.clients) c.stopped = true;
  }

  // ---- convergence -----------------------------------------------------------------------------

  /** Every node up, with the same ring, the same (generation, status, epoch) for every member, and all peers ok. */
  private converged(): boolean {
    if (this.nodes.some((n) => !n.up)) return false;
    const signature = (n: SimNode): string =>
      n.membership.members().map((m) => `${m.id}:${m.generation}:${m.status}:${m.epoch}`).join(',');
    const reference = signature(this.nodes[0]!);
    for (const n of this.nodes) {
      if (n.membership.ringMembers().length !== this.nodes.length || signature(n) !== reference) return false;
      const now = this.phys(n);
      for (const m of this.nodes) if (n.membership.state(m.id, now) !== (m === n ? 'self' : 'ok')) return false;
    }
    return true;
  }

  private awaitConvergence(): number | undefined {
    const start = this.queue.now;
    for (;;) {
      if (this.converged()) return this.queue.now - start;
      if (this.queue.now - start >= CONVERGE_LIMIT_MS) return undefined;
      this.queue.runUntil(this.queue.now + CONVERGE_POLL_MS);
    }
  }

  private awaitClientsIdle(): void {
    const limit = this.queue.now + CLIENT_TIMEOUT_MS * (this.keys.length + 2) * FINAL_READ_TRIES_MAX;
    const busy = (c: SimClient): boolean => c.attempt !== 0 || (c.script !== undefined ? c.script.length > 0 : !c.stopped);
    while (this.clients.some(busy) && this.queue.now < limit) {
      this.queue.runUntil(this.queue.now + CONVERGE_POLL_MS);
    }
  }

  // ---- clients ---------------------------------------------------------------------------------

  private startClient(script: string[] | undefined): void {
    const client: SimClient = { index: this.clients.length, attempt: 0, op: undefined, script, stopped: false };
    this.clients.push(client);
    this.nextOp(client);
  }

  private nextOp(c: SimClient): void {
    let op: ClientOp;
    if (c.script !== undefined) {
      const key = c.script.shift();
      if (key === undefined) return;
      op = { kind: 'get', key, value: '', startMs: this.queue.now, hops: 0, tries: 1 };
    } else {
      if (c.stopped) return;
      const kind = this.rng.chance(0.6) ? 'set' : 'get';
      const key = this.rng.pick(this.keys);
      op = { kind, key, value: kind === 'set' ? `v${++this.valueSeq}` : '', startMs: this.queue.now, hops: 0, tries: 1 };
    }
    c.op = op;
    this.request(c, this.rng.pick(this.nodes));
  }

  private request(c: SimClient, node: SimNode): void {
    const attempt = ++this.attemptSeq;
    c.attempt = attempt;
    const op = c.op!;
    const request: ClientRequest = { attempt, client: c, op: op.kind, key: op.key, value: op.value };
    // Client links are reliable; a down node simply never answers.
    this.queue.after(this.delay(), () => this.onClientRequest(node, request));
    this.queue.after(CLIENT_TIMEOUT_MS, () => {
      if (c.attempt === attempt) this.finish(c, 'unknown', undefined, undefined);
    });
  }

  private reply(request: ClientRequest, reply: ClientReply): void {
    this.queue.after(this.delay(), () => {
      const c = request.client;
      if (c.attempt !== request.attempt) return;
      const op = c.op!;
      if (reply.kind === 'moved') {
        this.stats.moved++;
        if (++op.hops > REDIRECTS_MAX) this.finish(c, 'fail', undefined, undefined);
        else this.request(c, this.byId.get(reply.to)!);
      } else if (reply.kind === 'error') {
        this.finish(c, 'fail', undefined, undefined);
      } else {
        this.finish(c, 'ok', reply.version, reply.value);
      }
    });
  }

  private finish(c: SimClient, outcome: Outcome, version: string | undefined, value: string | undefined): void {
    const op = c.op!;
    c.attempt = 0;
    this.trace(`${op.kind} ${op.key} ${outcome} ${version ?? '-'} @${this.queue.now}`);
    if (c.script !== undefined && outcome !== 'ok' && op.tries < FINAL_READ_TRIES_MAX) {
      op.tries++;
      op.hops = 0;
      this.request(c, this.rng.pick(this.nodes));
      return;
    }
    const common = { key: op.key, startMs: op.startMs, endMs: this.queue.now, outcome };
    if (op.kind === 'set') {
      this.writes.push({ ...common, value: op.value, version });
      if (outcome === 'ok') this.stats.writesAcked++;
      else if (outcome === 'fail') this.stats.writesFailed++;
      else this.stats.writesUnknown++;
    } else {
      (c.script !== undefined ? this.finalReads : this.reads).push({ ...common, version, value });
      if (outcome === 'ok') this.stats.readsOk++;
      else this.stats.readsFailed++;
    }
    this.queue.after(this.rng.int(0, 20), () => this.nextOp(c));
  }

  // ---- coordinator -------------------------------------------------------------------------------

  private onClientRequest(node: SimNode, request: ClientRequest): void {
    if (!node.up) return;
    const now = this.phys(node);
    const slot = keySlot(Buffer.from(request.key));
    const topology = topologyFor(node.membership);
    const primary = topology.primaryFor(slot, (id) => node.membership.isAlive(id, now));
    if (primary === undefined) return this.reply(request, { kind: 'error', reason: 'CLUSTERDOWN' });
    if (primary !== node.id) return this.reply(request, { kind: 'moved', to: primary });
    const replicas = topology.preferenceList(slot);
    if (request.op === 'set') this.coordinateWrite(node, request, replicas);
    else this.coordinateRead(node, request, replicas);
  }

  private coordinateWrite(node: SimNode, request: ClientRequest, replicas: readonly string[]): void {
    const version = node.clock.now(this.phys(node));
    const record: StoredRecord = {
      version, clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from(request.value),
    };
    this.issued.set(hex(version), { key: request.key, value: request.value });
    const req = ++this.reqSeq;
    const required = this.bug === 'ack-after-one' ? 1 : W;
    node.writes.set(req, { quorum: new WriteQuorum(required, replicas), request, version, answered: false });
    for (const id of replicas) {
      if (id === node.id) {
        applyRecord(node.store, request.key, record);
        this.onWriteAck(node, req, node.id);
      } else {
        this.send(node, this.byId.get(id)!, { kind: 'write', req, key: request.key, record });
      }
    }
    this.deadline(node, () => {
      const pending = node.writes.get(req);
      node.writes.delete(req);
      if (pending !== undefined && !pending.answered) this.reply(request, { kind: 'error', reason: 'write quorum timeout' });
    });
  }

  private onWriteAck(node: SimNode, req: number, from: string): void {
    const pending = node.writes.get(req);
    if (pending === undefined || pending.answered) return;
    if (pending.quorum.ack(from) !== 'met') return;
    pending.answered = true;
    this.reply(pending.request, { kind: 'ok', version: hex(pending.version), value: undefined });
  }

  private coordinateRead(node: SimNode, request: ClientRequest, replicas: readonly string[]): void {
    const req = ++this.reqSeq;
    node.reads.set(req, { quorum: new ReadQuorum(R, replicas, 1), request, answered: false, repaired: new Map() });
    for (const id of replicas) {
      if (id === node.id) this.onReadReply(node, req, id, node.store.get(request.key));
      else this.send(node, this.byId.get(id)!, { kind: 'read', req, key: request.key });
    }
    this.deadline(node, () => {
      const pending = node.reads.get(req);
      node.reads.delete(req);
      if (pending !== undefined && !pending.answered) this.reply(request, { kind: 'error', reason: 'read quorum timeout' });
    });
  }

  /** Answers at R replies; every reply, before or after that, may reveal a stale replica to repair. */
  private onReadReply(node: SimNode, req: number, from: string, record: StoredRecord | undefined): void {
    const pending = node.reads.get(req);
    if (pending === undefined) return;
    pending.quorum.receive(from, [record]);
    if (pending.quorum.state !== 'met') return;
    const newest = pending.quorum.newest(0);
    const key = pending.request.key;
    if (!pending.answered) {
      pending.answered = true;
      if (newest !== undefined) node.clock.observe(newest.version, this.phys(node));
      this.reply(pending.request, {
        kind: 'ok',
        version: newest === undefined ? undefined : hex(newest.version),
        value: newest === undefined ? undefined : (newest.value as Buffer).toString(),
      });
    }
    if (newest === undefined) return;
    const version = hex(newest.version);
    for (const stale of pending.quorum.stale(0)) {
      if (pending.repaired.get(stale) === version) continue;
      pending.repaired.set(stale, version);
      this.stats.readRepairs++;
      if (stale === node.id) applyRecord(node.store, key, newest);
      else this.send(node, this.byId.get(stale)!, { kind: 'repair', key, record: newest });
    }
  }

  private deadline(node: SimNode, run: () => void): void {
    const life = node.life;
    this.queue.after(QUORUM_TIMEOUT_MS, () => {
      if (node.life === life) run();
    });
  }

  // ---- end-of-run checks ---------------------------------------------------------------------

  private highestAcked(): Map<string, string> {
    const out = new Map<string, string>();
    for (const w of this.writes) {
      if (w.outcome !== 'ok' || w.version === undefined) continue;
      const current = out.get(w.key);
      if (current === undefined || w.version > current) out.set(w.key, w.version);
    }
    return out;
  }

  private replicasOf(key: string): SimNode[] {
    const topology = topologyFor(this.nodes[0]!.membership);
    return topology.preferenceList(keySlot(Buffer.from(key))).map((id) => this.byId.get(id)!);
  }

  /** Stronger than any one read: an acknowledged version must sit on W replicas, so every R-set sees it. */
  private countUnderReplicated(): number {
    let count = 0;
    for (const [key, version] of this.highestAcked()) {
      const holders = this.replicasOf(key).filter((n) => {
        const r = n.store.get(key);
        return r !== undefined && hex(r.version) >= version;
      });
      if (holders.length < W) count++;
    }
    return count;
  }

  private countDivergent(): number {
    let count = 0;
    for (const key of this.keys) {
      const versions = new Set(this.replicasOf(key).map((n) => {
        const r = n.store.get(key);
        return r === undefined ? '' : hex(r.version);
      }));
      if (versions.size > 1) count++;
    }
    return count;
  }

  /** Every crashed node came back with a higher generation, and every node's view says so. */
  private checkGenerations(): void {
    for (const n of this.nodes) {
      if (n.pastGenerations.length === 0) continue;
      if (n.generation <= Math.max(...n.pastGenerations)) this.violations.push(`node ${n.index} restarted without a higher generation`);
      if (n.membership.self().generation !== n.generation) {
        this.violations.push(`node ${n.index} gossips generation ${n.membership.self().generation}, not ${n.generation}`);
      }
      for (const observer of this.nodes) {
        const seen = observer.membership.members().find((m) => m.id === n.id)?.generation;
        if (seen !== n.generation) this.violations.push(`node ${observer.index} sees node ${n.index} at generation ${seen}, not ${n.generation}`);
      }
    }
  }
}
