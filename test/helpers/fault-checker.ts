/**
 * Pure checkers over a history recorded by real clients during a fault run (fault-history.ts).
 * They see only what clients saw: invocation and completion times on one monotonic clock, the
 * outcome, the value written (every SET writes a value never written before, so a value read back
 * names exactly one write) and the value read.
 *
 * Definitions (all per key; times in ms on the history's clock):
 * - A write is a SET (unique value) or a DEL (writes "absent"). Its outcome is `ok` (acknowledged),
 *   `fail` (definitely without effect: refused before the coordinator touched any replica) or
 *   `unknown` (it may or may not have taken effect).
 * - The effect window of a write is [start, effectEnd]: effectEnd = end for `ok` and for a bounded
 *   `unknown` (the coordinator stamped its version before the client saw the error or the
 *   connection drop), +∞ for an `open` unknown (the client stopped waiting: a coordinator that was
 *   paused may still stamp it later). `fail` writes have no effect window at all.
 * - Write x strictly precedes acknowledged write a when x.effectEnd < a.start. Last-writer-wins
 *   must then order a after x.
 * - What a read observed: a value names its write; a missing key (nil) is explained by any DEL with
 *   an effect window that began before the read ended, or by the initial state (effectEnd = -∞).
 *   Its effect end E is the writer's effectEnd, or the latest effectEnd among those explanations.
 *
 * Checks:
 * (a) no acknowledged write lost: for the final state F of a key (read after healing with a full
 *     quorum), no acknowledged SET a may have a.start > E(F). So F is the last acknowledged write, or
 *     a write (acknowledged or unknown) whose effect window reaches a.start, i.e. one concurrent with
 *     the acknowledged writes that came last.
 * (b) no deleted key returns: if F is a value whose write strictly precedes an acknowledged DEL d
 *     (writer.effectEnd < d.start), the delete was undone. Equivalently: an acknowledged DEL that no
 *     acknowledged or unknown SET follows or overlaps must read as missing.
 * (c) read-your-writes when W + R > N: a read r that started after acknowledged write a ended
 *     (a.end < r.start) must observe a or something at least as new: E(r) >= a.start. A read that
 *     returns an older acknowledged value (or nil after an acknowledged SET) is stale.
 * Plus phantoms: a read or final value that no SET of that key wrote, that only a failed SET wrote,
 * or whose SET started after the read ended; and unread keys: a key with acknowledged writes but no
 * final read, for which nothing proves the writes were kept.
 */

export type OpKind = 'set' | 'del' | 'get';
export type OpResult = 'ok' | 'fail' | 'unknown';

export interface Op {
  /** Which workload client issued it. */
  client: number;
  op: OpKind;
  key: string;
  /** set: the unique value written; get: the value read (null = missing); del: null. */
  value: string | null;
  /** Invocation and completion, ms on the history's clock. */
  start: number;
  end: number;
  result: OpResult;
  /** unknown only: the client stopped waiting, so the effect may land after `end`. */
  open?: boolean;
  /** del, ok only: how many keys the server said it removed. */
  deleted?: number;
  /** host:port of the node that answered last (diagnostics). */
  node?: string;
  /** The error reply or transport failure (diagnostics). */
  error?: string;
}

/** Final value of each key, read after healing; a key absent from the map could not be read. */
export type FinalState = ReadonlyMap<string, string | null>;

export interface WriteRef {
  client: number;
  op: 'set' | 'del';
  value: string | null;
  start: number;
  end: number;
  result: OpResult;
  open?: boolean;
}

export interface LostWrite {
  key: string;
  /** The acknowledged SET that the final state does not reflect. */
  lost: WriteRef;
  final: string | null;
  /** The write the final value came from (undefined for nil or a phantom). */
  finalWriter: WriteRef | undefined;
}

export interface Resurrection {
  key: string;
  final: string;
  finalWriter: WriteRef;
  /** The latest acknowledged DEL the final value's write strictly precedes. */
  undoneDelete: WriteRef;
  /** How many acknowledged DELs the final value's write strictly precedes. */
  deletesUndone: number;
}

export interface StaleRead {
  key: string;
  client: number;
  start: number;
  end: number;
  got: string | null;
  /** The acknowledged write, finished before the read started, that the read does not reflect. */
  missed: WriteRef;
}

export interface Phantom {
  key: string;
  /** 'read' for a workload read, 'final' for the final state. */
  where: 'read' | 'final';
  value: string;
  reason: 'never-written' | 'other-key' | 'failed-write' | 'future-write';
  client?: number;
  start?: number;
}

export interface CheckOptions {
  /** Check read-your-writes (c): only promised when W + R > N. */
  readYourWrites: boolean;
}

export interface CheckReport {
  lostWrites: LostWrite[];
  resurrections: Resurrection[];
  staleReads: StaleRead[];
  phantoms: Phantom[];
  unreadKeys: string[];
}

