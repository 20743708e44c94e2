import {
  LeaseGrants,
  grantsSuffice,
  leaseValidUntil,
  nextEpoch,
  type HeldLease,
  type LeaseAnswer,
} from './slot-leases.js';

/** What the lease shell needs from the running node; the simulation can supply its own. */
export interface LeaseTransport {
  readonly myId: string;
  /** The slot's replicas (preference list), this node included when it is one. */
  replicas(slot: number): readonly string[];
  /** False once the failure detector no longer counts the node as up. */
  reachable(nodeId: string): boolean;
  /** Whether this node has left the cluster (its leave or decommission completed). */
  hasLeft(): boolean;
  /** Whether this node's own table names another node the slot's primary (absent: never). */
  primaryElsewhere?(slot: number): boolean;
  /** Sends a lease request (wire form below) to a peer; resolves with its wire answer. */
  send(nodeId: string, request: LeaseWireRequest): Promise<unknown>;
  /** Monotonic milliseconds (leases are durations, never wall-clock instants). */
  monotonicMs(): number;
  wallMs(): number;
  sleep(ms: number): Promise<void>;
}

/** `s` holds slot, epoch pairs; one request may carry many slots (renewals are batched per peer). */
export interface LeaseWireRequest {
  h: string;
  s: number[];
}

/** Per slot: granted (1) or not (0), the largest epoch seen, the holder named ('' for none), ms until it may be asked again. */
type WireAnswer = Array<number | string>;

export type LeaseOutcome =
  | { kind: 'held'; epoch: number }
  /** Another node holds the slot's lease and is up: its coordinator serves the command. */
  | { kind: 'elsewhere'; holder: string }
  | { kind: 'unavailable'; reason: string };

/** Leases a coordinator stops renewing when it has not used them for this long. */
const IDLE_RELEASE_MS = 30_000;
/** Bound on one acquisition: a dead holder's promises run out within one lease duration. */
const ACQUIRE_EXTRA_MS = 2_000;
const RETRY_MIN_MS = 20;
const RETRY_MAX_MS = 250;

function isWireRequest(p: unknown): p is LeaseWireRequest {
  const r = p as LeaseWireRequest;
  return typeof r === 'object' && r !== null && typeof r.h === 'string' && Array.isArray(r.s) && r.s.length % 2 === 0 &&
    r.s.every((x, i) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 && (i % 2 === 1 || x < 16384));
}

/**
 * The I/O shell around slot-leases.ts: answers peers' lease requests, acquires leases for the
 * coordinator on demand, and renews the ones in use before they run out.
 */
export class LeaseService {
  readonly grants: LeaseGrants;
  private readonly held = new Map<number, HeldLease & { usedMs: number }>();
  private readonly acquiring = new Map<number, Promise<LeaseOutcome>>();
  /** Largest epoch any grantor reported per slot. */
  private readonly seen = new Map<number, number>();
  private renewing = false;
  acquisitions = 0;
  fencedWrites = 0;

  /** `restarted`: this node ran before on its data, and may have made promises that still stand. */
  constructor(
    private readonly t: LeaseTransport,
    readonly durationMs: number,
    restarted: boolean,
  ) {
    this.grants = new LeaseGrants(durationMs, t.monotonicMs() + (restarted ? durationMs : 0));
  }

  /** Answers a peer's lease request (the bus handler). */
  answer(payload: unknown): WireAnswer {
    if (!isWireRequest(payload)) throw new Error('malformed lease request');
    const now = this.t.monotonicMs();
    const out: WireAnswer = [];
    for (let i = 0; i < payload.s.length; i += 2) {
      const a = this.grants.answer({ slot: payload.s[i]!, epoch: payload.s[i + 1]!, holder: payload.h }, now);
      out.push(a.granted ? 1 : 0, a.epoch, a.granted ? '' : (a.holder ?? ''), a.granted ? 0 : a.retryInMs);
    }
    return out;
  }

  /** The epoch of a lease this node holds on the slot and may use now, else undefined. */
  current(slot: number): number | undefined {
    // A node that left coordinates nothing under a lease, also not with one it took before: it is
    // off every slot's replicas in its own table, so its quorum reads would not count the writes it
    // acknowledged itself (product simulation seed 900033). Relayed work answers TRYAGAIN instead.
    if (this.held.size > 0 && this.t.hasLeft()) this.held.clear();
    const l = this.held.get(slot);
    if (l === undefined) return undefined;
    const now = this.t.monotonicMs();
    if (now >= l.validUntilMs) return undefined;
    l.usedMs = now;
    return l.epoch;
  }

