import { redisCommandInfo, redisKeyFlagsAt, writeRedisKeySpecs } from './command-info-redis.js';
import { ReplyError } from '../core/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { container, keyPositions, type CommandContext, type CommandSpec } from './spec.js';
import { lower } from './args.js';
import { globMatch } from './glob.js';
import { commandDocs, writeCommandDoc } from './command-docs.js';
import { COMMAND_HELP, helpReply } from './help-texts.js';

/** Key spec flags as Redis spells them: RO/RW upper case, the rest lower. */
function keyAccessFlags(spec: CommandSpec): readonly string[] {
  if (spec.keySpecFlags) return spec.keySpecFlags;
  // Shard channels route like keys but are no keys (Redis 7.0 flags them not_key).
  if (spec.flags.includes('pubsub')) return ['not_key'];
  return spec.flags.includes('write') ? ['RW', 'update'] : ['RO', 'access'];
}

/**
 * Redis 7 key spec derived from first/last/step, so clients that read key specs route correctly.
 * A set in RESP3, as Redis 7.0 sends it.
 */
function writeKeySpecs(out: ReplyWriter, spec: CommandSpec): void {
  const redis = redisCommandInfo(spec.name);
  if (redis !== undefined) return writeRedisKeySpecs(out, redis.key_specs);
  if (spec.firstKey === 0) {
    out.setHeader(0);
    return;
  }
  const access = keyAccessFlags(spec);
  out.setHeader(1);
  out.mapHeader(3);
  out.bulk('flags');
  out.setHeader(access.length);
  for (const f of access) out.simple(f);
  out.bulk('begin_search');
  out.mapHeader(2);
  out.bulk('type'); out.bulk('index');
  out.bulk('spec'); out.mapHeader(1); out.bulk('index'); out.int(spec.firstKey);
  out.bulk('find_keys');
  out.mapHeader(2);
  out.bulk('type'); out.bulk('range');
  out.bulk('spec');
  out.mapHeader(3);
  out.bulk('lastkey'); out.int(spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey);
  out.bulk('keystep'); out.int(spec.step);
  out.bulk('limit'); out.int(0);
}

/** One COMMAND entry: name, arity, flags, first, last, step, ACL categories, tips, key specs, subcommands. */
export function writeCommandEntry(out: ReplyWriter, spec: CommandSpec): void {
  const redis = redisCommandInfo(spec.name);
  // Redis's flags where Redis has the command: ringkv's own table marks containers and a few
  // commands with flags its dispatcher uses (admin on CONFIG, may_replicate on EVAL) that Redis
  // does not list there.
  const own = spec.keyIndexes && !spec.subcommands && !spec.flags.includes('movablekeys') ? [...spec.flags, 'movablekeys'] : spec.flags;
  const flags = redis?.flags ?? own;
  out.arrayHeader(10);
  out.bulk(spec.name);
  out.int(spec.arity);
  out.setHeader(flags.length);
  for (const f of flags) out.simple(f);
  out.int(spec.firstKey);
  out.int(spec.lastKey);
  out.int(spec.step);
  out.setHeader(spec.categories.length);
  for (const c of spec.categories) out.simple('@' + c);
  // RESP3 as Redis 7.0: tips are a set, and so is an empty subcommand list (a full one is an array).
  const tips = redis?.tips ?? [];
  out.setHeader(tips.length);
  for (const t of tips) out.bulk(t);
  writeKeySpecs(out, spec);
  const subs = spec.subcommands ?? [];
  if (subs.length === 0) out.setHeader(0);
  else out.arrayHeader(subs.length);
  for (const s of subs) writeCommandEntry(out, s);
}

function all(ctx: CommandContext): void {
  const specs = [...ctx.node.commands.values()];
  ctx.out.arrayHeader(specs.length);
  for (const s of specs) writeCommandEntry(ctx.out, s);
}

/**
 * A command by name, `container|sub` for a subcommand, as Redis 7.0 looks names up for COMMAND
 * INFO and DOCS: one level of subcommands only, and `get|x` names nothing.
 */
function lookup(ctx: CommandContext, name: Buffer): CommandSpec | undefined {
  const parts = lower(name).split('|');
  if (parts.length > 2) return undefined;
  const spec = ctx.node.commands.get(parts[0]!);
  if (parts.length === 1 || spec === undefined) return spec;
  return spec.subcommands?.find((s) => s.name === `${parts[0]}|${parts[1]}`);
}

function info(ctx: CommandContext, argv: Buffer[]): void {
  const names = argv.length > 2 ? argv.slice(2) : [...ctx.node.commands.keys()].map((k) => Buffer.from(k));
  ctx.out.arrayHeader(names.length);
  for (const n of names) {
    const spec = lookup(ctx, n);
    if (spec) writeCommandEntry(ctx.out, spec);
    // Redis 7.0 answers an unknown name with a null bulk ($-1 in RESP2), not a null array.
    else ctx.out.nullBulk();
  }
}

