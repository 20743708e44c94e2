import { keyPositions, mayBlockNow, subcommandOf, type CommandSpec } from '../commands/spec.js';
import { recordKey } from '../collections/record-keys.js';
import type { CommandRouter, RouteVerdict } from '../server/dispatcher.js';
import { ReservedSink, type RunCommand, type SlotRun } from '../server/command-sequencer.js';
import type { LeaseOutcome } from './lease-service.js';
import { takeTransaction, type TransactionSnapshot } from '../server/session-state.js';
import { CaptureSink } from '../server/transient-session.js';
import type { ReplySink } from '../server/connection.js';
import { watchHolds, type SessionState } from '../server/session-state.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { OverlayKeyspace } from './overlay-keyspace.js';
import { decideRoute, type Route } from './route.js';
import { keySlot } from './slot.js';
import type { SlotTable } from './slot-table.js';

/** What routing needs from the running cluster node. */
export interface RoutingContext {
  readonly myId: string;
  table(): SlotTable;
  /** `host:port` clients use for a node (MOVED target); `clientTls` picks the port for a TLS or plain client. */
  clientAddress(nodeId: string, clientTls: boolean): string | undefined;
  proxy(): boolean;
  quorum(session: SessionState): { r: number; w: number };
  /**
   * Runs `steps` in order over one quorum read of `keys`, replicating their writes as one batch;
   * replies through `sink` (in line, or deferred with a promise that settles once written).
   */
  coordinate(session: SessionState, job: CoordinateJob, steps: ReadonlyArray<(out: ReplyWriter, ks: OverlayKeyspace) => void>, sink: ReplySink): Promise<unknown> | void;
  /** Relays commands to `nodeId` and writes every reply, or only the last one's, to `out`. */
  forward(session: SessionState, nodeId: string, commands: Buffer[][], out: ReplyWriter, replies: 'all' | 'last'): Promise<void>;
  runCommand(session: SessionState, spec: CommandSpec, argv: Buffer[], out: ReplyWriter, ks: OverlayKeyspace): void;
  execTransaction(session: SessionState, out: ReplyWriter, ks: OverlayKeyspace, tx: TransactionSnapshot): void;
  lookup(name: string): CommandSpec | undefined;
  /** The epoch of this node's valid lease on the slot, if it holds one. */
  lease(slot: number): number | undefined;
  acquireLease(slot: number): Promise<LeaseOutcome>;
  /** A node where the connection holds watches through relayed WATCHes (cluster-proxy), and a watched slot. */
  watchesRelayed(session: SessionState): { node: string; slot: number } | undefined;
  /** Ends them, except on `keep`, whose relayed EXEC ends its own. */
  unwatchRelayed(session: SessionState, keep?: string): void;
  /** Runs a keyless command here, as standalone would. */
  runLocal(session: SessionState, spec: CommandSpec, argv: Buffer[], out: ReplyWriter): void;
}

export interface CoordinateJob {
  slot: number;
  /** Record keys (record-keys.ts) of every key the job reads or writes. */
  keys: Buffer[];
  isWrite: boolean;
  blind: boolean;
  /** Lease epoch for read-modify-write jobs. */
  epoch?: number;
}

const LOCAL: RouteVerdict = { kind: 'local' };

/**
 * The job under a lease epoch. A literal, not `{ ...job, epoch }`: on Node 20 a spread that adds a
 * property the source lacks takes V8's slow path (about 1 µs, once per leased command).
 */
function leasedJob(job: CoordinateJob, epoch: number): CoordinateJob {
  return { slot: job.slot, keys: job.keys, isWrite: job.isWrite, blind: job.blind, epoch };
}

/** Writes, and scripts that may write (EVAL, FCALL: flag may_replicate): coordinated under the key locks. */
function mayWrite(spec: CommandSpec, argv: readonly Buffer[]): boolean {
  // A container (XGROUP …) writes when the subcommand named does.
  const flags = (subcommandOf(spec, argv) ?? spec).flags;
  return flags.includes('write') || flags.includes('may_replicate');
}

