/**
 * Pure checkers over what the pipelined fault workload (fault-pipeline.ts) recorded: batches of
 * commands sent on one connection without waiting (a RESP pipeline in one write, or many
 * concurrent commands on one ioredis connection), each command with its own reply.
 *
 * Entities of the workload:
 * - registers and hash fields, private to one connection: SET (unique value) / DEL / GET, and
 *   HSET (unique value) / HGET;
 * - pairs, private to one connection: two keys of one slot (`{base}:a`, `{base}:b`) written
 *   together by MULTI / SET a v/a / SET b v/b / EXEC, read with GET;
 * - counters, shared by every connection: INCR and INCRBY (positive amounts), GET;
 * - logs, shared: APPEND of a token never appended before (`…;`), GET.
 *
 * Checks:
 * - order (per connection): inside one batch, each reply reflects every earlier command of that
 *   batch. A read after the batch's own acknowledged write of a private key returns that write;
 *   a counter never reads or increments below what an earlier reply of the batch showed; a log
 *   read contains every token the batch appended before it and is at least as long as an earlier
 *   APPEND's reply; a reply of the wrong type or shape (what a reply meant for another command
 *   looks like) is a violation too.
 * - counters: the final value F lies in [acked, acked + unknown] (sums of amounts): no
 *   acknowledged increment lost, none applied twice, no failed one applied. Two acknowledged
 *   increments of one counter never return the same value (they would have read the same base),
 *   and no acknowledged reply exceeds acked + unknown.
 * - appends: in the final string every acknowledged token appears exactly once, no token appears
 *   twice, and every token was appended to that key by an APPEND that did not fail.
 * - atomicity: a pair's two keys end holding the same transaction's values (or both missing).
 * - last write (private keys, one writer): the final value comes from the connection's last
 *   acknowledged write of the key in the order it sent them, or from a later write that did not
 *   fail, or from an open unknown one (it may land any time). Two writes in one batch look
 *   concurrent to the time-based checks below; this one knows which was sent first.
 * - read-your-writes on counters and logs, where W + R > N (any connection): a command that starts
 *   after an acknowledged INCR answered n has ended reads at least n (INCR: answers at least
 *   n + its amount); one that starts after an acknowledged APPEND of token t (new length L) has
 *   ended reads a string holding t, of length at least L (APPEND: answers at least L + its length).
 * - registers, hash fields and pair keys also go through fault-checker.ts (lost writes, deleted
 *   keys returning, read-your-writes across batches where promised, phantoms, unread keys).
 */
import { checkHistory, type CheckOptions, type CheckReport, type FinalState, type Op, type OpResult } from './fault-checker.js';

export type PKind = 'set' | 'del' | 'get' | 'hset' | 'hget' | 'incr' | 'append' | 'tx';

export interface PCommand {
  kind: PKind;
  /** Key of the register, hash, counter or log; for `tx` the pair's base (keys `${key}:a`, `${key}:b`). */
  key: string;
  /** hset / hget: the field. */
  field?: string;
  /** set / hset: the unique value; tx: the transaction's value (a gets `${value}/a`, b `${value}/b`); append: the token. */
  value?: string;
  /** incr: the amount (INCR is 1). */
  amount?: number;
  result: OpResult;
  /** unknown only: the client stopped waiting, so the effect may land later. */
  open?: boolean;
  /** get / hget, ok: what was read (null = missing). */
  read?: string | null;
  /** incr / append, ok: the integer reply (the new value, the new length). */
  n?: number;
  /** When this command's reply (or failure) arrived, ms on the history's clock. */
  end: number;
  /** A reply of the wrong type or shape for this command. */
  malformed?: string;
  error?: string;
}

export interface PipelineRecord {
  client: number;
  transport: 'pipeline' | 'ioredis';
  /** Batch number on this client. */
  seq: number;
  node: string;
  /** When the batch was sent. */
  start: number;
  commands: PCommand[];
}

