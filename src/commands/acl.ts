import { randomBytes } from 'node:crypto';
import { ERR, ReplyError, subcommandSyntaxError } from '../core/errors.js';
import { container, type CommandContext } from './spec.js';
import { intArg, lower } from './args.js';
import { ACL_CATEGORIES, categoryBit } from '../acl/acl-commands.js';
import { channelsText, commandRulesText, keysText, userFlags } from '../acl/acl-describe.js';
import { AclError } from '../acl/acl-registry.js';
import { checkCommand } from '../acl/acl-check.js';
import type { Selector } from '../acl/acl-user.js';
import { readAclFile, writeAclFile } from '../acl/acl-store.js';
import { ACL_HELP, helpReply } from './help-texts.js';

const NO_ACLFILE = 'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';
const GENPASS_MAX_BITS = 4096;

function aclOf(ctx: CommandContext) {
  return ctx.node.acl;
}

function withAclErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof AclError) throw new ReplyError(`ERR ${err.message}`);
    throw err;
  }
}

function name(b: Buffer): string {
  return b.toString('latin1');
}

function setuser(ctx: CommandContext, argv: Buffer[]): void {
  withAclErrors(() => aclOf(ctx).setUser(name(argv[2]!), argv.slice(3)));
  ctx.out.ok();
}

function deluser(ctx: CommandContext, argv: Buffer[]): void {
  let n = 0;
  withAclErrors(() => (n = aclOf(ctx).delUsers(argv.slice(2).map(name))));
  ctx.out.int(n);
}

function selectorFields(ctx: CommandContext, s: Selector): void {
  const out = ctx.out;
  out.bulk('commands'); out.bulk(commandRulesText(s, aclOf(ctx).commands));
  out.bulk('keys'); out.bulk(Buffer.from(keysText(s), 'latin1'));
  out.bulk('channels'); out.bulk(Buffer.from(channelsText(s), 'latin1'));
}

function getuser(ctx: CommandContext, argv: Buffer[]): void {
  const u = aclOf(ctx).get(name(argv[2]!));
  if (u === undefined) return ctx.out.nullBulk();
  const out = ctx.out;
  out.mapHeader(6);
  out.bulk('flags');
  const flags = userFlags(u);
  out.setHeader(flags.length);
  for (const f of flags) out.bulk(f);
  out.bulk('passwords');
  out.bulkArray(u.passwords);
  selectorFields(ctx, u.selectors[0]!);
  out.bulk('selectors');
  out.arrayHeader(u.selectors.length - 1);
  for (const s of u.selectors.slice(1)) {
    out.mapHeader(3);
    selectorFields(ctx, s);
  }
}

function cat(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) throw subcommandSyntaxError(argv);
  if (argv.length === 2) {
    ctx.out.bulkArray([...ACL_CATEGORIES]);
    return;
  }
  const bit = categoryBit(name(argv[2]!));
  if (bit === 0) throw new ReplyError(`ERR Unknown category '${name(argv[2]!).slice(0, 128)}'`);
  const names: string[] = [];
  for (const c of aclOf(ctx).commands.all()) if (c.categories & bit) names.push(c.fullName);
  ctx.out.bulkArray(names);
}

function genpass(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) throw subcommandSyntaxError(argv);
  const bits = argv.length === 3 ? intArg(argv[2]!) : 256;
  if (bits <= 0 || bits > GENPASS_MAX_BITS) {
    throw new ReplyError(`ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to ${GENPASS_MAX_BITS}`);
  }
  const chars = Math.floor((bits + 3) / 4);
  ctx.out.bulk(randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars));
}

function log(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) throw subcommandSyntaxError(argv);
  let count = 10;
  if (argv.length === 3) {
    if (lower(argv[2]!) === 'reset') {
      aclOf(ctx).log.reset();
      ctx.out.ok();
      return;
    }
    count = Math.max(0, intArg(argv[2]!));
  }
  const entries = aclOf(ctx).log.latest(count);
  const now = Date.now();
  const out = ctx.out;
  out.arrayHeader(entries.length);
  for (const e of entries) {
    out.mapHeader(7);
    out.bulk('count'); out.int(e.count);
    out.bulk('reason'); out.bulk(e.reason);
    out.bulk('context'); out.bulk(e.context);
    out.bulk('object'); out.bulk(e.object);
    out.bulk('username'); out.bulk(e.username);
    out.bulk('age-seconds'); out.double((now - e.at) / 1000);
    out.bulk('client-info'); out.bulk(e.clientInfo);
  }
}