export interface HistoryStats {
  operations: number;
  sets: number;
  dels: number;
  gets: number;
  ok: number;
  failed: number;
  unknown: number;
  openUnknown: number;
  ackedWrites: number;
  ackedSets: number;
  ackedDels: number;
  okReads: number;
}

interface KeyIndex {
  /** SETs and DELs that may have taken effect (ok or unknown). */
  effective: Op[];
  acked: Op[];
  reads: Op[];
  /** DELs that may have taken effect, by start, with the running maximum of their effect ends. */
  delStarts: number[];
  delMaxEnd: number[];
}

interface Explained {
  /** The effect end of what the observation came from; -Infinity for the initial state. */
  effectEnd: number;
  writer: Op | undefined;
  phantom: Phantom['reason'] | undefined;
}

const isWrite = (o: Op): boolean => o.op === 'set' || o.op === 'del';

/** End of a write's effect window; undefined for a write that had no effect. */
export function effectEnd(o: Op): number | undefined {
  if (o.result === 'fail') return undefined;
  if (o.result === 'unknown' && o.open) return Number.POSITIVE_INFINITY;
  return o.end;
}

function ref(o: Op): WriteRef {
  const r: WriteRef = { client: o.client, op: o.op as 'set' | 'del', value: o.value, start: o.start, end: o.end, result: o.result };
  if (o.open) r.open = true;
  return r;
}

/** Indexes SETs by their unique value; throws when the workload broke the uniqueness contract. */
function valueIndex(history: readonly Op[]): Map<string, Op> {
  const out = new Map<string, Op>();
  for (const o of history) {
    if (o.op !== 'set') continue;
    if (o.value === null) throw new Error(`SET of ${o.key} by client ${o.client} has no value`);
    if (out.has(o.value)) throw new Error(`value ${o.value} written twice: writes must be unique`);
    out.set(o.value, o);
  }
  return out;
}

function indexByKey(history: readonly Op[]): Map<string, KeyIndex> {
  const out = new Map<string, KeyIndex>();
  const get = (key: string): KeyIndex => {
    let k = out.get(key);
    if (k === undefined) out.set(key, (k = { effective: [], acked: [], reads: [], delStarts: [], delMaxEnd: [] }));
    return k;
  };
  for (const o of history) {
    const k = get(o.key);
    if (isWrite(o)) {
      if (o.result !== 'fail') k.effective.push(o);
      if (o.result === 'ok') k.acked.push(o);
    } else if (o.result === 'ok') k.reads.push(o);
  }
  for (const k of out.values()) {
    const dels = k.effective.filter((w) => w.op === 'del').sort((x, y) => x.start - y.start);
    let max = Number.NEGATIVE_INFINITY;
    for (const d of dels) {
      max = Math.max(max, effectEnd(d)!);
      k.delStarts.push(d.start);
      k.delMaxEnd.push(max);
    }
  }
  return out;
}