export const pairKeys = (base: string): [string, string] => [`${base}:a`, `${base}:b`];
export const fieldKey = (key: string, field: string): string => `${key}#${field}`;
export const isCounterKey = (key: string): boolean => key.includes(':ctr:');
export const isLogKey = (key: string): boolean => key.includes(':log:');

export interface OrderViolation {
  client: number;
  transport: PipelineRecord['transport'];
  seq: number;
  node: string;
  /** Index of the offending command in its batch. */
  index: number;
  command: string;
  problem: string;
  /** The batch, abbreviated, for the report. */
  batch: string[];
}

export interface CounterViolation {
  key: string;
  problem: string;
  final: number | string | null;
  acked: number;
  unknown: number;
}

export interface AppendViolation {
  key: string;
  problem: string;
  tokens: string[];
}

export interface AtomicityViolation {
  base: string;
  a: string | null;
  b: string | null;
}

export interface LastWriteViolation {
  key: string;
  client: number;
  final: string | null;
  /** The connection's last acknowledged write of the key, in the order it sent them. */
  lastAcked: string;
  problem: string;
}

export interface SharedStaleRead {
  key: string;
  client: number;
  seq: number;
  start: number;
  command: string;
  /** The acknowledged command, finished before this one started, that it does not reflect. */
  missed: { client: number; seq: number; end: number; command: string };
}

export interface PipelineReport {
  /** Counter and log reads missing an acknowledged command that ended before they started (W + R > N only). */
  sharedStaleReads: SharedStaleRead[];
  order: OrderViolation[];
  /** Private keys whose final value is not the connection's last acknowledged write or a later one. */
  lastWrites: LastWriteViolation[];
  counters: CounterViolation[];
  appends: AppendViolation[];
  atomicity: AtomicityViolation[];
  /** Registers, hash fields and pair keys through the single-key checkers. */
  history: CheckReport;
}

export function describeCommand(c: PCommand): string {
  const what = c.kind === 'hset' || c.kind === 'hget' ? `${c.kind} ${c.key} ${c.field}` : `${c.kind} ${c.key}`;
  const arg = c.value !== undefined ? ` ${c.value}` : c.amount !== undefined ? ` +${c.amount}` : '';
  // Log reads grow to kilobytes: the length and the tail say enough in a report.
  const read = c.read === undefined || c.read === null || c.read.length <= 60 ? JSON.stringify(c.read) : `(${c.read.length} bytes) …${JSON.stringify(c.read.slice(-40))}`;
  const got = c.result !== 'ok' ? ` -> ${c.result}${c.error ? ` (${c.error})` : ''}` : c.read !== undefined ? ` -> ${read}` : c.n !== undefined ? ` -> ${c.n}` : ' -> ok';
  return `${what}${arg}${got}${c.malformed ? ` [${c.malformed}]` : ''}`;
}

function counterValue(s: string | null): number | undefined {
  if (s === null) return 0;
  return /^-?\d+$/.test(s) ? Number(s) : undefined;
}

/**
 * Per-connection order inside each batch. A private key's read may also return the value of an
 * earlier write of that connection whose outcome is open (the client stopped waiting, so it may
 * land any time, after the batch's own write too), as the last-write check allows.
 */
