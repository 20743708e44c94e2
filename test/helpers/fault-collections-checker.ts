/**
 * Pure checkers over what the collections fault workload (fault-collections.ts) recorded: every
 * command a client sent, in the order it sent them, with its outcome, and the collections read back
 * with R=N after healing.
 *
 * Entities of the workload:
 * - queues (lists) shared by every client: RPUSH of 1–3 job ids never pushed before; LPOP (with
 *   and without a count) and BLPOP with a short timeout;
 * - sets shared by every client, each member private to one client: SADD / SREM;
 * - sorted sets and hashes shared by every client: ZINCRBY / HINCRBY of positive integers on a few
 *   members (fields) that every client increments.
 *
 * Outcomes are those of fault-client.ts: ok, fail (certainly no effect), unknown (may have taken
 * effect; open when the client stopped waiting, so the effect may land any time later).
 *
 * Checks:
 * - queues: no job is seen twice across the acknowledged pops and the final contents (popped
 *   twice, or popped and still listed); no job is seen that no RPUSH wrote, that only a failed RPUSH
 *   wrote, that was pushed onto another queue, or that an acknowledged pop returned before its push
 *   began; every acknowledged job is popped by an acknowledged pop or still listed, except as many as
 *   the pops of unknown outcome on that queue could have taken (a pop can only take a job whose push
 *   began before the pop's effect could end: Hall's condition over those windows); FIFO: a job still
 *   listed precedes every job whose push began after its own push ended, and no acknowledged pop
 *   returns a job while a job whose push ended before that job's push began is still listed at the
 *   end.
 * - sets: a member whose last acknowledged change (in the client's sending order: SADD answered 1 or
 *   SREM answered 1) was SADD is a member, one whose last was SREM is not, unless an operation of
 *   unknown outcome follows it or an open one exists (that member only is then free). An SADD or
 *   SREM answered 0 writes nothing, so it does not bury an earlier write of unknown outcome (the
 *   allowance docs/decisions.md makes for a DEL of a missing key). A member that no SADD without
 *   failure wrote is not there; each acknowledged SADD/SREM reply (1 or 0) matches the state the
 *   client's own earlier acknowledged operations left, where no unknown outcome intervenes.
 * - sorted-set scores and hash fields: the final value lies in [acknowledged increments,
 *   acknowledged + unknown]; no two acknowledged increments of one member answered the same value
 *   (they would have read the same base) and none answered more than acknowledged + unknown.
 * - sizes: LLEN / SCARD / ZCARD / HLEN equal the number of elements read back; a sorted set's range
 *   read (ZRANGE WITHSCORES) and point read (ZMSCORE) agree on every member.
 * - streams with a consumer group: fault-streams-checker.ts.
 * - every key the workload touched was read back; every reply had the shape of its command.
 */
import type { OpResult } from './fault-checker.js';
import { checkStreams, type StreamFinal } from './fault-streams-checker.js';

export type CKind = 'rpush' | 'lpop' | 'blpop' | 'sadd' | 'srem' | 'zincrby' | 'hincrby' | 'xadd' | 'xreadgroup' | 'xack';

export interface CCommand {
  client: number;
  /** Position in the client's sending order (over all its batches). */
  order: number;
  kind: CKind;
  key: string;
  /** rpush: the job ids, in push order; xadd: the entry's token; xack: the ids acknowledged. */
  jobs?: string[];
  /** lpop: the COUNT argument, when given. */
  count?: number;
  /** sadd / srem / zincrby: the member; hincrby: the field. */
  member?: string;
  /** zincrby / hincrby: the increment (a positive integer). */
  amount?: number;
  result: OpResult;
  open?: boolean;
  /** When the batch was sent and when this command's reply (or failure) arrived, on the run's clock. */
  start: number;
  end: number;
  /** lpop / blpop, ok: what was popped (empty when nothing). */
  popped?: string[];
  /** rpush / sadd / srem / hincrby / xack, ok: the integer reply; zincrby, ok: the score. */
  n?: number;
  /** xadd, ok: the id it answered. */
  id?: string;
  /** xreadgroup, ok: the entries delivered (id, token). */
  entries?: Array<[string, string]>;
  malformed?: string;
  error?: string;
}

