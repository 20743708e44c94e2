import { ERR, ReplyError } from '../core/errors.js';
import { takeTransaction } from '../server/session-state.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';

function multi(ctx: CommandContext): void {
  if (ctx.session.multi !== undefined) throw new ReplyError('ERR MULTI calls can not be nested');
  ctx.session.multi = [];
  ctx.session.multiDirty = false;
  ctx.out.ok();
}

function exec(ctx: CommandContext): void {
  if (ctx.session.multi === undefined) throw new ReplyError('ERR EXEC without MULTI');
  // Thrown, so EXEC counts as a failed call (INFO commandstats), as Redis counts it.
  if (ctx.session.multiDirty) {
    takeTransaction(ctx.session);
    throw new ReplyError(ERR.execAbort);
  }
  ctx.node.execTransaction(ctx.session, ctx.out, ctx.ks);
}

function discard(ctx: CommandContext): void {
  if (ctx.session.multi === undefined) throw new ReplyError('ERR DISCARD without MULTI');
  ctx.session.multi = undefined;
  ctx.session.multiDirty = false;
  ctx.session.watched.clear();
  ctx.out.ok();
}

function watch(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.session.multi !== undefined) throw new ReplyError('ERR WATCH inside MULTI is not allowed');
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i]!;
    const id = key.toString('latin1');
    if (ctx.session.watched.has(id)) continue;
    const version = ctx.ks.version(key);
    // A deletion's tombstone is purged in time (at once on a standalone checkpoint): that is no change.
    ctx.session.watched.set(id, { key, version, deleted: version !== undefined && ctx.ks.get(key) === undefined });
  }
  ctx.out.ok();
}

export const transactionCommands: CommandSpec[] = [
  command({ name: 'multi', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], categories: ['fast', 'transaction'], run: multi }),
  command({ name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], categories: ['slow', 'transaction'], run: exec }),
  command({ name: 'discard', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], categories: ['fast', 'transaction'], run: discard }),
  command({ name: 'watch', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], firstKey: 1, lastKey: -1, step: 1, categories: ['fast', 'transaction'], run: watch }),
  command({ name: 'unwatch', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], categories: ['fast', 'transaction'], run: (c) => { c.session.watched.clear(); c.out.ok(); } }),
];
