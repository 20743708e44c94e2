/**
 * The fault suite's pipelined workload: clients that keep several commands in flight on one
 * connection, as applications do. Two kinds of client:
 * - `pipeline`: a RESP pipeline of 2–20 commands in one write on the fault client's own
 *   connection (one send per command, every outcome classified as in fault-client.ts);
 * - `ioredis`: the same batches as that many concurrent `call`s on one ioredis connection per node
 *   (what `Promise.all` over a client does), with resending, the offline queue and reconnecting
 *   turned off so that every command is sent at most once.
 * A batch goes to one node and names only keys the client's slot map gives that node (as a
 * cluster client's pipeline does); it mixes SET/GET/DEL on the client's own registers, HSET/HGET on
 * its own hashes, MULTI/SET/SET/EXEC on its own pairs of one-slot keys, INCR/INCRBY on counters and
 * APPEND of unique tokens on logs that every client shares. What each command answered is
 * recorded for fault-pipeline-checker.ts; after healing, `finalState` reads every key with R=N.
 */
import { Redis } from 'ioredis';
import { keySlot } from '../../src/cluster/slot.js';
import { Prng } from '../sim/prng.js';
import { FaultClusterClient, ReplyError, TransportError, definitelyNoEffect, relayGaveUp, type Address, type Reply } from './fault-client.js';
import type { RunClock } from './fault-history.js';
import { fieldKey, pairKeys, type PCommand, type PipelineRecord } from './fault-pipeline-checker.js';

export interface PipelineWorkloadOptions {
  seeds: readonly Address[];
  /** Raw RESP pipeline clients and ioredis clients. */
  pipelineClients: number;
  ioredisClients: number;
  seed: number;
  r: number;
  w: number;
  opTimeoutMs: number;
  /** Unique per run: prefixes every key, value and token. */
  prefix: string;
  /** Client numbers start here (to tell them from the single-command workload's in reports). */
  firstClient?: number;
}

const REGISTERS = 4;
const HASHES = 2;
const FIELDS = 3;
const PAIRS = 2;
const COUNTERS = 6;
const LOGS = 6;

type EntityKind = 'register' | 'hash' | 'pair' | 'counter' | 'log';
interface Entity {
  kind: EntityKind;
  key: string;
  slot: number;
}

/** One wire command's outcome: its reply, or why there is none, and when that was known. */
export type WireOutcome = { reply: Reply; at: number } | { error: TransportError; at: number };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every key the workload may touch, for the final pass: key → the read that gives its value. */
export function workloadReads(opts: Pick<PipelineWorkloadOptions, 'pipelineClients' | 'ioredisClients' | 'prefix' | 'firstClient'>): Array<{ id: string; key: string; args: string[] }> {
  const out: Array<{ id: string; key: string; args: string[] }> = [];
  const first = opts.firstClient ?? 0;
  for (let c = first; c < first + opts.pipelineClients + opts.ioredisClients; c++) {
    for (const e of ownEntities(opts.prefix, c)) {
      if (e.kind === 'register') out.push({ id: e.key, key: e.key, args: ['GET', e.key] });
      if (e.kind === 'hash') for (let f = 0; f < FIELDS; f++) out.push({ id: fieldKey(e.key, `f${f}`), key: e.key, args: ['HGET', e.key, `f${f}`] });
      if (e.kind === 'pair') for (const k of pairKeys(e.key)) out.push({ id: k, key: k, args: ['GET', k] });
    }
  }
  for (const e of sharedEntities(opts.prefix)) out.push({ id: e.key, key: e.key, args: ['GET', e.key] });
  return out;
}

function entity(kind: EntityKind, key: string): Entity {
  // A pair's keys share the slot of its hash tag.
  return { kind, key, slot: keySlot(Buffer.from(kind === 'pair' ? pairKeys(key)[0] : key)) };
}

