import { ReplyWriter as Writer, type ReplyWriter } from '../protocol/reply-writer.js';
import type { Protocol } from '../protocol/types.js';
import type { SessionState } from '../server/session-state.js';
import { CaptureSink, TransientSession } from '../server/transient-session.js';
import type { AclRegistry } from '../acl/acl-registry.js';
import type { Dispatcher } from '../server/dispatcher.js';
import type { ClusterBus } from './bus/cluster-bus.js';
import type { ClusterRouter } from './cluster-router.js';
import { BusError, type BusAddress } from './bus/types.js';
import { keySlot } from './slot.js';
import { anchoredNowMs, type PeerClocks } from './peer-clocks.js';
import type { Logger } from '../core/logger.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** What relaying needs from its cluster node; ClusterNode provides it (and a simulation its own). */
export interface ForwarderHost {
  readonly bus: Pick<ClusterBus, 'request' | 'handle'>;
  readonly node: { readonly dispatcher: Dispatcher; readonly acl: AclRegistry };
  readonly router: Pick<ClusterRouter, 'forwardedSessions'>;
  busAddress(id: string): BusAddress | undefined;
  reachable(id: string): boolean;
  /** Waits before a relay is tried again; a timer unless given. */
  sleep?(ms: number): Promise<void>;
  /**
   * Relay deadlines (peer-clocks.ts): relays carry when their sender stops waiting, and one that
   * arrives later is refused. Without it (the simulation, whose time is not the process's) relays
   * carry none and none is refused.
   */
  readonly relayDeadlines?: { readonly peers: PeerClocks; readonly waitMs: number; readonly logger: Logger };
  /**
   * The node's script cache: a relayed EVALSHA carries the body the client loaded here, and the
   * target caches it first, so it never answers NOSCRIPT for a script this node knows.
   */
  readonly scripts?: { bodyOf(sha: string): Buffer | undefined; cache(body: Buffer): void };
}

/** A relay to an alive primary whose link is still connecting waits this long, this often, before TRYAGAIN. */
const FORWARD_RETRIES = 5;
const FORWARD_RETRY_MS = 100;

interface ForwardRequest {
  /** Commands to run in order. */
  c: Buffer[][];
  /** Every reply goes back (a relayed run), not only the last one's (a relayed MULTI … EXEC block). */
  a?: boolean;
  p: Protocol;
  ro: boolean;
  /** The relaying connection's id: its relayed commands share one session here (WATCH, order). */
  s?: number;
  /** The connection's name (CLIENT SETNAME), which relayed CLIENT GETNAME must see. */
  n?: string;
  /**
   * The connection's ACL user when it is restricted: the relayed commands were checked where the
   * client is connected, but the scripts they run check each redis.call here, as that user.
   */
  u?: string;
  /**
   * When the relaying node stops waiting for the answer, on its clock (`o`: that clock's anchor;
   * peer-clocks.ts). A relay that arrives later is not run: its client was told it may have failed.
   */
  dl?: number;
  o?: number;
  /** Bodies of the scripts the relayed EVALSHAs name, as the relaying node has them cached. */
  sb?: Buffer[];
}

/**
 * A relay is refused this long after its sender's deadline on this node's clock: room for the rate
 * drift of the two clocks over the minutes the offset is taken from.
 */
const RELAY_EXPIRY_SLACK_MS = 250;

/** A relay's answer when the relayed commands renamed the connection (CLIENT SETNAME in a transaction). */
interface RenamedReply {
  r: Uint8Array;
  n: string;
}

/** Relayed sessions kept per relaying connection; the least recently used go first past this. */
const RELAYED_SESSIONS_MAX = 10_000;
/** A relayed session unused this long is dropped (its connection is gone, or it relays elsewhere). */
const RELAYED_SESSION_IDLE_MS = 10 * 60_000;

function isForwardRequest(p: unknown): p is ForwardRequest {
  const r = p as ForwardRequest;
  return typeof r === 'object' && r !== null && (r.a === undefined || typeof r.a === 'boolean') && Array.isArray(r.c) && r.c.every((a) => Array.isArray(a) && a.length > 0 && a.every((x) => x instanceof Uint8Array)) && (r.p === 2 || r.p === 3) && (r.s === undefined || Number.isSafeInteger(r.s)) && (r.n === undefined || typeof r.n === 'string') && (r.u === undefined || typeof r.u === 'string') && (r.dl === undefined || typeof r.dl === 'number') && (r.o === undefined || typeof r.o === 'number') && (r.sb === undefined || (Array.isArray(r.sb) && r.sb.every((x) => x instanceof Uint8Array)));
}

