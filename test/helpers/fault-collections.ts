/**
 * The collections fault workload: clients that use lists, sets, sorted sets and hashes as
 * applications do, several commands in flight per connection. Two kinds of client, as in
 * fault-pipeline.ts: raw RESP pipelines on the fault client's own connection, and the same batches
 * as concurrent calls on one ioredis connection per node (no resend, no offline queue, no retry);
 * every command is sent at most once and its outcome classified (ok / fail / unknown, open when the
 * client stopped waiting).
 *
 * A batch goes to one node and names only keys the client's slot map gives that node. It mixes:
 * - queues (shared): RPUSH of 1–3 job ids never pushed before; LPOP, LPOP with a count, and BLPOP
 *   with a short timeout;
 * - sets (shared, each member private to one client): SADD / SREM;
 * - sorted sets and hashes (shared, members and fields shared): ZINCRBY / HINCRBY of 1–5;
 * - a stream with one consumer group (shared): XADD `*` of a new token, XREADGROUP `>` as the
 *   client's own consumer, XACK of ids the client received and has not acknowledged yet.
 * After healing, `collectionsFinalState` reads every key with R=N (LRANGE+LLEN, SMEMBERS+SCARD,
 * ZRANGE WITHSCORES+ZCARD, HGETALL+HLEN) and `slotDigestsAgree` compares each touched slot's
 * digest among its replicas; fault-collections-checker.ts judges the history.
 */
import { keySlot } from '../../src/cluster/slot.js';
import { Prng } from '../sim/prng.js';
import { FaultClusterClient, ReplyError, TransportError, definitelyNoEffect, relayGaveUp, nodeCall, addrKey, type Address, type Reply } from './fault-client.js';
import type { RunClock } from './fault-history.js';
import { IoredisTransport, type PipelineWorkloadOptions, type WireOutcome } from './fault-pipeline.js';
import { checkCollections, collectionsViolationCount, type CCommand, type CollectionsFinal, type CViolation } from './fault-collections-checker.js';
import { consumerOf, type StreamFinal } from './fault-streams-checker.js';
import type { FaultCluster } from './fault-cluster.js';
import type { ExtensionVerdict, FaultEvent, ScenarioExtension } from './fault-scenario.js';

/** The same clients and settings as the pipelined workload's (prefix: every key, job id and member). */
export type CollectionsWorkloadOptions = PipelineWorkloadOptions;

const QUEUES = 3;
const SETS = 2;
/** Members of each set private to each client. */
const OWN_MEMBERS = 5;
const ZSETS = 2;
const HASHES = 2;
const STREAMS = 2;
/** The consumer group every client reads its stream through. */
export const STREAM_GROUP = 'g';
/** The consumer that takes, after healing, what the group has not delivered yet. */
const DRAIN_CONSUMER = 'after-healing';
/** Members of each sorted set and fields of each hash, shared by every client. */
const SHARED_MEMBERS = 4;
const SHARED_NAMES = {
  zset: Array.from({ length: SHARED_MEMBERS }, (_, i) => `m${i}`),
  hash: Array.from({ length: SHARED_MEMBERS }, (_, i) => `f${i}`),
};
/** BLPOP's server-side timeout, seconds: far below the client's own. */
const BLPOP_TIMEOUT = '0.2';

type EntityKind = 'queue' | 'set' | 'zset' | 'hash' | 'stream';
interface Entity {
  kind: EntityKind;
  key: string;
  slot: number;
}

const entity = (kind: EntityKind, key: string): Entity => ({ kind, key, slot: keySlot(Buffer.from(key)) });

export function collectionEntities(prefix: string): Entity[] {
  return [
    ...Array.from({ length: QUEUES }, (_, i) => entity('queue', `${prefix}:q:${i}`)),
    ...Array.from({ length: SETS }, (_, i) => entity('set', `${prefix}:s:${i}`)),
    ...Array.from({ length: ZSETS }, (_, i) => entity('zset', `${prefix}:z:${i}`)),
    ...Array.from({ length: HASHES }, (_, i) => entity('hash', `${prefix}:h:${i}`)),
    ...Array.from({ length: STREAMS }, (_, i) => entity('stream', `${prefix}:x:${i}`)),
  ];
}

