import { ERR, ReplyError } from '../core/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { Keyspace } from './keyspace.js';
import type { SessionState } from '../server/session-state.js';
import type { NodeServices } from '../server/node-services.js';
import type { Reply } from '../protocol/reply-reader.js';

/** Redis command flags, as COMMAND reports them. */
export type CommandFlag =
  | 'write' | 'readonly' | 'denyoom' | 'admin' | 'pubsub' | 'noscript' | 'blocking' | 'loading'
  | 'stale' | 'skip_monitor' | 'skip_slowlog' | 'asking' | 'fast' | 'no_auth' | 'may_replicate'
  | 'no_multi' | 'movablekeys' | 'allow_busy' | 'no_mandatory_keys' | 'no_async_loading';

/** What one command invocation gets to work with. */
export interface CommandContext {
  out: ReplyWriter;
  ks: Keyspace;
  session: SessionState;
  node: NodeServices;
  /**
   * Set when a script runs the command (redis.call / redis.pcall): Redis's CLIENT_SCRIPT, which SORT
   * looks at; XREAD's BLOCK is refused there, as in Redis.
   */
  fromScript?: boolean;
  /**
   * Offered where a command may finish in later event-loop turns (a top-level script on a
   * standalone node, past busy-reply-threshold): called once, it hands over the reply.
   */
  suspend?: () => Suspension;
  /** The command runs within EXEC (Redis's server.in_exec). */
  inExec?: boolean;
  /** Set by a command that answered normally but that INFO commandstats counts as failed (CLIENT UNBLOCK … ERROR). */
  failed?: boolean;
}

/** A command going on after its first turn: its reply, and how it runs its next steps. */
export interface Suspension {
  readonly out: ReplyWriter;
  /** Runs one more step in the command's context (its keyspace time, its client's tracking). */
  step(fn: () => void): void;
  /** The reply is complete; it leaves once the command's writes are durable. */
  done(): void;
  /** The node is shutting down under it: no reply, and its held writes are never logged. */
  abandon(): void;
}

/**
 * What a command that waits on something outside the node (MIGRATE) gets: its reply goes to
 * `out` whenever it is ready, and `exec` runs commands through the node's normal request path on
 * the command's behalf (quorum reads and coordinated writes in a cluster), RESP2 replies in order.
 */
export interface AsyncCommandContext extends CommandContext {
  /** Every call of one command runs in the same session (a WATCH holds across calls). */
  exec(requests: Buffer[][]): Promise<Reply[]>;
  /**
   * Holds every other session's command that names one of `keys` on this node until the returned
   * function is called (server/key-fence.ts); `exec`'s requests pass.
   */
  fence(keys: readonly Buffer[]): () => void;
}

/**
 * One row of the command table: the single source for arity checks, key extraction (cluster
 * routing, COMMAND GETKEYS), COMMAND output and flags.
 */
export interface CommandSpec {
  /** Lowercase name; for subcommands `parent|sub`. */
  name: string;
  /** Redis convention: n > 0 exactly n arguments including the name; n < 0 at least -n. */
  arity: number;
  flags: readonly CommandFlag[];
  firstKey: number;
  /** Negative counts from the end (-1 = last argument). */
  lastKey: number;
  step: number;
  /** ACL categories without the '@' (COMMAND output). */
  categories: readonly string[];
  /**
   * The key spec's flags where Redis's are not what `flags` implies (RW update for a write, RO
   * access otherwise): MOVE reads and updates its key, RW access update.
   */
  keySpecFlags?: readonly string[];
  /** Key positions for commands whose keys move (flag movablekeys). */
  keyIndexes?: (argv: readonly Buffer[]) => number[];
  subcommands?: readonly CommandSpec[];
  /**
   * A blocking command whose timeout is not its last argument (XREAD's BLOCK): the timeout in ms,
   * 0 = forever, undefined when this invocation does not block.
   */
  blockTimeoutMs?: (argv: readonly Buffer[]) => number | undefined;
  run: (ctx: CommandContext, argv: Buffer[]) => void;
  /**
   * Set for a command that does its own I/O: the dispatcher calls it instead of `run` once the
   * connection's earlier commands have ended, and holds the later ones until it settles. `run`
   * then only serves where nothing may wait (EXEC, scripts).
   */
  start?: (ctx: AsyncCommandContext, argv: Buffer[]) => Promise<void>;
}

export type SpecInput = Omit<CommandSpec, 'categories' | 'firstKey' | 'lastKey' | 'step'> &
  Partial<Pick<CommandSpec, 'categories' | 'firstKey' | 'lastKey' | 'step'>>;

/** Fills the defaults (no keys, no categories) so family files stay terse. */
export function command(input: SpecInput): CommandSpec {
  return { categories: [], firstKey: 0, lastKey: 0, step: 0, ...input };
}

