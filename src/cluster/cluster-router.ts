import { ERR } from '../core/errors.js';
import { keyPositions, type CommandSpec } from '../commands/spec.js';
import type { CommandRouter } from '../server/dispatcher.js';
import type { ReplySink } from '../server/connection.js';
import type { SessionState } from '../server/session-state.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { OverlayKeyspace } from './overlay-keyspace.js';
import { decideRoute, type Route } from './route.js';
import { keySlot } from './slot.js';
import type { SlotTable } from './slot-table.js';

/** What routing needs from the running cluster node. */
export interface RoutingContext {
  readonly myId: string;
  table(): SlotTable;
  /** `host:port` clients use for a node (MOVED target). */
  clientAddress(nodeId: string): string | undefined;
  proxy(): boolean;
  quorum(session: SessionState): { r: number; w: number };
  /** Runs `execute` over a quorum read of `keys`, replicating its writes; replies through `sink` (in line or deferred). */
  coordinate(session: SessionState, job: { slot: number; keys: Buffer[]; isWrite: boolean; blind: boolean }, execute: (out: ReplyWriter, ks: OverlayKeyspace) => void, sink: ReplySink): void;
  /** Relays commands to `nodeId` and writes the reply of the last one to `out`. */
  forward(session: SessionState, nodeId: string, commands: Buffer[][], out: ReplyWriter): Promise<void>;
  runCommand(session: SessionState, spec: CommandSpec, argv: Buffer[], out: ReplyWriter, ks: OverlayKeyspace): void;
  execTransaction(session: SessionState, out: ReplyWriter, ks: OverlayKeyspace): void;
  lookup(name: string): CommandSpec | undefined;
}