/** A planned command: what it is (for the record) and the one wire command that carries it. */
interface Planned {
  cmd: Pick<CCommand, 'kind' | 'key' | 'jobs' | 'count' | 'member' | 'amount'>;
  wire: string[];
}

/**
 * `unacked`: per stream, ids this client received from acknowledged reads and has not XACKed yet;
 * an XACK takes its ids out when it is planned, so no id is acknowledged twice.
 */
function plan(rng: Prng, e: Entity, c: number, nextJob: () => string, unacked: Map<string, string[]>): Planned {
  const x = rng.next();
  switch (e.kind) {
    case 'stream': {
      const mine = unacked.get(e.key) ?? [];
      if (x < 0.3 && mine.length > 0) {
        const ids = mine.splice(0, rng.int(1, Math.min(3, mine.length)));
        return { cmd: { kind: 'xack', key: e.key, jobs: ids }, wire: ['XACK', e.key, STREAM_GROUP, ...ids] };
      }
      if (x < 0.65) {
        const count = rng.int(1, 3);
        return { cmd: { kind: 'xreadgroup', key: e.key, count }, wire: ['XREADGROUP', 'GROUP', STREAM_GROUP, consumerOf(c), 'COUNT', String(count), 'STREAMS', e.key, '>'] };
      }
      const token = nextJob();
      return { cmd: { kind: 'xadd', key: e.key, jobs: [token] }, wire: ['XADD', e.key, '*', 't', token] };
    }
    case 'queue': {
      if (x < 0.5) {
        const jobs = Array.from({ length: rng.int(1, 3) }, nextJob);
        return { cmd: { kind: 'rpush', key: e.key, jobs }, wire: ['RPUSH', e.key, ...jobs] };
      }
      if (x < 0.72) return { cmd: { kind: 'lpop', key: e.key }, wire: ['LPOP', e.key] };
      if (x < 0.85) {
        const count = rng.int(2, 3);
        return { cmd: { kind: 'lpop', key: e.key, count }, wire: ['LPOP', e.key, String(count)] };
      }
      return { cmd: { kind: 'blpop', key: e.key }, wire: ['BLPOP', e.key, BLPOP_TIMEOUT] };
    }
    case 'set': {
      const member = `c${c}.m${rng.int(0, OWN_MEMBERS - 1)}`;
      const kind = x < 0.55 ? 'sadd' : 'srem';
      return { cmd: { kind, key: e.key, member }, wire: [kind.toUpperCase(), e.key, member] };
    }
    case 'zset': {
      const member = rng.pick(SHARED_NAMES.zset);
      const amount = rng.int(1, 5);
      return { cmd: { kind: 'zincrby', key: e.key, member, amount }, wire: ['ZINCRBY', e.key, String(amount), member] };
    }
    case 'hash': {
      const member = rng.pick(SHARED_NAMES.hash);
      const amount = rng.int(1, 5);
      return { cmd: { kind: 'hincrby', key: e.key, member, amount }, wire: ['HINCRBY', e.key, member, String(amount)] };
    }
  }
}

/**
 * XREADGROUP's reply for one stream: [[key, [[id, ['t', token]], …]]] in RESP2, a map of key to
 * entries in RESP3 (which ioredis hands over as [key, entries]).
 */
function deliveredEntries(reply: Reply, key: string): Array<[string, string]> | undefined {
  if (!Array.isArray(reply)) return undefined;
  const one = reply.length === 2 && reply[0] === key ? reply : reply.length === 1 ? reply[0] : undefined;
  if (!Array.isArray(one) || one[0] !== key || !Array.isArray(one[1])) return undefined;
  const out: Array<[string, string]> = [];
  for (const e of one[1]) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || !Array.isArray(e[1]) || e[1].length !== 2 || typeof e[1][1] !== 'string') return undefined;
    out.push([e[0], e[1][1]]);
  }
  return out;
}

const isRedirect = (m: string): boolean => m.startsWith('MOVED ') || m.startsWith('ASK ');

