import { TransientSession } from '../../../src/server/transient-session.js';
import type { SessionState } from '../../../src/server/session-state.js';
import type { Prng } from '../prng.js';
import { apply, applyHash, classify, sameReply, type Value } from './model.js';
import { parseReplies, show, type Reply } from './resp.js';
import { SimSink } from './sim-sink.js';
import type { SimNode } from './sim-node.js';

/** A key only one client ever touches: its replies are checked against a sequential model. */
export interface OwnKey {
  key: string;
  /** The model's value; meaningful while `certain`. */
  value: Value;
  /** False once a write's effect became unknown, until an acknowledged reply pins the value again. */
  certain: boolean;
  /** Acknowledged writes (SET/INCR/APPEND/DEL/EXPIRE) on the key. */
  acked: number;
  /** A write on the key once had an unknown outcome (it may resurface later). */
  hadUncertain: boolean;
  /** A hash (HSET, HDEL, HGET, HLEN, DEL, EXPIRE; model.ts applyHash) instead of a string. */
  hash?: boolean;
}

/** A counter several clients INCR: acknowledged and possibly-applied increments, for the final bound. */
export interface Counter {
  key: string;
  /** A field of a hash (HINCRBY / HGET: a collection element, read from a completed replica), or a string (INCR / GET). */
  field?: string;
  /** `field` is a member of a sorted set (ZINCRBY / ZSCORE: a member record and its score-index entry). */
  zset?: boolean;
  acked: number;
  uncertain: number;
}

/**
 * A list or a set used as a job queue by every client of a home: LPUSH or SADD of unique tokens,
 * RPOP or SPOP. No token is
 * popped twice or comes out without having been pushed; after healing, every acknowledged token
 * was popped or is still listed, but for as many as pops of unknown outcome may have taken.
 */
export interface Queue {
  key: string;
  /**
   * A list (LPUSH, RPOP), a set (SADD, SPOP), a sorted set (ZADD, ZPOPMIN), or a reliable queue: LPUSH, then LMOVE to a
   * processing list of the same slot (delivered), then LREM from it (done); `popped` holds the
   * tokens done and `uncertainPops` the removals of unknown outcome.
   */
  kind: 'list' | 'set' | 'zset' | 'reliable' | 'stream';
  /** A stream's entry ids, by token, as acknowledged XADDs answered them. */
  ids?: Map<string, string>;
  /** The reliable queue's processing list. */
  processing?: string;
  /** Tokens an acknowledged LMOVE delivered (reliable queue). */
  moved?: Set<string>;
  /** Tokens an LREM was sent for (reliable queue): each is removed once. */
  removing?: Set<string>;
  /** LMOVEs of unknown outcome (reliable queue): see checkQueues. */
  uncertainMoves?: number;
  /** Every token sent in a push that may have run: true once acknowledged. */
  pushed: Map<string, boolean>;
  /** Tokens acknowledged pops returned. */
  popped: Set<string>;
  uncertainPops: number;
}

interface Cmd {
  argv: string[];
  own?: OwnKey;
  counter?: Counter;
  queue?: Queue;
  write: boolean;
}

interface Batch {
  cmds: Cmd[];
  sink: SimSink;
  node: SimNode;
  index: number;
}

export interface ClientHooks {
  now(): number;
  after(ms: number, fn: () => void): void;
  /** Where a smart client sends each key's slot, from the slot table of some live node it asked. */
  view(): (key: string) => SimNode | undefined;
  violation(kind: 'order' | 'reply' | 'resurfaced' | 'queue', text: string): void;
  /** A broken-on-purpose variant may replace the session's sequencer. */
  openSession(node: SimNode, session: SessionState): void;
  stopAt: number;
  /** Traces the replies of commands on keys that contain `key` (to study one seed). */
  trace?: { key: string; log(line: string): void };
}

export interface ClientStats {
  batches: number;
  commands: number;
  checkedReplies: number;
  lostReplies: number;
  /** Error replies by their first word and a little more, for the run's figures. */
  errors: Map<string, number>;
}

/**
 * One application client: pipelines batches of 1–50 commands to the node owning their slot (a
 * cluster client keeps one connection per node), sometimes a second batch before the first is
 * answered, and checks every reply on its own keys against a sequential model of what it sent.
 */