function ownEntities(prefix: string, c: number): Entity[] {
  return [
    ...Array.from({ length: REGISTERS }, (_, i) => entity('register', `${prefix}:c${c}:r${i}`)),
    ...Array.from({ length: HASHES }, (_, i) => entity('hash', `${prefix}:c${c}:h${i}`)),
    ...Array.from({ length: PAIRS }, (_, i) => entity('pair', `{${prefix}:c${c}:m${i}}`)),
  ];
}

function sharedEntities(prefix: string): Entity[] {
  return [
    ...Array.from({ length: COUNTERS }, (_, i) => entity('counter', `${prefix}:ctr:${i}`)),
    ...Array.from({ length: LOGS }, (_, i) => entity('log', `${prefix}:log:${i}`)),
  ];
}

/** A planned command: what it is (for the record) and the wire commands that carry it. */
export interface Planned {
  cmd: Omit<PCommand, 'result' | 'end'>;
  wire: string[][];
}

function plan(rng: Prng, e: Entity, tag: string): Planned {
  const x = rng.next();
  switch (e.kind) {
    case 'register':
      if (x < 0.4) return { cmd: { kind: 'set', key: e.key, value: tag }, wire: [['SET', e.key, tag]] };
      if (x < 0.55) return { cmd: { kind: 'del', key: e.key }, wire: [['DEL', e.key]] };
      return { cmd: { kind: 'get', key: e.key }, wire: [['GET', e.key]] };
    case 'hash': {
      const field = `f${rng.int(0, FIELDS - 1)}`;
      if (x < 0.5) return { cmd: { kind: 'hset', key: e.key, field, value: tag }, wire: [['HSET', e.key, field, tag]] };
      return { cmd: { kind: 'hget', key: e.key, field }, wire: [['HGET', e.key, field]] };
    }
    case 'pair': {
      const [a, b] = pairKeys(e.key);
      if (x < 0.5) return { cmd: { kind: 'tx', key: e.key, value: tag }, wire: [['MULTI'], ['SET', a, `${tag}/a`], ['SET', b, `${tag}/b`], ['EXEC']] };
      const k = x < 0.75 ? a : b;
      return { cmd: { kind: 'get', key: k }, wire: [['GET', k]] };
    }
    case 'counter':
      if (x < 0.4) return { cmd: { kind: 'incr', key: e.key, amount: 1 }, wire: [['INCR', e.key]] };
      if (x < 0.7) {
        const n = rng.int(2, 9);
        return { cmd: { kind: 'incr', key: e.key, amount: n }, wire: [['INCRBY', e.key, String(n)]] };
      }
      return { cmd: { kind: 'get', key: e.key }, wire: [['GET', e.key]] };
    case 'log':
      if (x < 0.6) return { cmd: { kind: 'append', key: e.key, value: `${tag};` }, wire: [['APPEND', e.key, `${tag};`]] };
      return { cmd: { kind: 'get', key: e.key }, wire: [['GET', e.key]] };
  }
}

const isRedirect = (m: string): boolean => m.startsWith('MOVED ') || m.startsWith('ASK ');