/** Classifies one command from its outcome. Every command of this workload may write. */
export function classifyCollection(p: Planned, o: WireOutcome, base: { client: number; order: number; start: number }): CCommand {
  const cmd: CCommand = { ...base, ...p.cmd, result: 'ok', end: o.at };
  if ('error' in o) {
    cmd.error = `${o.error.kind}: ${o.error.message}`;
    if (o.error.kind === 'refused') cmd.result = 'fail';
    else {
      cmd.result = 'unknown';
      if (o.error.kind === 'timeout') cmd.open = true;
    }
    return cmd;
  }
  const reply = o.reply;
  if (reply instanceof ReplyError) {
    cmd.error = reply.message;
    cmd.result = isRedirect(reply.message) || definitelyNoEffect(reply.message) ? 'fail' : 'unknown';
    if (cmd.result === 'unknown' && relayGaveUp(reply.message)) cmd.open = true;
    return cmd;
  }
  const bad = (): CCommand => {
    cmd.malformed = `${p.wire[0]} answered ${JSON.stringify(reply)}`;
    cmd.result = 'unknown';
    return cmd;
  };
  switch (cmd.kind) {
    case 'rpush':
    case 'sadd':
    case 'srem':
    case 'hincrby':
      if (typeof reply !== 'number') return bad();
      if ((cmd.kind === 'sadd' || cmd.kind === 'srem') && reply !== 0 && reply !== 1) return bad();
      if (cmd.kind === 'rpush' && reply < cmd.jobs!.length) return bad();
      cmd.n = reply;
      return cmd;
    case 'zincrby': {
      const score = typeof reply === 'string' ? Number(reply) : NaN;
      if (!Number.isFinite(score)) return bad();
      cmd.n = score;
      return cmd;
    }
    case 'xadd':
      if (typeof reply !== 'string' || !/^\d+-\d+$/.test(reply)) return bad();
      cmd.id = reply;
      return cmd;
    case 'xack':
      if (typeof reply !== 'number') return bad();
      cmd.n = reply;
      return cmd;
    case 'xreadgroup': {
      if (reply === null) {
        cmd.entries = [];
        return cmd;
      }
      const entries = deliveredEntries(reply, cmd.key);
      if (entries === undefined || entries.length > (cmd.count ?? 1)) return bad();
      cmd.entries = entries;
      return cmd;
    }
    case 'lpop':
      if (reply === null) cmd.popped = [];
      else if (cmd.count === undefined && typeof reply === 'string') cmd.popped = [reply];
      else if (cmd.count !== undefined && Array.isArray(reply) && reply.length >= 1 && reply.length <= cmd.count && reply.every((r) => typeof r === 'string')) cmd.popped = reply as string[];
      else return bad();
      return cmd;
    case 'blpop':
      if (reply === null) cmd.popped = [];
      else if (Array.isArray(reply) && reply.length === 2 && reply[0] === cmd.key && typeof reply[1] === 'string') cmd.popped = [reply[1]];
      else return bad();
      return cmd;
  }
}

