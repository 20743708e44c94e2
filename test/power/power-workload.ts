/**
 * The workload of the power-loss tests and its check.
 *
 * Each connection sends a stream of commands with up to IN_FLIGHT unanswered at a time (so groups
 * of them share a commit-log write): SET, INCR, HSET, LPUSH, XADD and MULTI/SET/INCR/EXEC, all on
 * keys of its own. One node executes a connection's commands in order and logs them in order, and a
 * crash can only lose a suffix of the log, so what survives must be a prefix of each connection's
 * stream that covers every acknowledged command. checkConnection() verifies exactly that from
 * what the restarted node returns: every acknowledged write is there, nothing after a missing
 * command is, each increment was applied once, and each transaction whole or not at all.
 */
import Redis from 'ioredis';

const IN_FLIGHT = 24;

type Kind = 'set' | 'incr' | 'hset' | 'lpush' | 'xadd' | 'multi';
const KINDS: Kind[] = ['set', 'incr', 'hset', 'lpush', 'xadd', 'multi'];

export interface Op {
  kind: Kind;
  i: number;
  acked: boolean;
  /** INCR's reply. */
  reply?: number;
  /** Why it failed, when it did (an error reply, or the connection closing). */
  error?: string;
}

export interface ConnHistory {
  prefix: string;
  ops: Op[];
}

/** Keys of one connection. */
function keys(prefix: string): { set: (i: number) => string; ctr: string; hash: string; list: string; stream: string; mset: (i: number) => string; mctr: string } {
  return {
    set: (i) => `${prefix}:s:${i}`,
    ctr: `${prefix}:ctr`,
    hash: `${prefix}:h`,
    list: `${prefix}:l`,
    stream: `${prefix}:x`,
    mset: (i) => `${prefix}:m:${i}`,
    mctr: `${prefix}:mctr`,
  };
}

/**
 * Runs `connections` writers against `port` until `stop()` returns true or the connection breaks;
 * resolves with each connection's history (what was sent, what was acknowledged). `progress.acked`
 * counts acknowledgements as they come.
 */
