import {
  type GossipDigest,
  type GossipTarget,
  type MemberRecord,
  type MemberStatus,
  type PeerState,
  HOST_LENGTH_MAX,
  copyMember,
  isMemberRecord,
} from './gossip-types.js';
import { PhiAccrual } from './phi.js';
import type { RingMember } from './ring.js';

export type { GossipDigest, GossipTarget, MemberRecord, MemberStatus, PeerState } from './gossip-types.js';

/**
 * A node's view of the cluster, as a pure state machine: the shell feeds it time, randomness and
 * received digests, and sends what `tick` returns. Nothing here reads a clock or touches a socket.
 *
 * Merge rule: each member's record is owned by that member; copies are replaced by a copy with a
 * higher (generation, heartbeat). A restart bumps the generation and resets the heartbeat, so the
 * new incarnation outranks everything the old one said. Heartbeats are relayed by every node, so
 * "no heartbeat progress" means no node we can hear from has heard the member either.
 *
 * Failure states:
 * - `pfail` (CLUSTER NODES `fail?`): phi above the threshold. A local, statistical suspicion that
 *   fires on a GC pause or a few lost gossip rounds.
 * - `fail`: no heartbeat progress for `nodeTimeoutMs`. Because heartbeats travel through gossip,
 *   this holds only once no reachable node has seen progress either, so every node of a connected
 *   group reaches it within about one gossip propagation delay of the others: the nearest thing
 *   to Redis's FAIL consensus without a vote.
 * - A peer learned through gossip or restored from disk gets `nodeTimeoutMs` of grace before its
 *   first heartbeat progress; a peer back from `fail` starts a fresh detector, so the long gap does
 *   not blunt suspicion of it later.
 * - `isAlive` is true for `self`, `ok` and `pfail`. Moving a slot's primary on a suspicion that
 *   differs between nodes would make their slot tables disagree, and clients loop on MOVED when
 *   that happens. A primary that really is down costs its clients timeouts for at most
 *   `nodeTimeoutMs` before `fail` moves the slot, and writes still need their quorum, so nothing is
 *   acknowledged falsely in the meantime.
 *
 * Epochs: a record's epoch is the topology epoch under which the member joined or last changed
 * status; `epoch()` (cluster_current_epoch) is the largest known.
 * - The owner stamps its own status changes with max+1 (`setStatus`, or a restart whose status
 *   differs from the persisted one).
 * - A joiner cannot know the cluster's max, so it gossips epoch 0 and the node that admits it
 *   (sees it enter the ring, unknown or `left` before, with an epoch not above what it knew) stamps
 *   max+1 on its copy.
 * - Copies merge epochs by maximum regardless of generation, so two nodes admitting the same joiner
 *   concurrently converge on the larger stamp, and every node agrees once gossip settles.
 */

export interface MembershipOptions {
  /** No heartbeat progress for this long → `fail` (Redis cluster-node-timeout). */
  nodeTimeoutMs: number;
  /** Phi above this → `pfail`. */
  phiThreshold?: number;
  /** Live peers per gossip round. */
  fanout?: number;
  /**
   * Expected gap between a peer's heartbeats: the shell's gossip interval. Seeds each peer's
   * detector and floors its deviation at half of it. Defaults to a tenth of nodeTimeoutMs clamped
   * to 100–1000 ms, which is how the shell picks its interval.
   */
  heartbeatIntervalMs?: number;
  /** Known members (self and `left` ones included). */
  membersMax?: number;
}

export const DEFAULT_PHI_THRESHOLD = 8;
export const DEFAULT_FANOUT = 3;
export const FANOUT_MAX = 32;
/** Same bound as the ring's, so every ring this view yields can be built. */
export const MEMBERS_MAX = 1000;
/** Full state up to this size; above it a digest carries self plus a random sample. */
export const DIGEST_MEMBERS_MAX = 64;
export const PENDING_MEETS_MAX = 64;

const STATUS_ORDER: Record<MemberStatus, number> = { active: 0, leaving: 1, left: 2 };

interface Peer {
  record: MemberRecord;
  detector: PhiAccrual;
  /** Last heartbeat progress; undefined until the first. */
  heardMs: number | undefined;
  /** When we learned of it through gossip; undefined for restored peers, which start at our first time. */
  seenMs: number | undefined;
}