/** The cached bodies of the scripts that `commands` run by sha (EVALSHA, EVALSHA_RO), where `bodyOf` knows them. */
function scriptBodies(commands: readonly Buffer[][], bodyOf: (sha: string) => Buffer | undefined): Buffer[] {
  const bodies: Buffer[] = [];
  for (const c of commands) {
    if (c.length < 2 || (c[0]!.length !== 7 && c[0]!.length !== 10)) continue;
    const name = c[0]!.toString('latin1').toLowerCase();
    if (name !== 'evalsha' && name !== 'evalsha_ro') continue;
    const body = bodyOf(c[1]!.toString('latin1').toLowerCase());
    if (body !== undefined) bodies.push(body);
  }
  return bodies;
}

/**
 * cluster-proxy: relays a client's command to the slot's primary over the bus and hands back the
 * reply bytes, so plain (not cluster-aware) clients can use any node. The receiving side marks its
 * session as forwarded, and the router then coordinates locally: a relayed command never bounces.
 */
export class Forwarder {
  /** Sessions of relaying connections, by relaying node and connection id, in least-recently-used order. */
  private readonly relayed = new Map<string, { session: TransientSession; usedMs: number }>();
  /** Nodes each local connection relayed a WATCH to (its watches live in its session there), with a watched key's slot. */
  private readonly watching = new WeakMap<SessionState, Map<string, number>>();
  /** Relays refused because they arrived after their sender had stopped waiting. */
  expired = 0;

  constructor(private readonly cluster: ForwarderHost) {}

  /** A node where the connection holds watches (WATCH relayed there, no EXEC since), and a watched slot. */
  watchesRelayed(session: SessionState): { node: string; slot: number } | undefined {
    const nodes = this.watching.get(session);
    const first = nodes?.entries().next().value;
    return first === undefined ? undefined : { node: first[0], slot: first[1] };
  }

  /**
   * Ends the watches a connection holds through relays, except on `keep` (where a relayed EXEC
   * ends them itself). Sent before anything the connection relays later, on the same links.
   */
  unwatchRelayed(session: SessionState, keep?: string): void {
    const nodes = this.watching.get(session);
    if (!nodes) return;
    for (const node of nodes.keys()) {
      if (node !== keep) void this.forward(session, node, [[Buffer.from('UNWATCH')]], new Writer(2, 64), 'all');
    }
    this.watching.delete(session);
  }