/** Writes, and scripts that may write (EVAL, FCALL: flag may_replicate): coordinated under the key locks. */
function mayWrite(spec: CommandSpec): boolean {
  return spec.flags.includes('write') || spec.flags.includes('may_replicate');
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
  /** The slot a transaction committed to with its first keyed command. */
  private readonly txSlots = new WeakMap<SessionState, number>();
  /** Sessions that exist only to run commands a peer relayed: never relayed again. */
  readonly forwardedSessions = new WeakSet<SessionState>();

  constructor(private readonly ctx: RoutingContext) {}

  private decide(session: SessionState, slots: number[], isWrite: boolean): Route {
    const table = this.ctx.table();
    return decideRoute({
      slots,
      myId: this.ctx.myId,
      primary: (s) => table.primary(s),
      replicas: (s) => table.replicas(s),
      isWrite,
      readonlySession: session.readonlyMode,
      proxy: this.ctx.proxy(),
      forwarded: this.forwardedSessions.has(session),
    });
  }

  private moved(slot: number, node: string): string {
    return `MOVED ${slot} ${this.ctx.clientAddress(node) ?? '127.0.0.1:0'}`;
  }

  route(session: SessionState, spec: CommandSpec, argv: Buffer[], sink: ReplySink): boolean {
    if (spec.name === 'exec') return this.routeExec(session, sink);
    if (spec.name === 'wait') return this.routeWait(session, argv, sink);
    const keys = keyPositions(spec, argv).map((i) => argv[i]!);
    if (keys.length === 0) return false;
    const isWrite = mayWrite(spec);
    const route = this.decide(session, keys.map(keySlot), isWrite);
    switch (route.kind) {
      case 'local':
        return false;
      case 'error':
        sink.out.error(route.message);
        return true;
      case 'moved':
        sink.out.error(this.moved(route.slot, route.node));
        return true;
      case 'forward':
        this.deferred(sink, (out) => this.ctx.forward(session, route.node, [argv], out));
        return true;
      case 'coordinate': {
        const job = { slot: route.slot, keys, isWrite, blind: isBlind(spec, argv) };
        this.ctx.coordinate(session, job, (o, ks) => this.ctx.runCommand(session, spec, argv, o, ks), sink);
        return true;
      }
    }
  }

  private deferred(sink: ReplySink, work: (out: ReplyWriter) => Promise<void>): void {
    const d = sink.defer();
    work(d.out).then(
      () => d.done(),
      (err: unknown) => {
        d.out.error(`ERR ${(err as Error).message}`);
        d.done();
      },
    );
  }

  /** WAIT numreplicas timeout: how many replicas besides the coordinator hold this connection's last write. */
  private routeWait(session: SessionState, argv: Buffer[], sink: ReplySink): boolean {
    const last = session.lastWrite;
    const want = Number(argv[1]!.toString());
    const timeoutMs = Number(argv[2]!.toString());
    if (!last || !Number.isInteger(want) || !Number.isInteger(timeoutMs) || timeoutMs < 0) return false;
    this.deferred(sink, async (out) => {
      const others = (n: number): number => Math.max(0, n - 1);
      if (others(last.acked) >= want) return out.int(others(last.acked));
      const timer = timeoutMs > 0 ? new Promise<number>((r) => setTimeout(() => r(-1), timeoutMs).unref()) : undefined;
      const all = await (timer ? Promise.race([last.allAcked, timer]) : last.allAcked);
      out.int(all < 0 ? others(last.acked) : others(all));
    });
    return true;
  }

  /** EXEC runs where the transaction's slot is coordinated, with every queued and watched key fetched. */
  private routeExec(session: SessionState, sink: ReplySink): boolean {
    const queued = session.multi;
    if (queued === undefined || session.multiDirty) return false;
    const keys: Buffer[] = [];
    let isWrite = false;
    for (const q of queued) {
      const spec = this.ctx.lookup(q.name);
      if (!spec) continue;
      for (const i of keyPositions(spec, q.argv)) keys.push(q.argv[i]!);
      if (mayWrite(spec)) isWrite = true;
    }
    const watched = [...session.watched.values()].map((w) => w.key);
    if (keys.length === 0 && watched.length === 0) return false;
    const slots = [...keys, ...watched].map(keySlot);
    let route = this.decide(session, slots, isWrite);
    // WATCH versions were read here; comparing them needs the transaction to run here as well.
    if (route.kind === 'forward' && watched.length > 0) route = { kind: 'coordinate', slot: route.slot };
    this.txSlots.delete(session);
    switch (route.kind) {
      case 'local':
        return false;
      case 'coordinate': {
        const job = { slot: route.slot, keys: [...keys, ...watched], isWrite, blind: false };
        this.ctx.coordinate(session, job, (o, ks) => this.ctx.execTransaction(session, o, ks), sink);
        return true;
      }
      case 'forward': {
        const block = [[Buffer.from('MULTI')], ...queued.map((q) => q.argv), [Buffer.from('EXEC')]];
        session.multi = undefined;
        session.watched.clear();
        this.deferred(sink, (out) => this.ctx.forward(session, route.node, block, out));
        return true;
      }
      default:
        session.multi = undefined;
        session.watched.clear();
        sink.out.error(route.kind === 'moved' ? this.moved(route.slot, route.node) : route.message);
        return true;
    }
  }

  checkQueued(session: SessionState, spec: CommandSpec, argv: Buffer[]): string | undefined {
    const keys = keyPositions(spec, argv).map((i) => argv[i]!);
    if (keys.length === 0) return undefined;
    if (session.multi!.length === 0) this.txSlots.delete(session);
    const slots = keys.map(keySlot);
    const txSlot = this.txSlots.get(session);
    if (txSlot !== undefined && slots.some((s) => s !== txSlot)) return ERR.crossSlot;
    const route = this.decide(session, slots, mayWrite(spec));
    if (route.kind === 'error') return route.message;
    if (route.kind === 'moved') return this.moved(route.slot, route.node);
    if (route.kind !== 'local') this.txSlots.set(session, route.slot);
    return undefined;
  }
}
