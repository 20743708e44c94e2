import { isLocalSession } from './protected-mode.js';
import { ReplyOverLimit } from '../commands/reply-budget.js';
import { ERR, ReplyError, unknownCommandError } from '../core/errors.js';
import { callName, hasFlag, hiddenFromMonitor, keyPositions, mayBlockNow, subcommandOf, type CommandContext, type CommandSpec, type Suspension } from '../commands/spec.js';
import type { Keyspace } from '../commands/keyspace.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { NodeServices } from './node-services.js';
import type { ReplySink } from './connection.js';
import { takeTransaction, watchHolds, type QueuedCommand, type SessionState, type TransactionSnapshot } from './session-state.js';
import { CommandSequencer, type SlotRun } from './command-sequencer.js';
import { BlockedClients, type Attempt } from './blocked-clients.js';
import { coordinatedAttempt, localAttempt } from './block-attempts.js';
import { TransientSession } from './transient-session.js';
import { OOM_ERROR, type MemoryGuard } from './eviction/memory-guard.js';
import { familyIndex } from './command-family.js';
import { recordCommandRun } from './command-record.js';
import { runOnBehalf } from './on-behalf.js';
import { KeyFence } from './key-fence.js';
import { aclRefusal, execAclRefusal } from './acl-sessions.js';
import { BUSY_EVAL, BUSY_FUNCTION } from '../scripting/busy-replies.js';
import { NOT_DURABLE_ERROR } from './durable-reply.js';