/** SET with only expiry options overwrites without looking at the old value. */
function isBlind(spec: CommandSpec, argv: Buffer[]): boolean {
  if (spec.name === 'mset' || spec.name === 'setex' || spec.name === 'psetex') return true;
  if (spec.name !== 'set') return false;
  for (let i = 3; i < argv.length; i++) {
    const o = argv[i]!.toString('latin1').toLowerCase();
    if (o === 'ex' || o === 'px' || o === 'exat' || o === 'pxat') i++;
    else return false;
  }
  return true;
}

/**
 * Cluster-mode routing for every keyed command: CROSSSLOT / CLUSTERDOWN / MOVED, relaying in proxy
 * mode, or coordinating the quorum round here. Transactions are checked per queued command and
 * routed as a whole at EXEC.
 */
export class ClusterRouter implements CommandRouter {
  /** Sessions that exist only to run commands a peer relayed: never relayed again. */
  readonly forwardedSessions = new WeakSet<SessionState>();

  constructor(private readonly ctx: RoutingContext) {}

  private decide(session: SessionState, slots: number[], isWrite: boolean, blocking = false): Route {
    const table = this.ctx.table();
    return decideRoute({
      slots,
      myId: this.ctx.myId,
      primary: (s) => table.primary(s),
      replicas: (s) => table.replicas(s),
      isWrite,
      readonlySession: session.readonlyMode,
      // A blocking command waits where its slot is coordinated (a relay would time out): MOVED.
      proxy: this.ctx.proxy() && !blocking,
      forwarded: this.forwardedSessions.has(session),
      isolated: table.isolation,
    });
  }

  private moved(session: SessionState, slot: number, node: string): string {
    return `MOVED ${slot} ${this.ctx.clientAddress(node, session.tls) ?? '127.0.0.1:0'}`;
  }

  /**
   * SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH: a shard channel is served where its slot is, like a key,
   * but nothing is read or replicated: the command runs here or is redirected (never relayed,
   * since a subscription must live on the connection that made it). SPUBLISH needs the primary;
   * a READONLY connection may subscribe on any replica of the slot, which SPUBLISH also reaches.
   */
  private routeShardChannel(session: SessionState, spec: CommandSpec, keys: Buffer[]): RouteVerdict {
    const table = this.ctx.table();
    const route = decideRoute({
      slots: keys.map(keySlot),
      myId: this.ctx.myId,
      primary: (s) => table.primary(s),
      replicas: (s) => table.replicas(s),
      isWrite: spec.name === 'spublish',
      readonlySession: session.readonlyMode,
      proxy: false,
      forwarded: this.forwardedSessions.has(session),
      isolated: table.isolation,
    });
    if (route.kind === 'error') return route;
    if (route.kind === 'moved' || route.kind === 'forward') return { kind: 'error', message: this.moved(session, route.slot, route.node) };
    return LOCAL;
  }

  route(session: SessionState, spec: CommandSpec, argv: Buffer[]): RouteVerdict {
    if (spec.name === 'exec') return this.routeExec(session);
    if (spec.name === 'wait') return this.routeWait(session, argv);
    // These end the connection's watches, also those relayed to other nodes: once everything
    // before them ran, so the UNWATCH reaches each node after the connection's earlier relays.
    if ((spec.name === 'unwatch' || spec.name === 'discard' || spec.name === 'reset') && this.ctx.watchesRelayed(session) !== undefined) {
      return {
        kind: 'async',
        start: (sink) => {
          this.ctx.unwatchRelayed(session);
          this.ctx.runLocal(session, spec, argv, sink.out);
        },
      };
    }
    // WATCH inside MULTI is refused where the connection is, as Redis does, never relayed.
    if (spec.name === 'watch' && session.multi !== undefined) return LOCAL;
    const keys = keyPositions(spec, argv).map((i) => argv[i]!);
    if (keys.length === 0) return LOCAL;
    if (spec.flags.includes('pubsub')) return this.routeShardChannel(session, spec, keys);
    const route = this.decide(session, keys.map(keySlot), mayWrite(spec, argv), mayBlockNow(spec, argv) && session.multi === undefined);
    switch (route.kind) {
      case 'local':
        return LOCAL;
      case 'error':
        return route;
      case 'moved':
        return { kind: 'error', message: this.moved(session, route.slot, route.node) };
      case 'forward':
      case 'coordinate': {
        const forwardTo = route.kind === 'forward' ? route.node : undefined;
        // WATCH records versions that EXEC compares: nothing of the connection may run beside it.
        return { kind: 'run', slot: route.slot, forwardTo, exclusive: spec.name === 'watch' };
      }
    }
  }