export function checkBatchOrder(records: readonly PipelineRecord[]): OrderViolation[] {
  const out: OrderViolation[] = [];
  // Per client, in send order: every write of each private key so far, for open outcomes and reports.
  const history = new Map<number, Map<string, Array<{ seq: number; value: string | null; c: PCommand }>>>();
  const ordered = [...records].sort((x, y) => x.client - y.client || x.seq - y.seq);
  for (const r of ordered) {
    let writes = history.get(r.client);
    if (writes === undefined) history.set(r.client, (writes = new Map()));
    const known = new Map<string, string | null>(); // private key (or field key) -> value the batch acknowledged
    const floor = new Map<string, number>(); // counter -> lowest value it can have now
    const minLen = new Map<string, number>(); // log -> lowest length it can have now
    const mustHave = new Map<string, string[]>(); // log -> tokens the batch appended (acknowledged)
    const flag = (index: number, problem: string): void => {
      out.push({
        client: r.client, transport: r.transport, seq: r.seq, node: r.node, index, command: describeCommand(r.commands[index]!), problem,
        batch: r.commands.map((c, i) => `${i}: ${describeCommand(c)}`),
      });
    };
    r.commands.forEach((c, i) => {
      if (c.malformed) {
        flag(i, `reply of the wrong shape: ${c.malformed}`);
        return;
      }
      const write = (key: string, value: string | null): void => {
        if (c.result === 'ok') known.set(key, value);
        else if (c.result === 'unknown') known.delete(key);
        let l = writes.get(key);
        if (l === undefined) writes.set(key, (l = []));
        l.push({ seq: r.seq, value, c });
      };
      const read = (key: string): void => {
        if (c.result !== 'ok' || !known.has(key)) return;
        const want = known.get(key)!;
        if (c.read === want) return;
        const earlier = writes.get(key) ?? [];
        if (earlier.some((w) => w.c.result === 'unknown' && w.c.open === true && w.value === (c.read ?? null))) return;
        const story = earlier.slice(-6).map((w) => `batch ${w.seq}: ${describeCommand(w.c)}${w.c.open === true ? ' (open)' : ''}`).join('; ');
        flag(i, `read ${JSON.stringify(c.read)} after this batch's acknowledged write of ${JSON.stringify(want)} (this connection's last writes of the key: ${story})`);
      };
      switch (c.kind) {
        case 'set':
          write(c.key, c.value!);
          break;
        case 'del':
          write(c.key, null);
          break;
        case 'hset':
          write(fieldKey(c.key, c.field!), c.value!);
          break;
        case 'tx': {
          const [a, b] = pairKeys(c.key);
          write(a, `${c.value}/a`);
          write(b, `${c.value}/b`);
          break;
        }
        case 'hget':
          read(fieldKey(c.key, c.field!));
          break;
        case 'get': {
          if (isCounterKey(c.key)) {
            if (c.result !== 'ok') break;
            const v = counterValue(c.read ?? null);
            const f = floor.get(c.key);
            if (v === undefined) flag(i, `counter read ${JSON.stringify(c.read)}, not an integer`);
            else {
              if (f !== undefined && v < f) flag(i, `counter read ${v} after this batch saw it at ${f}`);
              floor.set(c.key, Math.max(v, f ?? v));
            }
          } else if (isLogKey(c.key)) {
            if (c.result !== 'ok') break;
            const s = c.read ?? '';
            const missing = (mustHave.get(c.key) ?? []).filter((t) => !s.includes(t));
            if (missing.length > 0) flag(i, `log read lacks ${missing.join(' ')} appended earlier in this batch`);
            const m = minLen.get(c.key);
            if (m !== undefined && s.length < m) flag(i, `log read of length ${s.length} after this batch saw length ${m}`);
            minLen.set(c.key, Math.max(s.length, m ?? 0));
          } else read(c.key);
          break;
        }
        case 'incr': {
          if (c.result !== 'ok') break;
          const f = floor.get(c.key);
          if (f !== undefined && c.n! < f + c.amount!) flag(i, `increment by ${c.amount} answered ${c.n} after this batch saw the counter at ${f}`);
          floor.set(c.key, Math.max(c.n!, f ?? c.n!));
          break;
        }
        case 'append': {
          if (c.result !== 'ok') break;
          const m = minLen.get(c.key);
          if (m !== undefined && c.n! < m + c.value!.length) flag(i, `APPEND of ${c.value!.length} bytes answered length ${c.n} after this batch saw length ${m}`);
          minLen.set(c.key, Math.max(c.n!, m ?? 0));
          mustHave.set(c.key, [...(mustHave.get(c.key) ?? []), c.value!]);
          break;
        }
      }
    });
  }
  return out;
}

