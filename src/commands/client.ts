import { ERR, ReplyError } from '../core/errors.js';
import type { SessionState } from '../server/session-state.js';
import { container, type CommandContext } from './spec.js';
import { intArg, lower } from './args.js';

function describe(s: SessionState, now: number, blocked = false, monitoring = false): string {
  const sub = s.subscriptions;
  const flags = (monitoring ? 'O' : '') + (sub.active ? 'P' : '') + (s.multi !== undefined ? 'x' : '') + (blocked ? 'b' : '') + (s.readonlyMode ? 'r' : '') || 'N';
  return [
    `id=${s.id}`, `addr=${s.addr}`, `laddr=${s.laddr}`, `fd=${s.fd}`, `name=${s.name}`,
    `age=${Math.floor((now - s.createdAt) / 1000)}`, `idle=${Math.floor((now - s.lastInteraction) / 1000)}`,
    `flags=${flags}`, 'db=0', `sub=${sub.channel.size}`, `psub=${sub.pattern.size}`, `ssub=${sub.shard.size}`, `multi=${s.multi ? s.multi.length : -1}`,
    `watch=${s.watched.size}`, `qbuf=${s.queryBufferBytes}`, 'qbuf-free=0', 'argv-mem=0', 'multi-mem=0',
    'rbs=16384', 'rbp=0', 'obl=0', 'oll=0', `omem=${s.outputBufferBytes}`, `tot-mem=${s.queryBufferBytes + s.outputBufferBytes}`,
    'events=r', `cmd=${s.lastCommand}`, 'user=default', 'redir=-1', `resp=${s.proto}`,
    `lib-name=${s.libName}`, `lib-ver=${s.libVer}`,
  ].join(' ');
}

function checkName(name: string): void {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) throw new ReplyError('ERR Client names cannot contain spaces, newlines or special characters.');
  }
}

function list(ctx: CommandContext, argv: Buffer[]): void {
  let ids: Set<number> | undefined;
  let type: string | undefined;
  for (let i = 2; i < argv.length; i++) {
    const o = lower(argv[i]!);
    if (o === 'type' && i + 1 < argv.length) {
      const t = lower(argv[++i]!);
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(t)) throw new ReplyError(`ERR Unknown client type '${argv[i]!.toString()}'`);
      type = t;
    } else if (o === 'id') {
      ids = new Set();
      for (i++; i < argv.length; i++) ids.add(intArg(argv[i]!));
    } else throw new ReplyError(ERR.syntax);
  }
  const now = Date.now();
  let text = '';
  // Clients are of the pubsub class while subscribed, else normal; none is a replica or master.
  const ofType = (s: SessionState): boolean => type === undefined || (s.subscriptions.active ? type === 'pubsub' : type === 'normal');
  for (const s of ctx.node.clients()) if ((!ids || ids.has(s.id)) && ofType(s)) text += describe(s, now, ctx.node.blockedClients.isBlocked(s), ctx.node.monitor.has(s)) + '\n';
  ctx.out.verbatim(text);
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
  } else if (argv.length > 4) throw new ReplyError(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.toString()}'. Try CLIENT HELP.`);
  ctx.node.pause.pause(ms, mode, Date.now());
  ctx.out.ok();
}