export interface CollectionsFinal {
  lists: Map<string, { items: string[]; len: number }>;
  sets: Map<string, { members: string[]; card: number }>;
  /** scores: what ZRANGE 0 -1 WITHSCORES listed; points: ZMSCORE of every member the workload used (absent: not read). */
  zsets: Map<string, { scores: Map<string, number>; card: number; points?: Map<string, number | null>; raw?: Array<[string, number]> }>;
  hashes: Map<string, { fields: Map<string, number>; len: number }>;
  streams?: Map<string, StreamFinal>;
}

export interface CViolation {
  key: string;
  problem: string;
}

export interface CollectionsReport {
  /** Acknowledged jobs neither popped by an acknowledged pop nor listed, beyond what unknown pops explain. */
  lostJobs: CViolation[];
  /** Jobs popped twice, or popped and still listed, or listed twice. */
  duplicateJobs: CViolation[];
  /** Jobs nobody pushed (or only a failed push), pushed elsewhere, or popped before being pushed. */
  phantomJobs: CViolation[];
  queueOrder: CViolation[];
  sets: CViolation[];
  counters: CViolation[];
  sizes: CViolation[];
  /** A sorted set whose range read (score index) and point read (member record) disagree. */
  indexes: CViolation[];
  replies: CViolation[];
  unread: CViolation[];
  /** Stream entries, ids, deliveries and pending entries (fault-streams-checker.ts). */
  streams: CViolation[];
}

export function collectionsViolationCount(r: CollectionsReport): number {
  return r.lostJobs.length + r.duplicateJobs.length + r.phantomJobs.length + r.queueOrder.length + r.sets.length +
    r.counters.length + r.sizes.length + r.indexes.length + r.replies.length + r.unread.length + r.streams.length;
}

const effectEnd = (c: CCommand): number => (c.result === 'unknown' && c.open ? Infinity : c.end);

interface Push {
  cmd: CCommand;
  index: number;
}

