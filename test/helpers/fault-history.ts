/**
 * The fault suite's workload: concurrent clients writing unique values (SET), deleting (DEL) and
 * reading keys back (GET) on a small key space, recording every operation with its invocation and
 * completion time on one monotonic clock and its outcome (ok | fail | unknown), for the checkers in
 * fault-checker.ts. Also the passes run after healing: a full-quorum read of every key (with read
 * repair) and per-replica local reads to see whether the replicas agree.
 */
import { performance } from 'node:perf_hooks';
import { Prng } from '../sim/prng.js';
import type { Op, OpKind } from './fault-checker.js';
import { FaultClusterClient, ReplyError, nodeCall, addrKey, type Address, type CallOutcome } from './fault-client.js';

export type { Op } from './fault-checker.js';

export interface WorkloadOptions {
  seeds: readonly Address[];
  keys: readonly string[];
  clients: number;
  seed: number;
  /** Quorums every client connection asks for (RINGKV.CONSISTENCY). */
  r: number;
  w: number;
  /** A command unanswered for this long is abandoned (an open unknown for writes). */
  opTimeoutMs: number;
  /** Relative weights of the operations. */
  mix?: { set: number; del: number; get: number };
  /** Pause between one client's operations. */
  thinkMs?: number;
  /** Reads may be coordinated by any replica (READONLY). */
  readonlyReads?: boolean;
  /** Prefix of every written value (unique per run). */
  valuePrefix?: string;
}

