import { writeRepeatedPairs } from './repeated-picks.js';
import { ERR, ReplyError } from '../core/errors.js';
import { HashType, type HashLimits } from '../collections/hash-type.js';
import { emptyScan, matches, scanCursor, scanOptions, scanPage } from './element-scan.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { inInt64, int64Arg, lower, parseInt64 } from './args.js';
import { addLongDouble, formatLongDoubleHuman, LONG_DOUBLE_ZERO, parseLongDouble } from './long-double.js';

const INT64_MAX = 2n ** 63n - 1n;

function limits(ctx: CommandContext): HashLimits {
  return { entries: ctx.node.config.int('hash-max-listpack-entries'), value: ctx.node.config.int('hash-max-listpack-value') };
}

function hset(reply: 'count' | 'ok', name: string) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    if (argv.length % 2 !== 0) throw new ReplyError(ERR.wrongArity(name));
    const h = HashType.openOrCreate(ctx.ks, argv[1]!);
    const lim = limits(ctx);
    let added = 0;
    for (let i = 2; i < argv.length; i += 2) if (h.set(argv[i]!, argv[i + 1]!, lim)) added++;
    h.save();
    if (reply === 'ok') ctx.out.ok();
    else ctx.out.int(added);
  };
}

function hsetnx(ctx: CommandContext, argv: Buffer[]): void {
  const h = HashType.openOrCreate(ctx.ks, argv[1]!);
  if (h.get(argv[2]!) !== undefined) return ctx.out.int(0);
  h.set(argv[2]!, argv[3]!, limits(ctx));
  h.save();
  ctx.out.int(1);
}

function hget(ctx: CommandContext, argv: Buffer[]): void {
  const v = HashType.open(ctx.ks, argv[1]!)?.get(argv[2]!);
  if (v) ctx.out.bulk(v);
  else ctx.out.nullBulk();
}

function hmget(ctx: CommandContext, argv: Buffer[]): void {
  const h = HashType.open(ctx.ks, argv[1]!);
  ctx.out.arrayHeader(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const v = h?.get(argv[i]!);
    if (v) ctx.out.bulk(v);
    else ctx.out.nullBulk();
  }
}

function hdel(ctx: CommandContext, argv: Buffer[]): void {
  const h = HashType.open(ctx.ks, argv[1]!);
  if (!h) return ctx.out.int(0);
  let n = 0;
  for (let i = 2; i < argv.length; i++) if (h.delete(argv[i]!)) n++;
  h.save();
  ctx.out.int(n);
}

/**
 * The reply's header promised the hash's size: fields that do not add up to it would leave the
 * client waiting for the rest, so they fail the command (the dispatcher drops what was written and
 * answers an error) instead. Only a damaged store gets here.
 */
function checkCount(key: Buffer, size: number, written: number): void {
  if (written !== size) throw new Error(`hash ${key.toString('latin1').slice(0, 100)} holds ${written} fields but its metadata counts ${size}`);
}

function hgetall(ctx: CommandContext, argv: Buffer[]): void {
  const h = HashType.open(ctx.ks, argv[1]!);
  const size = h?.size ?? 0;
  ctx.out.mapHeader(size);
  let written = 0;
  h?.each((field, value) => {
    if (++written > size) return false;
    ctx.out.bulk(field);
    ctx.out.bulk(value);
    return true;
  });
  checkCount(argv[1]!, size, written);
}

function hkeysOrVals(which: 'keys' | 'vals') {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const h = HashType.open(ctx.ks, argv[1]!);
    const size = h?.size ?? 0;
    ctx.out.arrayHeader(size);
    let written = 0;
    h?.each((field, value) => {
      if (++written > size) return false;
      ctx.out.bulk(which === 'keys' ? field : value);
      return true;
    });
    checkCount(argv[1]!, size, written);
  };
}

function hincrby(ctx: CommandContext, argv: Buffer[]): void {
  const delta = int64Arg(argv[3]!);
  const h = HashType.openOrCreate(ctx.ks, argv[1]!);
  const cur = h.get(argv[2]!);
  let current = 0n;
  if (cur) {
    const p = parseInt64(cur);
    if (p === undefined) throw new ReplyError('ERR hash value is not an integer');
    current = p;
  }
  const next = current + delta;
  if (!inInt64(next)) throw new ReplyError(ERR.overflow);
  h.set(argv[2]!, Buffer.from(next.toString()), limits(ctx));
  h.save();
  ctx.out.int(next);
}

/** HINCRBYFLOAT in Redis's long double arithmetic; an infinite increment is refused before the key is read. */
function hincrbyfloat(ctx: CommandContext, argv: Buffer[]): void {
  const delta = parseLongDouble(argv[3]!);
  if (delta === undefined) throw new ReplyError(ERR.notFloat);
  if (!delta.finite) throw new ReplyError('ERR value is NaN or Infinity');
  const h = HashType.openOrCreate(ctx.ks, argv[1]!);
  const cur = h.get(argv[2]!);
  const current = cur === undefined ? LONG_DOUBLE_ZERO : parseLongDouble(cur);
  if (current === undefined) throw new ReplyError('ERR hash value is not a float');
  const next = addLongDouble(current, delta);
  if (next === undefined || !next.finite) throw new ReplyError('ERR increment would produce NaN or Infinity');
  const text = Buffer.from(formatLongDoubleHuman(next), 'latin1');
  h.set(argv[2]!, text, limits(ctx));
  h.save();
  ctx.out.bulk(text);
}