function checkQueues(cmds: readonly CCommand[], final: CollectionsFinal, out: CollectionsReport): void {
  const pushes = new Map<string, Push>();
  const queueKeys = new Set<string>();
  for (const c of cmds) {
    if (c.kind !== 'rpush') continue;
    queueKeys.add(c.key);
    (c.jobs ?? []).forEach((job, index) => {
      if (pushes.has(job)) out.phantomJobs.push({ key: c.key, problem: `the workload pushed ${job} twice (a workload defect)` });
      else pushes.set(job, { cmd: c, index });
    });
  }
  const pops = cmds.filter((c) => c.kind === 'lpop' || c.kind === 'blpop');
  for (const p of pops) queueKeys.add(p.key);

  // Every sighting of a job: acknowledged pops, then the final contents.
  const seen = new Map<string, string[]>();
  const sight = (job: string, where: string): void => {
    const s = seen.get(job);
    if (s) s.push(where);
    else seen.set(job, [where]);
  };
  const poppedBy = new Map<string, CCommand>();
  for (const p of pops) {
    if (p.result !== 'ok') continue;
    for (const job of p.popped ?? []) {
      sight(job, `${p.kind.toUpperCase()} ${p.key} by client ${p.client} at ${p.end.toFixed(0)} ms`);
      poppedBy.set(job, p);
      const push = pushes.get(job);
      if (push === undefined) continue;
      if (push.cmd.key !== p.key) out.phantomJobs.push({ key: p.key, problem: `${job} popped from ${p.key} but pushed onto ${push.cmd.key}` });
      else if (push.cmd.start > p.end) out.phantomJobs.push({ key: p.key, problem: `${job} popped (reply at ${p.end.toFixed(0)} ms) before its push began (${push.cmd.start.toFixed(0)} ms)` });
    }
  }
  for (const key of queueKeys) {
    const f = final.lists.get(key);
    if (f === undefined) {
      out.unread.push({ key, problem: 'queue not read back after healing' });
      continue;
    }
    if (f.len !== f.items.length) out.sizes.push({ key, problem: `LLEN ${f.len} but LRANGE 0 -1 returned ${f.items.length} elements` });
    for (const job of f.items) {
      sight(job, `listed in ${key}`);
      const push = pushes.get(job);
      if (push !== undefined && push.cmd.key !== key) out.phantomJobs.push({ key, problem: `${job} listed in ${key} but pushed onto ${push.cmd.key}` });
    }
  }
  for (const [job, where] of seen) {
    const push = pushes.get(job);
    if (push === undefined) out.phantomJobs.push({ key: where[0]!, problem: `${job} was never pushed (${where.join('; ')})` });
    else if (push.cmd.result === 'fail') out.phantomJobs.push({ key: push.cmd.key, problem: `${job} comes from a push that certainly failed (${push.cmd.error ?? ''}): ${where.join('; ')}` });
    if (where.length > 1) out.duplicateJobs.push({ key: push?.cmd.key ?? '?', problem: `${job} seen ${where.length} times: ${where.join('; ')}` });
  }

  for (const key of queueKeys) {
    // A queue not read back is reported as such; its jobs cannot be judged lost.
    if (!final.lists.has(key)) continue;
    // Lost: acknowledged, never seen. Pops of unknown outcome may each have taken up to `count`
    // jobs, each one pushed before that pop's effect could end.
    const missing = [...pushes.values()].filter((p) => p.cmd.key === key && p.cmd.result === 'ok' && !seen.has(p.cmd.jobs![p.index]!))
      .sort((a, b) => b.cmd.start - a.cmd.start);
    if (missing.length > 0) {
      const unknownPops = pops.filter((p) => p.key === key && p.result === 'unknown').map((p) => ({ end: effectEnd(p), capacity: p.kind === 'lpop' ? p.count ?? 1 : 1 }));
      missing.forEach((m, i) => {
        // Missing jobs pushed at or after this one (i + 1 of them) need that much unknown-pop capacity
        // among the pops whose effect window reaches past this push's start.
        const capacity = unknownPops.filter((p) => p.end >= m.cmd.start).reduce((s, p) => s + p.capacity, 0);
        if (capacity < i + 1) {
          out.lostJobs.push({
            key, problem: `acknowledged job ${m.cmd.jobs![m.index]} (RPUSH by client ${m.cmd.client} ${m.cmd.start.toFixed(0)}–${m.cmd.end.toFixed(0)} ms) is neither popped nor listed; ` +
              `${i + 1} such jobs pushed from then on, unknown pops could take ${capacity}`,
          });
        }
      });
    }
    // FIFO over the final contents: no job listed after one whose push began after its own ended.
    const f = final.lists.get(key);
    if (f === undefined) continue;
    let latestStart = -Infinity;
    let latestJob = '';
    for (const job of f.items) {
      const p = pushes.get(job);
      if (p === undefined) continue;
      if (latestStart > effectEnd(p.cmd)) {
        out.queueOrder.push({ key, problem: `${job} (pushed ${p.cmd.start.toFixed(0)}–${p.cmd.end.toFixed(0)} ms) is listed after ${latestJob} (push began ${latestStart.toFixed(0)} ms)` });
      }
      if (p.cmd.start > latestStart) {
        latestStart = p.cmd.start;
        latestJob = job;
      }
    }
    // FIFO against the pops: a popped job overtook a job still listed whose push ended before its own began.
    let oldest: { job: string; end: number } | undefined;
    for (const job of f.items) {
      const p = pushes.get(job);
      if (p === undefined || p.cmd.result !== 'ok') continue;
      if (oldest === undefined || p.cmd.end < oldest.end) oldest = { job, end: p.cmd.end };
    }
    if (oldest !== undefined) {
      for (const [job, pop] of poppedBy) {
        if (pop.key !== key) continue;
        const p = pushes.get(job);
        if (p !== undefined && p.cmd.start > oldest.end) {
          out.queueOrder.push({ key, problem: `${job} (push began ${p.cmd.start.toFixed(0)} ms) was popped by client ${pop.client} while ${oldest.job} (push acknowledged at ${oldest.end.toFixed(0)} ms) is still listed at the end` });
          break;
        }
      }
    }
  }
}