  /** A transaction stays with the relay: its connection's watches may live on the node it goes to. */
  private holdsLease(session: SessionState, run: SlotRun): boolean {
    if (run.commands.some((c) => c.tx !== undefined) || this.ctx.watchesRelayed(session) !== undefined) return false;
    return this.ctx.table().replicas(run.slot).includes(this.ctx.myId) && this.ctx.lease(run.slot) !== undefined;
  }

  /**
   * Runs consecutive same-slot commands as one job: relayed together to the primary, or one quorum
   * read of all their keys, the commands in order on one overlay, one replica batch of all writes.
   */
  startRun(session: SessionState, run: SlotRun, sink: ReplySink): Promise<unknown> | void {
    // A node holding the slot's lease coordinates the slot's work itself even where its table names
    // another primary (it took the lease while tables settled): relayed there, the run would find
    // the lease here and, being relayed, could only answer TRYAGAIN.
    if (run.forwardTo !== undefined && !this.holdsLease(session, run)) {
      const node = run.forwardTo;
      return this.deferred(sink, (out) => this.forwardRun(session, node, run.commands, out));
    }
    if (run.commands.some((c) => c.tx?.watched.some((w) => keySlot(w.key) !== run.slot))) return this.checkForeignWatches(session, run, sink);
    const keys: Buffer[] = [];
    let isWrite = false;
    let blind = true;
    const steps: Array<(out: ReplyWriter, ks: OverlayKeyspace) => void> = [];
    for (const c of run.commands) {
      const tx = c.tx;
      if (tx !== undefined) {
        for (const q of tx.queued) {
          const spec = this.ctx.lookup(q.name);
          if (!spec) continue;
          for (const i of keyPositions(spec, q.argv)) keys.push(recordKey(q.argv[i]!));
          if (mayWrite(spec, q.argv)) isWrite = true;
        }
        for (const w of tx.watched) keys.push(recordKey(w.key));
        blind = false;
        steps.push((o, ks) => this.ctx.execTransaction(session, o, ks, tx));
        continue;
      }
      for (const i of keyPositions(c.spec, c.argv)) keys.push(recordKey(c.argv[i]!));
      if (mayWrite(c.spec, c.argv)) isWrite = true;
      if (!isBlind(c.spec, c.argv)) blind = false;
      steps.push((o, ks) => this.ctx.runCommand(session, c.spec, c.argv, o, ks));
    }
    const job: CoordinateJob = { slot: run.slot, keys, isWrite, blind };
    // Blind writes and reads may be coordinated by any replica; work that reads before it writes
    // needs the slot's lease, so only one node at a time coordinates it.
    if (!isWrite || blind) return this.ctx.coordinate(session, job, steps, sink);
    const epoch = this.ctx.lease(run.slot);
    if (epoch !== undefined) return this.ctx.coordinate(session, leasedJob(job, epoch), steps, sink);
    return this.coordinateLeased(session, run, job, steps, sink);
  }

  /**
   * WATCH may guard a transaction on another slot of the same node, as in Redis. The keys watched
   * outside the run's slot are read (a quorum read where their slot lives) once EXEC's turn came,
   * then the transaction runs with only its own slot's watches, aborting if a foreign one changed.
   */
  private async checkForeignWatches(session: SessionState, run: SlotRun, sink: ReplySink): Promise<void> {
    const reply = sink.defer();
    const commands: RunCommand[] = [];
    for (const c of run.commands) {
      const tx = c.tx;
      if (tx === undefined) {
        commands.push(c);
        continue;
      }
      const own = tx.watched.filter((w) => keySlot(w.key) === run.slot);
      const bySlot = new Map<number, typeof tx.watched>();
      for (const w of tx.watched) {
        const slot = keySlot(w.key);
        if (slot !== run.slot) bySlot.set(slot, [...(bySlot.get(slot) ?? []), w]);
      }
      let stale = false;
      for (const [slot, watches] of bySlot) {
        const probe = new CaptureSink(2);
        const check = (_out: ReplyWriter, ks: OverlayKeyspace): void => {
          if (watches.some((w) => !watchHolds(w, ks.version(w.key)))) stale = true;
        };
        await this.ctx.coordinate(session, { slot, keys: watches.map((w) => recordKey(w.key)), isWrite: false, blind: false }, [check], probe);
        // A read that could not meet its quorum leaves the watch unverified: abort rather than guess.
        if ((await probe.collect()).length > 0) stale = true;
      }
      commands.push({ ...c, tx: { ...tx, watched: own, staleWatch: stale } });
    }
    const reserved = new ReservedSink(reply);
    await this.startRun(session, { ...run, commands }, reserved);
    if (!reserved.taken) reply.done();
  }