const DEFAULT_MIX = { set: 0.5, del: 0.1, get: 0.4 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A clock shared by the workload and the fault injector, in ms since the run began. */
export class RunClock {
  private readonly t0 = performance.now();
  now(): number {
    return Math.round((performance.now() - this.t0) * 1000) / 1000;
  }
}

export class Workload {
  readonly history: Op[] = [];
  private stopping = false;
  private loops: Array<Promise<void>> = [];
  private readonly clients: FaultClusterClient[] = [];

  constructor(private readonly opts: WorkloadOptions, readonly clock = new RunClock()) {}

  start(): void {
    const mix = this.opts.mix ?? DEFAULT_MIX;
    const total = mix.set + mix.del + mix.get;
    for (let c = 0; c < this.opts.clients; c++) {
      const rng = new Prng((this.opts.seed * 7919 + c * 104729) >>> 0);
      const client = new FaultClusterClient({
        seeds: this.opts.seeds, r: this.opts.r, w: this.opts.w, opTimeoutMs: this.opts.opTimeoutMs,
        readonlyReads: this.opts.readonlyReads, random: () => rng.next(),
      });
      this.clients.push(client);
      this.loops.push(this.loop(c, client, rng, mix, total));
    }
  }

  private async loop(c: number, client: FaultClusterClient, rng: Prng, mix: { set: number; del: number; get: number }, total: number): Promise<void> {
    await client.refreshSlots(true);
    const prefix = this.opts.valuePrefix ?? `v${this.opts.seed}`;
    for (let seq = 0; !this.stopping; seq++) {
      const key = rng.pick(this.opts.keys);
      const x = rng.next() * total;
      const kind: OpKind = x < mix.set ? 'set' : x < mix.set + mix.del ? 'del' : 'get';
      const value = kind === 'set' ? `${prefix}-c${c}-${seq}` : null;
      const args = kind === 'set' ? ['SET', key, value!] : kind === 'del' ? ['DEL', key] : ['GET', key];
      const start = this.clock.now();
      const out = await client.call(key, args, kind !== 'get');
      const end = this.clock.now();
      this.history.push(toOp(c, kind, key, value, start, end, out));
      if (out.status !== 'ok') await sleep(20 + rng.int(0, 30)); // no hot loop against a refusing node
      else if (this.opts.thinkMs) await sleep(this.opts.thinkMs);
    }
  }

  /** Stops issuing operations and waits for the ones in flight (bounded by the op timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    for (const c of this.clients) c.close();
  }

  /** Acknowledged writes so far (for progress checks while faults are active). */
  ackedWrites(sinceMs = 0): number {
    let n = 0;
    for (const o of this.history) if (o.op !== 'get' && o.result === 'ok' && o.start >= sinceMs) n++;
    return n;
  }
}

function toOp(client: number, kind: OpKind, key: string, written: string | null, start: number, end: number, out: CallOutcome): Op {
  const op: Op = { client, op: kind, key, value: written, start, end, result: out.status };
  if (out.node) op.node = out.node;
  if (out.error) op.error = out.error;
  if (out.status === 'unknown' && out.open) op.open = true;
  if (out.status === 'ok') {
    if (kind === 'get') {
      if (out.reply !== null && typeof out.reply !== 'string') {
        op.result = 'fail';
        op.error = `unexpected GET reply ${JSON.stringify(out.reply)}`;
      } else op.value = out.reply;
    } else if (kind === 'del') op.deleted = typeof out.reply === 'number' ? out.reply : -1;
  }
  return op;
}

export interface FinalReadResult {
  values: Map<string, string | null>;
  /** Keys no attempt could read (every attempt is listed in `errors`). */
  unread: string[];
  errors: string[];
  attempts: number;
}

/**
 * Reads every key with the given read quorum (R=3: all replicas answer, and the coordinator's read
 * repair brings every stale replica up to the newest version). Retries a key until `deadlineMs`.
 */
export async function finalReadPass(seeds: readonly Address[], keys: readonly string[], opts: { r: number; deadlineMs: number; opTimeoutMs?: number }): Promise<FinalReadResult> {
  const client = new FaultClusterClient({ seeds, r: opts.r, opTimeoutMs: opts.opTimeoutMs ?? 5000 });
  const values = new Map<string, string | null>();
  const errors: string[] = [];
  let attempts = 0;
  const deadline = Date.now() + opts.deadlineMs;
  try {
    await client.refreshSlots(true);
    let todo = [...keys];
    while (todo.length > 0 && Date.now() < deadline) {
      const failed: string[] = [];
      for (const key of todo) {
        attempts++;
        const out = await client.call(key, ['GET', key], false);
        if (out.status === 'ok' && (out.reply === null || typeof out.reply === 'string')) values.set(key, out.reply);
        else {
          failed.push(key);
          errors.push(`${key}@${out.node ?? '?'}: ${out.error ?? JSON.stringify(out.reply)}`);
        }
      }
      todo = failed;
      if (todo.length > 0) {
        await sleep(300);
        await client.refreshSlots(true);
      }
    }
    return { values, unread: todo, errors, attempts };
  } finally {
    client.close();
  }
}

/** key → node → what that node's own copy holds (READONLY, R=1); nodes that are no replica are left out. */
export async function replicaReads(nodes: readonly Address[], keys: readonly string[]): Promise<Map<string, Map<string, string | null>>> {
  const out = new Map<string, Map<string, string | null>>(keys.map((k) => [k, new Map<string, string | null>()]));
  await Promise.all(nodes.map(async (node) => {
    const replies = await nodeCall(node, [['READONLY'], ['RINGKV.CONSISTENCY', 'R', '1'], ...keys.map((k) => ['GET', k])], 5000);
    keys.forEach((k, i) => {
      const r = replies[i + 2];
      if (r instanceof ReplyError) {
        if (r.message.startsWith('MOVED')) return; // not a replica of this key
        throw new Error(`local read of ${k} on ${addrKey(node)}: ${r.message}`);
      }
      if (r !== null && typeof r !== 'string') throw new Error(`local read of ${k} on ${addrKey(node)}: ${JSON.stringify(r)}`);
      out.get(k)!.set(addrKey(node), r);
    });
  }));
  return out;
}

/** Keys whose replicas hold different values (or fewer than `copies` replicas answered). */
export function replicaDisagreements(reads: Map<string, Map<string, string | null>>, copies: number): Array<{ key: string; copies: Record<string, string | null> }> {
  const out: Array<{ key: string; copies: Record<string, string | null> }> = [];
  for (const [key, byNode] of reads) {
    const distinct = new Set(byNode.values());
    if (distinct.size > 1 || byNode.size < copies) out.push({ key, copies: Object.fromEntries(byNode) });
  }
  return out;
}
