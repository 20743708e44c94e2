import { ERR, ReplyError, subcommandSyntaxError } from '../core/errors.js';
import type { SessionState } from '../server/session-state.js';
import { clientMemory } from '../server/client-memory.js';
import { container, type CommandContext } from './spec.js';
import { int64Arg, intArg, lower, parseInt64 } from './args.js';
import { CLIENT_HELP, helpReply } from './help-texts.js';
import { scriptingFor } from '../scripting/engine.js';
import { declaredWrites } from '../scripting/declared-writes.js';

/**
 * One CLIENT LIST / CLIENT INFO line (also the client-info of ACL LOG entries). Fields and their order are Redis 7.0's; `lib-name`,
 * `lib-ver` (CLIENT SETINFO) and `watch` come after them, where a 7.0 parser does not look.
 * `current` is the argv of the command asking (clientMemory).
 */
export function describeClient(s: SessionState, now: number, blocked = false, monitoring = false, current?: readonly Buffer[]): string {
  const sub = s.subscriptions;
  const t = s.tracking;
  const flags = (monitoring ? 'O' : '') + (sub.active ? 'P' : '') + (s.multi !== undefined ? 'x' : '') + (blocked ? 'b' : '') +
    (t !== undefined ? 't' : '') + (t?.bcast === true ? 'B' : '') + (s.unixSocket === true ? 'U' : '') + (s.readonlyMode ? 'r' : '') + (s.noEvict ? 'e' : '') || 'N';
  const { qbuf, qbufFree, argvMem, multiMem, obl, omem, total: totMem } = clientMemory(s, current);
  return [
    `id=${s.id}`, `addr=${s.addr}`, `laddr=${s.laddr}`, `fd=${s.fd}`, `name=${s.name}`,
    `age=${Math.floor((now - s.createdAt) / 1000)}`, `idle=${Math.floor((now - s.lastInteraction) / 1000)}`,
    `flags=${flags}`, 'db=0', `sub=${sub.channel.size}`, `psub=${sub.pattern.size}`, `ssub=${sub.shard.size}`, `multi=${s.multi ? s.multi.length : -1}`,
    `qbuf=${qbuf}`, `qbuf-free=${qbufFree}`, `argv-mem=${argvMem}`, `multi-mem=${multiMem}`,
    'rbs=16384', 'rbp=0', `obl=${obl}`, `oll=${s.outputListLength}`, `omem=${omem}`, `tot-mem=${totMem}`,
    `events=${omem > 0 ? 'rw' : 'r'}`, `cmd=${s.lastCommand}`, `user=${s.user?.name ?? 'default'}`, `redir=${t?.redirect ?? -1}`, `resp=${s.proto}`,
    `lib-name=${s.libName}`, `lib-ver=${s.libVer}`, `watch=${s.watched.size}`,
  ].join(' ');
}

function checkName(name: string): void {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) throw new ReplyError('ERR Client names cannot contain spaces, newlines or special characters.');
  }
}

/**
 * CLIENT LIST [TYPE t | ID id …], parsed as Redis 7.0 does: TYPE only as the sole option, ID only
 * first and with at least one id (each an integer, 'Invalid client ID' otherwise); the ids' lines
 * come in the order asked, once per id asked.
 */
function list(ctx: CommandContext, argv: Buffer[]): void {
  let ids: number[] | undefined;
  let type: string | undefined;
  if (argv.length === 4 && lower(argv[2]!) === 'type') {
    const t = lower(argv[3]!);
    if (!CLIENT_TYPES.includes(t)) throw new ReplyError(`ERR Unknown client type '${argv[3]!.toString()}'`);
    type = t;
  } else if (argv.length > 3 && lower(argv[2]!) === 'id') {
    // Ids past 2^53 name no client here; they are still valid ids to Redis.
    ids = argv.slice(3).map((a) => Number(int64Arg(a, 'ERR Invalid client ID')));
  } else if (argv.length !== 2) throw new ReplyError(ERR.syntax);
  const now = Date.now();
  const line = (s: SessionState): string =>
    describeClient(s, now, ctx.node.blockedClients.isBlocked(s), ctx.node.monitor.has(s), s === ctx.session ? argv : undefined) + '\n';
  let text = '';
  if (ids !== undefined) {
    for (const id of ids) {
      const s = ctx.node.client(id);
      if (s !== undefined) text += line(s);
    }
    return ctx.out.verbatim(text);
  }
  for (const s of ctx.node.clients()) if (type === undefined || clientType(s) === type) text += line(s);
  ctx.out.verbatim(text);
}