  /** Acquires the slot's lease, then coordinates; or relays to the node that holds it; or TRYAGAIN. */
  private async coordinateLeased(session: SessionState, run: SlotRun, job: CoordinateJob, steps: ReadonlyArray<(out: ReplyWriter, ks: OverlayKeyspace) => void>, sink: ReplySink): Promise<void> {
    const reply = sink.defer();
    const outcome = await this.ctx.acquireLease(run.slot);
    if (outcome.kind === 'held') {
      const reserved = new ReservedSink(reply);
      const result = this.ctx.coordinate(session, leasedJob(job, outcome.epoch), steps, reserved);
      if (result instanceof Promise) await result;
      if (!reserved.taken) reply.done();
      return;
    }
    // WATCH versions were read here, so a watched transaction cannot be relayed; nor is a relayed run relayed again.
    const watching = run.commands.some((c) => c.tx !== undefined && c.tx.watched.length > 0);
    if (outcome.kind === 'elsewhere' && !watching && !this.forwardedSessions.has(session)) {
      try {
        await this.forwardRun(session, outcome.holder, run.commands, reply.out);
      } catch (err) {
        for (let i = 0; i < run.commands.length; i++) reply.out.error(`TRYAGAIN ${(err as Error).message}`);
      }
      reply.done();
      return;
    }
    const why = outcome.kind === 'unavailable' ? outcome.reason : 'another node coordinates the slot now';
    for (let i = 0; i < run.commands.length; i++) reply.out.error(`TRYAGAIN ${why}`);
    reply.done();
  }

  /**
   * Relays a run in order: plain commands together (every reply comes back), a transaction as its
   * whole MULTI … EXEC block (only EXEC's reply comes back).
   */
  private async forwardRun(session: SessionState, node: string, commands: readonly RunCommand[], out: ReplyWriter): Promise<void> {
    let plain: Buffer[][] = [];
    for (const c of commands) {
      if (c.tx === undefined) {
        plain.push(c.argv);
        continue;
      }
      if (plain.length > 0) await this.ctx.forward(session, node, plain, out, 'all');
      plain = [];
      const block = [[Buffer.from('MULTI')], ...c.tx.queued.map((q) => q.argv), [Buffer.from('EXEC')]];
      await this.ctx.forward(session, node, block, out, 'last');
    }
    if (plain.length > 0) await this.ctx.forward(session, node, plain, out, 'all');
  }

  private deferred(sink: ReplySink, work: (out: ReplyWriter) => Promise<void>): Promise<void> {
    const d = sink.defer();
    return work(d.out).then(
      () => d.done(),
      (err: unknown) => {
        d.out.error(`ERR ${(err as Error).message}`);
        d.done();
      },
    );
  }

  /** WAIT numreplicas timeout: how many replicas besides the coordinator hold this connection's last write. */
  private routeWait(session: SessionState, argv: Buffer[]): RouteVerdict {
    const want = Number(argv[1]!.toString());
    const timeoutMs = Number(argv[2]!.toString());
    if (!Number.isInteger(want) || !Number.isInteger(timeoutMs) || timeoutMs < 0) return LOCAL;
    return {
      kind: 'async',
      start: (sink) => {
        // Read when WAIT starts, after every earlier command of the connection finished.
        const last = session.lastWrite;
        if (!last) {
          sink.out.int(0);
          return;
        }
        const others = (n: number): number => Math.max(0, n - 1);
        if (others(last.acked) >= want) {
          sink.out.int(others(last.acked));
          return;
        }
        void this.deferred(sink, async (out) => {
          const timer = timeoutMs > 0 ? new Promise<number>((r) => setTimeout(() => r(-1), timeoutMs).unref()) : undefined;
          const all = await (timer ? Promise.race([last.allAcked, timer]) : last.allAcked);
          out.int(all < 0 ? others(last.acked) : others(all));
        });
      },
    };
  }

