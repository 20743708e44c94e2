import type { CommandSpec } from '../commands/spec.js';
import type { DeferredReply, ReplySink } from './connection.js';
import { replyWhenDurable } from './durable-reply.js';
import type { TransactionSnapshot } from './session-state.js';

/** One command of a run: what to execute, with EXEC's transaction taken when EXEC was sent. */
export interface RunCommand {
  spec: CommandSpec;
  argv: Buffer[];
  tx?: TransactionSnapshot;
}

/**
 * Consecutive commands of one connection on one slot, coordinated as one job: one quorum read of
 * all their keys, the commands in order on one overlay, one replica batch of all their writes.
 */
export interface SlotRun {
  readonly slot: number;
  /** Relayed to this node (cluster-proxy) instead of coordinated here. */
  readonly forwardTo: string | undefined;
  /** Starts only once nothing else of the connection runs, and holds everything after it. */
  readonly exclusive: boolean;
  readonly commands: RunCommand[];
}

export interface SequencerHooks {
  /** Runs a command that had to wait, as if it had just arrived. */
  process(argv: Buffer[], sink: ReplySink): void;
  /** Starts a run; a returned promise settles once every reply of the run is written. */
  startRun(run: SlotRun, sink: ReplySink): Promise<unknown> | void;
  /** Keyspace writes the connection made so far (a held command's reply waits for their durability). */
  writes(): number;
  /** Calls back once this node's pending writes are durable (with the error if they cannot be); false when none are pending. */
  awaitDurable(cb: (err?: Error) => void): boolean;
}

interface HeldCommand {
  argv: Buffer[];
  reply: DeferredReply;
  /**
   * An EXEC whose transaction was already taken from the session (cluster-router.ts routeExec):
   * routed again it would find no MULTI, so it is held as the run it was routed to.
   */
  run?: { slot: number; forwardTo: string | undefined; command: RunCommand };
}

interface WaitingRun {
  run: SlotRun;
  reply: DeferredReply;
}

/** A sink bound to one reserved reply; remembers whether the work took the reply over. */
export class ReservedSink implements ReplySink {
  taken = false;
  constructor(private readonly reply: DeferredReply) {}
  get out(): DeferredReply['out'] {
    return this.reply.out;
  }
  defer(): DeferredReply {
    this.taken = true;
    return this.reply;
  }
}

/**
 * Keeps one connection's commands in the order sent, whatever mode runs them (Redis's rule: each
 * reply reflects every earlier command of the connection). Replies are ordered by the connection's
 * output queue; this orders the *effects*:
 * - Keyed commands are grouped into runs of consecutive commands on one slot. A slot's runs start
 *   one after the other; runs on different slots may overlap, since no reply of the connection can
 *   tell them apart (each command reads and writes only its own slot).
 * - Everything else that reads or changes state (keyless commands such as DBSIZE, HELLO, WAIT, and
 *   exclusive runs such as WATCH) waits until nothing of the connection is running, and everything
 *   sent after it waits for it ("held").
 * The common case — nothing running — costs a field check per command.
 */
export class CommandSequencer {
  private forming: { run: SlotRun; sink: ReplySink } | undefined;
  /** Slots with a run going, each with the runs queued behind it. */
  private readonly lanes = new Map<number, WaitingRun[]>();
  /** Runs and asynchronous commands started or queued and not finished. */
  private running = 0;
  private exclusiveRunning = false;
  private readonly held: HeldCommand[] = [];
  private draining: HeldCommand | undefined;
  /** The last sink handed out by guard(), for the batch it belongs to. */
  private guarded: { sink: ReplySink; guard: ReplySink } | undefined;

  constructor(private readonly hooks: SequencerHooks) {}

  /** New commands must queue behind a held command or a running exclusive one. */
  get holding(): boolean {
    return this.held.length > 0 || this.exclusiveRunning;
  }

  /** Something of this connection is still running (after flush()). */
  get busy(): boolean {
    return this.running > 0;
  }

  /** Parks a command until everything before it finished; its reply keeps its place. */
  hold(argv: Buffer[], sink: ReplySink, run?: HeldCommand['run']): void {
    const reply = sink.defer();
    const item: HeldCommand = run === undefined ? { argv, reply } : { argv, reply, run };
    // A command taken from the held queue that must wait again goes back to the front.
    if (this.draining !== undefined && reply === this.draining.reply) this.held.unshift(item);
    else this.held.push(item);
  }