function dryrun(ctx: CommandContext, argv: Buffer[]): void {
  const acl = aclOf(ctx);
  const u = acl.get(name(argv[2]!));
  if (u === undefined) throw new ReplyError(`ERR User '${name(argv[2]!)}' not found`);
  const target = argv.slice(3);
  const spec = ctx.node.commands.get(lower(target[0]!));
  const cmd = spec === undefined ? undefined : acl.commands.resolve(spec, target);
  if (cmd === undefined) throw new ReplyError(`ERR Command '${name(target[0]!)}' not found`);
  const arity = cmd.spec.arity;
  if (arity > 0 ? target.length !== arity : target.length < -arity) throw new ReplyError(ERR.wrongArity(cmd.fullName));
  const v = checkCommand(u, cmd, target);
  if (v.ok) return ctx.out.ok();
  const what = name(target[v.index]!);
  ctx.out.bulk(v.reason === 'command' ? `This user has no permissions to run the '${cmd.fullName}' command`
    : v.reason === 'key' ? `This user has no permissions to access the '${what}' key`
      : `This user has no permissions to access the '${what}' channel`);
}

/** ACL LOAD / SAVE: rare administrative commands, so the file is read or written in place, as Redis does. */
function load(ctx: CommandContext): void {
  const file = ctx.node.config.str('aclfile');
  if (file === '') throw new ReplyError(NO_ACLFILE);
  let text: string;
  try {
    text = readAclFile(file);
  } catch (err) {
    throw new ReplyError(`ERR Error loading ACLs, opening file '${file}': ${(err as NodeJS.ErrnoException).message}`);
  }
  const errors = aclOf(ctx).loadText(text, file);
  if (errors !== undefined) throw new ReplyError(`ERR ${errors}`);
  ctx.out.ok();
}

function save(ctx: CommandContext): void {
  const file = ctx.node.config.str('aclfile');
  if (file === '') throw new ReplyError(NO_ACLFILE);
  try {
    writeAclFile(file, aclOf(ctx).toText());
  } catch (err) {
    ctx.node.logger.warn({ err, file }, 'ACL SAVE failed');
    throw new ReplyError('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
  }
  ctx.out.ok();
}


const admin = { flags: ['admin', 'noscript', 'loading', 'stale'] as const, categories: ['admin', 'slow', 'dangerous'] };
const plain = { flags: ['noscript', 'loading', 'stale'] as const, categories: ['slow'] };

export const aclCommand = container('acl', [], ['slow'], [
  { name: 'cat', arity: -2, ...plain, run: cat },
  { name: 'deluser', arity: -3, ...admin, run: deluser },
  { name: 'dryrun', arity: -4, ...admin, run: dryrun },
  { name: 'genpass', arity: -2, ...plain, run: genpass },
  { name: 'getuser', arity: 3, ...admin, run: getuser },
  { name: 'list', arity: 2, ...admin, run: (c) => c.out.bulkArray(aclOf(c).describeAll().map((l) => Buffer.from(l, 'latin1'))) },
  { name: 'load', arity: 2, ...admin, run: load },
  { name: 'log', arity: -2, ...admin, run: log },
  { name: 'save', arity: 2, ...admin, run: save },
  { name: 'setuser', arity: -3, ...admin, run: setuser },
  { name: 'users', arity: 2, ...admin, run: (c) => c.out.bulkArray(aclOf(c).list().map((u) => Buffer.from(u.name, 'latin1'))) },
  { name: 'whoami', arity: 2, ...plain, run: (c) => (c.session.user ? c.out.bulk(Buffer.from(c.session.user.name, 'latin1')) : c.out.nullBulk()) },
  { name: 'help', arity: 2, flags: ['loading', 'stale'], categories: ['slow'], run: (c) => helpReply(c, ACL_HELP) },
]);
