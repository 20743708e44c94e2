import { ERR, ReplyError, unknownCommandError } from '../core/errors.js';
import type { CommandContext, CommandSpec } from '../commands/spec.js';
import type { Keyspace } from '../commands/keyspace.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { NodeServices } from './node-services.js';
import type { ReplySink } from './connection.js';
import type { SessionState } from './session-state.js';

/** Commands that run immediately inside MULTI instead of being queued. */
const MULTI_IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/**
 * Decides where a keyed command runs in cluster mode. Returns true when it took the command
 * (answered with a redirect, or started coordinating it and will reply through the sink).
 */
export interface CommandRouter {
  route(session: SessionState, spec: CommandSpec, argv: Buffer[], sink: ReplySink): boolean;
  /** Routing check for a command being queued in MULTI; an error text rejects it. */
  checkQueued(session: SessionState, spec: CommandSpec, argv: Buffer[]): string | undefined;
}

/** The one path every request takes: lookup, auth, arity, transactions, routing, execution. */
export class Dispatcher {
  router: CommandRouter | undefined;

  constructor(
    private readonly node: NodeServices,
    private readonly table: ReadonlyMap<string, CommandSpec>,
    private readonly keyspace: Keyspace & { now: number },
  ) {}

  dispatch(session: SessionState, argv: Buffer[], sink: ReplySink): void {
    const out = sink.out;
    const name = argv[0]!.toString('latin1').toLowerCase();
    const spec = this.table.get(name);
    this.node.stats.totalCommandsProcessed++;
    if (spec === undefined) {
      this.reject(session, out, unknownCommandError(argv[0]!.toString('latin1'), argv.slice(1)));
      return;
    }
    if (!session.authenticated && !spec.flags.includes('no_auth')) {
      this.reject(session, out, ERR.noAuth);
      return;
    }
    if (spec.arity > 0 ? argv.length !== spec.arity : argv.length < -spec.arity) {
      this.reject(session, out, ERR.wrongArity(spec.name));
      return;
    }
    session.lastCommand = spec.name;
    if (session.multi !== undefined && !MULTI_IMMEDIATE.has(spec.name)) {
      this.queue(session, spec, argv, out);
      return;
    }
    if (this.router && this.router.route(session, spec, argv, sink)) {
      if (name !== 'asking') session.asking = false;
      return;
    }
    this.run(session, spec, argv, out);
    if (name !== 'asking' && session.multi === undefined) session.asking = false;
  }

  /** Runs a command against the local keyspace, writing its reply (or error) to `out`. */
  run(session: SessionState, spec: CommandSpec, argv: Buffer[], out: ReplyWriter, ks: Keyspace = this.keyspace): void {
    if (ks === this.keyspace) this.keyspace.now = this.node.now();
    if (spec.flags.includes('write')) session.writes++;
    const ctx: CommandContext = { out, ks, session, node: this.node };
    try {
      spec.run(ctx, argv);
      this.node.stats.noteCommand(spec.name, 0, false);
    } catch (err) {
      if (!(err instanceof ReplyError)) {
        this.node.logger.error({ err, command: spec.name }, 'command failed unexpectedly');
      }
      this.node.stats.noteCommand(spec.name, 0, true);
      this.node.stats.errorReplies++;
      out.error(err instanceof ReplyError ? err.message : `ERR ${(err as Error).message}`);
    }
  }

  private queue(session: SessionState, spec: CommandSpec, argv: Buffer[], out: ReplyWriter): void {
    if (spec.flags.includes('no_multi')) {
      this.reject(session, out, `ERR Command not allowed inside a transaction`);
      return;
    }
    const routeError = this.router?.checkQueued(session, spec, argv);
    if (routeError !== undefined) {
      this.reject(session, out, routeError);
      return;
    }
    session.multi!.push({ name: spec.name, argv });
    out.simple('QUEUED');
  }

  private reject(session: SessionState, out: ReplyWriter, message: string): void {
    if (session.multi !== undefined) session.multiDirty = true;
    this.node.stats.errorReplies++;
    out.error(message);
  }

  /** EXEC's body: the queued commands in order, each reply in one array, WATCH checked first. */
  execTransaction(session: SessionState, out: ReplyWriter, ks: Keyspace): void {
    const queued = session.multi ?? [];
    session.multi = undefined;
    const dirty = session.multiDirty;
    session.multiDirty = false;
    const watched = [...session.watched.values()];
    session.watched.clear();
    if (dirty) {
      out.error(ERR.execAbort);
      return;
    }
    for (const w of watched) {
      const now = ks.get(w.key)?.version;
      const same = now === undefined ? w.version === undefined : w.version !== undefined && now.equals(w.version);
      if (!same) {
        out.nullArray();
        return;
      }
    }
    out.arrayHeader(queued.length);
    for (const q of queued) this.run(session, this.table.get(q.name)!, q.argv, out, ks);
  }
}