/** Classifies one planned command from the outcomes of its wire commands. */
export function classify(p: Planned, outs: readonly WireOutcome[]): PCommand {
  const cmd: PCommand = { ...p.cmd, result: 'ok', end: Math.max(...outs.map((o) => o.at)) };
  const isWrite = cmd.kind !== 'get' && cmd.kind !== 'hget';
  const transport = outs.find((o): o is { error: TransportError; at: number } => 'error' in o);
  if (transport) {
    // Nothing sent is no effect; a dropped connection or a timeout may have let it run.
    const e = transport.error;
    cmd.error = `${e.kind}: ${e.message}`;
    if (!isWrite || e.kind === 'refused') cmd.result = 'fail';
    else {
      cmd.result = 'unknown';
      if (e.kind === 'timeout') cmd.open = true;
    }
    return cmd;
  }
  const replies = outs.map((o) => (o as { reply: Reply }).reply);
  const errorOf = (r: Reply): string | undefined => (r instanceof ReplyError ? r.message : undefined);
  const bad = (why: string): PCommand => {
    cmd.malformed = why;
    cmd.result = isWrite ? 'unknown' : 'fail';
    return cmd;
  };
  const onError = (m: string): PCommand => {
    cmd.error = m;
    cmd.result = !isWrite || isRedirect(m) || definitelyNoEffect(m) ? 'fail' : 'unknown';
    if (cmd.result === 'unknown' && relayGaveUp(m)) cmd.open = true;
    return cmd;
  };
  if (cmd.kind === 'tx') {
    const [multi, sa, sb, exec] = replies;
    if (errorOf(multi!) !== undefined || multi !== 'OK') return bad(`MULTI answered ${JSON.stringify(multi)}`);
    for (const q of [sa, sb]) {
      const m = errorOf(q!);
      if (m === undefined && q !== 'QUEUED') return bad(`a command inside MULTI answered ${JSON.stringify(q)}`);
    }
    const m = errorOf(exec!);
    if (m !== undefined) {
      // EXECABORT: a queued command was refused (MOVED, CROSSSLOT …), nothing ran.
      if (m.startsWith('EXECABORT')) {
        cmd.error = m;
        cmd.result = 'fail';
        return cmd;
      }
      return onError(m);
    }
    if (!Array.isArray(exec) || exec.length !== 2) return bad(`EXEC answered ${JSON.stringify(exec)}`);
    const inner = exec.map(errorOf).find((x) => x !== undefined);
    if (inner !== undefined) {
      cmd.error = `inside EXEC: ${inner}`;
      cmd.result = 'unknown';
      return cmd;
    }
    if (exec[0] !== 'OK' || exec[1] !== 'OK') return bad(`EXEC answered ${JSON.stringify(exec)}`);
    return cmd;
  }
  const reply = replies[0]!;
  const m = errorOf(reply);
  if (m !== undefined) return onError(m);
  switch (cmd.kind) {
    case 'set':
      return reply === 'OK' ? cmd : bad(`SET answered ${JSON.stringify(reply)}`);
    case 'del':
    case 'hset':
      return typeof reply === 'number' && reply >= 0 && reply <= 1 ? cmd : bad(`${cmd.kind.toUpperCase()} answered ${JSON.stringify(reply)}`);
    case 'incr':
    case 'append':
      if (typeof reply !== 'number') return bad(`${cmd.kind === 'incr' ? 'INCR' : 'APPEND'} answered ${JSON.stringify(reply)}`);
      cmd.n = reply;
      return cmd;
    case 'get':
    case 'hget':
      if (reply !== null && typeof reply !== 'string') return bad(`${cmd.kind.toUpperCase()} answered ${JSON.stringify(reply)}`);
      cmd.read = reply;
      return cmd;
  }
}

/** Sends batches over one ioredis connection per node: concurrent calls, each sent once (also used by fault-collections.ts). */
export class IoredisTransport {
  private readonly conns = new Map<string, Promise<Redis>>();

  constructor(private readonly opts: PipelineWorkloadOptions) {}

  private connect(node: string, address: Address): Promise<Redis> {
    let p = this.conns.get(node);
    if (p === undefined) {
      p = (async () => {
        const r = new Redis({
          host: address.host, port: address.port, lazyConnect: true, enableReadyCheck: false,
          // Each command at most once: no resend after a reconnect, no queue while offline, no retry.
          maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResendUnfulfilledCommands: false,
          retryStrategy: () => null, connectTimeout: 1000, commandTimeout: this.opts.opTimeoutMs,
        });
        r.on('error', () => undefined);
        try {
          await r.connect();
          await r.call('RINGKV.CONSISTENCY', 'R', String(this.opts.r), 'W', String(this.opts.w));
        } catch (e) {
          r.disconnect();
          throw e;
        }
        return r;
      })();
      this.conns.set(node, p);
      p.catch(() => this.conns.delete(node));
    }
    return p;
  }

  drop(node: string): void {
    const p = this.conns.get(node);
    this.conns.delete(node);
    void p?.then((r) => r.disconnect(), () => undefined);
  }

