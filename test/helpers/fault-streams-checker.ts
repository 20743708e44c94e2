/**
 * Pure checks of a stream with one consumer group under faults, over what the collections fault
 * workload recorded (fault-collections.ts) and the stream read back with R=N after healing.
 *
 * The workload: XADD `*` of a token never added before; XREADGROUP GROUP g c<client> COUNT n
 * STREAMS key > (new entries only); XACK of ids the same client received from an acknowledged read
 * and never acknowledged before, each XACKed at most once. No trimming, no XDEL, no XCLAIM: an
 * entry, once in the stream, stays; a pending entry leaves the PEL only by its consumer's XACK.
 *
 * Checks (docs/reliability.md, "Streams under faults"):
 * - ids: no two acknowledged XADDs answered the same id (two coordinators); an XADD that began
 *   after another was acknowledged got the larger id (the slot's one fenced coordinator hands ids
 *   out in order);
 * - entries: every acknowledged XADD is in the stream under the id it answered with its token; every
 *   entry carries a token some XADD that did not certainly fail sent; XLEN counts the entries;
 * - deliveries: no entry is delivered as new twice (two acknowledged `>` reads returned it); a
 *   delivered entry is in the stream, with the token it was delivered with; a read that began after
 *   another was acknowledged delivered only larger ids; the group's last-delivered-id is at least
 *   every delivered id; an acknowledged entry at or below it was delivered by an acknowledged read
 *   or is pending (delivered by a read of unknown outcome): none is skipped;
 * - after healing one more consumer reads until the group has nothing new: every acknowledged entry
 *   reached the group (delivered, pending, or delivered then), and nothing delivered before comes again;
 * - the pending entries list: an entry an acknowledged XACK removed is not pending; one delivered by
 *   an acknowledged read and never acknowledged is pending, for the consumer that read it; a pending
 *   entry was delivered to its consumer by an acknowledged read or one of unknown outcome; an
 *   acknowledged XACK counted every id it named (each was pending: the delivery was acknowledged).
 */
import type { CCommand, CViolation } from './fault-collections-checker.js';

export interface StreamFinal {
  /** XRANGE - +: id and token, in id order. */
  entries: Array<[string, string]>;
  len: number;
  /** XPENDING key g - + <many>: id → consumer. */
  pending: Map<string, string>;
  /** XINFO GROUPS: the group's last-delivered-id. */
  lastDelivered: string;
  /** Read after the above: what one more consumer was given until the group had nothing new (undefined: the drain failed). */
  drained?: string[];
}