/** Every increment of every counter: acknowledged and unknown sums, acknowledged replies. */
function counterLedger(records: readonly PipelineRecord[]): Map<string, { acked: number; unknown: number; replies: number[] }> {
  const out = new Map<string, { acked: number; unknown: number; replies: number[] }>();
  for (const r of records) {
    for (const c of r.commands) {
      if (c.kind !== 'incr') continue;
      let e = out.get(c.key);
      if (e === undefined) out.set(c.key, (e = { acked: 0, unknown: 0, replies: [] }));
      if (c.result === 'ok') {
        e.acked += c.amount!;
        if (c.n !== undefined) e.replies.push(c.n);
      } else if (c.result === 'unknown') e.unknown += c.amount!;
    }
  }
  return out;
}

/** Final counter values against the increments: none lost, none applied twice, none from a failed command. */
export function checkCounters(records: readonly PipelineRecord[], finals: FinalState): CounterViolation[] {
  const out: CounterViolation[] = [];
  for (const [key, e] of counterLedger(records)) {
    const base = { key, acked: e.acked, unknown: e.unknown };
    if (!finals.has(key)) {
      if (e.acked > 0) out.push({ ...base, final: null, problem: 'never read back' });
      continue;
    }
    const raw = finals.get(key)!;
    const f = counterValue(raw);
    if (f === undefined) {
      out.push({ ...base, final: raw, problem: 'final value is not an integer' });
      continue;
    }
    if (f < e.acked) out.push({ ...base, final: f, problem: `${e.acked - f} acknowledged increments lost` });
    if (f > e.acked + e.unknown) out.push({ ...base, final: f, problem: `${f - e.acked - e.unknown} more than every acknowledged and unknown increment: applied twice, or a failed one applied` });
    const seen = new Map<number, number>();
    for (const n of e.replies) seen.set(n, (seen.get(n) ?? 0) + 1);
    const dup = [...seen].filter(([, k]) => k > 1).map(([n]) => n);
    if (dup.length > 0) out.push({ ...base, final: f, problem: `acknowledged increments answered the same value (they read the same base): ${dup.slice(0, 5).join(', ')}` });
    const over = e.replies.filter((n) => n > e.acked + e.unknown);
    if (over.length > 0) out.push({ ...base, final: f, problem: `acknowledged replies above every increment issued: ${over.slice(0, 5).join(', ')}` });
  }
  return out;
}

const TOKEN = /[^;]*;/g;

/** Final logs against the appends: every acknowledged token once, no token twice, no foreign token. */
export function checkAppends(records: readonly PipelineRecord[], finals: FinalState): AppendViolation[] {
  const tokens = new Map<string, Map<string, OpResult>>(); // key -> token -> outcome
  for (const r of records) {
    for (const c of r.commands) {
      if (c.kind !== 'append') continue;
      let m = tokens.get(c.key);
      if (m === undefined) tokens.set(c.key, (m = new Map()));
      if (m.has(c.value!)) throw new Error(`token ${c.value} appended twice: tokens must be unique`);
      m.set(c.value!, c.result);
    }
  }
  const out: AppendViolation[] = [];
  for (const [key, m] of tokens) {
    const acked = [...m].filter(([, res]) => res === 'ok').map(([t]) => t);
    if (!finals.has(key)) {
      if (acked.length > 0) out.push({ key, problem: 'never read back', tokens: [] });
      continue;
    }
    const final = finals.get(key) ?? '';
    const found = final.match(TOKEN) ?? [];
    const rest = final.slice(found.join('').length);
    const count = new Map<string, number>();
    for (const t of found) count.set(t, (count.get(t) ?? 0) + 1);
    const lost = acked.filter((t) => !count.has(t));
    if (lost.length > 0) out.push({ key, problem: `${lost.length} acknowledged tokens missing`, tokens: lost.slice(0, 10) });
    const twice = [...count].filter(([, k]) => k > 1).map(([t]) => t);
    if (twice.length > 0) out.push({ key, problem: `${twice.length} tokens appear more than once`, tokens: twice.slice(0, 10) });
    const foreign = [...count.keys()].filter((t) => m.get(t) === undefined || m.get(t) === 'fail');
    if (foreign.length > 0) out.push({ key, problem: `${foreign.length} tokens no successful or unknown APPEND of this key wrote`, tokens: foreign.slice(0, 10) });
    if (rest !== '') out.push({ key, problem: `trailing bytes that are no token: ${JSON.stringify(rest.slice(0, 40))}`, tokens: [] });
  }
  return out;
}