export interface CollectionsStats {
  batches: number;
  commands: number;
  ok: number;
  failed: number;
  unknown: number;
  openUnknown: number;
  pushedJobs: number;
  poppedJobs: number;
  setOps: number;
  increments: number;
  /** Acknowledged XADDs, entries delivered by acknowledged reads, acknowledged XACKs. */
  streamAdds: number;
  delivered: number;
  streamAcks: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class CollectionsWorkload {
  readonly commands: CCommand[] = [];
  private stopping = false;
  private readonly loops: Array<Promise<void>> = [];
  private readonly closers: Array<() => void> = [];

  constructor(readonly opts: CollectionsWorkloadOptions, private readonly clock: RunClock) {}

  get keys(): string[] {
    return collectionEntities(this.opts.prefix).map((e) => e.key);
  }

  start(): void {
    const first = this.opts.firstClient ?? 0;
    const total = this.opts.pipelineClients + this.opts.ioredisClients;
    for (let i = 0; i < total; i++) {
      const c = first + i;
      const transport = i < this.opts.pipelineClients ? 'pipeline' : 'ioredis';
      this.loops.push(this.loop(c, transport).catch((e: unknown) => {
        throw new Error(`collections client ${c} (${transport}) stopped: ${(e as Error).stack ?? String(e)}`);
      }));
    }
  }

  private async loop(c: number, transport: 'pipeline' | 'ioredis'): Promise<void> {
    const rng = new Prng((this.opts.seed * 48271 + c * 7907) >>> 0);
    const client = new FaultClusterClient({ seeds: this.opts.seeds, r: this.opts.r, w: this.opts.w, opTimeoutMs: this.opts.opTimeoutMs, random: () => rng.next() });
    const io = transport === 'ioredis' ? new IoredisTransport({ ...this.opts }) : undefined;
    this.closers.push(() => client.close(), () => io?.close());
    const entities = collectionEntities(this.opts.prefix);
    await client.refreshSlots(true);
    await this.createGroups(client, entities);
    let jobSeq = 0;
    let order = 0;
    const nextJob = (): string => `${this.opts.prefix}.c${c}.j${jobSeq++}`;
    const unacked = new Map<string, string[]>();
    while (!this.stopping) {
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
      const planned = Array.from({ length: rng.int(2, 12) }, () => plan(rng, rng.pick(chosen), c, nextJob, unacked));
      const wire = planned.map((p) => p.wire);
      const start = this.clock.now();
      const outs = io ? await io.send(node, client.addressOf(node)!, wire, this.clock) : await this.sendRaw(client, node, wire);
      planned.forEach((p, i) => {
        const cmd = classifyCollection(p, outs[i]!, { client: c, order: order++, start });
        this.commands.push(cmd);
        if (cmd.kind === 'xreadgroup' && cmd.result === 'ok' && cmd.entries!.length > 0) {
          unacked.set(cmd.key, [...(unacked.get(cmd.key) ?? []), ...cmd.entries!.map(([id]) => id)]);
        }
      });
      const troubled = outs.some((o) => 'error' in o || o.reply instanceof ReplyError);
      if (troubled) {
        if (outs.some((o) => 'error' in o)) {
          client.dropConnection(node);
          io?.drop(node);
        }
        await client.refreshSlots();
        await sleep(20 + rng.int(0, 30));
      }
    }
  }

  /** Every client makes sure each stream's group exists (from id 0) before it starts; one wins, the others hear BUSYGROUP. */
  private async createGroups(client: FaultClusterClient, entities: readonly Entity[]): Promise<void> {
    for (const e of entities) {
      if (e.kind !== 'stream') continue;
      for (;;) {
        const out = await client.call(e.key, ['XGROUP', 'CREATE', e.key, STREAM_GROUP, '0', 'MKSTREAM'], true);
        if (out.status === 'ok' || out.error?.startsWith('BUSYGROUP')) break;
        if (this.stopping) return;
        await sleep(200);
        await client.refreshSlots(true);
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
      return wire.map(() => ({ error: new TransportError('refused', e instanceof Error ? e.message : String(e)), at }));
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

  /** Acknowledged writes (pushes, pops that took something, set operations, increments) in [from, to) on the run's clock. */
  ackedWrites(from = 0, to = Infinity): number {
    let n = 0;
    for (const c of this.commands) {
      if (c.result !== 'ok' || c.end < from || c.end >= to) continue;
      if ((c.kind === 'lpop' || c.kind === 'blpop') && (c.popped ?? []).length === 0) continue;
      if (c.kind === 'xreadgroup' && (c.entries ?? []).length === 0) continue;
      n++;
    }
    return n;
  }

  stats(): CollectionsStats {
    const s: CollectionsStats = { batches: 0, commands: 0, ok: 0, failed: 0, unknown: 0, openUnknown: 0, pushedJobs: 0, poppedJobs: 0, setOps: 0, increments: 0, streamAdds: 0, delivered: 0, streamAcks: 0 };
    const batches = new Set<string>();
    for (const c of this.commands) {
      batches.add(`${c.client}@${c.start}`);
      s.commands++;
      if (c.result === 'ok') s.ok++;
      else if (c.result === 'fail') s.failed++;
      else {
        s.unknown++;
        if (c.open) s.openUnknown++;
      }
      if (c.result !== 'ok') continue;
      if (c.kind === 'rpush') s.pushedJobs += c.jobs!.length;
      if (c.kind === 'lpop' || c.kind === 'blpop') s.poppedJobs += c.popped!.length;
      if (c.kind === 'sadd' || c.kind === 'srem') s.setOps++;
      if (c.kind === 'zincrby' || c.kind === 'hincrby') s.increments++;
      if (c.kind === 'xadd') s.streamAdds++;
      if (c.kind === 'xreadgroup') s.delivered += c.entries!.length;
      if (c.kind === 'xack') s.streamAcks++;
    }
    s.batches = batches.size;
    return s;
  }
}

function pairs(reply: Reply): Map<string, number> | undefined {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) return undefined;
  const out = new Map<string, number>();
  for (let i = 0; i < reply.length; i += 2) {
    const k = reply[i];
    const v = reply[i + 1];
    if (typeof k !== 'string' || typeof v !== 'string' || !Number.isFinite(Number(v))) return undefined;
    out.set(k, Number(v));
  }
  return out;
}

/**
 * After the group's state was read: delivers every entry the group has not delivered yet to one
 * more consumer, so the checker can tell that each acknowledged entry reaches the group. Undefined
 * when a read failed (its outcome unknown, what it delivered is not known either).
 */
async function drainGroup(client: FaultClusterClient, key: string, errors: string[]): Promise<string[] | undefined> {
  const drained: string[] = [];
  for (;;) {
    const out = await client.call(key, ['XREADGROUP', 'GROUP', STREAM_GROUP, DRAIN_CONSUMER, 'COUNT', '1000', 'STREAMS', key, '>'], true);
    if (out.status !== 'ok') {
      errors.push(`XREADGROUP ${key} (drain)@${out.node ?? '?'}: ${out.error ?? JSON.stringify(out.reply)}`);
      return undefined;
    }
    if (out.reply === null) return drained;
    const entries = deliveredEntries(out.reply!, key);
    if (entries === undefined) {
      errors.push(`XREADGROUP ${key} (drain) answered ${JSON.stringify(out.reply)}`);
      return undefined;
    }
    if (entries.length === 0) return drained;
    drained.push(...entries.map(([id]) => id));
  }
}

/** The stream as read back: entries, XLEN, the group's pending list and last-delivered-id. */
function streamFinal(range: Reply, len: Reply, pending: Reply, groups: Reply): StreamFinal | undefined {
  if (!Array.isArray(range) || typeof len !== 'number' || !Array.isArray(pending) || !Array.isArray(groups)) return undefined;
  const entries: Array<[string, string]> = [];
  for (const e of range) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || !Array.isArray(e[1]) || typeof e[1][1] !== 'string') return undefined;
    entries.push([e[0], e[1][1]]);
  }
  const owners = new Map<string, string>();
  for (const p of pending) {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string') return undefined;
    owners.set(p[0], p[1]);
  }
  const group = groups.find((g) => Array.isArray(g) && g[1] === STREAM_GROUP);
  if (!Array.isArray(group)) return undefined;
  const at = group.indexOf('last-delivered-id');
  const lastDelivered = group[at + 1];
  if (at < 0 || typeof lastDelivered !== 'string') return undefined;
  return { entries, len, pending: owners, lastDelivered };
}

const strings = (reply: Reply): string[] | undefined => (Array.isArray(reply) && reply.every((r) => typeof r === 'string') ? (reply as string[]) : undefined);

/**
 * Reads every collection of the workload with read quorum `r` (R=N: every replica answers and the
 * coordinator read-repairs), contents and size, retrying what fails until `deadlineMs`.
 */
export async function collectionsFinalState(seeds: readonly Address[], prefix: string, opts: { r: number; deadlineMs: number }): Promise<{ final: CollectionsFinal; errors: string[] }> {
  const client = new FaultClusterClient({ seeds, r: opts.r, opTimeoutMs: 5000 });
  const final: CollectionsFinal = { lists: new Map(), sets: new Map(), zsets: new Map(), hashes: new Map(), streams: new Map() };
  const errors: string[] = [];
  const deadline = Date.now() + opts.deadlineMs;
  const read = async (key: string, args: string[]): Promise<Reply | undefined> => {
    const out = await client.call(key, args, false);
    if (out.status === 'ok') return out.reply;
    errors.push(`${args.join(' ')}@${out.node ?? '?'}: ${out.error ?? JSON.stringify(out.reply)}`);
    return undefined;
  };
  try {
    await client.refreshSlots(true);
    let todo = collectionEntities(prefix);
    while (todo.length > 0 && Date.now() < deadline) {
      const failed: Entity[] = [];
      for (const e of todo) {
        let ok = false;
        if (e.kind === 'queue') {
          const items = strings((await read(e.key, ['LRANGE', e.key, '0', '-1'])) ?? null);
          const len = await read(e.key, ['LLEN', e.key]);
          if (items && typeof len === 'number') {
            final.lists.set(e.key, { items, len });
            ok = true;
          }
        } else if (e.kind === 'set') {
          const members = strings((await read(e.key, ['SMEMBERS', e.key])) ?? null);
          const card = await read(e.key, ['SCARD', e.key]);
          if (members && typeof card === 'number') {
            final.sets.set(e.key, { members, card });
            ok = true;
          }
        } else if (e.kind === 'zset') {
          const listed = (await read(e.key, ['ZRANGE', e.key, '0', '-1', 'WITHSCORES'])) ?? null;
          const scores = pairs(listed);
          const card = await read(e.key, ['ZCARD', e.key]);
          const point = await read(e.key, ['ZMSCORE', e.key, ...SHARED_NAMES.zset]);
          if (scores && typeof card === 'number' && Array.isArray(point) && point.length === SHARED_MEMBERS) {
            const points = new Map(SHARED_NAMES.zset.map((m, i) => [m, typeof point[i] === 'string' ? Number(point[i]) : null]));
            const flat = listed as string[];
            const raw = Array.from({ length: flat.length / 2 }, (_, i): [string, number] => [flat[2 * i]!, Number(flat[2 * i + 1])]);
            final.zsets.set(e.key, { scores, card, points, raw });
            ok = true;
          }
        } else if (e.kind === 'stream') {
          const f = streamFinal(
            (await read(e.key, ['XRANGE', e.key, '-', '+'])) ?? null,
            (await read(e.key, ['XLEN', e.key])) ?? null,
            (await read(e.key, ['XPENDING', e.key, STREAM_GROUP, '-', '+', '1000000'])) ?? null,
            (await read(e.key, ['XINFO', 'GROUPS', e.key])) ?? null,
          );
          if (f !== undefined) {
            f.drained = await drainGroup(client, e.key, errors);
            final.streams!.set(e.key, f);
            ok = true;
          }
        } else {
          const fields = pairs((await read(e.key, ['HGETALL', e.key])) ?? null);
          const len = await read(e.key, ['HLEN', e.key]);
          if (fields && typeof len === 'number') {
            final.hashes.set(e.key, { fields, len });
            ok = true;
          }
        }
        if (!ok) failed.push(e);
      }
      todo = failed;
      if (todo.length > 0) {
        await sleep(300);
        await client.refreshSlots(true);
      }
    }
    return { final, errors };
  } finally {
    client.close();
  }
}

export interface SlotDigestAgreement {
  agree: boolean;
  slots: number;
  ms: number;
  detail: string;
}

/**
 * For each slot the workload touched, asks every node for that slot's digest
 * (`RINGKV.DIGEST RANGE s s`: the digest where the node replicates the slot, nil elsewhere) and
 * requires `copies` replicas answering with one digest, within `timeoutMs`.
 */
export async function slotDigestsAgree(nodes: readonly Address[], keys: readonly string[], copies: number, timeoutMs: number): Promise<SlotDigestAgreement> {
  const slots = [...new Set(keys.map((k) => keySlot(Buffer.from(k))))].sort((a, b) => a - b);
  const t0 = Date.now();
  for (;;) {
    const problems: string[] = [];
    const views = await Promise.all(nodes.map(async (n) => {
      try {
        return await nodeCall(n, slots.map((s) => ['RINGKV.DIGEST', 'RANGE', String(s), String(s)]), 5000);
      } catch (e) {
        problems.push(`${addrKey(n)} unreachable: ${(e as Error).message}`);
        return undefined;
      }
    }));
    if (problems.length === 0) {
      slots.forEach((slot, i) => {
        const held: string[] = [];
        views.forEach((v, j) => {
          const r = v![i];
          const d = Array.isArray(r) ? r[0] : r;
          if (r instanceof ReplyError) held.push(`${addrKey(nodes[j]!)}=error ${r.message}`);
          else if (typeof d === 'string') held.push(`${addrKey(nodes[j]!)}=${d}`);
        });
        const distinct = new Set(held.map((h) => h.slice(h.indexOf('=') + 1)));
        if (held.length !== copies || distinct.size !== 1) problems.push(`slot ${slot}: ${held.join(' ')}`);
      });
    }
    if (problems.length === 0) return { agree: true, slots: slots.length, ms: Date.now() - t0, detail: `${slots.length} touched slots agree among their ${copies} replicas` };
    if (Date.now() - t0 > timeoutMs) return { agree: false, slots: slots.length, ms: Date.now() - t0, detail: `after ${timeoutMs} ms: ${problems.slice(0, 6).join('; ')}` };
    await sleep(250);
  }
}

/**
 * The collections workload as a fault scenario's extension (fault-scenario.ts): started with the
 * other workloads, judged after healing with R=N reads and per-slot digests of the touched slots.
 */
export class CollectionsScenario implements ScenarioExtension {
  private workload: CollectionsWorkload | undefined;

