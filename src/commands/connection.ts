import { ERR, ReplyError } from '../core/errors.js';
import { REDIS_VERSION } from './version.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { intArg, lower, parseInt64 } from './args.js';
import { clientCommand } from './client.js';
import { logAclEvent } from '../server/acl-sessions.js';

/**
 * Authenticates the connection as `user` (Redis: ACLAuthenticateUser). A failure is logged in ACL
 * LOG with the command as typed and the username tried, and answers WRONGPASS.
 */
function authenticate(ctx: CommandContext, argv0: Buffer, user: Buffer, pass: Buffer): void {
  const u = ctx.node.acl.authenticate(user.toString('latin1'), pass);
  if (u === undefined) {
    logAclEvent(ctx.node.acl, ctx.session, { reason: 'auth', context: ctx.session.multi !== undefined ? 'multi' : 'toplevel', object: argv0, username: user });
    throw new ReplyError(ERR.wrongPass);
  }
  ctx.session.authenticated = true;
  ctx.session.user = u;
}

/** AUTH [username] password */
function auth(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) throw new ReplyError(ERR.syntax);
  if (argv.length === 2 && ctx.node.acl.defaultUser.nopass) {
    throw new ReplyError('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
  }
  const user = argv.length === 3 ? argv[1]! : Buffer.from('default');
  authenticate(ctx, argv[0]!, user, argv[argv.length - 1]!);
  ctx.out.ok();
}

/** HELLO [protover [AUTH user pass] [SETNAME name]] — the reply is already in the new protocol. */
function hello(ctx: CommandContext, argv: Buffer[]): void {
  const { session } = ctx;
  let proto = session.proto;
  if (argv.length >= 2) {
    // Any 64-bit integer is a version (an unsupported one is NOPROTO); anything else is not.
    const parsed = parseInt64(argv[1]!);
    if (parsed === undefined) throw new ReplyError('ERR Protocol version is not an integer or out of range');
    const v = Number(parsed);
    if (v !== 2 && v !== 3) throw new ReplyError('NOPROTO unsupported protocol version');
    proto = v;
  }
  let authPair: [Buffer, Buffer] | undefined;
  let setName: string | undefined;
  for (let i = 2; i < argv.length; i++) {
    const opt = lower(argv[i]!);
    if (opt === 'auth' && i + 2 < argv.length) {
      authPair = [argv[i + 1]!, argv[i + 2]!];
      i += 2;
    } else if (opt === 'setname' && i + 1 < argv.length) {
      setName = argv[++i]!.toString();
    } else throw new ReplyError(`ERR Syntax error in HELLO option '${argv[i]!.toString()}'`);
  }
  if (authPair) authenticate(ctx, argv[0]!, authPair[0], authPair[1]);
  if (!session.authenticated && ctx.node.acl.authRequired()) {
    throw new ReplyError('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  }
  if (setName !== undefined) {
    if (/[\s]/.test(setName)) throw new ReplyError('ERR Client names cannot contain spaces, newlines or special characters.');
    session.name = setName;
  }
  session.proto = proto;
  const out = ctx.out;
  out.proto = proto;
  out.mapHeader(7);
  out.bulk('server'); out.bulk('redis');
  out.bulk('version'); out.bulk(REDIS_VERSION);
  out.bulk('proto'); out.int(proto);
  out.bulk('id'); out.int(session.id);
  out.bulk('mode'); out.bulk(ctx.node.cluster ? 'cluster' : 'standalone');
  out.bulk('role'); out.bulk('master');
  out.bulk('modules'); out.arrayHeader(0);
}

function ping(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 2) throw new ReplyError(ERR.wrongArity('ping'));
  // A RESP2 subscriber can only read frames: Redis answers PING as one (`pong` and the argument).
  if (ctx.session.proto === 2 && ctx.session.subscriptions.active) {
    ctx.out.arrayHeader(2);
    ctx.out.bulk('pong');
    ctx.out.bulk(argv[1] ?? '');
    return;
  }
  if (argv.length === 2) ctx.out.bulk(argv[1]!);
  else ctx.out.simple('PONG');
}

function select(ctx: CommandContext, argv: Buffer[]): void {
  const db = intArg(argv[1]!);
  if (ctx.node.cluster && db !== 0) throw new ReplyError(ERR.selectInCluster);
  if (db !== 0) throw new ReplyError('ERR DB index is out of range');
  ctx.out.ok();
}

function quit(ctx: CommandContext): void {
  ctx.session.closeAfterReply = true;
  ctx.out.ok();
}

/** RESET: back to a fresh connection's state (RESP2, no transaction, no flags), as Redis does. */
function reset(ctx: CommandContext): void {
  const s = ctx.session;
  s.multi = undefined;
  s.multiDirty = false;
  s.watched.clear();
  s.readonlyMode = false;
  s.asking = false;
  s.name = '';
  s.consistency = undefined;
  s.proto = 2;
  ctx.out.proto = 2;
  // Back to the default user, authenticated only when it needs no password (Redis 7.0).
  s.user = ctx.node.acl.defaultUser;
  s.authenticated = !ctx.node.acl.authRequired();
  ctx.node.pubsub.dropAll(s);
  ctx.node.monitor.remove(s);
  ctx.node.tracking.disable(s);
  ctx.out.simple('RESET');
}

const noKeys = { flags: ['fast', 'loading', 'stale'] as const };

export const connectionCommands: CommandSpec[] = [
  command({ name: 'ping', arity: -1, ...noKeys, categories: ['fast', 'connection'], run: ping }),
  // Redis 7.0 lists ECHO's flags in this order (COMMAND INFO compared byte for byte).
  command({ name: 'echo', arity: 2, flags: ['loading', 'stale', 'fast'], categories: ['fast', 'connection'], run: (c, a) => c.out.bulk(a[1]!) }),
  command({ name: 'auth', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], categories: ['fast', 'connection'], run: auth }),
  command({ name: 'hello', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], categories: ['fast', 'connection'], run: hello }),
  command({ name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], categories: ['fast', 'connection'], run: select }),
  command({ name: 'quit', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], categories: ['fast', 'connection'], run: quit }),
  command({ name: 'reset', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], categories: ['fast', 'connection'], run: reset }),
  // Every command this node is asked to run is shown to the connection from now on (monitor-feed.ts).
  command({ name: 'monitor', arity: 1, flags: ['admin', 'noscript', 'loading', 'stale'], categories: ['admin', 'slow', 'dangerous'], run: (c) => {
    c.node.monitor.add(c.session);
    c.out.ok();
  } }),
  clientCommand,
];