function checkSets(cmds: readonly CCommand[], final: CollectionsFinal, out: CollectionsReport): void {
  const byMember = new Map<string, CCommand[]>();
  const setKeys = new Set<string>();
  for (const c of cmds) {
    if (c.kind !== 'sadd' && c.kind !== 'srem') continue;
    setKeys.add(c.key);
    const id = `${c.key}\u0000${c.member}`;
    const list = byMember.get(id);
    if (list) list.push(c);
    else byMember.set(id, [c]);
  }
  for (const key of setKeys) {
    const f = final.sets.get(key);
    if (f === undefined) {
      out.unread.push({ key, problem: 'set not read back after healing' });
      continue;
    }
    if (f.card !== f.members.length) out.sizes.push({ key, problem: `SCARD ${f.card} but SMEMBERS returned ${f.members.length} members` });
    if (new Set(f.members).size !== f.members.length) out.sets.push({ key, problem: 'SMEMBERS returned a member twice' });
    for (const m of f.members) {
      const ops = byMember.get(`${key}\u0000${m}`) ?? [];
      if (!ops.some((o) => o.kind === 'sadd' && o.result !== 'fail')) out.sets.push({ key, problem: `member ${m} is present but no SADD of it took effect` });
    }
  }
  for (const [id, unsorted] of byMember) {
    const ops = [...unsorted].sort((a, b) => a.client - b.client || a.order - b.order);
    const key = ops[0]!.key;
    const member = id.slice(key.length + 1);
    // Only an acknowledged SADD that added (1) or SREM that removed (1) writes a record; one that
    // answered 0 writes nothing, so a write of unknown outcome before it may still surface after it
    // (the allowance docs/decisions.md "DEL of a missing key writes nothing" makes for DEL).
    const wrote = (o: CCommand): boolean => o.result === 'ok' && o.n === 1;
    // Replies: the state the client's own operations left, while known.
    let state: boolean | undefined = false;
    let everOpen = false;
    for (const o of ops) {
      if (o.result === 'ok' && state !== undefined && o.n !== undefined) {
        const expected = o.kind === 'sadd' ? (state ? 0 : 1) : (state ? 1 : 0);
        if (o.n !== expected) {
          out.replies.push({ key, problem: `${o.kind.toUpperCase()} ${member} by client ${o.client} at ${o.end.toFixed(0)} ms answered ${o.n}, expected ${expected}: its earlier acknowledged operations left it ${state ? 'a member' : 'absent'}` });
        }
      }
      if (wrote(o)) state = everOpen ? undefined : o.kind === 'sadd';
      else if (o.result === 'ok' && state !== undefined) state = o.kind === 'sadd';
      else if (o.result === 'unknown') {
        state = undefined;
        if (o.open) everOpen = true;
      }
    }
    const f = final.sets.get(key);
    if (f === undefined || everOpen) continue;
    let last = -1;
    ops.forEach((o, i) => {
      if (wrote(o)) last = i;
    });
    if (ops.slice(last + 1).some((o) => o.result === 'unknown')) continue;
    const present = f.members.includes(member);
    if (last < 0) {
      if (present) out.sets.push({ key, problem: `member ${member} is present but no SADD of it added it` });
      continue;
    }
    const l = ops[last]!;
    const want = l.kind === 'sadd';
    if (present !== want) {
      out.sets.push({ key, problem: `member ${member} is ${present ? 'present' : 'absent'} but its last acknowledged change was ${l.kind.toUpperCase()} (client ${l.client}, ${l.start.toFixed(0)}–${l.end.toFixed(0)} ms)` });
    }
  }
}