/** Pairs whose two keys do not hold the same transaction's values. */
export function checkAtomicity(records: readonly PipelineRecord[], finals: FinalState): AtomicityViolation[] {
  const bases = new Set<string>();
  for (const r of records) for (const c of r.commands) if (c.kind === 'tx') bases.add(c.key);
  const out: AtomicityViolation[] = [];
  for (const base of [...bases].sort()) {
    const [ka, kb] = pairKeys(base);
    if (!finals.has(ka) || !finals.has(kb)) continue; // unread keys are reported by the history check
    const a = finals.get(ka)!;
    const b = finals.get(kb)!;
    const ta = a === null ? null : a.endsWith('/a') ? a.slice(0, -2) : `?${a}`;
    const tb = b === null ? null : b.endsWith('/b') ? b.slice(0, -2) : `?${b}`;
    if (ta !== tb) out.push({ base, a, b });
  }
  return out;
}

/**
 * Registers, hash fields and pair keys as single-key operations for fault-checker.ts: every
 * command starts when its batch was sent and ends when its own reply came. A transaction is one
 * write of `${value}/a` and one of `${value}/b`.
 */
export function singleKeyHistory(records: readonly PipelineRecord[]): Op[] {
  const out: Op[] = [];
  for (const r of records) {
    for (const c of r.commands) {
      const base = { client: r.client, start: r.start, end: c.end, result: c.result, node: r.node, ...(c.open ? { open: true } : {}), ...(c.error ? { error: c.error } : {}) };
      switch (c.kind) {
        case 'set':
          out.push({ ...base, op: 'set', key: c.key, value: c.value! });
          break;
        case 'del':
          out.push({ ...base, op: 'del', key: c.key, value: null });
          break;
        case 'hset':
          out.push({ ...base, op: 'set', key: fieldKey(c.key, c.field!), value: c.value! });
          break;
        case 'tx': {
          const [a, b] = pairKeys(c.key);
          out.push({ ...base, op: 'set', key: a, value: `${c.value}/a` }, { ...base, op: 'set', key: b, value: `${c.value}/b` });
          break;
        }
        case 'get':
          if (!isCounterKey(c.key) && !isLogKey(c.key) && !c.malformed) out.push({ ...base, op: 'get', key: c.key, value: c.read ?? null });
          break;
        case 'hget':
          if (!c.malformed) out.push({ ...base, op: 'get', key: fieldKey(c.key, c.field!), value: c.read ?? null });
          break;
        default:
          break;
      }
    }
  }
  return out;
}

/** Private keys: the final value is the connection's last acknowledged write in send order, or later. */
export function checkLastWrites(records: readonly PipelineRecord[], finals: FinalState): LastWriteViolation[] {
  const writes = new Map<string, Array<{ client: number; value: string | null; result: OpResult; open: boolean }>>();
  const ordered = [...records].sort((x, y) => x.client - y.client || x.seq - y.seq);
  for (const r of ordered) {
    for (const c of r.commands) {
      const put = (key: string, value: string | null): void => {
        let l = writes.get(key);
        if (l === undefined) writes.set(key, (l = []));
        l.push({ client: r.client, value, result: c.result, open: c.open === true });
      };
      if (c.kind === 'set') put(c.key, c.value!);
      else if (c.kind === 'del') put(c.key, null);
      else if (c.kind === 'hset') put(fieldKey(c.key, c.field!), c.value!);
      else if (c.kind === 'tx') {
        const [a, b] = pairKeys(c.key);
        put(a, `${c.value}/a`);
        put(b, `${c.value}/b`);
      }
    }
  }
  const out: LastWriteViolation[] = [];
  for (const [key, list] of writes) {
    if (!finals.has(key)) continue;
    let last = -1;
    list.forEach((w, i) => {
      if (w.result === 'ok') last = i;
    });
    if (last < 0) continue;
    const final = finals.get(key)!;
    const explains = (w: (typeof list)[number], i: number): boolean => w.value === final && w.result !== 'fail' && (i >= last || w.open);
    if (!list.some(explains)) {
      out.push({ key, client: list[last]!.client, final, lastAcked: String(list[last]!.value), problem: 'final value older than the last acknowledged write of its only writer' });
    }
  }
  return out;
}

