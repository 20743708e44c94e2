import type { Logger } from '../core/logger.js';
import type { MemberRecord, MemberStatus, PeerState } from './gossip-types.js';

/** What the log reads of Membership. */
export interface MembershipView {
  members(): MemberRecord[];
  state(id: string, nowMs: number): PeerState;
  lastHeard(id: string): number | undefined;
}

interface Seen {
  state: PeerState;
  status: MemberStatus;
  generation: number;
  addr: string;
  onRing: boolean;
  /** When it went to pfail or fail, for "down for …" on recovery. */
  downSince: number | undefined;
}

/** Node ids are shown as their first 12 digits, as `ringkv status` shows them. */
export const ID_PREFIX_LENGTH = 12;

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Turns successive views of the membership into log lines a person can follow: each names the
 * node (id prefix and client address), says what changed, and carries the same as fields (`node`,
 * `addr`, `change`) for machines. Membership itself is a pure state machine without a logger; the
 * shell calls `observe` once per gossip round.
 *
 * Events: joined (a member not seen before), suspected (ok → pfail), failed (→ fail), recovered
 * (pfail or fail → ok), restarted (a higher generation), address changed, leaving, left, removed
 * from the ring (dead past cluster-dead-node-removal-ms) and back on it, forgotten.
 */
export class MembershipLog {
  private readonly seen = new Map<string, Seen>();
  private first = true;

  constructor(private readonly logger: Logger, private readonly selfId: string) {}

  /** `ring`: the ids on the ring the shell uses (without members removed after a long death). */
  observe(view: MembershipView, ring: ReadonlySet<string>, nowMs: number): void {
    const present = new Set<string>();
    const restored: string[] = [];
    for (const m of view.members()) {
      if (m.id === this.selfId) continue;
      present.add(m.id);
      const now: Seen = {
        state: view.state(m.id, nowMs), status: m.status, generation: m.generation,
        addr: `${m.host}:${m.port}`, onRing: ring.has(m.id), downSince: undefined,
      };
      const before = this.seen.get(m.id);
      if (before === undefined) {
        now.downSince = now.state === 'ok' ? undefined : nowMs;
        if (this.first) restored.push(`${m.id.slice(0, ID_PREFIX_LENGTH)} (${now.addr}, ${m.status})`);
        else this.event('info', m, now.addr, 'joined', `${m.status}, bus port ${m.busPort}`);
        this.seen.set(m.id, now);
        continue;
      }
      this.compare(m, before, now, view, nowMs);
      this.seen.set(m.id, now);
    }
    if (restored.length > 0) this.logger.info({ members: restored.length }, `membership restored from the data directory: ${restored.join(', ')}`);
    for (const [id, s] of this.seen) {
      if (present.has(id)) continue;
      this.seen.delete(id);
      this.logger.info({ node: id.slice(0, ID_PREFIX_LENGTH), addr: s.addr, change: 'forgotten' }, `node ${id.slice(0, ID_PREFIX_LENGTH)} (${s.addr}) forgotten`);
    }
    this.first = false;
  }

  private compare(m: MemberRecord, before: Seen, now: Seen, view: MembershipView, nowMs: number): void {
    now.downSince = before.downSince;
    if (now.addr !== before.addr) this.event('warn', m, now.addr, 'address changed', `was ${before.addr}`);
    if (now.generation > before.generation) this.event('info', m, now.addr, 'restarted', `incarnation ${before.generation} → ${now.generation}`);
    if (now.status !== before.status) {
      if (now.status === 'left') this.event('info', m, now.addr, 'left', 'decommissioned; its slots move to the others');
      else if (now.status === 'leaving') this.event('info', m, now.addr, 'leaving', 'its slots are moving to the others');
      else this.event('info', m, now.addr, 'rejoined', `was ${before.status}`);
    }
    if (now.state !== before.state && m.status !== 'left') {
      const heard = view.lastHeard(m.id);
      const silent = heard === undefined ? 'never heard from' : `no heartbeat for ${secs(nowMs - heard)}`;
      if (now.state === 'pfail') {
        now.downSince ??= nowMs;
        this.event('warn', m, now.addr, 'suspected', `${silent} (state ${before.state} → pfail)`);
      } else if (now.state === 'fail') {
        now.downSince ??= nowMs;
        this.event('warn', m, now.addr, 'failed', `${silent} (state ${before.state} → fail); replicas and hints cover its slots`);
      } else if (now.state === 'ok') {
        const down = before.downSince !== undefined ? ` after ${secs(nowMs - before.downSince)}` : '';
        now.downSince = undefined;
        this.event('info', m, now.addr, 'recovered', `heartbeats again${down} (state ${before.state} → ok)`);
      }
    }
    if (now.onRing !== before.onRing && m.status !== 'left') {
      if (now.onRing) this.event('info', m, now.addr, 'back on the ring', 'its slots move back to it');
      else this.event('warn', m, now.addr, 'removed from the ring', 'dead longer than cluster-dead-node-removal-ms; its slots move to the others');
    }
  }

  private event(level: 'info' | 'warn', m: MemberRecord, addr: string, change: string, detail: string): void {
    const node = m.id.slice(0, ID_PREFIX_LENGTH);
    this.logger[level]({ node, addr, change }, `node ${node} (${addr}) ${change}: ${detail}`);
  }
}