  async send(node: string, address: Address, wire: readonly string[][], clock: RunClock): Promise<WireOutcome[]> {
    let r: Redis;
    try {
      r = await this.connect(node, address);
    } catch (e) {
      const at = clock.now();
      return wire.map(() => ({ error: new TransportError('refused', `connect: ${(e as Error).message}`), at }));
    }
    if (r.status !== 'ready' && r.status !== 'connect') {
      this.drop(node);
      const at = clock.now();
      return wire.map(() => ({ error: new TransportError('refused', `connection ${r.status}`), at }));
    }
    // All issued in one tick: ioredis writes them back to back on the one socket.
    return Promise.all(wire.map(([name, ...args]) => r.call(name!, ...args).then(
      (reply) => ({ reply: fromIoredis(reply), at: clock.now() }),
      (e: unknown) => {
        const err = e as Error;
        if (err.name === 'ReplyError') return { reply: new ReplyError(err.message) as Reply, at: clock.now() };
        // Rejected before it was written (offline) is no effect; a timeout may still run; a drop may have.
        const kind = /enableOfflineQueue|Stream isn't writeable/.test(err.message) ? 'refused' : /timed out/i.test(err.message) ? 'timeout' : 'closed';
        return { error: new TransportError(kind, err.message), at: clock.now() };
      },
    )));
  }

  close(): void {
    for (const node of [...this.conns.keys()]) this.drop(node);
  }
}

function fromIoredis(v: unknown): Reply {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (v instanceof Error) return new ReplyError(v.message);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(fromIoredis);
  return String(v);
}

export interface PipelineStats {
  batches: number;
  commands: number;
  ok: number;
  failed: number;
  unknown: number;
  malformed: number;
  increments: number;
  appends: number;
  transactions: number;
}

export class PipelineWorkload {
  readonly records: PipelineRecord[] = [];
  private stopping = false;
  private readonly loops: Array<Promise<void>> = [];
  private readonly closers: Array<() => void> = [];

  constructor(private readonly opts: PipelineWorkloadOptions, private readonly clock: RunClock) {}

  start(): void {
    const first = this.opts.firstClient ?? 0;
    const total = this.opts.pipelineClients + this.opts.ioredisClients;
    for (let i = 0; i < total; i++) {
      const c = first + i;
      const transport = i < this.opts.pipelineClients ? 'pipeline' : 'ioredis';
      this.loops.push(this.loop(c, transport).catch((e: unknown) => {
        throw new Error(`pipelined client ${c} (${transport}) stopped: ${(e as Error).stack ?? String(e)}`);
      }));
    }
  }

  private async loop(c: number, transport: PipelineRecord['transport']): Promise<void> {
    const rng = new Prng((this.opts.seed * 31337 + c * 7919) >>> 0);
    const client = new FaultClusterClient({ seeds: this.opts.seeds, r: this.opts.r, w: this.opts.w, opTimeoutMs: this.opts.opTimeoutMs, random: () => rng.next() });
    const io = transport === 'ioredis' ? new IoredisTransport(this.opts) : undefined;
    this.closers.push(() => client.close(), () => io?.close());
    const entities = [...ownEntities(this.opts.prefix, c), ...sharedEntities(this.opts.prefix)];
    await client.refreshSlots(true);
    let tagSeq = 0;
    for (let seq = 0; !this.stopping; seq++) {
      // One node per batch, keys it owns by the client's map.
      const byNode = new Map<string, Entity[]>();
      for (const e of entities) {
        const owner = client.ownerOf(e.slot);
        if (owner === undefined) continue;
        byNode.set(owner, [...(byNode.get(owner) ?? []), e]);
      }
      const nodes = [...byNode.keys()];
      if (nodes.length === 0) {
        await client.refreshSlots(true);
        await sleep(100);
        continue;
      }
      const node = rng.pick(nodes);
      const pool = byNode.get(node)!;
      const chosen = Array.from({ length: Math.min(pool.length, rng.int(1, 3)) }, () => rng.pick(pool));
      const length = rng.int(2, 20);
      const planned: Planned[] = [];
      let wireCount = 0;
      while (wireCount < length) {
        const p = plan(rng, rng.pick(chosen), `${this.opts.prefix}.c${c}.${tagSeq++}`);
        planned.push(p);
        wireCount += p.wire.length;
      }
      const wire = planned.flatMap((p) => p.wire);
      const address = client.addressOf(node)!;
      const start = this.clock.now();
      let outs: WireOutcome[];
      if (io) outs = await io.send(node, address, wire, this.clock);
      else outs = await this.sendRaw(client, node, wire);
      const commands: PCommand[] = [];
      let w = 0;
      for (const p of planned) {
        commands.push(classify(p, outs.slice(w, w + p.wire.length)));
        w += p.wire.length;
      }
      this.records.push({ client: c, transport, seq, node, start, commands });
      const troubled = outs.some((o) => 'error' in o || (o.reply instanceof ReplyError));
      if (troubled) {
        if (outs.some((o) => 'error' in o)) {
          client.dropConnection(node);
          io?.drop(node);
        }
        await client.refreshSlots();
        await sleep(20 + rng.int(0, 30)); // no hot loop against a refusing node
      }
    }
  }