/** (generation, heartbeat) order: the owner's newest word wins. */
function newer(a: MemberRecord, b: MemberRecord): boolean {
  return a.generation > b.generation || (a.generation === b.generation && a.heartbeat > b.heartbeat);
}

function addressKey(host: string, busPort: number): string {
  return `${host}\u0000${busPort}`;
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** k distinct elements picked with `rng` (partial Fisher–Yates on a copy). */
function sample<T>(items: readonly T[], k: number, rng: () => number): T[] {
  const pool = [...items];
  const count = Math.min(k, pool.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.min(pool.length - i - 1, Math.floor(rng() * (pool.length - i)));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

function assertTime(nowMs: number): void {
  if (!Number.isFinite(nowMs)) throw new RangeError(`time must be a finite number of ms: ${nowMs}`);
}

export class Membership {
  private readonly me: MemberRecord;
  private readonly peers = new Map<string, Peer>();
  private readonly meets = new Map<string, { host: string; busPort: number }>();
  private sortedIds: string[] | undefined;
  /** First time the shell handed us; restored peers get their grace period from here. */
  private startMs: number | undefined;
  private readonly nodeTimeoutMs: number;
  private readonly phiThreshold: number;
  private readonly fanout: number;
  private readonly heartbeatIntervalMs: number;
  private readonly membersMax: number;

  /**
   * `self.generation` must exceed every earlier incarnation's (the caller persists it);
   * `self.status` is the status wanted now. `restored` is what `members()` returned before the
   * restart; a corrupt entry throws rather than letting a bad nodes file shape the ring.
   */
  constructor(self: MemberRecord, opts: MembershipOptions, restored?: readonly MemberRecord[]) {
    if (!isMemberRecord(self)) throw new RangeError(`invalid self member record: ${JSON.stringify(self)}`);
    const o = resolveOptions(opts);
    this.nodeTimeoutMs = o.nodeTimeoutMs;
    this.phiThreshold = o.phiThreshold;
    this.fanout = o.fanout;
    this.heartbeatIntervalMs = o.heartbeatIntervalMs;
    this.membersMax = o.membersMax;
    this.me = copyMember(self);
    if (restored !== undefined) this.restore(restored);
  }

  /**
   * One gossip round: bumps our heartbeat and picks targets: `fanout` random live peers, the
   * suspected ones (so a slow peer hears from us before we give up on it), now and then one dead
   * one (probability dead/(live+1), as Cassandra does, so a healed partition reconnects), and
   * every pending MEET address.
   */
  tick(nowMs: number, rng: () => number): { targets: GossipTarget[]; digest: GossipDigest } {
    this.observeTime(nowMs);
    this.me.heartbeat++;
    return { targets: this.chooseTargets(nowMs, rng), digest: this.digest(rng) };
  }

  /**
   * Merges a digest. Malformed records are skipped and counted in `rejected`; a digest that is not
   * even shaped like one throws, for the shell to log. `topologyChanged` is true when a member
   * entered or left the ring or changed status or zone.
   */
  receive(nowMs: number, digest: GossipDigest): { topologyChanged: boolean; rejected: number } {
    this.observeTime(nowMs);
    const raw: unknown = digest;
    if (typeof raw !== 'object' || raw === null) throw new TypeError('gossip digest is not an object');
    const { from, members } = raw as { from?: unknown; members?: unknown };
    if (typeof from !== 'string' || !Array.isArray(members)) throw new TypeError('gossip digest lacks from/members');
    const records: unknown[] = members.slice(0, this.membersMax);
    let rejected = members.length - records.length;
    let topologyChanged = false;
    const entering: Peer[] = [];
    for (const r of records) {
      if (!isMemberRecord(r)) {
        rejected++;
        continue;
      }
      if (r.id === this.me.id) this.mergeSelf(r);
      else if (this.mergePeer(r, nowMs, entering)) topologyChanged = true;
    }
    this.admit(entering);
    const sender = this.peers.get(from);
    if (sender !== undefined) this.meets.delete(addressKey(sender.record.host, sender.record.busPort));
    return { topologyChanged, rejected };
  }

  /** CLUSTER MEET / seeds: an address gossiped to every tick until a digest from it names its id. */
  meet(host: string, busPort: number): void {
    if (typeof host !== 'string' || host.length === 0 || host.length > HOST_LENGTH_MAX) {
      throw new RangeError(`meet: bad host '${String(host)}'`);
    }
    if (!Number.isInteger(busPort) || busPort < 1 || busPort > 65535) throw new RangeError(`meet: bad bus port ${busPort}`);
    if (host === this.me.host && busPort === this.me.busPort) return;
    const key = addressKey(host, busPort);
    if (this.meets.has(key)) return;
    if (this.meets.size >= PENDING_MEETS_MAX) throw new RangeError(`more than ${PENDING_MEETS_MAX} pending MEETs`);
    this.meets.set(key, { host, busPort });
  }

  /** Addresses met but not yet answered. */
  pendingMeets(): Array<{ host: string; busPort: number }> {
    return [...this.meets.values()].map((m) => ({ ...m }));
  }

  state(id: string, nowMs: number): PeerState {
    if (id === this.me.id) return 'self';
    const peer = this.peers.get(id);
    return peer === undefined ? 'fail' : this.peerState(peer, nowMs);
  }

  /**
   * Routing liveness: self, ok and pfail are alive; fail and unknown ids are not (see class doc).
   * Alive in the cluster, not reachable from here: a peer cut off from us alone stays alive while
   * others relay its heartbeat; our bus link state is the shell's to report.
   */
  isAlive(id: string, nowMs: number): boolean {
    return this.state(id, nowMs) !== 'fail';
  }

  /** Members on the ring (`active` and `leaving`), ascending by id. */
  ringMembers(): RingMember[] {
    return this.records()
      .filter((r) => r.status !== 'left')
      .map((r) => (r.zone === '' ? { id: r.id } : { id: r.id, zone: r.zone }));
  }

  /** Everything known, `left` included, ascending by id; copies, for CLUSTER NODES and persistence. */
  members(): MemberRecord[] {
    return this.records().map(copyMember);
  }

  /** One member's record, not copied: for the hot path (addresses per replica request). */
  record(id: string): Readonly<MemberRecord> | undefined {
    return id === this.me.id ? this.me : this.peers.get(id)?.record;
  }

  /** Our own record as gossiped now; persist its generation (refuting a stale incarnation may raise it). */
  self(): MemberRecord {
    return copyMember(this.me);
  }

  /** cluster_current_epoch: the largest epoch in any known record. */
  epoch(): number {
    let max = this.me.epoch;
    for (const p of this.peers.values()) if (p.record.epoch > max) max = p.record.epoch;
    return max;
  }

  /** Our own leave or decommission; only forward (active → leaving → left). Stamped with a new epoch. */
  setStatus(status: 'leaving' | 'left', nowMs: number): void {
    this.observeTime(nowMs);
    if (STATUS_ORDER[status] === undefined) throw new RangeError(`bad status ${String(status)}`);
    if (STATUS_ORDER[status] < STATUS_ORDER[this.me.status]) {
      throw new RangeError(`status cannot go from ${this.me.status} back to ${status}`);
    }
    if (status === this.me.status) return;
    this.me.status = status;
    this.me.epoch = this.epoch() + 1;
    this.me.heartbeat++;
  }

  /** Our own rebalance progress (see MemberRecord.synced); gossip carries it with the next heartbeat. */
  setSynced(fingerprint: string): void {
    if (this.me.synced === fingerprint) return;
    this.me.synced = fingerprint;
    this.me.heartbeat++;
  }

  /** Our own catch-up after an absence (MemberRecord.catchingUp); gossip carries it with the next heartbeat. */
  setCatchingUp(on: boolean): void {
    if ((this.me.catchingUp === true) === on) return;
    if (on) this.me.catchingUp = true;
    else delete this.me.catchingUp;
    this.me.heartbeat++;
  }

  /** Suspicion of a peer: phi-accrual over its heartbeats; undefined for self and before its first heartbeat. */
  phi(id: string, nowMs: number): number | undefined {
    const peer = this.peers.get(id);
    return peer?.heardMs === undefined ? undefined : peer.detector.phi(nowMs);
  }

  /** When this peer's heartbeat last progressed (CLUSTER NODES pong-recv); undefined if never, or self. */
  lastHeard(id: string): number | undefined {
    return this.peers.get(id)?.heardMs;
  }

  private records(): MemberRecord[] {
    const out = this.sortedPeerIds().map((id) => this.peers.get(id)!.record);
    const at = out.findIndex((r) => r.id > this.me.id);
    out.splice(at < 0 ? out.length : at, 0, this.me);
    return out;
  }

  private sortedPeerIds(): string[] {
    this.sortedIds ??= [...this.peers.keys()].sort(byId);
    return this.sortedIds;
  }

  private peerState(peer: Peer, nowMs: number): PeerState {
    const since = peer.heardMs ?? peer.seenMs ?? this.startMs ?? nowMs;
    if (nowMs - since >= this.nodeTimeoutMs) return 'fail';
    return peer.detector.phi(nowMs) > this.phiThreshold ? 'pfail' : 'ok';
  }

  private observeTime(nowMs: number): void {
    assertTime(nowMs);
    this.startMs ??= nowMs;
  }

  private newDetector(): PhiAccrual {
    return new PhiAccrual({
      minStdDevMs: this.heartbeatIntervalMs / 2,
      firstHeartbeatEstimateMs: this.heartbeatIntervalMs,
    });
  }

  /** Someone relays our own record: keep any epoch stamped on it, and outrank a stale incarnation. */
  private mergeSelf(r: MemberRecord): void {
    const me = this.me;
    me.epoch = Math.max(me.epoch, r.epoch);
    if (r.generation > me.generation) {
      // An incarnation we do not remember (the caller lost our generation): jump past it.
      me.generation = r.generation + 1;
      me.heartbeat = 0;
    } else if (r.generation === me.generation && r.heartbeat > me.heartbeat) {
      me.heartbeat = r.heartbeat + 1;
    }
  }

  /** Returns whether the ring changed; collects members that entered the ring unstamped. */
  private mergePeer(r: MemberRecord, nowMs: number, entering: Peer[]): boolean {
    const peer = this.peers.get(r.id);
    if (peer === undefined) {
      if (!this.makeRoom()) return false;
      const added: Peer = { record: copyMember(r), detector: this.newDetector(), heardMs: undefined, seenMs: nowMs };
      this.peers.set(r.id, added);
      this.sortedIds = undefined;
      if (r.status === 'left') return false;
      if (r.epoch === 0) entering.push(added);
      return true;
    }
    const old = peer.record;
    const epoch = Math.max(old.epoch, r.epoch);
    if (!newer(r, old)) {
      old.epoch = epoch;
      return false;
    }
    if (r.generation > old.generation || this.peerState(peer, nowMs) === 'fail') {
      // A new incarnation, or a peer back from the dead: the old intervals say nothing about it now.
      peer.detector = this.newDetector();
    }
    peer.detector.heartbeat(nowMs);
    peer.heardMs = nowMs;
    if (old.status === 'left' && r.status !== 'left' && r.epoch <= old.epoch) entering.push(peer);
    peer.record = { ...copyMember(r), epoch };
    return r.status !== old.status || (r.status !== 'left' && r.zone !== old.zone);
  }

  /** Stamps joiners this digest admitted, in id order so one digest yields the same epochs anywhere. */
  private admit(entering: Peer[]): void {
    if (entering.length === 0) return;
    entering.sort((a, b) => byId(a.record.id, b.record.id));
    let next = this.epoch() + 1;
    for (const p of entering) p.record.epoch = next++;
  }

  /** Frees a slot for a new member by forgetting the longest-silent `left` one; false if none. */
  private makeRoom(): boolean {
    if (this.peers.size + 1 < this.membersMax) return true;
    let victim: Peer | undefined;
    let victimMs = Infinity;
    for (const p of this.peers.values()) {
      if (p.record.status !== 'left') continue;
      const ms = p.heardMs ?? p.seenMs ?? -Infinity;
      if (victim === undefined || ms < victimMs) {
        victim = p;
        victimMs = ms;
      }
    }
    if (victim === undefined) return false;
    this.peers.delete(victim.record.id);
    this.sortedIds = undefined;
    return true;
  }

  private chooseTargets(nowMs: number, rng: () => number): GossipTarget[] {
    const live: Peer[] = [];
    const suspect: Peer[] = [];
    const dead: Peer[] = [];
    for (const id of this.sortedPeerIds()) {
      const p = this.peers.get(id)!;
      if (p.record.status === 'left' || p.record.busPort === 0) continue;
      const s = this.peerState(p, nowMs);
      (s === 'ok' ? live : s === 'pfail' ? suspect : dead).push(p);
    }
    const chosen = [...sample(live, this.fanout, rng), ...sample(suspect, this.fanout, rng)];
    if (dead.length > 0 && rng() < dead.length / (live.length + 1)) chosen.push(...sample(dead, 1, rng));
    const targets: GossipTarget[] = chosen.map((p) => ({ id: p.record.id, host: p.record.host, busPort: p.record.busPort }));
    const addressed = new Set(targets.map((t) => addressKey(t.host, t.busPort)));
    for (const [key, m] of this.meets) if (!addressed.has(key)) targets.push({ id: '', host: m.host, busPort: m.busPort });
    return targets;
  }

  private digest(rng: () => number): GossipDigest {
    let others = this.sortedPeerIds().map((id) => this.peers.get(id)!.record);
    if (others.length >= DIGEST_MEMBERS_MAX) others = sample(others, DIGEST_MEMBERS_MAX - 1, rng);
    return { from: this.me.id, members: [copyMember(this.me), ...others.map(copyMember)] };
  }

  private restore(restored: readonly MemberRecord[]): void {
    if (restored.length > this.membersMax) throw new RangeError(`restored ${restored.length} members > ${this.membersMax}`);
    let restoredSelf: MemberRecord | undefined;
    for (const r of restored) {
      if (!isMemberRecord(r)) throw new RangeError(`invalid restored member record: ${JSON.stringify(r)}`);
      if (r.id === this.me.id) {
        restoredSelf = r;
        continue;
      }
      const known = this.peers.get(r.id);
      if (known !== undefined && !newer(r, known.record)) continue;
      this.peers.set(r.id, { record: copyMember(r), detector: this.newDetector(), heardMs: undefined, seenMs: undefined });
    }
    this.sortedIds = undefined;
    if (restoredSelf === undefined) return;
    this.mergeSelf(restoredSelf);
    // The caller chose a status other than the persisted one (e.g. rejoining after `left`): that
    // is the owner changing its status, so it gets a fresh epoch like setStatus would give it.
    if (restoredSelf.status !== this.me.status) this.me.epoch = this.epoch() + 1;
  }
}

function resolveOptions(opts: MembershipOptions): Required<MembershipOptions> {
  const m: Required<MembershipOptions> = {
    nodeTimeoutMs: opts.nodeTimeoutMs,
    phiThreshold: opts.phiThreshold ?? DEFAULT_PHI_THRESHOLD,
    fanout: opts.fanout ?? DEFAULT_FANOUT,
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? Math.min(1000, Math.max(100, opts.nodeTimeoutMs / 10)),
    membersMax: opts.membersMax ?? MEMBERS_MAX,
  };
  if (!(m.nodeTimeoutMs > 0)) throw new RangeError(`nodeTimeoutMs must be > 0: ${m.nodeTimeoutMs}`);
  if (!(m.phiThreshold > 0)) throw new RangeError(`phiThreshold must be > 0: ${m.phiThreshold}`);
  if (!Number.isInteger(m.fanout) || m.fanout < 1 || m.fanout > FANOUT_MAX) {
    throw new RangeError(`fanout must be an integer in [1, ${FANOUT_MAX}]: ${m.fanout}`);
  }
  if (!(m.heartbeatIntervalMs > 0)) throw new RangeError(`heartbeatIntervalMs must be > 0: ${m.heartbeatIntervalMs}`);
  if (!Number.isInteger(m.membersMax) || m.membersMax < 2 || m.membersMax > MEMBERS_MAX) {
    throw new RangeError(`membersMax must be an integer in [2, ${MEMBERS_MAX}]: ${m.membersMax}`);
  }
  return m;
}