/** The latest effect end among DELs that started at or before `t` (-Infinity: none). */
function latestDelEnd(idx: KeyIndex | undefined, t: number): number {
  if (idx === undefined) return Number.NEGATIVE_INFINITY;
  let lo = 0;
  let hi = idx.delStarts.length; // first index with start > t
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (idx.delStarts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? Number.NEGATIVE_INFINITY : idx.delMaxEnd[lo - 1]!;
}

/** What a read of `key` that ended at `readEnd` returning `value` can be explained by. */
function explain(key: string, value: string | null, readEnd: number, idx: KeyIndex | undefined, values: Map<string, Op>): Explained {
  if (value === null) return { effectEnd: latestDelEnd(idx, readEnd), writer: undefined, phantom: undefined };
  const writer = values.get(value);
  if (writer === undefined) return { effectEnd: Number.NEGATIVE_INFINITY, writer: undefined, phantom: 'never-written' };
  if (writer.key !== key) return { effectEnd: Number.NEGATIVE_INFINITY, writer: undefined, phantom: 'other-key' };
  if (writer.result === 'fail') return { effectEnd: Number.NEGATIVE_INFINITY, writer, phantom: 'failed-write' };
  if (writer.start > readEnd) return { effectEnd: Number.NEGATIVE_INFINITY, writer, phantom: 'future-write' };
  return { effectEnd: effectEnd(writer)!, writer, phantom: undefined };
}

/** Values read (during the run or finally) that no legitimate write explains. */
export function checkPhantoms(history: readonly Op[], finals: FinalState): Phantom[] {
  const values = valueIndex(history);
  const keys = indexByKey(history);
  const out: Phantom[] = [];
  for (const [key, idx] of keys) {
    for (const r of idx.reads) {
      if (r.value === null) continue;
      const e = explain(key, r.value, r.end, idx, values);
      if (e.phantom) out.push({ key, where: 'read', value: r.value, reason: e.phantom, client: r.client, start: r.start });
    }
  }
  for (const [key, value] of finals) {
    if (value === null) continue;
    const e = explain(key, value, Number.POSITIVE_INFINITY, keys.get(key), values);
    if (e.phantom) out.push({ key, where: 'final', value, reason: e.phantom });
  }
  return out;
}

/** (a) Acknowledged SETs the final state does not reflect. */
export function checkNoLostWrites(history: readonly Op[], finals: FinalState): LostWrite[] {
  const values = valueIndex(history);
  const out: LostWrite[] = [];
  for (const [key, idx] of indexByKey(history)) {
    if (!finals.has(key)) continue; // reported by checkUnreadKeys
    const final = finals.get(key)!;
    const e = explain(key, final, Number.POSITIVE_INFINITY, idx, values);
    const finalWriter = e.phantom ? undefined : e.writer;
    for (const a of idx.acked) {
      if (a.op === 'set' && a.start > e.effectEnd) out.push({ key, lost: ref(a), final, finalWriter: finalWriter && ref(finalWriter) });
    }
  }
  return out;
}

/** (b) Final values whose write strictly precedes an acknowledged DEL. */
export function checkNoResurrectedDeletes(history: readonly Op[], finals: FinalState): Resurrection[] {
  const values = valueIndex(history);
  const keys = indexByKey(history);
  const out: Resurrection[] = [];
  for (const [key, final] of finals) {
    if (final === null) continue;
    const idx = keys.get(key);
    const e = explain(key, final, Number.POSITIVE_INFINITY, idx, values);
    if (e.phantom || e.writer === undefined) continue; // reported by checkPhantoms
    let latest: Op | undefined;
    let count = 0;
    for (const d of idx?.acked ?? []) {
      if (d.op !== 'del' || d.start <= e.effectEnd) continue;
      count++;
      if (latest === undefined || d.start > latest.start) latest = d;
    }
    if (latest) out.push({ key, final, finalWriter: ref(e.writer), undoneDelete: ref(latest), deletesUndone: count });
  }
  return out;
}

/** (c) Reads that miss an acknowledged write which finished before they started. */
export function checkReadYourWrites(history: readonly Op[]): StaleRead[] {
  const values = valueIndex(history);
  const out: StaleRead[] = [];
  for (const [key, idx] of indexByKey(history)) {
    // Sweep reads by start over acknowledged writes by end, keeping the latest-starting one seen.
    const acked = [...idx.acked].sort((x, y) => x.end - y.end);
    const reads = [...idx.reads].sort((x, y) => x.start - y.start);
    let i = 0;
    let frontier: Op | undefined;
    for (const r of reads) {
      while (i < acked.length && acked[i]!.end < r.start) {
        const a = acked[i++]!;
        if (frontier === undefined || a.start > frontier.start) frontier = a;
      }
      if (frontier === undefined) continue;
      const e = explain(key, r.value, r.end, idx, values);
      if (e.phantom) continue; // reported by checkPhantoms
      if (e.effectEnd < frontier.start) out.push({ key, client: r.client, start: r.start, end: r.end, got: r.value, missed: ref(frontier) });
    }
  }
  return out;
}

/** Keys with acknowledged writes that the final pass could not read. */
export function checkUnreadKeys(history: readonly Op[], finals: FinalState): string[] {
  const out: string[] = [];
  for (const [key, idx] of indexByKey(history)) if (idx.acked.length > 0 && !finals.has(key)) out.push(key);
  return out.sort();
}

export function checkHistory(history: readonly Op[], finals: FinalState, options: CheckOptions): CheckReport {
  return {
    lostWrites: checkNoLostWrites(history, finals),
    resurrections: checkNoResurrectedDeletes(history, finals),
    staleReads: options.readYourWrites ? checkReadYourWrites(history) : [],
    phantoms: checkPhantoms(history, finals),
    unreadKeys: checkUnreadKeys(history, finals),
  };
}

export function violationCount(r: CheckReport): number {
  return r.lostWrites.length + r.resurrections.length + r.staleReads.length + r.phantoms.length + r.unreadKeys.length;
}

export function historyStats(history: readonly Op[]): HistoryStats {
  const s: HistoryStats = { operations: history.length, sets: 0, dels: 0, gets: 0, ok: 0, failed: 0, unknown: 0, openUnknown: 0, ackedWrites: 0, ackedSets: 0, ackedDels: 0, okReads: 0 };
  for (const o of history) {
    if (o.op === 'set') s.sets++;
    else if (o.op === 'del') s.dels++;
    else s.gets++;
    if (o.result === 'ok') s.ok++;
    else if (o.result === 'fail') s.failed++;
    else {
      s.unknown++;
      if (o.open) s.openUnknown++;
    }
    if (o.result === 'ok' && o.op === 'set') s.ackedSets++;
    if (o.result === 'ok' && o.op === 'del') s.ackedDels++;
    if (o.result === 'ok' && o.op === 'get') s.okReads++;
  }
  s.ackedWrites = s.ackedSets + s.ackedDels;
  return s;
}