  /** A replica refused a write stamped with the lease's epoch: a successor exists, stop using it. */
  lost(slot: number, epoch: number): void {
    this.fencedWrites++;
    if (this.held.get(slot)?.epoch === epoch) this.held.delete(slot);
  }

  /** Gets the slot's lease, or learns who holds it; concurrent callers share one attempt. */
  acquire(slot: number): Promise<LeaseOutcome> {
    let p = this.acquiring.get(slot);
    if (p === undefined) {
      p = this.attempt(slot).finally(() => this.acquiring.delete(slot));
      this.acquiring.set(slot, p);
    }
    return p;
  }

  private async attempt(slot: number): Promise<LeaseOutcome> {
    // A node that left coordinates nothing that needs a lease. Were it to take leases (commands
    // still reach it through relays from nodes whose tables lag), the replicas would name it as
    // the holder, and other nodes would relay to it until it is stopped, then wait out the bus
    // timeout on every relay (product simulation seed 800161: replies 5 s late after healing).
    if (this.t.hasLeft()) return { kind: 'unavailable', reason: 'this node left the cluster' };
    const deadline = this.t.monotonicMs() + this.durationMs + ACQUIRE_EXTRA_MS;
    for (;;) {
      const epoch = nextEpoch(this.seen.get(slot) ?? 0, this.t.wallMs());
      const round = await this.ask(slot, epoch);
      if (round.granted) {
        this.held.set(slot, { epoch, validUntilMs: leaseValidUntil(round.sentAtMs, this.durationMs), usedMs: this.t.monotonicMs() });
        this.acquisitions++;
        this.scheduleRenewals();
        return { kind: 'held', epoch };
      }
      if (round.holder !== undefined && round.holder !== this.t.myId && this.t.reachable(round.holder)) {
        return { kind: 'elsewhere', holder: round.holder };
      }
      const now = this.t.monotonicMs();
      if (now >= deadline) return { kind: 'unavailable', reason: round.reason };
      // Spread competing candidates apart; wait for a dead holder's promises to run out. The wait
      // ends at an instant fixed when the refusals arrived, not a duration counted from the end of
      // the round: a round also waits for a peer that died unnoticed (the bus timeout, 2 s), and a
      // refusal's "retry in 3 s" counted from then kept a restarted node's commands waiting ~5 s.
      const jitter = RETRY_MIN_MS + ((now * 7919 + slot) % (RETRY_MAX_MS - RETRY_MIN_MS));
      await this.t.sleep(Math.min(Math.max(round.retryAtMs - now, jitter), deadline - now));
    }
  }

  /**
   * One round of lease requests for one slot to all its replicas. It ends once a majority granted
   * (the lease holds from `sentAtMs` whatever the others answer: a replica that died unnoticed must
   * not hold every acquisition for the bus timeout) or once every replica answered or failed.
   * `retryAtMs` (this node's monotonic clock) is when every refusing promise has run out: a
   * refusal's `retryInMs` counts from when the grantor answered, so arrival here + retryInMs is
   * late by at most the answer's transit and early by at most clock rate drift (a retry that comes
   * early is only refused again).
   */
  private async ask(slot: number, epoch: number): Promise<{ granted: boolean; sentAtMs: number; holder?: string; retryAtMs: number; reason: string }> {
    const replicas = this.t.replicas(slot);
    const sentAtMs = this.t.monotonicMs();
    const granted = new Set<string>();
    let holder: string | undefined;
    let retryAtMs = 0;
    let refusals = 0;
    await new Promise<void>((resolve) => {
      let left = replicas.length;
      if (left === 0) resolve();
      const take = (id: string, a: LeaseAnswer | undefined): void => {
        // Answers after the round ended still raise the epochs seen, for the next attempt.
        if (a !== undefined) {
          this.seen.set(slot, Math.max(this.seen.get(slot) ?? 0, a.epoch));
          if (a.granted) granted.add(id);
          else {
            refusals++;
            holder ??= a.holder;
            retryAtMs = Math.max(retryAtMs, this.t.monotonicMs() + a.retryInMs);
          }
        }
        if (--left === 0 || grantsSuffice(granted, replicas)) resolve();
      };
      // A failure counts as no answer: the round must end whatever happens to one request.
      for (const id of replicas) this.askOne(id, slot, epoch).then((a) => take(id, a), () => take(id, undefined));
    });
    const ok = grantsSuffice(granted, replicas);
    const reason = `lease for slot ${slot}: ${granted.size} of ${replicas.length} replicas granted, ${refusals} refused`;
    return { granted: ok, sentAtMs, holder, retryAtMs, reason };
  }