function checkCounters(cmds: readonly CCommand[], final: CollectionsFinal, out: CollectionsReport): void {
  for (const kind of ['zincrby', 'hincrby'] as const) {
    const keys = new Set<string>();
    const byMember = new Map<string, { key: string; member: string; acked: number; unknown: number; replies: Map<number, CCommand> }>();
    for (const c of cmds) {
      if (c.kind !== kind) continue;
      keys.add(c.key);
      const id = `${c.key}\u0000${c.member}`;
      let m = byMember.get(id);
      if (m === undefined) byMember.set(id, (m = { key: c.key, member: c.member!, acked: 0, unknown: 0, replies: new Map() }));
      if (c.result === 'ok') m.acked += c.amount!;
      if (c.result === 'unknown') m.unknown += c.amount!;
    }
    const what = kind === 'zincrby' ? 'ZINCRBY' : 'HINCRBY';
    for (const m of byMember.values()) {
      for (const c of cmds) {
        if (c.kind !== kind || c.key !== m.key || c.member !== m.member || c.result !== 'ok' || c.n === undefined) continue;
        const twin = m.replies.get(c.n);
        if (twin) out.counters.push({ key: m.key, problem: `two acknowledged ${what} of ${m.member} answered ${c.n} (clients ${twin.client} and ${c.client}): one read the other's base` });
        else m.replies.set(c.n, c);
        if (c.n > m.acked + m.unknown) out.counters.push({ key: m.key, problem: `${what} of ${m.member} by client ${c.client} answered ${c.n}, above acknowledged + unknown ${m.acked + m.unknown}` });
      }
    }
    for (const key of keys) {
      const values = kind === 'zincrby' ? final.zsets.get(key)?.scores : final.hashes.get(key)?.fields;
      const size = kind === 'zincrby' ? final.zsets.get(key)?.card : final.hashes.get(key)?.len;
      if (values === undefined || size === undefined) {
        out.unread.push({ key, problem: `${kind === 'zincrby' ? 'sorted set' : 'hash'} not read back after healing` });
        continue;
      }
      if (size !== values.size) out.sizes.push({ key, problem: `${kind === 'zincrby' ? 'ZCARD' : 'HLEN'} ${size} but the contents hold ${values.size}` });
      for (const [member, v] of values) {
        const m = byMember.get(`${key}\u0000${member}`);
        if (m === undefined || m.acked + m.unknown === 0) out.counters.push({ key, problem: `${member} = ${v} though no ${what} of it took effect` });
      }
    }
    for (const m of byMember.values()) {
      const values = kind === 'zincrby' ? final.zsets.get(m.key)?.scores : final.hashes.get(m.key)?.fields;
      if (values === undefined) continue;
      const v = values.get(m.member) ?? 0;
      if (v < m.acked) out.counters.push({ key: m.key, problem: `${m.member} ends at ${v}, below its acknowledged increments ${m.acked} (unknown ${m.unknown})` });
      else if (v > m.acked + m.unknown) out.counters.push({ key: m.key, problem: `${m.member} ends at ${v}, above acknowledged ${m.acked} + unknown ${m.unknown}` });
    }
  }
}

export function checkCollections(cmds: readonly CCommand[], final: CollectionsFinal): CollectionsReport {
  const out: CollectionsReport = { lostJobs: [], duplicateJobs: [], phantomJobs: [], queueOrder: [], sets: [], counters: [], sizes: [], indexes: [], replies: [], unread: [], streams: [] };
  for (const [key, z] of final.zsets) {
    if (z.raw !== undefined && z.raw.length !== z.scores.size) {
      out.indexes.push({ key, problem: `ZRANGE 0 -1 WITHSCORES listed a member more than once: ${z.raw.map(([m, v]) => `${m}=${v}`).join(' ')}` });
    }
    for (const [member, point] of z.points ?? []) {
      const ranged = z.scores.get(member) ?? null;
      if (ranged !== point) out.indexes.push({ key, problem: `ZRANGE WITHSCORES lists ${member} ${ranged === null ? 'not at all' : `at ${ranged}`} but ZMSCORE answers ${point === null ? 'nil' : point}` });
    }
  }
  for (const c of cmds) {
    if (c.malformed) out.replies.push({ key: c.key, problem: `${c.kind.toUpperCase()} by client ${c.client} at ${c.end.toFixed(0)} ms: ${c.malformed}` });
  }
  checkQueues(cmds, final, out);
  checkSets(cmds, final, out);
  checkCounters(cmds, final, out);
  checkStreams(cmds, final.streams ?? new Map(), out);
  return out;
}