export class SimClient {
  readonly stats: ClientStats = { batches: 0, commands: 0, checkedReplies: 0, lostReplies: 0, errors: new Map() };
  private readonly sessions = new Map<SimNode, SessionState>();
  private inflight: Batch[] = [];
  private seq = 0;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly prng: Prng,
    /** Own keys in groups that share a slot. */
    readonly groups: OwnKey[][],
    readonly counters: Counter[],
    private readonly hooks: ClientHooks,
    readonly queues: Queue[] = [],
  ) {}

  start(): void {
    this.hooks.after(this.prng.int(0, 20), () => this.next());
  }

  get idle(): boolean {
    return this.inflight.length === 0;
  }

  /** The nodes of the batches still waiting for replies, and the first command of each (for a stuck report). */
  get waitingOn(): string {
    return this.inflight.map((b) => `node ${b.node.index} batch ${b.index} (${b.cmds.length} commands, ${b.cmds.slice(0, 3).map((c) => c.argv.join(' ')).join(' | ')})`).join('; ');
  }

  /** The node of a batch in flight crashed: replies not yet written never come. */
  nodeCrashed(node: SimNode): void {
    if (!this.inflight.some((b) => b.node === node)) {
      this.sessions.delete(node);
      return;
    }
    this.sessions.delete(node);
    // In order: a batch is received up to its first missing reply, and nothing after that gap.
    let gap = false;
    for (const b of this.inflight) {
      b.sink.close();
      const replies = gap ? [] : parseReplies(b.sink.received());
      if (!b.sink.complete) gap = true;
      this.check(b, replies);
    }
    this.inflight = [];
    this.hooks.after(this.prng.int(5, 50), () => this.next());
  }

  private next(): void {
    if (this.hooks.now() >= this.hooks.stopAt) {
      this.stopped = true;
      return;
    }
    if (this.stopped || this.inflight.length >= 2) return;
    const groups = this.prng.shuffle(this.groups).slice(0, this.prng.int(1, Math.min(3, this.groups.length)));
    const target = this.hooks.view();
    const node = target(groups[0]![0]!.key);
    if (node === undefined) {
      if (this.inflight.length === 0) this.hooks.after(this.prng.int(10, 50), () => this.next());
      return;
    }
    // Only one connection's batches are ordered: a second batch in flight goes where the first went.
    if (this.inflight.length > 0 && this.inflight[0]!.node !== node) return;
    // Keys on slots another node coordinates get MOVED: only this node's own slots are sent to it.
    const mine = groups.filter((g) => target(g[0]!.key) === node);
    const counters = this.counters.filter((c) => target(c.key) === node);
    const queues = this.queues.filter((q) => target(q.key) === node);
    const cmds = this.generate(mine, counters, this.prng.int(1, 50), queues);
    let session = this.sessions.get(node);
    if (session === undefined) {
      session = new TransientSession(2, false, this.name);
      this.hooks.openSession(node, session);
      this.sessions.set(node, session);
    }
    const batch: Batch = { cmds, node, index: this.seq++, sink: new SimSink(() => this.completed()) };
    this.inflight.push(batch);
    this.stats.batches++;
    this.stats.commands += cmds.length;
    // One read of the socket: every command dispatched, then the batch ends.
    for (const c of cmds) node.dispatcher.dispatch(session, c.argv.map((a) => Buffer.from(a, 'latin1')), batch.sink);
    node.dispatcher.endBatch(session);
    batch.sink.seal();
    // Sometimes the next batch goes out before this one is answered.
    // (Not when it was answered at once, CLUSTERDOWN from a node cut off, say: its completion already
    // scheduled the next one, and a second each time would multiply the client's loops.)
    if (!batch.sink.complete && this.inflight.length < 2 && this.prng.chance(0.3)) this.hooks.after(this.prng.int(0, 3), () => this.next());
  }

  private completed(): void {
    while (this.inflight.length > 0 && this.inflight[0]!.sink.complete) {
      const b = this.inflight.shift()!;
      this.check(b, parseReplies(b.sink.received()));
    }
    if (this.inflight.length === 0) this.hooks.after(this.prng.int(0, 15), () => this.next());
  }

  private generate(groups: OwnKey[][], counters: Counter[], count: number, queues: Queue[]): Cmd[] {
    const out: Cmd[] = [];
    const ownOp = (k: OwnKey): Cmd => {
      const p = this.prng.next();
      const v = `${this.name}.${this.seq}.${out.length}`;
      if (k.hash === true) {
        const field = `f${this.prng.int(0, 3)}`;
        if (p < 0.35) return { argv: ['HSET', k.key, field, v], own: k, write: true };
        if (p < 0.5) return { argv: ['HDEL', k.key, field], own: k, write: true };
        if (p < 0.75) return { argv: ['HGET', k.key, field], own: k, write: false };
        if (p < 0.85) return { argv: ['HLEN', k.key], own: k, write: false };
        if (p < 0.92) return { argv: ['DEL', k.key], own: k, write: true };
        return { argv: ['EXPIRE', k.key, '100000'], own: k, write: true };
      }
      if (p < 0.2) return { argv: ['SET', k.key, this.prng.chance(0.5) ? String(this.prng.int(0, 99)) : v], own: k, write: true };
      if (p < 0.45) return { argv: ['GET', k.key], own: k, write: false };
      if (p < 0.65) return { argv: ['INCR', k.key], own: k, write: true };
      if (p < 0.78) return { argv: ['APPEND', k.key, String(this.prng.int(0, 9))], own: k, write: true };
      if (p < 0.9) return { argv: ['DEL', k.key], own: k, write: true };
      return { argv: ['EXPIRE', k.key, '100000'], own: k, write: true };
    };
    while (out.length < count) {
      // Only runs with queues draw for them: the other runs replay their seeds as before.
      if (queues.length > 0 && this.prng.chance(0.25)) {
        const q = this.prng.pick(queues);
        if (q.kind === 'reliable') {
          out.push(this.reliableOp(q, out.length));
          continue;
        }
        if (q.kind === 'stream') {
          // A stream is appended to only: every acknowledged entry must be there at the end, under its id.
          const token = `${this.name}.${this.seq}.${out.length}`;
          q.pushed.set(token, false);
          out.push({ argv: ['XADD', q.key, '*', 't', token], queue: q, write: true });
          continue;
        }
        if (this.prng.chance(0.55)) {
          const token = `${this.name}.${this.seq}.${out.length}`;
          q.pushed.set(token, false);
          const argv = q.kind === 'list' ? ['LPUSH', q.key, token] : q.kind === 'set' ? ['SADD', q.key, token] : ['ZADD', q.key, String(this.prng.int(0, 1000)), token];
          out.push({ argv, queue: q, write: true });
        } else {
          out.push({ argv: [q.kind === 'list' ? 'RPOP' : q.kind === 'set' ? 'SPOP' : 'ZPOPMIN', q.key], queue: q, write: true });
        }
        continue;
      }
      const p = this.prng.next();
      if (counters.length > 0 && (p < 0.25 || groups.length === 0)) {
        const c = this.prng.pick(counters);
        const incr = this.prng.chance(0.85);
        if (c.field === undefined) out.push(incr ? { argv: ['INCR', c.key], counter: c, write: true } : { argv: ['GET', c.key], counter: c, write: false });
        else if (c.zset === true) out.push(incr ? { argv: ['ZINCRBY', c.key, '1', c.field], counter: c, write: true } : { argv: ['ZSCORE', c.key, c.field], counter: c, write: false });
        else out.push(incr ? { argv: ['HINCRBY', c.key, c.field, '1'], counter: c, write: true } : { argv: ['HGET', c.key, c.field], counter: c, write: false });
      } else if (groups.length > 0 && p < 0.35) {
        // A transaction on one slot; now and then one that spans two slots (CROSSSLOT, then EXECABORT).
        const g = this.prng.pick(groups);
        out.push({ argv: ['MULTI'], write: false });
        const n = this.prng.int(1, 4);
        for (let i = 0; i < n; i++) out.push(ownOp(this.prng.pick(g)));
        if (groups.length > 1 && this.prng.chance(0.1)) out.push(ownOp(this.prng.pick(groups.find((x) => x !== g)!)));
        out.push({ argv: ['EXEC'], write: false });
      } else if (groups.length > 0) {
        out.push(ownOp(this.prng.pick(this.prng.pick(groups))));
      } else {
        out.push({ argv: ['PING'], write: false });
      }
    }
    return out;
  }

  /** Walks a batch's replies in order through the model; a missing reply means the connection died. */
  private check(b: Batch, replies: Reply[]): void {
    let tx: { queued: Cmd[]; dirty: boolean } | undefined;
    for (let i = 0; i < b.cmds.length; i++) {
      const c = b.cmds[i]!;
      const r = replies[i];
      if (r === undefined) this.stats.lostReplies++;
      const where = `${this.name} batch ${b.index} on node ${b.node.index} command ${i} ${c.argv.join(' ')}`;
      const name = c.argv[0]!;
      if (name === 'MULTI') {
        if (r !== undefined && !sameReply(r, { t: 'simple', s: 'OK' })) this.hooks.violation('reply', `${where}: ${show(r)}`);
        tx = { queued: [], dirty: false };
        continue;
      }
      if (tx !== undefined && name !== 'EXEC') {
        if (r === undefined) tx.queued.push(c);
        else if (r.t === 'err') tx.dirty = true;
        else if (sameReply(r, { t: 'simple', s: 'QUEUED' })) tx.queued.push(c);
        else this.hooks.violation('reply', `${where}: ${show(r)} inside MULTI`);
        continue;
      }
      if (name === 'EXEC') {
        const t = tx!;
        tx = undefined;
        if (t.dirty) {
          if (r !== undefined && !(r.t === 'err' && r.s.startsWith('EXECABORT'))) this.hooks.violation('order', `${where}: ${show(r)}, expected EXECABORT`);
          continue;
        }
        if (r !== undefined && r.t === 'arr' && r.items !== null) {
          if (r.items.length !== t.queued.length) this.hooks.violation('order', `${where}: ${r.items.length} replies for ${t.queued.length} queued`);
          t.queued.forEach((q, j) => this.step(q, r.items![j], `${where} [${j}] ${q.argv.join(' ')}`));
        } else {
          // The whole transaction failed or never answered: each queued command shares that fate.
          for (const q of t.queued) this.step(q, r, `${where} (queued ${q.argv.join(' ')})`);
        }
        continue;
      }
      this.step(c, r, where);
    }
  }

  /** A reliable queue's next command: finish a delivered token, deliver one, or push one. */
  private reliableOp(q: Queue, at: number): Cmd {
    const delivered = [...q.moved!].filter((t) => !q.removing!.has(t));
    if (delivered.length > 0 && this.prng.chance(0.3)) {
      const token = this.prng.pick(delivered);
      q.removing!.add(token);
      return { argv: ['LREM', q.processing!, '1', token], queue: q, write: true };
    }
    if (this.prng.chance(0.5)) {
      const token = `${this.name}.${this.seq}.${at}`;
      q.pushed.set(token, false);
      return { argv: ['LPUSH', q.key, token], queue: q, write: true };
    }
    return { argv: ['LMOVE', q.key, q.processing!, 'RIGHT', 'LEFT'], queue: q, write: true };
  }

  private reliableStep(q: Queue, argv: readonly string[], r: Reply | undefined, outcome: string, where: string): void {
    if (argv[0] === 'LMOVE') {
      // Of unknown outcome, the token should be in one list or the other (see checkQueues).
      if (outcome === 'uncertain') q.uncertainMoves = (q.uncertainMoves ?? 0) + 1;
      if (outcome !== 'acked') return;
      if (r!.t !== 'bulk') return this.hooks.violation('reply', `${where}: ${show(r)}`);
      const token = r!.s;
      if (token === null) return;
      if (q.moved!.has(token)) this.hooks.violation('queue', `${where}: delivered ${token} a second time`);
      else if (!q.pushed.has(token)) this.hooks.violation('queue', `${where}: delivered ${token}, which no push that may have run sent`);
      q.moved!.add(token);
      return;
    }
    const token = argv[3]!;
    if (outcome === 'uncertain') {
      q.uncertainPops++;
      return;
    }
    if (outcome !== 'acked') {
      // Not run: the token may be finished by another LREM.
      q.removing!.delete(token);
      return;
    }
    if (r!.t !== 'int') return this.hooks.violation('reply', `${where}: ${show(r)}`);
    if (r!.n === 1n) q.popped.add(token);
    else this.hooks.violation('queue', `${where}: ${token}, delivered by an acknowledged LMOVE, is not in the processing list`);
  }

  private queueStep(q: Queue, argv: readonly string[], r: Reply | undefined, outcome: string, where: string): void {
    if (q.kind === 'reliable' && argv[0] !== 'LPUSH') {
      this.reliableStep(q, argv, r, outcome, where);
      return;
    }
    if (argv[0] === 'LPUSH' || argv[0] === 'SADD' || argv[0] === 'ZADD' || argv[0] === 'XADD') {
      const token = argv[argv.length - 1]!;
      if (outcome === 'acked') {
        if (r!.t !== (argv[0] === 'XADD' ? 'bulk' : 'int')) this.hooks.violation('reply', `${where}: ${show(r)}`);
        else if (argv[0] === 'XADD' && r!.t === 'bulk' && r!.s !== null) q.ids!.set(token, r!.s);
        q.pushed.set(token, true);
      } else if (outcome === 'none') {
        q.pushed.delete(token);
      }
      return;
    }
    if (outcome === 'uncertain') {
      q.uncertainPops++;
      return;
    }
    if (outcome !== 'acked') return;
    // ZPOPMIN answers [member, score], or an empty array.
    const popped = r!.t === 'arr' && argv[0] === 'ZPOPMIN' ? (r!.items?.[0] ?? { t: 'bulk' as const, s: null }) : r!;
    if (popped.t !== 'bulk') {
      this.hooks.violation('reply', `${where}: ${show(r)}`);
      return;
    }
    const token = popped.s;
    if (token === null) return;
    if (q.popped.has(token)) this.hooks.violation('queue', `${where}: popped ${token} a second time`);
    else if (!q.pushed.has(token)) this.hooks.violation('queue', `${where}: popped ${token}, which no push that may have run sent`);
    q.popped.add(token);
  }

  private step(c: Cmd, r: Reply | undefined, where: string): void {
    if (r?.t === 'err') {
      const words = r.s.split(' ');
      const kind = words[0] === 'MOVED' || words[0] === 'ASK' ? words[0] : words.slice(0, 4).join(' ');
      this.stats.errors.set(kind, (this.stats.errors.get(kind) ?? 0) + 1);
    }
    const outcome = classify(r, c.write);
    const tr = this.hooks.trace;
    if (tr !== undefined && c.argv.some((a) => a.includes(tr.key))) tr.log(`t=${this.hooks.now()} ${where} -> ${show(r)} (${outcome})`);
    if (c.queue !== undefined) {
      this.queueStep(c.queue, c.argv, r, outcome, where);
      return;
    }
    if (c.counter !== undefined) {
      if (!c.write) return;
      if (outcome === 'acked') {
        // ZINCRBY answers the new score as a bulk string.
        if (r!.t !== (c.counter.zset === true ? 'bulk' : 'int')) this.hooks.violation('reply', `${where}: ${show(r)}`);
        c.counter.acked++;
      } else if (outcome === 'uncertain') c.counter.uncertain++;
      return;
    }
    const k = c.own;
    if (k === undefined) {
      if (r !== undefined && c.argv[0] === 'PING' && !sameReply(r, { t: 'simple', s: 'PONG' })) this.hooks.violation('reply', `${where}: ${show(r)}`);
      return;
    }
    if (outcome === 'none') return;
    if (outcome === 'uncertain') {
      k.certain = false;
      k.hadUncertain = true;
      return;
    }
    if (c.write) k.acked++;
    const name = c.argv[0]!.toUpperCase();
    if (k.certain) {
      const expected = k.hash === true ? applyHash(c.argv, k.value) : apply(c.argv, k.value);
      this.stats.checkedReplies++;
      if (!sameReply(r, expected.reply)) {
        // After a write of unknown outcome, a mismatch may be that write resurfacing over later ones.
        this.hooks.violation(k.hadUncertain ? 'resurfaced' : 'order', `${where}: got ${show(r)}, a sequential run gives ${show(expected.reply)} (key held ${JSON.stringify(k.value)})`);
        k.certain = false;
        return;
      }
      k.value = expected.value;
      return;
    }
    // The value was unknown: an acknowledged command whose reply pins it makes it known again.
    if (name === 'SET') {
      k.value = c.argv[2]!;
      k.certain = true;
    } else if (name === 'DEL') {
      k.value = null;
      k.certain = true;
    } else if (name === 'INCR' && r!.t === 'int') {
      k.value = r!.n.toString();
      k.certain = true;
    }
  }
}
