import { PhiAccrual } from './phi.js';

/**
 * Direct-link health of each peer, for routing. Membership's detector works on heartbeats that
 * every node relays, so it says whether anyone still hears a peer, once a second at the default
 * node timeout; routing needs to know, within about a second, whether *this* node can reach it.
 * So each node pings every ring member on the bus a few times a second, and every frame that
 * arrives from a peer (pings, requests, responses) counts as a sign of life.
 *
 * A peer is suspected when its silence is long enough for phi-accrual (fed by the pings) to pass
 * the threshold, or when it reaches `suspectAfterMs` whatever phi says (a peer whose pings came
 * irregularly would otherwise be suspected late). A suspected peer is routed to again only after
 * it has been heard continuously (no gap of `minSilenceMs`) for `healthyForMs` and sent
 * `pingsToRecover` pings in that time:
 * one lucky heartbeat does not bring it back, and a link that flickers stays out.
 *
 * A peer's pings also say whether it considers itself cut off from the majority; such a peer
 * steps aside on its own, and nobody routes to it while it says so.
 *
 * A peer never heard from is not judged: while a cluster forms, one node learns of another a gossip
 * round before the other learns of it and starts pinging; membership's grace and `fail` cover a
 * peer that never shows up. Nor is a peer judged for `warmUpMs` after it is first heard: a node
 * that has just started stalls for a second or more now and then (compiling, opening its store,
 * building indexes), and routing around it then makes nodes' views differ for nothing.
 *
 * This node's own pauses (a long GC, a stopped process) must not look like everyone else's
 * silence: when evaluations are further apart than `stallGapMs`, that gap is left out of every
 * peer's silence (frames that arrived meanwhile are read only after this evaluation). Silence
 * before the gap still counts, so a node that is merely slow still suspects a peer that is gone.
 * Pure: time is an argument; nothing here reads a clock.
 */

export interface LinkHealthOptions {
  /** How often each node pings each peer (ms). */
  pingIntervalMs: number;
  /** Phi above this (with at least `minSilenceMs` of silence) → suspected. */
  phiThreshold: number;
  /** Floor for the deviation of ping intervals in phi. */
  minStdDevMs: number;
  /** Silence below this never suspects, whatever phi says. */
  minSilenceMs: number;
  /** Silence at or above this always suspects. */
  suspectAfterMs: number;
  /** How long a suspected peer must be heard continuously before it is routed to again. */
  healthyForMs: number;
  /** Pings a suspected peer must send within that time. */
  pingsToRecover: number;
  /** Evaluations further apart than this mean this node itself was paused. */
  stallGapMs: number;
  /** A peer is not judged until it has been heard for this long (membership's `fail` still applies). */
  warmUpMs: number;
  /**
   * Silence after which a suspected peer's link is given up (`unreachable`): the bus request
   * deadline, so that requests still waiting on a peer that merely stalled for a second or two
   * get their answers, while a connection whose packets are dropped is replaced.
   */
  unreachableAfterMs: number;
}

/**
 * Settings for a node timeout. At the default 15 s: pings every 150 ms, a silent peer suspected
 * after about 1.55 s (phi 8 at the mean interval plus 5.6 deviations, the deviation floored at
 * 250 ms) and at the latest after 2 s, back in routing after 3 s of health. At the fault suite's
 * 2 s: pings every 50 ms, suspected after about 1.45 s (at most 2 s), back after 1 s. The floors
 * keep a peer that stalls for a second (a GC, a loaded machine) in routing: a suspected replica
 * gets no requests, so with W = N a false suspicion fails writes that a short wait would have
 * let through.
 */
/** The bus's request deadline (DEFAULT_REQUEST_TIMEOUT_MS in bus/cluster-bus.ts). */
const BUS_REQUEST_DEADLINE_MS = 2000;

export function linkHealthOptions(nodeTimeoutMs: number): LinkHealthOptions {
  const ping = Math.min(200, Math.max(50, Math.floor(nodeTimeoutMs / 100)));
  return {
    pingIntervalMs: ping,
    phiThreshold: 8,
    minStdDevMs: Math.max(250, ping),
    minSilenceMs: Math.max(300, 3 * ping),
    suspectAfterMs: Math.max(2000, 12 * ping),
    healthyForMs: Math.min(3000, Math.max(1000, Math.floor(nodeTimeoutMs / 5))),
    pingsToRecover: 3,
    stallGapMs: Math.max(300, 3 * ping),
    warmUpMs: 5000,
    unreachableAfterMs: Math.max(BUS_REQUEST_DEADLINE_MS, 12 * ping),
  };
}

export type LinkEvent =
  | { peer: string; kind: 'suspected'; silenceMs: number }
  /** Still silent at `unreachableAfterMs`: its link should be replaced. */
  | { peer: string; kind: 'unreachable'; silenceMs: number }
  | { peer: string; kind: 'recovered' };

interface PeerLinkState {
  detector: PhiAccrual;
  /** Last frame of any kind from the peer, or when we started watching it. */
  heardMs: number;
  /** When something first arrived from it since we started watching it. */
  firstHeardMs: number | undefined;
  suspected: boolean;
  /** While suspected: since when the peer has been heard without a gap, if it has. */
  healthySinceMs: number | undefined;
  pingsSinceHealthy: number;
  /** The peer's last ping said it is cut off from the majority. */
  isolated: boolean;
  /** The peer's last ping said it is catching up after being away (catch-up.ts). */
  catchingUp: boolean;
  /** `unreachable` was reported for the current silence. */
  givenUp: boolean;
}