  private async askOne(id: string, slot: number, epoch: number): Promise<LeaseAnswer | undefined> {
    if (id === this.t.myId) return this.grants.answer({ slot, epoch, holder: id }, this.t.monotonicMs());
    if (!this.t.reachable(id)) return undefined;
    try {
      const wire = await this.t.send(id, { h: this.t.myId, s: [slot, epoch] });
      return parseAnswers(wire, 1)?.[0];
    } catch {
      return undefined;
    }
  }

  /** Renews leases in use a third of a duration before they run out, one request per peer. */
  private scheduleRenewals(): void {
    if (this.renewing) return;
    this.renewing = true;
    void (async () => {
      while (this.held.size > 0) {
        await this.t.sleep(this.durationMs / 3);
        await this.renewAll();
      }
      this.renewing = false;
    })();
  }

  private async renewAll(): Promise<void> {
    const now = this.t.monotonicMs();
    const byPeer = new Map<string, number[]>();
    const slots: Array<[slot: number, epoch: number]> = [];
    for (const [slot, l] of this.held) {
      // A lease unused for a lease duration on a slot this node's table gives to another node is
      // let go: kept, it would turn that node's relayed work away (a relayed run is not relayed
      // again) for as long as the idle limit, not one lease duration.
      const idleMs = now - l.usedMs;
      if (now >= l.validUntilMs || idleMs > IDLE_RELEASE_MS || (idleMs > this.durationMs && this.t.primaryElsewhere?.(slot) === true)) {
        this.held.delete(slot);
        continue;
      }
      slots.push([slot, l.epoch]);
      for (const id of this.t.replicas(slot)) {
        let list = byPeer.get(id);
        if (!list) byPeer.set(id, (list = []));
        list.push(slot, l.epoch);
      }
    }
    if (slots.length === 0) return;
    const sentAtMs = this.t.monotonicMs();
    const granted = new Map<number, Set<string>>(slots.map(([s]) => [s, new Set<string>()]));
    await Promise.all([...byPeer].map(async ([id, pairs]) => {
      let answers: LeaseAnswer[] | undefined;
      if (id === this.t.myId) answers = parseAnswers(this.answer({ h: id, s: pairs }), pairs.length / 2);
      else if (this.t.reachable(id)) answers = parseAnswers(await this.t.send(id, { h: this.t.myId, s: pairs }).catch(() => undefined), pairs.length / 2);
      answers?.forEach((a, i) => {
        if (a.granted) granted.get(pairs[i * 2]!)?.add(id);
      });
    }));
    for (const [slot, epoch] of slots) {
      const l = this.held.get(slot);
      // A lease taken anew while the round ran is not the one these grants renewed.
      if (l === undefined || l.epoch !== epoch) continue;
      // Renewed: valid from this round's send time. Not renewed: it runs out on its old term.
      if (grantsSuffice(granted.get(slot)!, this.t.replicas(slot))) l.validUntilMs = leaseValidUntil(sentAtMs, this.durationMs);
    }
  }

  /** Leases held now (INFO). */
  heldCount(): number {
    return this.held.size;
  }
}

function parseAnswers(wire: unknown, n: number): LeaseAnswer[] | undefined {
  if (!Array.isArray(wire) || wire.length !== n * 4) return undefined;
  const out: LeaseAnswer[] = [];
  for (let i = 0; i < wire.length; i += 4) {
    const [g, epoch, holder, retry] = wire.slice(i, i + 4) as [unknown, unknown, unknown, unknown];
    if (typeof epoch !== 'number' || typeof holder !== 'string' || typeof retry !== 'number') return undefined;
    out.push(g === 1 ? { granted: true, epoch } : { granted: false, epoch, holder: holder === '' ? undefined : holder, retryInMs: retry });
  }
  return out;
}