  constructor(private readonly opts: Omit<CollectionsWorkloadOptions, 'seeds'> & { n: number; digestTimeoutMs?: number }) {}

  start(seeds: readonly Address[], clock: RunClock): void {
    this.workload = new CollectionsWorkload({ ...this.opts, seeds }, clock);
    this.workload.start();
  }

  async stop(): Promise<void> {
    await this.workload?.stop();
  }

  records(): readonly unknown[] {
    return this.workload?.commands ?? [];
  }

  get stats(): CollectionsStats | undefined {
    return this.workload?.stats();
  }

  async verify(cluster: FaultCluster, faults: readonly FaultEvent[]): Promise<ExtensionVerdict & { figures: CollectionsFigures }> {
    const w = this.workload;
    if (w === undefined) throw new Error('collections workload never started');
    const { final, errors } = await collectionsFinalState(cluster.addresses, this.opts.prefix, { r: this.opts.n, deadlineMs: 30_000 });
    const report = checkCollections(w.commands, final);
    const local = await localSortedSets(cluster.addresses, collectionEntities(this.opts.prefix).filter((e) => e.kind === 'zset').map((e) => e.key));
    // A collection found wrong: each node's raw records of it, with versions, say which write left what.
    const broken = [...new Set([...report.indexes, ...report.sizes, ...report.counters, ...report.sets].map((v) => v.key))];
    const records = broken.length > 0 ? await localRecords(cluster.addresses, broken) : undefined;
    const digests = await slotDigestsAgree(cluster.addresses, w.keys, Math.min(this.opts.n, cluster.members.length), this.opts.digestTimeoutMs ?? 30_000);
    const ackedDuringFaults = faults.reduce((s, f) => s + w.ackedWrites(f.injectedAt, f.healedAt ?? Infinity), 0);
    const s = w.stats();
    const listed = [...final.lists.values()].reduce((n, l) => n + l.items.length, 0);
    const drained = [...(final.streams?.values() ?? [])].map((x) => (x.drained === undefined ? 'failed' : String(x.drained.length))).join('/');
    const figures: CollectionsFigures = {
      ...s, ackedDuringFaults, listedAtEnd: listed, violations: collectionsViolationCount(report) + (digests.agree ? 0 : 1),
      digestsAgree: digests.agree, digestMs: digests.ms, digestSlots: digests.slots,
      lost: report.lostJobs.length, duplicates: report.duplicateJobs.length, phantoms: report.phantomJobs.length, order: report.queueOrder.length,
      sets: report.sets.length, counters: report.counters.length, sizes: report.sizes.length, indexes: report.indexes.length, replies: report.replies.length, unread: report.unread.length,
      streams: report.streams.length,
    };
    const details: string[] = [];
    const take = (label: string, items: readonly CViolation[]): void => {
      if (items.length === 0) return;
      details.push(`collections: ${label} (${items.length}):`);
      for (const v of items.slice(0, 5)) details.push(`  ${v.key}: ${v.problem}`);
    };
    take('acknowledged jobs lost', report.lostJobs);
    take('jobs seen twice', report.duplicateJobs);
    take('jobs nobody pushed', report.phantomJobs);
    take('queue order', report.queueOrder);
    take('set membership', report.sets);
    take('scores and hash fields', report.counters);
    take('sizes against contents', report.sizes);
    take('sorted-set range read against point read', report.indexes);
    take('replies', report.replies);
    take('streams and their consumer group', report.streams);
    take('not read back', report.unread);
    if (!digests.agree) details.push(`collections: touched slots' digests disagree: ${digests.detail}`);
    if (report.unread.length > 0) details.push(`collections: final read errors: ${errors.slice(0, 5).join('; ')}`);
    const summary = `collections: batches=${s.batches} commands=${s.commands} ok=${s.ok} failed=${s.failed} unknown=${s.unknown} (open ${s.openUnknown}) ` +
      `acked-during-faults=${ackedDuringFaults} jobs pushed=${s.pushedJobs} popped=${s.poppedJobs} listed-at-end=${listed} set-ops=${s.setOps} increments=${s.increments} xadds=${s.streamAdds} delivered=${s.delivered} xacks=${s.streamAcks} drained-after-heal=${drained} | ` +
      `lost=${figures.lost} duplicates=${figures.duplicates} phantoms=${figures.phantoms} order=${figures.order} sets=${figures.sets} counters=${figures.counters} ` +
      `sizes=${figures.sizes} index=${figures.indexes} replies=${figures.replies} unread=${figures.unread} streams=${figures.streams} digests ${digests.agree ? `agree (${digests.slots} slots, ${digests.ms} ms)` : 'DISAGREE'} total=${figures.violations}`;
    return { violations: figures.violations, summary, details, report: { figures, report, digests, finalReadErrors: errors, final: finalToJson(final), localSortedSets: local, ...(records && { localRecords: records }) }, figures };
  }
}

export interface CollectionsFigures extends CollectionsStats {
  ackedDuringFaults: number;
  listedAtEnd: number;
  violations: number;
  digestsAgree: boolean;
  digestMs: number;
  digestSlots: number;
  lost: number;
  duplicates: number;
  phantoms: number;
  order: number;
  sets: number;
  counters: number;
  sizes: number;
  indexes: number;
  replies: number;
  unread: number;
  streams: number;
}

function finalToJson(f: CollectionsFinal): Record<string, unknown> {
  return {
    lists: Object.fromEntries(f.lists),
    sets: Object.fromEntries(f.sets),
    zsets: Object.fromEntries([...f.zsets].map(([k, v]) => [k, { card: v.card, scores: Object.fromEntries(v.scores) }])),
    hashes: Object.fromEntries([...f.hashes].map(([k, v]) => [k, { len: v.len, fields: Object.fromEntries(v.fields) }])),
    streams: Object.fromEntries([...(f.streams ?? [])].map(([k, v]) => [k, { ...v, pending: Object.fromEntries(v.pending) }])),
  };
}

/**
 * Evidence for a report: each node's own copy of each sorted set (READONLY, R=1, so no quorum and
 * no repair): range read, point reads and ZCARD.
 */
async function localSortedSets(nodes: readonly Address[], keys: readonly string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  await Promise.all(nodes.map(async (n) => {
    try {
      const cmds = keys.flatMap((k) => [['ZRANGE', k, '0', '-1', 'WITHSCORES'], ['ZMSCORE', k, ...SHARED_NAMES.zset], ['ZCARD', k]]);
      const replies = await nodeCall(n, [['READONLY'], ['RINGKV.CONSISTENCY', 'R', '1'], ...cmds], 5000);
      out[addrKey(n)] = Object.fromEntries(keys.map((k, i) => [k, replies.slice(2 + i * 3, 5 + i * 3).map((r) => (r instanceof ReplyError ? `error ${r.message}` : r))]));
    } catch (e) {
      out[addrKey(n)] = `unreachable: ${(e as Error).message}`;
    }
  }));
  return out;
}

/**
 * Evidence for a broken collection: each node's own records of each key (RINGKV.DIGEST RECORDS of
 * the key's slot, keeping the records whose storage key holds the key's name): metadata and
 * element records, tombstones included, with their versions and suspect marks.
 */
async function localRecords(nodes: readonly Address[], keys: readonly string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  await Promise.all(nodes.map(async (n) => {
    try {
      const replies = await nodeCall(n, keys.map((k) => ['RINGKV.DIGEST', 'RECORDS', String(keySlot(Buffer.from(k)))]), 10_000);
      out[addrKey(n)] = Object.fromEntries(keys.map((k, i) => {
        const r = replies[i];
        if (r instanceof ReplyError || !Array.isArray(r)) return [k, `error ${r instanceof ReplyError ? r.message : String(r)}`];
        const name = Buffer.from(k).toString('hex');
        return [k, r.filter((row) => Array.isArray(row) && String(row[0]).includes(name))];
      }));
    } catch (e) {
      out[addrKey(n)] = `unreachable: ${(e as Error).message}`;
    }
  }));
  return out;
}