export class LinkHealth {
  private readonly peers = new Map<string, PeerLinkState>();
  private lastEvaluationMs: number | undefined;
  /** The last gap between evaluations long enough to mean this node itself was paused. */
  private pause: { fromMs: number; toMs: number } | undefined;

  constructor(readonly options: LinkHealthOptions) {
    if (!(options.pingIntervalMs > 0)) throw new RangeError(`pingIntervalMs must be > 0: ${options.pingIntervalMs}`);
    if (!(options.suspectAfterMs >= options.minSilenceMs)) throw new RangeError('suspectAfterMs must be at least minSilenceMs');
  }

  /** Starts watching a peer; its silence counts from `nowMs`. Idempotent. */
  track(peer: string, nowMs: number): void {
    if (this.peers.has(peer)) return;
    this.peers.set(peer, {
      detector: this.newDetector(), heardMs: nowMs, firstHeardMs: undefined, suspected: false, healthySinceMs: undefined, pingsSinceHealthy: 0, isolated: false, catchingUp: false, givenUp: false,
    });
  }

  forget(peer: string): void {
    this.peers.delete(peer);
  }

  tracked(): string[] {
    return [...this.peers.keys()];
  }

  /** Some frame arrived from the peer at `atMs`. */
  heard(peer: string, atMs: number): void {
    const p = this.peers.get(peer);
    if (p === undefined) return;
    p.firstHeardMs ??= atMs;
    if (atMs > p.heardMs) p.heardMs = atMs;
  }

  /** A ping arrived: a sign of life, a beat for phi, and the peer's word on its own isolation and catch-up. */
  ping(peer: string, nowMs: number, isolated: boolean, catchingUp = false): void {
    const p = this.peers.get(peer);
    if (p === undefined) return;
    this.heard(peer, nowMs);
    p.isolated = isolated;
    p.catchingUp = catchingUp;
    if (p.suspected) {
      // Intervals spanning the silence would blunt phi for the next hundred pings; a fresh
      // detector starts once the peer is back (see evaluate).
      if (p.healthySinceMs !== undefined) p.pingsSinceHealthy++;
      return;
    }
    p.detector.heartbeat(nowMs);
  }

  /** Updates every peer's state; returns the changes, for the shell to log and act on. */
  evaluate(nowMs: number): LinkEvent[] {
    const o = this.options;
    if (this.lastEvaluationMs !== undefined && nowMs - this.lastEvaluationMs > o.stallGapMs) this.pause = { fromMs: this.lastEvaluationMs, toMs: nowMs };
    this.lastEvaluationMs = nowMs;
    const events: LinkEvent[] = [];
    for (const [peer, p] of this.peers) {
      if (p.firstHeardMs === undefined) continue;
      const silence = this.silence(p.heardMs, nowMs);
      if (nowMs - p.firstHeardMs < o.warmUpMs) continue;
      const silent = silence >= o.suspectAfterMs || (silence >= o.minSilenceMs && p.detector.phiAfter(silence) > o.phiThreshold);
      if (silence < o.unreachableAfterMs) p.givenUp = false;
      else if (!p.givenUp) {
        p.givenUp = true;
        events.push({ peer, kind: 'unreachable', silenceMs: Math.round(silence) });
      }
      if (!p.suspected) {
        if (!silent) continue;
        p.suspected = true;
        p.healthySinceMs = undefined;
        p.pingsSinceHealthy = 0;
        events.push({ peer, kind: 'suspected', silenceMs: Math.round(silence) });
        continue;
      }
      // Coming back is held to more than not being suspicious: any gap of minSilenceMs restarts it.
      if (silent || silence >= o.minSilenceMs) {
        p.healthySinceMs = undefined;
        p.pingsSinceHealthy = 0;
        continue;
      }
      p.healthySinceMs ??= nowMs;
      if (nowMs - p.healthySinceMs >= o.healthyForMs && p.pingsSinceHealthy >= o.pingsToRecover) {
        p.suspected = false;
        p.healthySinceMs = undefined;
        p.detector = this.newDetector();
        events.push({ peer, kind: 'recovered' });
      }
    }
    return events;
  }

  /** Whether the link is healthy enough to route to the peer (see claimsIsolation too). Unknown peers are not judged here. */
  routable(peer: string): boolean {
    return !this.suspected(peer);
  }

  suspected(peer: string): boolean {
    return this.peers.get(peer)?.suspected ?? false;
  }

  /** The peer said it is cut off from the majority. */
  claimsIsolation(peer: string): boolean {
    return this.peers.get(peer)?.isolated ?? false;
  }

  /** The last gap between evaluations long enough to mean this process was paused, if any. */
  lastStall(): { fromMs: number; toMs: number } | undefined {
    return this.pause;
  }

  /** The peer said it is catching up: it takes writes but coordinates nothing another replica can. */
  claimsCatchingUp(peer: string): boolean {
    return this.peers.get(peer)?.catchingUp ?? false;
  }

  /** Time since `heardMs`, less the part of it this node spent paused. */
  private silence(heardMs: number, nowMs: number): number {
    const total = nowMs - heardMs;
    if (this.pause === undefined) return total;
    const overlap = Math.min(nowMs, this.pause.toMs) - Math.max(heardMs, this.pause.fromMs);
    return overlap > 0 ? total - overlap : total;
  }

  private newDetector(): PhiAccrual {
    return new PhiAccrual({ minStdDevMs: this.options.minStdDevMs, firstHeartbeatEstimateMs: this.options.pingIntervalMs });
  }
}