  /** Relays `commands` to `nodeId`, which runs them in order; writes every reply, or only the last one's. */
  async forward(session: SessionState, nodeId: string, commands: Buffer[][], out: ReplyWriter, replies: 'all' | 'last'): Promise<void> {
    const addr = this.cluster.busAddress(nodeId);
    if (!addr) throw new Error(`unknown node ${nodeId}`);
    const request: ForwardRequest = { c: commands, a: replies === 'all', p: session.proto, ro: session.readonlyMode, s: session.id, n: session.name };
    if (session.user !== undefined && !session.user.unrestricted) request.u = session.user.name;
    const scripts = this.cluster.scripts;
    if (scripts !== undefined) {
      const bodies = scriptBodies(commands, (sha) => scripts.bodyOf(sha));
      if (bodies.length > 0) request.sb = bodies;
    }
    const watch = commands.find((c) => c.length > 1 && c[0]!.length === 5 && c[0]!.toString('latin1').toLowerCase() === 'watch');
    if (watch !== undefined) {
      let nodes = this.watching.get(session);
      if (!nodes) this.watching.set(session, (nodes = new Map()));
      nodes.set(nodeId, keySlot(watch[1]!));
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const deadlines = this.cluster.relayDeadlines;
        if (deadlines !== undefined) {
          request.dl = anchoredNowMs() + deadlines.waitMs;
          request.o = performance.timeOrigin;
        }
        const answer = (await this.cluster.bus.request(addr, 'fwd', request)) as Uint8Array | RenamedReply;
        const reply = answer instanceof Uint8Array ? answer : answer.r;
        if (!(answer instanceof Uint8Array)) session.name = answer.n;
        out.raw(Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength));
        return;
      } catch (err) {
        // 'unreachable' means nothing was sent (the link to an alive primary is still connecting,
        // e.g. just after the cluster formed), so trying again cannot run the commands twice.
        const unsent = err instanceof BusError && (err.code === 'unreachable' || err.code === 'overloaded' || err.code === 'encode');
        if (unsent && attempt < FORWARD_RETRIES && this.cluster.reachable(nodeId)) {
          await (this.cluster.sleep ? this.cluster.sleep(FORWARD_RETRY_MS) : sleep(FORWARD_RETRY_MS));
          continue;
        }
        // Every relayed command gets its own answer, so the client's replies stay aligned. TRYAGAIN
        // tells clients to send again, which is only safe when nothing reached the primary.
        const n = replies === 'all' ? commands.length : 1;
        const text = unsent
          ? `TRYAGAIN could not reach the slot's primary: ${(err as Error).message}`
          : `ERR the slot's primary did not answer; the command may or may not have been applied (${(err as Error).message})`;
        for (let i = 0; i < n; i++) out.error(text);
        return;
      }
    }
  }

  register(): void {
    this.cluster.bus.handle('fwd', async (from, payload) => {
      if (!isForwardRequest(payload)) throw new Error('malformed forward request');
      const deadlines = this.cluster.relayDeadlines;
      if (deadlines !== undefined && payload.dl !== undefined && payload.o !== undefined) {
        const givenUpAt = deadlines.peers.toLocal(from.nodeId, payload.o, payload.dl);
        if (givenUpAt !== undefined && anchoredNowMs() > givenUpAt + RELAY_EXPIRY_SLACK_MS) {
          this.expired++;
          deadlines.logger.warn({ peer: from.nodeId, lateMs: Math.round(anchoredNowMs() - givenUpAt), commands: payload.c.length }, 'relayed request arrived after its sender stopped waiting; not run');
          throw new Error('relayed request arrived after its sender stopped waiting; not run');
        }
      }
      for (const body of payload.sb ?? []) this.cluster.scripts?.cache(Buffer.from(body));
      const session = this.sessionFor(from.nodeId, payload);
      const name = payload.n ?? '';
      session.name = name;
      const dispatcher = this.cluster.node.dispatcher;
      const argvs = payload.c.map((argv) => argv.map((a) => Buffer.from(a)));
      const renamed = (r: Buffer): Buffer | RenamedReply => (session.name === name ? r : { r, n: session.name });
      // Every command is dispatched now, in order, so nothing relayed later for the same connection
      // lands between them (inside the MULTI of a relayed transaction, say); the session's sequencer
      // keeps their effects in that order.
      if (payload.a === true) {
        const sink = new CaptureSink(payload.p);
        for (const argv of argvs) dispatcher.dispatch(session, argv, sink);
        dispatcher.endBatch(session);
        return renamed(await sink.collect());
      }
      const sinks = argvs.map(() => new CaptureSink(payload.p));
      argvs.forEach((argv, i) => {
        dispatcher.dispatch(session, argv, sinks[i]!);
        dispatcher.endBatch(session);
      });
      for (let i = 0; i < sinks.length - 1; i++) await sinks[i]!.collect();
      return renamed(await sinks[sinks.length - 1]!.collect());
    });
  }

  /** The session a relaying connection's commands run in here: one per connection, so WATCH holds across relays. */
  private sessionFor(fromNode: string, payload: ForwardRequest): TransientSession {
    const now = Date.now();
    const key = payload.s === undefined ? undefined : `${fromNode}/${payload.s}`;
    let entry = key === undefined ? undefined : this.relayed.get(key);
    if (entry === undefined) {
      const session = new TransientSession(payload.p, payload.ro, `bus:${fromNode.slice(0, 8)}`);
      this.cluster.router.forwardedSessions.add(session);
      entry = { session, usedMs: now };
      if (key !== undefined) this.remember(key, entry, now);
    } else {
      this.relayed.delete(key!);
      this.relayed.set(key!, entry);
    }
    entry.usedMs = now;
    entry.session.proto = payload.p;
    entry.session.readonlyMode = payload.ro;
    // A user this node does not know (yet) may do nothing here.
    const user = payload.u;
    entry.session.user = user === undefined ? undefined : this.cluster.node.acl.get(user) ?? this.cluster.node.acl.nobody(user);
    return entry.session;
  }

  private remember(key: string, entry: { session: TransientSession; usedMs: number }, now: number): void {
    this.relayed.set(key, entry);
    // Oldest first: drop the idle ones and anything past the cap.
    for (const [k, e] of this.relayed) {
      if (this.relayed.size <= RELAYED_SESSIONS_MAX && now - e.usedMs < RELAYED_SESSION_IDLE_MS) break;
      this.relayed.delete(k);
    }
  }
}