/** Read-your-writes on counters and logs across connections and batches (only promised when W + R > N). */
export function checkSharedReads(records: readonly PipelineRecord[]): SharedStaleRead[] {
  interface Ev { key: string; client: number; seq: number; start: number; end: number; c: PCommand }
  const byKey = new Map<string, Ev[]>();
  for (const r of records) {
    for (const c of r.commands) {
      if (c.result !== 'ok' || c.malformed) continue;
      if (!(isCounterKey(c.key) || isLogKey(c.key)) || !(c.kind === 'get' || c.kind === 'incr' || c.kind === 'append')) continue;
      const l = byKey.get(c.key) ?? [];
      l.push({ key: c.key, client: r.client, seq: r.seq, start: r.start, end: c.end, c });
      byKey.set(c.key, l);
    }
  }
  const out: SharedStaleRead[] = [];
  for (const [key, evs] of byKey) {
    const writes = evs.filter((e) => e.c.kind !== 'get').sort((x, y) => x.end - y.end);
    const reads = [...evs].sort((x, y) => x.start - y.start);
    let i = 0;
    let best: Ev | undefined; // the acknowledged write with the highest reply among those ended so far
    const tokens: Ev[] = []; // acknowledged APPENDs ended so far
    for (const r of reads) {
      while (i < writes.length && writes[i]!.end < r.start) {
        const w = writes[i++]!;
        if (best === undefined || w.c.n! > best.c.n!) best = w;
        if (w.c.kind === 'append') tokens.push(w);
      }
      if (best === undefined) continue;
      const flag = (missed: Ev): void => {
        out.push({ key, client: r.client, seq: r.seq, start: r.start, command: describeCommand(r.c), missed: { client: missed.client, seq: missed.seq, end: missed.end, command: describeCommand(missed.c) } });
      };
      if (isCounterKey(key)) {
        const need = best.c.n! + (r.c.kind === 'incr' ? r.c.amount! : 0);
        const got = r.c.kind === 'incr' ? r.c.n! : counterValue(r.c.read ?? null);
        if (got !== undefined && got < need) flag(best);
      } else if (r.c.kind === 'append') {
        if (r.c.n! < best.c.n! + r.c.value!.length) flag(best);
      } else {
        const s = r.c.read ?? '';
        if (s.length < best.c.n!) flag(best);
        else {
          const held = new Set(s.match(TOKEN) ?? []);
          const lacking = tokens.find((t) => !held.has(t.c.value!));
          if (lacking) flag(lacking);
        }
      }
    }
  }
  return out;
}

export function checkPipelines(records: readonly PipelineRecord[], finals: FinalState, options: CheckOptions): PipelineReport {
  return {
    order: checkBatchOrder(records),
    sharedStaleReads: options.readYourWrites ? checkSharedReads(records) : [],
    lastWrites: checkLastWrites(records, finals),
    counters: checkCounters(records, finals),
    appends: checkAppends(records, finals),
    atomicity: checkAtomicity(records, finals),
    history: checkHistory(singleKeyHistory(records), new Map([...finals].filter(([k]) => !isCounterKey(k) && !isLogKey(k))), options),
  };
}

export function pipelineViolationCount(r: PipelineReport, staleReadsCount: boolean): number {
  const h = r.history;
  return r.order.length + r.lastWrites.length + r.counters.length + r.appends.length + r.atomicity.length +
    h.lostWrites.length + h.resurrections.length + h.phantoms.length + h.unreadKeys.length + (staleReadsCount ? h.staleReads.length + r.sharedStaleReads.length : 0);
}