  private async sendRaw(client: FaultClusterClient, node: string, wire: readonly string[][]): Promise<WireOutcome[]> {
    try {
      const conn = await client.connectionTo(node);
      return await Promise.all(conn.pipeline(wire, this.opts.opTimeoutMs).map((p) => p.then(
        (reply): WireOutcome => ({ reply, at: this.clock.now() }),
        (e: unknown): WireOutcome => ({ error: e instanceof TransportError ? e : new TransportError('closed', String(e)), at: this.clock.now() }),
      )));
    } catch (e) {
      const at = this.clock.now();
      const err = e instanceof TransportError ? new TransportError('refused', e.message) : new TransportError('refused', String(e));
      return wire.map(() => ({ error: err, at }));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    try {
      await Promise.all(this.loops);
    } finally {
      for (const close of this.closers) close();
    }
  }

  stats(): PipelineStats {
    const s: PipelineStats = { batches: this.records.length, commands: 0, ok: 0, failed: 0, unknown: 0, malformed: 0, increments: 0, appends: 0, transactions: 0 };
    for (const r of this.records) {
      for (const c of r.commands) {
        s.commands++;
        if (c.result === 'ok') s.ok++;
        else if (c.result === 'fail') s.failed++;
        else s.unknown++;
        if (c.malformed) s.malformed++;
        if (c.result === 'ok' && c.kind === 'incr') s.increments++;
        if (c.result === 'ok' && c.kind === 'append') s.appends++;
        if (c.result === 'ok' && c.kind === 'tx') s.transactions++;
      }
    }
    return s;
  }
}

/**
 * Reads every key of the pipelined workload with read quorum `r` (R=N read-repairs), retrying
 * what fails until `deadlineMs`. Returns id → value (see `workloadReads`) and what stayed unread.
 */
export async function pipelineFinalState(seeds: readonly Address[], reads: ReadonlyArray<{ id: string; key: string; args: string[] }>, opts: { r: number; deadlineMs: number }): Promise<{ values: Map<string, string | null>; errors: string[] }> {
  const client = new FaultClusterClient({ seeds, r: opts.r, opTimeoutMs: 5000 });
  const values = new Map<string, string | null>();
  const errors: string[] = [];
  const deadline = Date.now() + opts.deadlineMs;
  try {
    await client.refreshSlots(true);
    let todo = [...reads];
    while (todo.length > 0 && Date.now() < deadline) {
      const failed: typeof todo = [];
      for (const rd of todo) {
        const out = await client.call(rd.key, rd.args, false);
        if (out.status === 'ok' && (out.reply === null || typeof out.reply === 'string')) values.set(rd.id, out.reply);
        else {
          failed.push(rd);
          errors.push(`${rd.args.join(' ')}@${out.node ?? '?'}: ${out.error ?? JSON.stringify(out.reply)}`);
        }
      }
      todo = failed;
      if (todo.length > 0) {
        await sleep(300);
        await client.refreshSlots(true);
      }
    }
    return { values, errors };
  } finally {
    client.close();
  }
}