/**
 * Whether this invocation may block: a blocking command, unless its timeout is an option it was
 * not given (XREAD without BLOCK runs, routes and relays as an ordinary command).
 */
export function mayBlockNow(spec: CommandSpec, argv: readonly Buffer[]): boolean {
  if (!spec.flags.includes('blocking')) return false;
  return spec.blockTimeoutMs === undefined || spec.blockTimeoutMs(argv) !== undefined;
}

/** Positions of key arguments in argv, from first/last/step or keyIndexes. */
export function keyPositions(spec: CommandSpec, argv: readonly Buffer[]): number[] {
  if (spec.keyIndexes) return spec.keyIndexes(argv);
  const out: number[] = [];
  eachKeyPosition(spec, argv, (i) => out.push(i));
  return out;
}

/** keyPositions without its array, for what runs on every command (the access sketch's touch). */
export function eachKeyPosition(spec: CommandSpec, argv: readonly Buffer[], visit: (i: number) => void): void {
  if (spec.keyIndexes) {
    for (const i of spec.keyIndexes(argv)) visit(i);
    return;
  }
  if (spec.firstKey === 0) return;
  const last = spec.lastKey < 0 ? argv.length + spec.lastKey : spec.lastKey;
  for (let i = spec.firstKey; i <= last && i < argv.length; i += spec.step) visit(i);
}

/**
 * A command with subcommands (CLIENT, CONFIG …): checks each subcommand's arity under its
 * `parent|sub` name and answers Redis's unknown-subcommand error.
 */
export function container(
  name: string,
  flags: readonly CommandFlag[],
  categories: readonly string[],
  subs: ReadonlyArray<Omit<SpecInput, 'name'> & { name: string }>,
): CommandSpec {
  const subcommands = subs.map((s) => command({ ...s, name: `${name}|${s.name}` }));
  const byName = new Map(subcommands.map((s) => [s.name.slice(name.length + 1), s]));
  return {
    name, arity: -2, flags, categories, firstKey: 0, lastKey: 0, step: 0, subcommands,
    keyIndexes: (argv) => {
      const sub = byName.get(argv[1]?.toString('latin1').toLowerCase() ?? '');
      return sub ? keyPositions(sub, argv) : [];
    },
    run: (ctx, argv) => {
      const subName = argv[1]!.toString('latin1').toLowerCase();
      const sub = byName.get(subName);
      if (!sub) throw new ReplyError(ERR.unknownSubcommand(argv[1]!.toString('latin1'), name));
      if (sub.arity > 0 ? argv.length !== sub.arity : argv.length < -sub.arity) throw new ReplyError(ERR.wrongArity(sub.name));
      sub.run(ctx, argv);
    },
  };
}

/** The name a call counts and shows under: `parent|sub` for a container's subcommand (cmdstat_config|get), else the command's. */
/**
 * Whether running the command changes the data set or enters Redis's replication stream: writes,
 * may_replicate commands (EVAL, PFCOUNT) and PUBLISH / SPUBLISH, which replicate in Redis 7.0 with
 * the flag hidden (ringkv's table leaves it off them so cluster routing does not treat them as
 * writes). CLIENT PAUSE WRITE holds these, read-only scripts refuse them, MONITOR clients may not run them.
 */
export function replicatesLikeWrite(spec: CommandSpec): boolean {
  return spec.flags.includes('write') || spec.flags.includes('may_replicate') || spec.name === 'publish' || spec.name === 'spublish';
}

export function callName(spec: CommandSpec, argv: readonly Buffer[]): string {
  return spec.subcommands === undefined || argv.length < 2 ? spec.name : `${spec.name}|${argv[1]!.toString('latin1').toLowerCase()}`;
}

/** The subcommand a container's call names; undefined for a plain command or an unknown subcommand. */
export function subcommandOf(spec: CommandSpec, argv: readonly Buffer[]): CommandSpec | undefined {
  if (spec.subcommands === undefined || argv.length < 2) return undefined;
  const name = callName(spec, argv);
  return spec.subcommands.find((s) => s.name === name);
}

/** Whether the command, or the subcommand a container's call names, carries `flag`. */
export function hasFlag(spec: CommandSpec, argv: readonly Buffer[], flag: CommandFlag): boolean {
  return spec.flags.includes(flag) || subcommandOf(spec, argv)?.flags.includes(flag) === true;
}

/** Redis feeds no admin or skip_monitor command (or subcommand) to MONITOR. */
export function hiddenFromMonitor(spec: CommandSpec, argv: readonly Buffer[]): boolean {
  return hasFlag(spec, argv, 'admin') || hasFlag(spec, argv, 'skip_monitor');
}