/** HRANDFIELD key [count [WITHVALUES]]: positive count = distinct fields, negative = may repeat. */
function hrandfield(ctx: CommandContext, argv: Buffer[]): void {
  const { out } = ctx;
  if (argv.length === 2) {
    const h = HashType.open(ctx.ks, argv[1]!);
    const pick = h?.randomOne();
    return pick ? out.bulk(pick[0]) : out.nullBulk();
  }
  // Redis checks the count, then the options, then the key: errors come in that order.
  const wide = int64Arg(argv[2]!);
  if (wide < -INT64_MAX) throw new ReplyError(`ERR value is out of range, value must between -${INT64_MAX} and ${INT64_MAX}`);
  if (argv.length > 4 || (argv.length === 4 && lower(argv[3]!) !== 'withvalues')) throw new ReplyError(ERR.syntax);
  const withValues = argv.length === 4;
  if (withValues && (wide < -INT64_MAX / 2n || wide > INT64_MAX / 2n)) throw new ReplyError('ERR value is out of range');
  const h = HashType.open(ctx.ks, argv[1]!);
  // A positive count beyond the hash's size gives the whole hash; a negative one that large
  // (that many repeated picks) is more than a reply can hold.
  // (A missing key answers an empty array whatever the count, as in Redis.)
  if (h !== undefined && wide < -BigInt(Number.MAX_SAFE_INTEGER)) throw new ReplyError(ERR.notInteger);
  const count = wide > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(wide);
  if (h !== undefined && count < 0) {
    // Repeated picks: as many as asked, written as they are made (repeated-picks.ts).
    writeRepeatedPairs(ctx, -count, withValues, (n) => h.random(n, false), ([k]) => out.bulk(k), ([, v]) => out.bulk(v));
    return;
  }
  const picked = h === undefined || count === 0 ? [] : h.random(Math.min(count, h.size), true);
  if (withValues && out.proto === 3) {
    out.arrayHeader(picked.length);
    for (const [k, v] of picked) {
      out.arrayHeader(2);
      out.bulk(k);
      out.bulk(v);
    }
    return;
  }
  out.arrayHeader(picked.length * (withValues ? 2 : 1));
  for (const [k, v] of picked) {
    out.bulk(k);
    if (withValues) out.bulk(v);
  }
}

/**
 * HSCAN key cursor [MATCH p] [COUNT n] [NOVALUES] (element-scan.ts). A listpack comes back whole
 * in insertion order with cursor 0, whatever the cursor, as Redis answers; a hashtable in pages.
 */
function hscan(ctx: CommandContext, argv: Buffer[]): void {
  const cursor = scanCursor(argv[2]!);
  const h = HashType.open(ctx.ks, argv[1]!);
  if (h === undefined) return emptyScan(ctx);
  const opts = scanOptions(argv, true);
  const items: Buffer[] = [];
  const take = (field: Buffer, value: Buffer): void => {
    if (!matches(opts, field)) return;
    items.push(field);
    if (!opts.novalues) items.push(value);
  };
  let next = '0';
  if (h.listpack) h.each((field, value) => (take(field, value), true));
  else next = scanPage(h.c, argv[1]!, cursor, opts.count, false, (field, stored) => take(field, h.valueOf(stored)));
  ctx.out.arrayHeader(2);
  ctx.out.bulk(next);
  ctx.out.bulkArray(items);
}


function hexists(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.int(HashType.open(ctx.ks, argv[1]!)?.get(argv[2]!) !== undefined ? 1 : 0);
}

function hlen(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.int(HashType.open(ctx.ks, argv[1]!)?.size ?? 0);
}

function hstrlen(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.int(HashType.open(ctx.ks, argv[1]!)?.get(argv[2]!)?.length ?? 0);
}

const one = { firstKey: 1, lastKey: 1, step: 1 };
const R = ['readonly', 'fast'] as const;
const W = ['write', 'denyoom', 'fast'] as const;
const rc = ['read', 'hash', 'fast'];
const wc = ['write', 'hash', 'fast'];

export const hashCommands: CommandSpec[] = [
  command({ name: 'hset', arity: -4, flags: W, ...one, categories: wc, run: hset('count', 'hset') }),
  command({ name: 'hmset', arity: -4, flags: W, ...one, categories: wc, run: hset('ok', 'hmset') }),
  command({ name: 'hsetnx', arity: 4, flags: W, ...one, categories: wc, run: hsetnx }),
  command({ name: 'hget', arity: 3, flags: R, ...one, categories: rc, run: hget }),
  command({ name: 'hmget', arity: -3, flags: R, ...one, categories: rc, run: hmget }),
  command({ name: 'hdel', arity: -3, flags: ['write', 'fast'], ...one, categories: wc, run: hdel }),
  command({ name: 'hexists', arity: 3, flags: R, ...one, categories: rc, run: hexists }),
  command({ name: 'hlen', arity: 2, flags: R, ...one, categories: rc, run: hlen }),
  command({ name: 'hstrlen', arity: 3, flags: R, ...one, categories: rc, run: hstrlen }),
  command({ name: 'hkeys', arity: 2, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hkeysOrVals('keys') }),
  command({ name: 'hvals', arity: 2, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hkeysOrVals('vals') }),
  command({ name: 'hgetall', arity: 2, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hgetall }),
  command({ name: 'hincrby', arity: 4, flags: W, ...one, categories: wc, run: hincrby }),
  command({ name: 'hincrbyfloat', arity: 4, flags: W, ...one, categories: wc, run: hincrbyfloat }),
  command({ name: 'hrandfield', arity: -2, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hrandfield }),
  command({ name: 'hscan', arity: -3, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hscan }),
];