  /**
   * EXEC runs where the transaction's slot is coordinated, with every queued and watched key
   * fetched. The transaction is taken out of the session now: commands after EXEC may start the
   * next one while this one still waits for its run.
   */
  private routeExec(session: SessionState): RouteVerdict {
    const queued = session.multi;
    if (queued === undefined || session.multiDirty) {
      if (queued !== undefined && this.ctx.watchesRelayed(session) !== undefined) this.ctx.unwatchRelayed(session);
      return LOCAL;
    }
    const keys: Buffer[] = [];
    let isWrite = false;
    for (const q of queued) {
      const spec = this.ctx.lookup(q.name);
      if (!spec) continue;
      for (const i of keyPositions(spec, q.argv)) keys.push(q.argv[i]!);
      if (mayWrite(spec, q.argv)) isWrite = true;
    }
    const watched = [...session.watched.values()].map((w) => w.key);
    if (keys.length === 0 && watched.length === 0) {
      // An empty transaction still checks its watches: where they were relayed, it goes there.
      const watchedAt = this.ctx.watchesRelayed(session);
      if (watchedAt === undefined) return LOCAL;
      this.ctx.unwatchRelayed(session, watchedAt.node);
      // After the connection's earlier commands and before its later ones (see below).
      return { kind: 'run', slot: watchedAt.slot, forwardTo: watchedAt.node, exclusive: true, tx: takeTransaction(session) };
    }
    // The queued commands pick the slot; watched keys elsewhere are checked when EXEC runs.
    const slots = (keys.length > 0 ? keys : watched.slice(0, 1)).map(keySlot);
    let route = this.decide(session, slots, isWrite);
    // WATCH versions were read here; comparing them needs the transaction to run here as well.
    if (route.kind === 'forward' && watched.length > 0) route = { kind: 'coordinate', slot: route.slot };
    // EXEC ends every watch of the connection: those relayed elsewhere too (a relayed EXEC ends its own node's).
    const relayedTo = route.kind === 'forward' ? route.node : undefined;
    const watchedAt = this.ctx.watchesRelayed(session);
    if (watchedAt !== undefined) {
      // Watches relayed to a node the transaction no longer goes to (the slot's route changed since
      // WATCH) cannot be checked: abort, as Redis aborts when a watched key's slot moves away.
      if (watchedAt.node !== relayedTo && (route.kind === 'local' || route.kind === 'coordinate' || route.kind === 'forward')) session.watchLost = true;
      this.ctx.unwatchRelayed(session, relayedTo);
    }
    if (route.kind === 'local') return LOCAL;
    const tx = takeTransaction(session);
    // A relayed EXEC ends the watches the connection's session holds on the node it goes to, so it
    // keeps its place among the connection's commands on every slot: on its slot's lane alone, a
    // later transaction on another slot relayed to the same node overtook it, ended its watches
    // there first, and it then ran unguarded (seed 21 of the proxy differential test). Watches
    // read here are compared here, in the same order.
    const exclusive = route.kind === 'forward' || watchedAt !== undefined || watched.length > 0;
    switch (route.kind) {
      case 'coordinate':
        return { kind: 'run', slot: route.slot, forwardTo: undefined, exclusive, tx };
      case 'forward':
        return { kind: 'run', slot: route.slot, forwardTo: route.node, exclusive, tx };
      case 'moved':
        return { kind: 'error', message: this.moved(session, route.slot, route.node) };
      case 'error':
        return route;
    }
  }

  /**
   * As Redis Cluster: a queued command is checked on its own keys only (MOVED, CROSSSLOT within the
   * command); keys of different queued commands that hash to different slots fail EXEC itself.
   */
  checkQueued(session: SessionState, spec: CommandSpec, argv: Buffer[]): string | undefined {
    const keys = keyPositions(spec, argv).map((i) => argv[i]!);
    if (keys.length === 0) return undefined;
    const route = this.decide(session, keys.map(keySlot), mayWrite(spec, argv));
    if (route.kind === 'error') return route.message;
    if (route.kind === 'moved') return this.moved(session, route.slot, route.node);
    return undefined;
  }
}