/** COMMAND DOCS [name ...]: a map of name to docs; names without docs are left out, as Redis does. */
function docs(ctx: CommandContext, argv: Buffer[]): void {
  const all = commandDocs();
  const specs = argv.length > 2 ? argv.slice(2).map((n) => lookup(ctx, n)) : [...ctx.node.commands.values()];
  const found = specs.filter((s): s is CommandSpec => s !== undefined && all.has(s.name));
  ctx.out.mapHeader(found.length);
  for (const s of found) {
    ctx.out.bulk(s.name);
    writeCommandDoc(ctx.out, s, all);
  }
}

function getkeys(ctx: CommandContext, argv: Buffer[], withFlags: boolean): void {
  const target = argv.slice(2);
  // As Redis's lookupCommand: a container with a subcommand named after it is that subcommand
  // (CONFIG GET has no keys, OBJECT ENCODING has one); without one, the container itself.
  const container = ctx.node.commands.get(lower(target[0]!));
  const sub = container?.subcommands && target.length > 1 ? container.subcommands.find((s) => s.name === `${container.name}|${lower(target[1]!)}`) : undefined;
  if (container?.subcommands && target.length > 1 && sub === undefined) throw new ReplyError('ERR Invalid command specified');
  const spec = sub ?? container;
  if (!spec) throw new ReplyError('ERR Invalid command specified');
  // Redis 7.0's order: a command without key arguments, then the arity, then the keys found.
  if ((spec.firstKey === 0 && spec.keyIndexes === undefined) || spec.flags.includes('pubsub')) throw new ReplyError('ERR The command has no key arguments');
  if (spec.arity > 0 ? target.length !== spec.arity : target.length < -spec.arity) {
    throw new ReplyError('ERR Invalid number of arguments specified for command');
  }
  const positions = keyPositions(spec, target);
  if (positions.length === 0) {
    if (spec.flags.includes('no_mandatory_keys')) return ctx.out.arrayHeader(0);
    throw new ReplyError('ERR Invalid arguments specified for command');
  }
  ctx.out.arrayHeader(positions.length);
  for (const p of positions) {
    if (!withFlags) {
      ctx.out.bulk(target[p]!);
      continue;
    }
    ctx.out.arrayHeader(2);
    ctx.out.bulk(target[p]!);
    const access = redisKeyFlagsAt(spec, target, p) ?? keyAccessFlags(spec);
    ctx.out.setHeader(access.length);
    for (const a of access) ctx.out.simple(a);
  }
}

/** COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p]: each command, then its subcommands, as Redis lists them. */
function list(ctx: CommandContext, argv: Buffer[]): void {
  let filter: (s: CommandSpec) => boolean = () => true;
  if (argv.length === 5 && lower(argv[2]!) === 'filterby') {
    const kind = lower(argv[3]!);
    const arg = argv[4]!;
    if (kind === 'pattern') filter = (s) => globMatch(arg, Buffer.from(s.name), true);
    else if (kind === 'aclcat') filter = (s) => s.categories.includes(lower(arg));
    else if (kind === 'module') filter = () => false;
    else throw new ReplyError('ERR syntax error');
  } else if (argv.length !== 2) throw new ReplyError('ERR syntax error');
  const names: string[] = [];
  for (const spec of ctx.node.commands.values()) {
    for (const s of [spec, ...(spec.subcommands ?? [])]) if (filter(s)) names.push(s.name);
  }
  ctx.out.bulkArray(names);
}

const base = container('command', ['loading', 'stale'], ['slow', 'connection'], [
  { name: 'count', categories: ['slow', 'connection'], arity: 2, flags: ['loading', 'stale'], run: (c) => c.out.int(c.node.commands.size) },
  { name: 'info', categories: ['slow', 'connection'], arity: -2, flags: ['loading', 'stale'], run: info },
  { name: 'getkeys', categories: ['slow', 'connection'], arity: -4, flags: ['loading', 'stale'], run: (c, a) => getkeys(c, a, false) },
  { name: 'getkeysandflags', categories: ['slow', 'connection'], arity: -4, flags: ['loading', 'stale'], run: (c, a) => getkeys(c, a, true) },
  { name: 'list', categories: ['slow', 'connection'], arity: -2, flags: ['loading', 'stale'], run: list },
  { name: 'docs', categories: ['slow', 'connection'], arity: -2, flags: ['loading', 'stale'], run: docs },
  { name: 'help', categories: ['slow', 'connection'], arity: 2, flags: ['loading', 'stale'], run: (c) => helpReply(c, COMMAND_HELP) },
]);

/** COMMAND with no arguments returns the whole table; with one, a subcommand. */
export const commandCommand: CommandSpec = {
  ...base,
  arity: -1,
  run: (ctx, argv) => (argv.length === 1 ? all(ctx) : base.run(ctx, argv)),
};