/** Stream ids compared as Redis orders them (ms, then sequence). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

export const consumerOf = (client: number): string => `c${client}`;

export function checkStreams(cmds: readonly CCommand[], finals: ReadonlyMap<string, StreamFinal>, out: { streams: CViolation[]; sizes: CViolation[]; unread: CViolation[] }): void {
  const keys = new Set(cmds.filter((c) => c.kind === 'xadd' || c.kind === 'xreadgroup' || c.kind === 'xack').map((c) => c.key));
  for (const key of keys) {
    const mine = cmds.filter((c) => c.key === key);
    const f = finals.get(key);
    if (f === undefined) {
      out.unread.push({ key, problem: 'stream not read back after healing' });
      continue;
    }
    const bad = (problem: string): void => void out.streams.push({ key, problem });
    const adds = mine.filter((c) => c.kind === 'xadd');
    const reads = mine.filter((c) => c.kind === 'xreadgroup');
    const acks = mine.filter((c) => c.kind === 'xack');

    // XADD ids: unique, and in real-time order.
    const byToken = new Map<string, CCommand>();
    const ackedAdds = adds.filter((a) => a.result === 'ok' && a.id !== undefined);
    for (const a of adds) byToken.set(a.jobs![0]!, a);
    const byId = new Map<string, CCommand>();
    for (const a of ackedAdds) {
      const twin = byId.get(a.id!);
      if (twin) bad(`two acknowledged XADDs answered ${a.id} (clients ${twin.client} and ${a.client})`);
      else byId.set(a.id!, a);
    }
    inRealTimeOrder(ackedAdds.map((a) => ({ start: a.start, end: a.end, lo: a.id!, hi: a.id!, who: `XADD by client ${a.client}` })), bad);

    // Entries.
    if (f.len !== f.entries.length) out.sizes.push({ key, problem: `XLEN ${f.len} but XRANGE - + returned ${f.entries.length} entries` });
    const listed = new Map<string, string>();
    for (const [id, token] of f.entries) {
      listed.set(id, token);
      const a = byToken.get(token);
      if (a === undefined) bad(`entry ${id} carries ${token}, which no XADD sent`);
      else if (a.result === 'fail') bad(`entry ${id} carries ${token}, from an XADD that certainly failed (${a.error ?? ''})`);
      else if (a.result === 'ok' && a.id !== id) bad(`${token} is listed as ${id} but its XADD answered ${a.id}`);
    }
    for (const a of ackedAdds) {
      if (!listed.has(a.id!)) bad(`acknowledged XADD ${a.id} (${a.jobs![0]}, client ${a.client} ${a.start.toFixed(0)}–${a.end.toFixed(0)} ms) is not in the stream`);
    }

    // Deliveries.
    const deliveredBy = new Map<string, CCommand>();
    for (const r of reads) {
      if (r.result !== 'ok') continue;
      for (const [id, token] of r.entries ?? []) {
        const twin = deliveredBy.get(id);
        if (twin) bad(`${id} delivered as new twice: to ${consumerOf(twin.client)} (${twin.end.toFixed(0)} ms) and ${consumerOf(r.client)} (${r.end.toFixed(0)} ms)`);
        else deliveredBy.set(id, r);
        const there = listed.get(id);
        if (there === undefined) bad(`${id} was delivered to ${consumerOf(r.client)} but is not in the stream`);
        else if (there !== token) bad(`${id} was delivered to ${consumerOf(r.client)} as ${token} but is listed as ${there}`);
        if (compareStreamIds(id, f.lastDelivered) > 0) bad(`${id} was delivered but the group's last-delivered-id is ${f.lastDelivered}`);
      }
    }
    const nonEmpty = reads.filter((r) => r.result === 'ok' && (r.entries ?? []).length > 0);
    inRealTimeOrder(nonEmpty.map((r) => {
      const ids = r.entries!.map(([id]) => id).sort(compareStreamIds);
      return { start: r.start, end: r.end, lo: ids[0]!, hi: ids[ids.length - 1]!, who: `XREADGROUP by ${consumerOf(r.client)}` };
    }), bad);
    for (const [id, token] of f.entries) {
      if (compareStreamIds(id, f.lastDelivered) > 0) break;
      // An XADD of unknown outcome may land after the group read past its id; its client never
      // learnt it was added, as a write lost to a failover in Redis.
      if (byToken.get(token)?.result !== 'ok') continue;
      if (!deliveredBy.has(id) && !f.pending.has(id)) bad(`${id} is at or below the group's last-delivered-id ${f.lastDelivered} but was never delivered by an acknowledged read and is not pending: skipped`);
    }

    // The pending entries list against deliveries and acknowledgements.
    const ackedIds = new Map<string, CCommand>();
    const triedIds = new Set<string>();
    for (const a of acks) {
      for (const id of a.jobs ?? []) {
        if (a.result !== 'fail') triedIds.add(id);
        if (a.result === 'ok') ackedIds.set(id, a);
      }
      if (a.result === 'ok' && a.n !== (a.jobs ?? []).length) {
        bad(`XACK of ${a.jobs!.join(' ')} by ${consumerOf(a.client)} at ${a.end.toFixed(0)} ms counted ${a.n}: an acknowledged delivery left the pending list`);
      }
    }
    const unknownReaders = new Set(reads.filter((r) => r.result === 'unknown').map((r) => consumerOf(r.client)));
    for (const [id, consumer] of f.pending) {
      const ack = ackedIds.get(id);
      if (ack) bad(`${id} is pending for ${consumer} though ${consumerOf(ack.client)}'s XACK of it was acknowledged at ${ack.end.toFixed(0)} ms`);
      const by = deliveredBy.get(id);
      if (by !== undefined && consumerOf(by.client) !== consumer) bad(`${id} is pending for ${consumer} but was delivered to ${consumerOf(by.client)}`);
      if (by === undefined && !unknownReaders.has(consumer)) bad(`${id} is pending for ${consumer}, which never read it`);
    }
    // Every acknowledged entry reaches the group: delivered during the run, or after healing.
    if (f.drained !== undefined) {
      const drained = new Set(f.drained);
      for (const id of f.drained) {
        if (deliveredBy.has(id)) bad(`${id} was delivered as new again after healing; ${consumerOf(deliveredBy.get(id)!.client)} had it`);
        if (compareStreamIds(id, f.lastDelivered) <= 0) bad(`${id} was delivered after healing though the group's last-delivered-id ${f.lastDelivered} is past it`);
      }
      for (const a of ackedAdds) {
        if (!deliveredBy.has(a.id!) && !f.pending.has(a.id!) && !drained.has(a.id!)) bad(`acknowledged entry ${a.id} (${a.jobs![0]}) never reached the group: not delivered, not pending, not delivered after healing`);
      }
    }
    for (const [id, r] of deliveredBy) {
      if (!triedIds.has(id) && f.pending.get(id) !== consumerOf(r.client)) {
        bad(`${id}, delivered to ${consumerOf(r.client)} at ${r.end.toFixed(0)} ms and never acknowledged, is ${f.pending.has(id) ? `pending for ${f.pending.get(id)}` : 'not pending'}`);
      }
    }
  }
}

/**
 * Operations that each produced a range of ids [lo, hi]: one that began after another had been
 * acknowledged must have produced only larger ids. Sweeps operations by start, keeping the largest
 * `hi` among those acknowledged before.
 */
function inRealTimeOrder(ops: Array<{ start: number; end: number; lo: string; hi: string; who: string }>, bad: (problem: string) => void): void {
  const byEnd = [...ops].sort((a, b) => a.end - b.end);
  const byStart = [...ops].sort((a, b) => a.start - b.start);
  let i = 0;
  let top: (typeof ops)[number] | undefined;
  for (const op of byStart) {
    while (i < byEnd.length && byEnd[i]!.end < op.start) {
      const done = byEnd[i++]!;
      if (top === undefined || compareStreamIds(done.hi, top.hi) > 0) top = done;
    }
    if (top !== undefined && compareStreamIds(op.lo, top.hi) <= 0) {
      bad(`${op.who} (${op.start.toFixed(0)}–${op.end.toFixed(0)} ms) produced ${op.lo}, not above ${top.hi} from ${top.who} acknowledged at ${top.end.toFixed(0)} ms`);
    }
  }
}