/** CLIENT KILL addr | CLIENT KILL [ID id] [ADDR a] [LADDR a] [SKIPME yes|no] … */
function kill(ctx: CommandContext, argv: Buffer[]): void {
  const me = ctx.session;
  const targets: SessionState[] = [];
  if (argv.length === 3) {
    const addr = argv[2]!.toString();
    for (const s of ctx.node.clients()) if (s.addr === addr) targets.push(s);
    if (targets.length === 0) throw new ReplyError('ERR No such client');
    for (const s of targets) (s === me ? () => { me.closeAfterReply = true; } : () => s.kill())();
    return ctx.out.ok();
  }
  if ((argv.length - 2) % 2 !== 0) throw new ReplyError(ERR.syntax);
  const filters: Array<(s: SessionState) => boolean> = [];
  let skipMe = true;
  for (let i = 2; i < argv.length; i += 2) {
    const o = lower(argv[i]!);
    const v = argv[i + 1]!.toString();
    if (o === 'id') { const id = intArg(argv[i + 1]!); filters.push((s) => s.id === id); }
    else if (o === 'addr') filters.push((s) => s.addr === v);
    else if (o === 'laddr') filters.push((s) => s.laddr === v);
    else if (o === 'type') {
      const t = v.toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(t)) throw new ReplyError(`ERR Unknown client type '${v}'`);
      // Subscribed clients are of the pubsub class, the others normal (as CLIENT LIST TYPE).
      filters.push((s) => (s.subscriptions.active ? t === 'pubsub' : t === 'normal'));
    }
    else if (o === 'user') filters.push(() => v === 'default');
    else if (o === 'skipme') skipMe = v.toLowerCase() !== 'no';
    else if (o === 'maxage') { const age = intArg(argv[i + 1]!); filters.push((s) => Date.now() - s.createdAt >= age * 1000); }
    else throw new ReplyError(ERR.syntax);
  }
  let n = 0;
  for (const s of [...ctx.node.clients()]) {
    if (skipMe && s === me) continue;
    if (!filters.every((f) => f(s))) continue;
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
    if (s.id === id) return ctx.out.int(ctx.node.blockedClients.unblock(s, reason) ? 1 : 0);
  }
  ctx.out.int(0);
}

export const clientCommand = container('client', ['noscript', 'loading', 'stale'], ['slow', 'connection'], [
  { name: 'id', arity: 2, flags: ['noscript', 'loading', 'stale'], run: (c) => c.out.int(c.session.id) },
  {
    name: 'setname', arity: 3, flags: ['noscript', 'loading', 'stale'],
    run: (c, a) => {
      const n = a[2]!.toString();
      checkName(n);
      c.session.name = n;
      c.out.ok();
    },
  },
  { name: 'getname', arity: 2, flags: ['noscript', 'loading', 'stale'], run: (c) => (c.session.name ? c.out.bulk(c.session.name) : c.out.nullBulk()) },
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
  { name: 'list', arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], run: list },
  { name: 'info', arity: 2, flags: ['noscript', 'loading', 'stale'], run: (c) => c.out.verbatim(describe(c.session, Date.now(), false, c.node.monitor.has(c.session)) + '\n') },
  { name: 'kill', arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], run: kill },
  { name: 'no-evict', arity: 3, flags: ['admin', 'noscript', 'loading', 'stale'], run: (c) => c.out.ok() },
  { name: 'no-touch', arity: 3, flags: ['noscript', 'loading', 'stale'], run: (c) => c.out.ok() },
  { name: 'pause', arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], run: pause },
  { name: 'unpause', arity: 2, flags: ['admin', 'noscript', 'loading', 'stale'], run: (c) => {
    c.node.pause.unpause();
    c.out.ok();
  } },
  {
    name: 'reply', arity: 3, flags: ['noscript', 'loading', 'stale'],
    // The connection drops the replies (Connection.replyDropped); this only checks the mode.
    run: (c, a) => {
      if (!['on', 'off', 'skip'].includes(lower(a[2]!))) throw new ReplyError(ERR.syntax);
      c.out.ok();
    },
  },
  {
    // Clients send TRACKING OFF when they reset a connection; server-assisted caching itself is absent.
    name: 'tracking', arity: -3, flags: ['noscript', 'loading', 'stale'],
    run: (c, a) => {
      const mode = lower(a[2]!);
      if (mode === 'off') return c.out.ok();
      if (mode === 'on') throw new ReplyError('ERR client-side caching (CLIENT TRACKING ON) is not supported');
      throw new ReplyError(ERR.syntax);
    },
  },
  { name: 'unblock', arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], run: unblock },
  { name: 'getredir', arity: 2, flags: ['noscript', 'loading', 'stale'], run: (c) => c.out.int(-1) },
  { name: 'help', arity: 2, flags: ['loading', 'stale'], run: (c) => c.out.bulkArray(['CLIENT <subcommand> [<arg> ...]. Subcommands are:', 'ID', 'SETNAME <name>', 'GETNAME', 'SETINFO <attr> <value>', 'LIST', 'INFO', 'KILL', 'UNBLOCK <clientid> [TIMEOUT|ERROR]', 'TRACKING OFF', 'GETREDIR', 'HELP']) },
]);