  /** Adds a keyed command: joins the run being formed when it is on the same slot, else starts a new one. */
  add(slot: number, forwardTo: string | undefined, exclusive: boolean, command: RunCommand, sink: ReplySink): void {
    const f = this.forming;
    if (!exclusive && f !== undefined && f.sink === sink && f.run.slot === slot && f.run.forwardTo === forwardTo && !f.run.exclusive) {
      f.run.commands.push(command);
      return;
    }
    this.flush();
    if (exclusive && this.running > 0) {
      this.hold(command.argv, sink, command.tx === undefined ? undefined : { slot, forwardTo, command });
      return;
    }
    this.forming = { run: { slot, forwardTo, exclusive, commands: [command] }, sink };
    if (exclusive) this.flush();
  }

  /** Starts the run being formed; called before anything else writes a reply, and at the end of a batch. */
  flush(): void {
    const f = this.forming;
    if (f === undefined) return;
    this.forming = undefined;
    this.running++;
    const waiting = this.lanes.get(f.run.slot);
    if (waiting !== undefined) {
      waiting.push({ run: f.run, reply: f.sink.defer() });
      return;
    }
    this.lanes.set(f.run.slot, []);
    this.start(f.run, f.sink, undefined);
  }

  /**
   * The sink for a command that may answer later (WAIT): while it waits, later commands are held.
   * One wrapper per batch sink.
   */
  guard(sink: ReplySink): ReplySink {
    if (this.guarded?.sink === sink) return this.guarded.guard;
    const guard: ReplySink = {
      get out() {
        return sink.out;
      },
      defer: () => {
        const reply = sink.defer();
        this.running++;
        this.exclusiveRunning = true;
        return {
          out: reply.out,
          done: () => {
            reply.done();
            this.running--;
            this.exclusiveRunning = false;
            this.drain();
          },
        };
      },
    };
    this.guarded = { sink, guard };
    return guard;
  }

  private start(run: SlotRun, sink: ReplySink, reserved: ReservedSink | undefined): void {
    if (run.exclusive) this.exclusiveRunning = true;
    let result: Promise<unknown> | void;
    try {
      result = this.hooks.startRun(run, sink);
    } catch (err) {
      // A run that throws has written no reply: answer every command so the output stays aligned.
      for (let i = 0; i < run.commands.length; i++) sink.out.error(`ERR ${(err as Error).message}`);
      result = undefined;
    }
    if (result instanceof Promise) {
      void result.finally(() => {
        if (reserved && !reserved.taken) reserved.defer().done();
        this.finished(run);
      });
      return;
    }
    if (reserved && !reserved.taken) reserved.defer().done();
    this.finished(run);
  }

  private finished(run: SlotRun): void {
    this.running--;
    if (run.exclusive) this.exclusiveRunning = false;
    const waiting = this.lanes.get(run.slot)!;
    const next = waiting.shift();
    if (next !== undefined) {
      const sink = new ReservedSink(next.reply);
      this.start(next.run, sink, sink);
    } else {
      this.lanes.delete(run.slot);
    }
    this.drain();
  }

  /** Tries the held commands again (they waited on something outside the connection: CLIENT PAUSE). */
  resume(): void {
    this.drain();
  }

  /** Runs held commands in order while nothing they must wait for is running. */
  private drain(): void {
    if (this.draining !== undefined) return;
    while (this.held.length > 0 && !this.exclusiveRunning) {
      const item = this.held.shift()!;
      const sink = new ReservedSink(item.reply);
      const writesBefore = this.hooks.writes();
      this.draining = item;
      try {
        if (item.run !== undefined) this.add(item.run.slot, item.run.forwardTo, true, item.run.command, sink);
        else this.hooks.process(item.argv, sink);
        this.flush();
      } finally {
        this.draining = undefined;
      }
      if (this.held[0]?.reply === item.reply) break;
      if (!sink.taken) {
        const reply = sink.defer();
        if (this.hooks.writes() === writesBefore || !replyWhenDurable((cb) => this.hooks.awaitDurable(cb), reply)) reply.done();
      }
    }
  }
}
