import type { Logger } from '../core/logger.js';
import type { HintStore } from '../storage/hint-store.js';
import type { MemberRecord } from './membership.js';

/** What hint handoff needs from its node; the cluster node provides it (and so can a simulation). */
export interface HintHost {
  member(id: string): Readonly<Pick<MemberRecord, 'status'>> | undefined;
  reachable(id: string): boolean;
  write(nodeId: string, slot: number, items: ReadonlyArray<[Buffer, Buffer]>): Promise<unknown>;
  readonly node: { readonly logger: Logger };
}

/** The hint store operations handoff uses. */
export type HintQueue = Pick<HintStore, 'targets' | 'take' | 'remove' | 'trim' | 'dropTarget'>;

/** Hints sent per request to a recovered owner; one batch in flight per owner bounds the rate. */
const HINT_BATCH_MAX = 256;
const TRIM_INTERVAL_MS = 10_000;

/**
 * Hands hinted writes back to their owners once the failure detector sees them alive again, oldest
 * first, one batch per owner at a time; a hint is deleted only after the owner acknowledged it durably.
 * Owners that left the ring lose their hints (the remaining replicas hold the data).
 */
export class HintReplayer {
  private readonly inFlight = new Set<string>();
  private lastTrim = 0;

  constructor(private readonly cluster: HintHost, private readonly hints: HintQueue) {}

  tick(now: number): void {
    const trim = now - this.lastTrim > TRIM_INTERVAL_MS;
    if (trim) this.lastTrim = now;
    for (const target of this.hints.targets()) {
      if (this.inFlight.has(target)) continue;
      const member = this.cluster.member(target);
      if (!member || member.status === 'left') {
        this.run(target, () => this.hints.dropTarget(target));
        continue;
      }
      if (trim) this.run(target, () => this.hints.trim(target, now));
      else if (this.cluster.reachable(target)) this.run(target, () => this.deliver(target));
    }
  }

  private run(target: string, work: () => Promise<void>): void {
    this.inFlight.add(target);
    work().catch((err: unknown) => this.cluster.node.logger.debug({ err, target }, 'hint handoff postponed')).finally(() => this.inFlight.delete(target));
  }

  /**
   * Hands the target its hints batch after batch until none are left or it stops being reachable:
   * a node back from an absence coordinates nothing until its hints are in (catch-up.ts), so one
   * batch per gossip round would keep it out for minutes after a busy absence.
   */
  private async deliver(target: string): Promise<void> {
    while (this.cluster.reachable(target)) {
      if (!(await this.deliverBatch(target))) return;
    }
  }

  /** One batch; false when there was nothing to send. */
  private async deliverBatch(target: string): Promise<boolean> {
    const batch = this.hints.take(target, HINT_BATCH_MAX);
    if (batch.length === 0) return false;
    const bySlot = new Map<number, typeof batch>();
    for (const h of batch) {
      let list = bySlot.get(h.slot);
      if (!list) bySlot.set(h.slot, (list = []));
      list.push(h);
    }
    for (const [slot, hints] of bySlot) {
      await this.cluster.write(target, slot, hints.map((h) => [h.key, h.record] as [Buffer, Buffer]));
      await this.hints.remove(target, hints, true);
    }
    return true;
  }
}