/** Client type names as Redis accepts them (lowercased); none of ours is a replica or master. */
const CLIENT_TYPES = ['normal', 'master', 'replica', 'slave', 'pubsub'];

/** A client's type: pubsub while subscribed, else normal (a monitor too, as in Redis). */
function clientType(s: SessionState): string {
  return s.subscriptions.active ? 'pubsub' : 'normal';
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p …] [BCAST] [OPTIN] [OPTOUT] [NOLOOP], with Redis 7.0's checks and texts. */
function tracking(ctx: CommandContext, argv: Buffer[]): void {
  const mode = lower(argv[2]!);
  if (mode !== 'on' && mode !== 'off') throw new ReplyError(ERR.syntax);
  const opts = { bcast: false, optin: false, optout: false, noloop: false, redirect: 0, prefixes: [] as Buffer[] };
  for (let i = 3; i < argv.length; i++) {
    const o = lower(argv[i]!);
    const more = i + 1 < argv.length;
    if (o === 'redirect' && more) {
      opts.redirect = intArg(argv[++i]!);
      if (opts.redirect !== ctx.session.id && ctx.node.client(opts.redirect) === undefined) throw new ReplyError('ERR The client ID you want redirect to does not exist');
    } else if (o === 'bcast') opts.bcast = true;
    else if (o === 'optin') opts.optin = true;
    else if (o === 'optout') opts.optout = true;
    else if (o === 'noloop') opts.noloop = true;
    else if (o === 'prefix' && more) opts.prefixes.push(argv[++i]!);
    else throw new ReplyError(ERR.syntax);
  }
  const node = ctx.node;
  if (mode === 'off') {
    node.tracking.disable(ctx.session);
    return ctx.out.ok();
  }
  if (opts.prefixes.length > 0 && !opts.bcast) throw new ReplyError('ERR PREFIX option requires BCAST mode to be enabled');
  const current = ctx.session.tracking;
  if (current !== undefined && current.bcast !== opts.bcast) {
    throw new ReplyError("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
  }
  if (opts.optin && opts.optout) throw new ReplyError("ERR You can't specify both OPTIN mode and OPTOUT mode");
  if ((opts.optin && current?.optout === true) || (opts.optout && current?.optin === true)) {
    throw new ReplyError("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
  }
  if (opts.bcast && (opts.optin || opts.optout)) throw new ReplyError('ERR OPTIN and OPTOUT are not compatible with BCAST');
  const prefixes = [...(current?.prefixes ?? [])];
  for (const p of opts.prefixes) {
    const clash = [...prefixes, ...opts.prefixes].find((q) => q !== p && (q.subarray(0, p.length).equals(p) || p.subarray(0, q.length).equals(q)));
    if (clash !== undefined) {
      const inThis = opts.prefixes.includes(clash);
      throw new ReplyError(`ERR Prefix '${p.toString()}' overlaps with ${inThis ? 'another provided prefix' : 'an existing prefix'} '${clash.toString()}'. Prefixes for a single client must not overlap.`);
    }
    if (!prefixes.some((q) => q.equals(p))) prefixes.push(p);
  }
  node.tracking.disable(ctx.session);
  node.tracking.enable(ctx.session, { ...opts, optin: opts.optin || current?.optin === true, optout: opts.optout || current?.optout === true, prefixes, caching: undefined });
  ctx.out.ok();
}

/** CLIENT TRACKINGINFO: flags, redirect and prefixes, as Redis 7.0 answers. */
function trackingInfo(ctx: CommandContext): void {
  const t = ctx.session.tracking;
  const flags: string[] = [];
  if (t === undefined) flags.push('off');
  else {
    flags.push('on');
    if (t.bcast) flags.push('bcast');
    if (t.optin) flags.push('optin');
    if (t.caching === true) flags.push('caching-yes');
    if (t.optout) flags.push('optout');
    if (t.caching === false) flags.push('caching-no');
    if (t.noloop) flags.push('noloop');
    if (t.redirect !== 0 && ctx.node.client(t.redirect) === undefined) flags.push('broken_redirect');
  }
  ctx.out.mapHeader(3);
  ctx.out.bulk('flags');
  ctx.out.setHeader(flags.length);
  for (const f of flags) ctx.out.bulk(f);
  ctx.out.bulk('redirect');
  ctx.out.int(t === undefined ? -1 : t.redirect);
  ctx.out.bulk('prefixes');
  // A BCAST client without prefixes is registered under the empty one, as Redis shows it.
  ctx.out.bulkArray(t === undefined ? [] : t.bcast && t.prefixes.length === 0 ? [Buffer.alloc(0)] : t.prefixes);
}

/** CLIENT CACHING YES|NO: whether the next command's keys are tracked (OPTIN / OPTOUT). */
function caching(ctx: CommandContext, argv: Buffer[]): void {
  const t = ctx.session.tracking;
  const v = lower(argv[2]!);
  // Redis checks that tracking is on before it looks at the argument.
  if (t === undefined) throw new ReplyError('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
  if (v !== 'yes' && v !== 'no') throw new ReplyError(ERR.syntax);
  if (v === 'yes' && !t.optin) throw new ReplyError('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
  if (v === 'no' && !t.optout) throw new ReplyError('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
  t.caching = v === 'yes';
  ctx.out.ok();
}

/** CLIENT PAUSE timeout [WRITE|ALL] (ms; ALL by default), as Redis 7.0. */
function pause(ctx: CommandContext, argv: Buffer[]): void {
  const ms = intArg(argv[2]!, 'ERR timeout is not an integer or out of range');
  if (ms < 0) throw new ReplyError('ERR timeout is negative');
  let mode: 'write' | 'all' = 'all';
  if (argv.length === 4) {
    const m = lower(argv[3]!);
    if (m !== 'write' && m !== 'all') throw new ReplyError('ERR CLIENT PAUSE mode must be WRITE or ALL');
    mode = m;
  } else if (argv.length > 4) throw subcommandSyntaxError(argv);
  const node = ctx.node;
  ctx.node.pause.pause(ms, mode, Date.now(), (command, args) => declaredWrites(scriptingFor(node), command, args));
  ctx.out.ok();
}

/**
 * CLIENT KILL addr | CLIENT KILL [ID id] [TYPE t] [ADDR a] [LADDR a] [USER u] [SKIPME yes|no] …,
 * parsed as Redis 7.0: options left to right, the first bad one answers (an option without a value
 * is a syntax error where it stands), a repeated option replaces the earlier one; no MAXAGE (7.4).
 */
function kill(ctx: CommandContext, argv: Buffer[]): void {
  const me = ctx.session;
  if (argv.length === 3) {
    // The old form may kill the caller too, and answers OK or an error.
    const addr = argv[2]!.toString();
    const targets = [...ctx.node.clients()].filter((s) => s.addr === addr);
    if (targets.length === 0) throw new ReplyError('ERR No such client');
    for (const s of targets) {
      if (s === me) me.closeAfterReply = true;
      else s.kill();
    }
    return ctx.out.ok();
  }
  let id: number | undefined;
  let type: string | undefined;
  let addr: string | undefined;
  let laddr: string | undefined;
  let user: SessionState['user'] | undefined;
  let skipMe = true;
  for (let i = 2; i < argv.length; i += 2) {
    const o = lower(argv[i]!);
    if (i + 1 >= argv.length) throw new ReplyError(ERR.syntax);
    const v = argv[i + 1]!;
    if (o === 'id') {
      const n = parseInt64(v);
      if (n === undefined || n < 1n) throw new ReplyError('ERR client-id should be greater than 0');
      id = Number(n);
    } else if (o === 'type') {
      const t = lower(v);
      if (!CLIENT_TYPES.includes(t)) throw new ReplyError(`ERR Unknown client type '${v.toString()}'`);
      type = t === 'slave' ? 'replica' : t;
    } else if (o === 'addr') addr = v.toString();
    else if (o === 'laddr') laddr = v.toString();
    else if (o === 'user') {
      user = ctx.node.acl.get(v.toString('latin1'));
      if (user === undefined) throw new ReplyError(`ERR No such user '${v.toString('latin1')}'`);
    } else if (o === 'skipme') {
      const yn = lower(v);
      if (yn !== 'yes' && yn !== 'no') throw new ReplyError(ERR.syntax);
      skipMe = yn === 'yes';
    } else throw new ReplyError(ERR.syntax);
  }
  let n = 0;
  for (const s of [...ctx.node.clients()]) {
    if (addr !== undefined && s.addr !== addr) continue;
    if (laddr !== undefined && s.laddr !== laddr) continue;
    if (type !== undefined && clientType(s) !== type) continue;
    if (id !== undefined && s.id !== id) continue;
    if (user !== undefined && s.user !== user) continue;
    if (skipMe && s === me) continue;
    n++;
    if (s === me) me.closeAfterReply = true;
    else s.kill();
  }
  ctx.out.int(n);
}

/** CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's blocking command; 1 when it was blocked. */
function unblock(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 4) throw new ReplyError(ERR.syntax);
  const id = intArg(argv[2]!);
  const reason = argv.length === 4 ? lower(argv[3]!) : 'timeout';
  if (reason !== 'timeout' && reason !== 'error') throw new ReplyError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  for (const s of ctx.node.clients()) {
    if (s.id !== id) continue;
    const unblocked = ctx.node.blockedClients.unblock(s, reason);
    // Redis counts the error it sends the unblocked client within this call: a failed call.
    if (unblocked && reason === 'error') ctx.failed = true;
    return ctx.out.int(unblocked ? 1 : 0);
  }
  ctx.out.int(0);
}

export const clientCommand = container('client', ['noscript', 'loading', 'stale'], ['slow'], [
  { name: 'id', categories: ['slow', 'connection'], arity: 2, flags: ['noscript', 'loading', 'stale'], run: (c) => c.out.int(c.session.id) },
  {
    name: 'setname', categories: ['slow', 'connection'], arity: 3, flags: ['noscript', 'loading', 'stale'],
    run: (c, a) => {
      const n = a[2]!.toString();
      checkName(n);
      c.session.name = n;
      c.out.ok();
    },
  },
  { name: 'getname', categories: ['slow', 'connection'], arity: 2, flags: ['noscript', 'loading', 'stale'], run: (c) => (c.session.name ? c.out.bulk(c.session.name) : c.out.nullBulk()) },
  {
    name: 'setinfo', arity: 4, flags: ['noscript', 'loading', 'stale'],
    run: (c, a) => {
      const attr = lower(a[2]!);
      const v = a[3]!.toString();
      if (attr === 'lib-name') c.session.libName = v;
      else if (attr === 'lib-ver') c.session.libVer = v;
      c.out.ok();
    },
  },
  { name: 'list', categories: ['admin', 'slow', 'dangerous', 'connection'], arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], run: list },
  { name: 'info', categories: ['slow', 'connection'], arity: 2, flags: ['noscript', 'loading', 'stale'], run: (c, a) => c.out.verbatim(describeClient(c.session, Date.now(), false, c.node.monitor.has(c.session), a) + '\n') },
  { name: 'kill', categories: ['admin', 'slow', 'dangerous', 'connection'], arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], run: kill },
  {
    name: 'no-evict', categories: ['admin', 'slow', 'dangerous', 'connection'], arity: 3, flags: ['admin', 'noscript', 'loading', 'stale'],
    run: (c, a) => {
      const mode = lower(a[2]!);
      if (mode !== 'on' && mode !== 'off') throw new ReplyError(ERR.syntax);
      c.session.noEvict = mode === 'on';
      c.out.ok();
    },
  },
  { name: 'no-touch', arity: 3, flags: ['noscript', 'loading', 'stale'], run: (c) => c.out.ok() },
  { name: 'pause', categories: ['admin', 'slow', 'dangerous', 'connection'], arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], run: pause },
  { name: 'unpause', categories: ['admin', 'slow', 'dangerous', 'connection'], arity: 2, flags: ['admin', 'noscript', 'loading', 'stale'], run: (c) => {
    c.node.pause.unpause();
    c.out.ok();
  } },
  {
    name: 'reply', categories: ['slow', 'connection'], arity: 3, flags: ['noscript', 'loading', 'stale'],
    // The connection drops the replies (Connection.replyDropped); this only checks the mode.
    run: (c, a) => {
      if (!['on', 'off', 'skip'].includes(lower(a[2]!))) throw new ReplyError(ERR.syntax);
      c.out.ok();
    },
  },
  { name: 'tracking', categories: ['slow', 'connection'], arity: -3, flags: ['noscript', 'loading', 'stale'], run: tracking },
  { name: 'trackinginfo', categories: ['slow', 'connection'], arity: 2, flags: ['noscript', 'loading', 'stale'], run: trackingInfo },
  { name: 'caching', categories: ['slow', 'connection'], arity: 3, flags: ['noscript', 'loading', 'stale'], run: caching },
  { name: 'unblock', categories: ['admin', 'slow', 'dangerous', 'connection'], arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], run: unblock },
  { name: 'getredir', categories: ['slow', 'connection'], arity: 2, flags: ['noscript', 'loading', 'stale'], run: (c) => c.out.int(c.session.tracking?.redirect ?? -1) },
  { name: 'help', categories: ['slow', 'connection'], arity: 2, flags: ['loading', 'stale'], run: (c) => helpReply(c, CLIENT_HELP) },
]);