export async function runWorkload(port: number, prefix: string, connections: number, stop: () => boolean, seed: number, progress = { acked: 0 }): Promise<ConnHistory[]> {
  let rnd = seed >>> 0;
  const next = (): number => {
    rnd = (Math.imul(rnd, 1664525) + 1013904223) >>> 0;
    return rnd / 2 ** 32;
  };
  return Promise.all(Array.from({ length: connections }, async (_, c) => {
    const h: ConnHistory = { prefix: `${prefix}:c${c}`, ops: [] };
    const k = keys(h.prefix);
    const client = new Redis({ port, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    client.on('error', () => undefined); // the cut breaks the connection on purpose
    let broken = !(await new Promise<boolean>((resolve) => {
      client.once('ready', () => resolve(true));
      client.once('end', () => resolve(false));
    }));
    let inFlight = 0;
    let wake: (() => void) | null = null;
    const done = (): void => {
      inFlight--;
      wake?.();
    };
    for (let i = 0; !broken && !stop(); i++) {
      while (inFlight >= IN_FLIGHT && !broken) await new Promise<void>((r) => (wake = r));
      if (broken) break;
      const op: Op = { kind: KINDS[Math.floor(next() * KINDS.length)]!, i, acked: false };
      h.ops.push(op);
      inFlight++;
      let p: Promise<unknown>;
      switch (op.kind) {
        case 'set': p = client.set(k.set(i), `v${i}`); break;
        case 'incr': p = client.incr(k.ctr).then((n) => (op.reply = n)); break;
        case 'hset': p = client.hset(k.hash, `f${i}`, `v${i}`); break;
        case 'lpush': p = client.lpush(k.list, String(i)); break;
        case 'xadd': p = client.xadd(k.stream, '*', 'i', String(i)); break;
        case 'multi': p = client.multi().set(k.mset(i), String(i)).incr(k.mctr).exec().then((r) => {
          if (!r || r.some(([err]) => err)) throw new Error('EXEC failed');
        }); break;
      }
      p.then(() => {
        op.acked = true;
        progress.acked++;
      }, (e: Error) => {
        op.error = e.message;
        broken = true;
      }).finally(done);
      // Let replies in now and then so acknowledgements are recorded as they come.
      if (i % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    while (inFlight > 0 && !broken) await new Promise<void>((r) => (wake = r));
    client.disconnect();
    return h;
  }));
}

/** What the restarted node holds for one connection's keys. */
export interface Observed {
  sets: Set<number>;
  ctr: number;
  hash: Set<number>;
  list: number[];
  stream: number[];
  msets: Set<number>;
  mctr: number;
}

export async function observe(client: Redis, h: ConnHistory): Promise<Observed> {
  const k = keys(h.prefix);
  const setIds = h.ops.filter((o) => o.kind === 'set').map((o) => o.i);
  const mIds = h.ops.filter((o) => o.kind === 'multi').map((o) => o.i);
  const values = async (names: string[]): Promise<Array<string | null>> => (names.length ? client.mget(names) : []);
  const setVals = await values(setIds.map(k.set));
  const mVals = await values(mIds.map(k.mset));
  const sets = new Set<number>();
  setVals.forEach((v, j) => {
    if (v !== null) {
      if (v !== `v${setIds[j]}`) throw new Error(`${k.set(setIds[j]!)} holds ${v}`);
      sets.add(setIds[j]!);
    }
  });
  const msets = new Set<number>();
  mVals.forEach((v, j) => v !== null && msets.add(mIds[j]!));
  const hash = new Set<number>();
  for (const [f, v] of Object.entries(await client.hgetall(k.hash))) {
    if (v !== `v${f.slice(1)}`) throw new Error(`${k.hash} field ${f} holds ${v}`);
    hash.add(Number(f.slice(1)));
  }
  const list = (await client.lrange(k.list, 0, -1)).map(Number).reverse();
  const stream = (await client.xrange(k.stream, '-', '+')).map(([, fields]) => Number(fields[1]));
  return { sets, ctr: Number((await client.get(k.ctr)) ?? 0), hash, list, stream, msets, mctr: Number((await client.get(k.mctr)) ?? 0) };
}

export interface Verdict {
  prefix: string;
  /** Acknowledged commands whose effect is missing. */
  lostAcked: number;
  /** Which ones. */
  lost: string[];
  /** Violations other than lost acknowledged writes (holes, double increments, torn transactions). */
  problems: string[];
  acked: number;
  sent: number;
  /** Commands that survived (the prefix length). */
  survived: number;
}

/** Checks one connection's surviving state against its history (see the file comment). */
export function checkConnection(h: ConnHistory, o: Observed): Verdict {
  const problems: string[] = [];
  const applied = (op: Op): boolean | undefined => {
    switch (op.kind) {
      case 'set': return o.sets.has(op.i);
      case 'hset': return o.hash.has(op.i);
      case 'multi': return o.msets.has(op.i);
      case 'lpush': return o.list.includes(op.i);
      case 'xadd': return o.stream.includes(op.i);
      case 'incr': return undefined; // only the count is observable
    }
  };
  // The surviving prefix ends after the last command seen applied.
  let last = -1;
  h.ops.forEach((op, j) => {
    if (applied(op) === true) last = j;
  });
  let lostAcked = 0;
  const lost: string[] = [];
  h.ops.forEach((op, j) => {
    const a = applied(op);
    if (a === false && j < last) problems.push(`${op.kind} #${op.i} missing although #${h.ops[last]!.i} (later) survived`);
    if (a === false && op.acked) {
      lostAcked++;
      lost.push(`${op.kind} #${op.i} (command ${j} of ${h.ops.length})`);
    }
  });
  // Lists and streams must hold their commands in order with nothing extra.
  const order = (kind: Kind, got: number[]): void => {
    const want = h.ops.filter((op) => op.kind === kind && applied(op)).map((op) => op.i);
    if (got.join(',') !== want.join(',')) problems.push(`${kind} order ${got.slice(0, 10).join(',')}… differs from sent ${want.slice(0, 10).join(',')}…`);
  };
  order('lpush', o.list);
  order('xadd', o.stream);
  // INCR: at least the increments up to the prefix's end, at most those before the next observable
  // command; never below an acknowledged reply, never above what was sent.
  const nextObservable = h.ops.findIndex((op, j) => j > last && op.kind !== 'incr');
  const end = nextObservable === -1 ? h.ops.length : nextObservable;
  const incrsBefore = (j: number): number => h.ops.slice(0, j).filter((op) => op.kind === 'incr').length;
  const lo = incrsBefore(last + 1);
  const hi = incrsBefore(end);
  if (o.ctr < lo || o.ctr > hi) problems.push(`counter ${o.ctr} outside [${lo}, ${hi}] (an increment lost or applied twice)`);
  const maxReply = Math.max(0, ...h.ops.filter((op) => op.kind === 'incr' && op.acked).map((op) => op.reply ?? 0));
  // What the commands around a lost one were told, to tell a lost write from a misattributed reply.
  if (lost.length > 0) {
    const errors = [...new Set(h.ops.filter((op) => op.error !== undefined).map((op) => `#${op.i} ${op.error}`))].slice(0, 5);
    lost.push(`first failures on this connection: ${errors.join(' | ')}`);
  }
  if (o.ctr < maxReply) {
    lostAcked += 1;
    lost.push(`INCR reply ${maxReply} acknowledged, counter ${o.ctr}`);
  }
  // MULTI: the SET and the INCR of each transaction together.
  if (o.mctr !== o.msets.size) problems.push(`transactions torn: ${o.msets.size} SETs applied but the counter is ${o.mctr}`);
  const acked = h.ops.filter((op) => op.acked).length;
  return { prefix: h.prefix, lostAcked, lost, problems, acked, sent: h.ops.length, survived: last + 1 };
}