/** Commands that run immediately inside MULTI instead of being queued. */
const MULTI_IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/** What a RESP2 connection may send while subscribed (Redis 7.0: it can only read frames otherwise). */
const SUBSCRIBED_MODE_ALLOWED = new Set(['subscribe', 'ssubscribe', 'psubscribe', 'unsubscribe', 'sunsubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

/**
 * Keyless commands that may run while earlier commands of the connection are still running: they
 * neither read the keyspace nor change state that those commands use. Every other keyless command
 * waits for them (it could observe their effects, or change how they run).
 */
const INLINE_WHILE_BUSY = new Set(['multi', 'quit']);

/**
 * Admin and skip_monitor commands never reach MONITOR; for a container (ACL, CONFIG …) its
 * subcommand's flags decide, as in Redis, so ACL SETUSER and its passwords stay out while ACL
 * WHOAMI shows.
 */
const SCRIPT_COMMANDS = new Set(['eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'fcall', 'fcall_ro']);


/** Where cluster routing sends a command. */
export type RouteVerdict =
  | { kind: 'local' }
  | { kind: 'error'; message: string }
  /** Coordinated (or relayed) with the other commands of its run; see CommandSequencer. */
  | { kind: 'run'; slot: number; forwardTo: string | undefined; exclusive: boolean; tx?: TransactionSnapshot }
  /** Runs here but may answer later (WAIT): later commands wait for it. */
  | { kind: 'async'; start: (sink: ReplySink) => void };

/** Decides where a keyed command runs in cluster mode, and runs what it decided to coordinate. */
export interface CommandRouter {
  route(session: SessionState, spec: CommandSpec, argv: Buffer[]): RouteVerdict;
  /** Starts a run of same-slot commands; a returned promise settles once all its replies are written. */
  startRun(session: SessionState, run: SlotRun, sink: ReplySink): Promise<unknown> | void;
  /** Routing check for a command being queued in MULTI; an error text rejects it. */
  checkQueued(session: SessionState, spec: CommandSpec, argv: Buffer[]): string | undefined;
}

/** An internal error of one command is logged at most this often. */
const INTERNAL_ERROR_LOG_MS = 60_000;

/** Redis's allow_busy flag, of the command or of its subcommand (SCRIPT KILL, FUNCTION KILL / STATS). */
function allowedWhileBusy(spec: CommandSpec, argv: Buffer[]): boolean {
  return hasFlag(spec, argv, 'allow_busy');
}

/** Redis refuses these to a client in MONITOR mode (a replica to it): commands that read, write or may replicate. */
function touchesKeyspace(spec: CommandSpec, argv: Buffer[]): boolean {
  // PUBLISH replicates in Redis without carrying the flag (as CLIENT PAUSE WRITE treats it).
  return hasFlag(spec, argv, 'readonly') || hasFlag(spec, argv, 'write') || hasFlag(spec, argv, 'may_replicate') || spec.name === 'publish' || spec.name === 'spublish';
}

/** EVAL_RO and its kin: CLIENT TRACKING remembers their keys only when the script reads. */
const READONLY_SCRIPT_COMMANDS = new Set(['eval_ro', 'evalsha_ro', 'fcall_ro']);

/** The one path every request takes: order, lookup, auth, arity, transactions, routing, execution. */
export class Dispatcher {
  router: CommandRouter | undefined;
  /** The instant an EXEC running on the local keyspace froze time at (execTransaction). */
  private frozenNow: number | undefined;
  /** EXEC bodies running (BGSAVE and BGREWRITEAOF answer 'scheduled' inside one, as Redis). */
  private execDepth = 0;
  /** maxmemory: key accesses for LRU/LFU, eviction and -OOM before a command runs (set by the node). */
  memory: MemoryGuard | undefined;
  /** Calls back once pending writes are durable, with the error if they cannot be; false when none are pending (set by the node). */
  awaitDurable: (cb: (err?: Error) => void) => boolean = () => false;
  /** Why writes cannot be persisted any more (the commit log failed), as MISCONF's text; set by the node. */
  diskFailure: () => string | undefined = () => undefined;
  /** Commands that failed with an internal exception: when it was last logged, and how often since. */
  private readonly internalErrors = new Map<string, { loggedAt: number; since: number }>();
  /** Clients blocked in BLPOP and the like (blocked-clients.ts). */
  readonly blocked = new BlockedClients((cb) => this.awaitDurable(cb));
  /** Keys a MIGRATE is moving: other sessions' commands on them wait (key-fence.ts). */
  readonly fence = new KeyFence();

  constructor(
    private readonly node: NodeServices,
    private readonly table: ReadonlyMap<string, CommandSpec>,
    private readonly keyspace: Keyspace & { now: number; atomically<T>(fn: () => T): T; hold?(): () => void },
  ) {}

  dispatch(session: SessionState, argv: Buffer[], sink: ReplySink): void {
    const seq = session.sequencer ?? this.sequencerFor(session);
    if (seq.holding) {
      seq.hold(argv, sink);
      return;
    }
    this.process(session, seq, argv, sink);
  }

  /** The connection's batch of complete requests is dispatched: start what was grouped into runs. */
  endBatch(session: SessionState): void {
    session.sequencer?.flush();
  }

  /**
   * An exception that is not a Redis error reply is a bug: logged with the command (once a minute per
   * command, with how many were not logged), answered with a stable text rather than its message.
   */
  private internalError(command: string, err: unknown): string {
    const now = Date.now();
    const seen = this.internalErrors.get(command);
    if (seen === undefined || now - seen.loggedAt >= INTERNAL_ERROR_LOG_MS) {
      this.node.logger.error({ err, command, notLogged: seen?.since ?? 0 }, 'command failed unexpectedly');
      this.internalErrors.set(command, { loggedAt: now, since: 0 });
    } else {
      seen.since++;
    }
    return `ERR internal error running '${command}' (logged on the server)`;
  }

  private sequencerFor(session: SessionState): CommandSequencer {
    const seq: CommandSequencer = new CommandSequencer({
      process: (argv, sink) => this.process(session, seq, argv, sink),
      startRun: (run, sink) => this.timedRun(session, run, sink),
      writes: () => session.writes,
      awaitDurable: (cb) => this.awaitDurable(cb),
    });
    session.sequencer = seq;
    return seq;
  }

  private process(session: SessionState, seq: CommandSequencer, argv: Buffer[], sink: ReplySink): void {
    const out = sink.out;
    const name = argv[0]!.toString('latin1').toLowerCase();
    const spec = this.table.get(name);
    this.node.stats.totalCommandsProcessed++;
    if (spec === undefined) {
      seq.flush();
      this.reject(session, out, unknownCommandError(argv[0]!.toString('latin1'), argv.slice(1)));
      return;
    }
    if (!session.authenticated && !spec.flags.includes('no_auth') && this.node.acl.authRequired()) {
      seq.flush();
      this.reject(session, out, ERR.noAuth, spec.name === 'exec', spec, argv);
      return;
    }
    const refusal = this.refusal(spec, argv) ?? this.protectedRefusal(session, spec, argv);
    if (refusal !== undefined) {
      seq.flush();
      this.reject(session, out, refusal, spec.name === 'exec', spec, argv);
      return;
    }
    const denied = aclRefusal(this.node.acl, session, spec, argv, session.multi !== undefined ? 'multi' : 'toplevel');
    if (denied !== undefined) {
      seq.flush();
      this.reject(session, out, denied, spec.name === 'exec', spec, argv);
      return;
    }
    if (session.proto === 2 && session.subscriptions.active && !SUBSCRIBED_MODE_ALLOWED.has(spec.name)) {
      seq.flush();
      this.reject(session, out, `ERR Can't execute '${callName(spec, argv)}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`, spec.name === 'exec', spec, argv);
      return;
    }
    // A script past busy-reply-threshold is between two of its steps: only allow_busy commands run.
    const busy = this.node.busyScript;
    if (busy !== undefined && !allowedWhileBusy(spec, argv)) {
      seq.flush();
      this.reject(session, out, busy.isEval ? BUSY_EVAL : BUSY_FUNCTION, spec.name === 'exec', spec, argv);
      return;
    }
    // A MONITOR client counts as a replica in Redis: it may not touch the keyspace, and sees its own
    // commands after their replies (Redis feeds monitors once a command ran).
    const selfMonitor = this.node.monitor.size > 0 && this.node.monitor.has(session);
    if (selfMonitor && touchesKeyspace(spec, argv)) {
      seq.flush();
      this.reject(session, out, "ERR Replica can't interact with the keyspace", spec.name === 'exec', spec, argv);
      return;
    }
    // CLIENT PAUSE: the command waits (and the connection's later ones behind it) until it ends.
    if (this.node.pause.active && !(session.multi !== undefined && !MULTI_IMMEDIATE.has(spec.name)) && this.node.pause.holds(spec, session, argv)) {
      seq.flush();
      seq.hold(argv, sink);
      this.node.pause.whenOver(() => seq.resume());
      return;
    }
    // A MIGRATE is moving one of the command's keys: it waits until the key is gone or stays.
    if (this.fence.active && !(session.multi !== undefined && !MULTI_IMMEDIATE.has(spec.name)) && this.fence.holds(session, spec, argv, (n) => this.table.get(n))) {
      seq.flush();
      seq.hold(argv, sink);
      this.fence.whenReleased(() => seq.resume());
      return;
    }
    // Scripts are skip_monitor but shown all the same, before the commands they run (Redis feeds them itself).
    const fedToMonitors = this.node.monitor.size > 0 && (!hiddenFromMonitor(spec, argv) || SCRIPT_COMMANDS.has(spec.name));
    if (fedToMonitors && !selfMonitor) this.node.monitor.feed(session, argv);
    // CLIENT LIST's cmd names the subcommand too (client|list), as Redis 7.0 does.
    session.lastCommand = callName(spec, argv);
    if (session.multi !== undefined && !MULTI_IMMEDIATE.has(spec.name)) {
      seq.flush();
      this.queue(session, spec, argv, out);
      return;
    }
    if (spec.start !== undefined) {
      this.startAsync(session, seq, spec, argv, sink);
      return;
    }
    if (this.router) {
      const verdict = this.router.route(session, spec, argv);
      if (verdict.kind !== 'local') {
        if (name !== 'asking') session.asking = false;
        switch (verdict.kind) {
          case 'run':
            const refused = verdict.forwardTo === undefined ? this.writeRefusal(session, spec, argv, verdict.tx?.queued ?? session.multi) : undefined;
            if (refused !== undefined) {
              seq.flush();
              this.reject(session, out, refused, spec.name === 'exec', spec, argv);
              return;
            }
            if (verdict.forwardTo === undefined && verdict.tx === undefined && this.mayBlock(session, spec, argv)) {
              const run: SlotRun = { slot: verdict.slot, forwardTo: undefined, exclusive: true, commands: [{ spec, argv }] };
              const attempt = coordinatedAttempt(session, spec, argv, (capture) => this.router!.startRun(session, run, capture));
              this.block(session, seq, spec, argv, sink, attempt, () => this.routeError(session, spec, argv));
              return;
            }
            seq.add(verdict.slot, verdict.forwardTo, verdict.exclusive, { spec, argv, tx: verdict.tx }, sink);
            return;
          case 'error':
            seq.flush();
            this.node.stats.noteErrorReply(verdict.message);
            out.error(verdict.message);
            return;
          case 'async':
            seq.flush();
            if (seq.busy) seq.hold(argv, sink);
            else verdict.start(seq.guard(sink));
            return;
        }
      }
    }
    seq.flush();
    if (seq.busy && !INLINE_WHILE_BUSY.has(spec.name)) {
      seq.hold(argv, sink);
      return;
    }
    const refused = this.writeRefusal(session, spec, argv, session.multi);
    if (refused !== undefined) {
      this.reject(session, out, refused, spec.name === 'exec', spec, argv);
      return;
    }
    if (this.mayBlock(session, spec, argv)) {
      this.block(session, seq, spec, argv, sink, localAttempt(session, (o) => this.run(session, spec, argv, o)));
      return;
    }
    // A standalone node's top-level script may go on in later turns (Suspension).
    // Only scripts suspend: every other command keeps the plain context (no closure, one shape).
    const suspend = SCRIPT_COMMANDS.has(spec.name) && this.router === undefined && this.keyspace.hold !== undefined && !(session instanceof TransientSession)
      ? () => this.suspension(session, seq, sink)
      : undefined;
    this.run(session, spec, argv, out, this.keyspace, suspend);
    if (selfMonitor && fedToMonitors) this.node.monitor.feed(session, argv);
    if (name !== 'asking' && session.multi === undefined) session.asking = false;
  }

  /**
   * How a command that goes on after this turn (a busy script) finishes: its reply keeps its place
   * and holds the connection's later commands; its log entries stay held as one (a crash loses all
   * of it or none); blocked clients are served once it ended; each step sees the command's time.
   */
  private suspension(session: SessionState, seq: CommandSequencer, sink: ReplySink): Suspension {
    const reply = seq.guard(sink).defer();
    const release = this.keyspace.hold!();
    const now = this.keyspace.now;
    this.blocked.hold();
    const tracking = this.node.tracking;
    return {
      out: reply.out,
      step: (fn) => {
        this.keyspace.now = now;
        tracking.enter(session);
        try {
          fn();
        } finally {
          tracking.leave();
        }
      },
      done: () => {
        release();
        this.blocked.release();
        const waiting = this.awaitDurable((err) => {
          if (err) {
            reply.out.truncate(0);
            reply.out.error(NOT_DURABLE_ERROR);
          }
          reply.done();
        });
        if (!waiting) reply.done();
      },
      abandon: () => this.blocked.release(),
    };
  }

  /**
   * A command that does its own I/O (MIGRATE): refused where cluster routing refuses its keys
   * (CROSSSLOT, MOVED), started once the connection's earlier commands ended, and holding its
   * later ones until it answers.
   */
  private startAsync(session: SessionState, seq: CommandSequencer, spec: CommandSpec, argv: Buffer[], sink: ReplySink): void {
    seq.flush();
    const verdict = this.router?.route(session, spec, argv);
    if (verdict?.kind === 'error') {
      this.reject(session, sink.out, verdict.message);
      return;
    }
    if (seq.busy) {
      seq.hold(argv, sink);
      return;
    }
    const reply = seq.guard(sink).defer();
    const started = performance.now();
    // One session for all of the command's own requests, so a WATCH it sends holds until its EXEC.
    const behalf = new TransientSession(2, false, 'internal');
    const exec = (requests: Buffer[][]): Promise<import('../protocol/reply-reader.js').Reply[]> =>
      runOnBehalf((s, a, k) => this.dispatch(s, a, k), (s) => this.endBatch(s), requests, behalf);
    const fence = (keys: readonly Buffer[]): (() => void) => this.fence.raise(behalf, keys);
    const ctx = { out: reply.out, ks: this.keyspace, session, node: this.node, exec, fence };
    spec.start!(ctx, argv).then(
      () => this.noteRun(session, spec, argv, started, false, false),
      (err: unknown) => {
        this.noteRun(session, spec, argv, started, true, false);
        const message = err instanceof ReplyError ? err.message : this.internalError(spec.name, err);
        this.node.stats.noteErrorReply(message);
        reply.out.truncate(0);
        reply.out.error(message);
      },
    ).finally(() => reply.done());
  }

  /**
   * A blocking command (BLPOP …) outside MULTI: it may wait, holding the connection's later
   * commands (as in Redis) but nothing else. Relayed sessions (cluster-proxy) answer at once.
   */
  private mayBlock(session: SessionState, spec: CommandSpec, argv: Buffer[]): boolean {
    return mayBlockNow(spec, argv) && !(session instanceof TransientSession);
  }

  private block(session: SessionState, seq: CommandSequencer, spec: CommandSpec, argv: Buffer[], sink: ReplySink, attempt: Attempt, routeError?: () => string | undefined): void {
    seq.flush();
    // It starts once everything before it ran, like WAIT.
    if (seq.busy) {
      seq.hold(argv, sink);
      return;
    }
    // A wait that ends unserved is the command's one call (its tries that waited were not
    // counted); Redis counts one ended by CLIENT UNBLOCK as failed, whichever answer it got.
    const endedUnserved = (unblocked: boolean, reply: Buffer): void => {
      // An error ending (-UNBLOCKED, the key deleted or CLIENT UNBLOCK ERROR) counts in errorstats.
      const isError = reply[0] === 0x2d;
      if (isError) this.node.stats.noteErrorReply(reply.toString('latin1', 1, reply.indexOf(13)));
      recordCommandRun(this.node.stats, this.node.config, session, spec, argv, 0, unblocked || isError, false);
    };
    this.blocked.run(session, seq.guard(sink), attempt, routeError === undefined ? { endedUnserved } : { routeError, endedUnserved });
  }

  /** Cluster: the redirect a waiting client gets once its slot is served elsewhere. */
  private routeError(session: SessionState, spec: CommandSpec, argv: Buffer[]): string | undefined {
    const v = this.router?.route(session, spec, argv);
    return v?.kind === 'error' ? v.message : undefined;
  }

  /** Runs a command against the local keyspace, writing its reply (or error) to `out`. */
  run(session: SessionState, spec: CommandSpec, argv: Buffer[], out: ReplyWriter, ks: Keyspace = this.keyspace, suspend?: () => Suspension): void {
    if (ks === this.keyspace) this.keyspace.now = this.frozenNow ?? this.node.now();
    if (spec.flags.includes('write')) session.writes++;
    const ctx: CommandContext = { out, ks, session, node: this.node };
    if (this.execDepth > 0) ctx.inExec = true;
    if (suspend !== undefined) ctx.suspend = suspend;
    this.memory?.touch(spec, argv, this.node.now());
    // A command that fails after writing part of its reply (an array header, some elements) must
    // answer with the error alone, or every later reply of the connection is out of step.
    const replyStart = out.length;
    // A double, not process.hrtime.bigint(): two BigInts and a division per command were garbage.
    const started = performance.now();
    const tracking = this.node.tracking;
    tracking.enter(session);
    try {
      // On the node's own store, one command's records are logged as one entry (Store.atomically).
      // Keyspace notifications: recorded and published here, by the node running the command.
      const body = (k: Keyspace): void => spec.run(k === ks ? ctx : { ...ctx, ks: k }, argv);
      const notified = (): void => this.node.notifier.run(spec.name, spec.flags, argv, ks, body);
      if (ks === this.keyspace) this.keyspace.atomically(notified);
      else notified();
      this.noteRun(session, spec, argv, started, ctx.failed === true, ks === this.keyspace);
      if (session.tracking !== undefined) {
        // A read-only script's keys are remembered by the reads it makes, not for running it (Redis).
        if (spec.flags.includes('readonly') && !READONLY_SCRIPT_COMMANDS.has(spec.name)) tracking.remember(session, keyPositions(spec, argv).map((i) => argv[i]!));
        tracking.commandDone(session, spec.name);
      }
    } catch (err) {
      this.noteRun(session, spec, argv, started, true, ks === this.keyspace);
      if (err instanceof ReplyOverLimit) {
        // As Redis closes a client whose reply passes its output limit mid-run: no reply at all.
        out.truncate(replyStart);
        this.node.stats.outputLimitDisconnections++;
        this.node.logger.warn({ client: session.addr, id: session.id, command: spec.name, replyBytes: err.bytes }, 'client closed for overcoming of output buffer limits');
        session.kill();
        return;
      }
      const message = err instanceof ReplyError ? err.message : this.internalError(spec.name, err);
      if (!(err instanceof ReplyError && err.alreadyCounted)) this.node.stats.noteErrorReply(message);
      out.truncate(replyStart);
      out.error(message);
      if (session.tracking !== undefined) tracking.commandDone(session, spec.name);
    } finally {
      tracking.leave();
    }
  }

  /** INFO commandstats and SLOWLOG: how long the command itself ran. */
  private noteRun(session: SessionState, spec: CommandSpec, argv: Buffer[], started: number, failed: boolean, local: boolean): void {
    // A blocking command's try that found nothing and waits is not a call: Redis counts a blocked
    // command once, when it is served (or fails, or times out).
    if (session.blockAttempt?.wait !== undefined && !failed) return;
    recordCommandRun(this.node.stats, this.node.config, session, spec, argv, performance.now() - started, failed, local);
  }

  /**
   * A cluster run, timed from its start to its last reply (quorum rounds and durable acks
   * included); each of its commands is counted with that latency, since their replies leave together.
   */
  private timedRun(session: SessionState, run: SlotRun, sink: ReplySink): Promise<unknown> | void {
    const started = performance.now();
    const record = (): void => {
      const seconds = (performance.now() - started) / 1000;
      for (const c of run.commands) this.node.stats.commandLatency.observe(familyIndex(c.spec), seconds);
    };
    const result = this.router!.startRun(session, run, sink);
    if (result instanceof Promise) result.then(record, record);
    else record();
    return result;
  }

  private queue(session: SessionState, spec: CommandSpec, argv: Buffer[], out: ReplyWriter): void {
    if (spec.flags.includes('no_multi')) {
      this.reject(session, out, `ERR Command not allowed inside a transaction`, false, spec, argv);
      return;
    }
    const routeError = this.router?.checkQueued(session, spec, argv);
    if (routeError !== undefined) {
      this.reject(session, out, routeError, false, spec, argv);
      return;
    }
    // Queued commands are checked on their own (queued = undefined): EXEC checks the whole set.
    const refused = this.writeRefusal(session, spec, argv, undefined);
    if (refused !== undefined) {
      this.reject(session, out, refused, false, spec, argv);
      return;
    }
    session.multi!.push({ name: spec.name, argv });
    out.simple('QUEUED');
  }

  /**
   * Arity of the command, and of its subcommand (CLIENT SETNAME, CONFIG GET …), checked before it
   * runs or is queued, as Redis does: inside MULTI such an error aborts the transaction at EXEC.
   */
  private refusal(spec: CommandSpec, argv: Buffer[]): string | undefined {
    if (spec.arity > 0 ? argv.length !== spec.arity : argv.length < -spec.arity) return ERR.wrongArity(spec.name);
    if (spec.subcommands === undefined || argv.length < 2) return undefined;
    const sub = subcommandOf(spec, argv);
    if (sub === undefined) return ERR.unknownSubcommand(argv[1]!.toString('latin1'), spec.name);
    return (sub.arity > 0 ? argv.length !== sub.arity : argv.length < -sub.arity) ? ERR.wrongArity(sub.name) : undefined;
  }

  /**
   * DEBUG and MODULE LOAD / LOADEX / UNLOAD are Redis 7.0's protected commands: `enable-debug-command` /
   * `enable-module-command` say whether they run for everyone (yes), for local connections (local:
   * loopback or Unix socket) or not at all.
   */
  private protectedRefusal(session: SessionState, spec: CommandSpec, argv: Buffer[]): string | undefined {
    const setting = spec.name === 'debug' ? 'enable-debug-command'
      : spec.name === 'module' && /^(load|loadex|unload)$/i.test(argv[1]?.toString('latin1') ?? '') ? 'enable-module-command' : undefined;
    if (setting === undefined) return undefined;
    const allowed = this.node.config.str(setting);
    if (allowed === 'yes' || (allowed === 'local' && isLocalSession(session))) return undefined;
    return `ERR ${spec.name.toUpperCase()} command not allowed. If the ${setting} option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`;
  }

  /**
   * Answers an error; inside MULTI it marks the transaction. A refused EXEC answers EXECABORT, in
   * or out of MULTI, and ends the transaction at once, as Redis does.
   */
  /**
   * Redis refuses write commands, EXEC of a transaction that writes, and PING (so health checks
   * notice) with MISCONF once it cannot persist: here, once the commit log failed. A write run now
   * could only change memory and be answered with an error, visible to readers meanwhile.
   */
  /** Why a command may not run now, OOM first, then a persistence failure (Redis's order), or undefined. */
  private writeRefusal(session: SessionState, spec: CommandSpec, argv: Buffer[], queued: readonly QueuedCommand[] | undefined): string | undefined {
    if (this.memory?.refuses(session, spec, argv, this.node.now(), queued)) return OOM_ERROR;
    return this.refusedByDisk(spec, queued);
  }

  private refusedByDisk(spec: CommandSpec, queued: readonly QueuedCommand[] | undefined): string | undefined {
    const failure = this.diskFailure();
    if (failure === undefined) return undefined;
    if (spec.name === 'ping' || spec.flags.includes('write')) return failure;
    if (spec.name === 'exec' && (queued ?? []).some((q) => this.table.get(q.name)?.flags.includes('write') === true)) return failure;
    return undefined;
  }

  private reject(session: SessionState, out: ReplyWriter, message: string, isExec = false, spec?: CommandSpec, argv?: Buffer[]): void {
    this.node.stats.noteErrorReply(isExec ? 'EXECABORT' : message);
    // Counted as the command's rejected_calls (INFO commandstats), as Redis's rejectCommand does
    // once it knows the command: not for an unknown subcommand.
    if (spec !== undefined && argv !== undefined && (spec.subcommands === undefined || argv.length < 2 || subcommandOf(spec, argv) !== undefined)) {
      this.node.stats.noteRejected(callName(spec, argv));
    }
    if (isExec) {
      if (session.multi !== undefined) takeTransaction(session);
      out.error(`EXECABORT Transaction discarded because of: ${message.replace(/^ERR /, '')}`);
      return;
    }
    if (session.multi !== undefined) session.multiDirty = true;
    out.error(message);
  }

  /**
   * EXEC's body: the queued commands in order, each reply in one array, WATCH checked first. `tx`
   * is the transaction as it stood when EXEC was sent; without it, the session's own.
   */
  execTransaction(session: SessionState, out: ReplyWriter, ks: Keyspace, tx: TransactionSnapshot = takeTransaction(session)): void {
    const { queued, dirty, watched } = tx;
    if (dirty) {
      this.node.stats.noteErrorReply(ERR.execAbort);
      out.error(ERR.execAbort);
      return;
    }
    if (tx.staleWatch === true || watched.some((w) => !watchHolds(w, ks.version(w.key)))) {
      out.nullArray();
      return;
    }
    out.arrayHeader(queued.length);
    // Time stands still for the whole transaction, as in Redis 7.0: a key that expires while EXEC
    // runs is still there for its later commands, and TTLs they set count from the same instant.
    const frozen = this.frozenNow;
    if (ks === this.keyspace) this.frozenNow = this.keyspace.now;
    this.execDepth++;
    try {
      for (const q of queued) {
        const spec = this.table.get(q.name)!;
        // Redis 7.0 checks ACLs again at EXEC: the user's rules may have changed since queueing.
        const denied = execAclRefusal(this.node.acl, session, spec, q.argv);
        if (denied !== undefined) {
          this.node.stats.noteErrorReply(denied);
          out.error(denied);
        } else this.run(session, spec, q.argv, out, ks);
      }
    } finally {
      this.execDepth--;
      this.frozenNow = frozen;
    }
  }
}

