import { ERR, ReplyError } from '../core/errors.js';
import { StringForm, ValueType } from './keyspace.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { expiryFrom, getString, int64Arg, inInt64, lower, parseInt64 } from './args.js';
import { FRAGMENTED_ABOVE, StringValue, writeBytes } from '../strings/fragmented-string.js';
import { addLongDouble, formatLongDoubleHuman, LONG_DOUBLE_ZERO, parseLongDouble } from './long-double.js';

const EMPTY = Buffer.alloc(0);

function maxStringLen(ctx: CommandContext): number {
  return ctx.node.config.int('proto-max-bulk-len');
}

function checkSize(ctx: CommandContext, len: number): void {
  if (len > maxStringLen(ctx)) throw new ReplyError('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
}

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] */
function set(ctx: CommandContext, argv: Buffer[]): void {
  const { ks, out } = ctx;
  const key = argv[1]!;
  let nx = false, xx = false, get = false, keepTtl = false;
  let expiry: { unit: 'ex' | 'px' | 'exat' | 'pxat'; arg: Buffer } | undefined;
  for (let i = 3; i < argv.length; i++) {
    const opt = lower(argv[i]!);
    if (opt === 'nx' && !xx) nx = true;
    else if (opt === 'xx' && !nx) xx = true;
    else if (opt === 'get') get = true;
    else if (opt === 'keepttl' && expiry === undefined) keepTtl = true;
    // Redis takes the same expiry option twice (the last one counts), but not two different ones.
    else if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && (expiry === undefined || expiry.unit === opt) && !keepTtl && i + 1 < argv.length) {
      expiry = { unit: opt, arg: argv[++i]! };
    } else throw new ReplyError(ERR.syntax);
  }
  // Redis reads every option before it looks at the expire time, so a syntax error anywhere wins.
  let expiresAt = expiry === undefined ? 0 : expiryFrom(expiry.unit, expiry.arg, ks.now, 'set');
  // A plain SET never looks at the old value: skipping the lookup keeps it a pure write.
  const needsCurrent = get || nx || xx || keepTtl;
  const current = get ? getString(ks, key) : needsCurrent ? ks.get(key) : undefined;
  const exists = current !== undefined;
  const write = !(nx && exists) && !(xx && !exists);
  if (write) {
    if (keepTtl && current) expiresAt = current.expiresAt;
    ks.set(key, ValueType.String, argv[2]!, expiresAt);
  }
  if (get) {
    if (current) out.bulk(current.value as Buffer);
    else out.nullBulk();
  } else if (write) out.ok();
  else out.nullBulk();
}

function get(ctx: CommandContext, argv: Buffer[]): void {
  const e = getString(ctx.ks, argv[1]!);
  if (e) {
    ctx.node.stats.keyspaceHits++;
    ctx.out.bulk(e.value);
  } else {
    ctx.node.stats.keyspaceMisses++;
    ctx.out.nullBulk();
  }
}

function setex(unit: 'ex' | 'px', name: string) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const expiresAt = expiryFrom(unit, argv[2]!, ctx.ks.now, name);
    ctx.ks.set(argv[1]!, ValueType.String, argv[3]!, expiresAt);
    ctx.out.ok();
  };
}

function setnx(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.ks.get(argv[1]!)) return ctx.out.int(0);
  ctx.ks.set(argv[1]!, ValueType.String, argv[2]!, 0);
  ctx.out.int(1);
}

function mget(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.arrayHeader(argv.length - 1);
  for (let i = 1; i < argv.length; i++) {
    const e = ctx.ks.get(argv[i]!);
    if (e && e.type === ValueType.String) ctx.out.bulk(e.value as Buffer);
    else if (e && e.type === ValueType.FragmentedString) ctx.out.bulk(StringValue.open(ctx.ks, argv[i]!)!.all());
    else ctx.out.nullBulk();
  }
}

function checkPairs(argv: Buffer[], name: string): void {
  if ((argv.length - 1) % 2 !== 0) throw new ReplyError(ERR.wrongArity(name));
}

function mset(ctx: CommandContext, argv: Buffer[]): void {
  checkPairs(argv, 'mset');
  for (let i = 1; i < argv.length; i += 2) ctx.ks.set(argv[i]!, ValueType.String, argv[i + 1]!, 0);
  ctx.out.ok();
}

function msetnx(ctx: CommandContext, argv: Buffer[]): void {
  checkPairs(argv, 'msetnx');
  for (let i = 1; i < argv.length; i += 2) if (ctx.ks.get(argv[i]!)) return ctx.out.int(0);
  for (let i = 1; i < argv.length; i += 2) ctx.ks.set(argv[i]!, ValueType.String, argv[i + 1]!, 0);
  ctx.out.int(1);
}

function getset(ctx: CommandContext, argv: Buffer[]): void {
  const e = getString(ctx.ks, argv[1]!);
  ctx.ks.set(argv[1]!, ValueType.String, argv[2]!, 0);
  if (e) ctx.out.bulk(e.value);
  else ctx.out.nullBulk();
}

function getdel(ctx: CommandContext, argv: Buffer[]): void {
  const e = getString(ctx.ks, argv[1]!);
  if (!e) return ctx.out.nullBulk();
  ctx.ks.del(argv[1]!);
  ctx.out.bulk(e.value);
}

/** GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST] */
function getex(ctx: CommandContext, argv: Buffer[]): void {
  const { ks } = ctx;
  let expiry: { opt: 'persist' } | { opt: 'ex' | 'px' | 'exat' | 'pxat'; arg: Buffer } | undefined;
  for (let i = 2; i < argv.length; i++) {
    const opt = lower(argv[i]!);
    // As with SET, Redis takes the same option twice (the last one counts), but not two different ones.
    if (expiry !== undefined && expiry.opt !== opt) throw new ReplyError(ERR.syntax);
    if (opt === 'persist') expiry = { opt };
    else if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && i + 1 < argv.length) expiry = { opt, arg: argv[++i]! };
    else throw new ReplyError(ERR.syntax);
  }
  const e = getString(ks, argv[1]!);
  // As in Redis, a missing key answers nil before the expire time is validated.
  if (!e) return ctx.out.nullBulk();
  const expiresAt = expiry === undefined ? undefined : expiry.opt === 'persist' ? 0 : expiryFrom(expiry.opt, expiry.arg, ks.now, 'getex');
  if (expiresAt !== undefined && expiresAt !== e.expiresAt) ks.set(argv[1]!, ValueType.String, e.value, expiresAt, e.form);
  ctx.out.bulk(e.value);
}

/**
 * APPEND: a fragmented string only has its last fragments written (and its metadata, even for an
 * empty append: Redis counts it as a change, WATCH included). On a missing key Redis stores the
 * argument as SET does (an int or embstr when it reads as one), on an existing one it changes the
 * value in place (raw).
 */
function append(ctx: CommandContext, argv: Buffer[]): void {
  const s = StringValue.open(ctx.ks, argv[1]!);
  const length = s?.length ?? 0;
  checkSize(ctx, length + argv[2]!.length);
  if (s === undefined && argv[2]!.length <= FRAGMENTED_ABOVE) {
    ctx.ks.set(argv[1]!, ValueType.String, argv[2]!, 0);
    return ctx.out.int(argv[2]!.length);
  }
  ctx.out.int(writeBytes(ctx.ks, argv[1]!, s, length, argv[2]!));
}

function strlen(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.int(StringValue.open(ctx.ks, argv[1]!)?.length ?? 0);
}

/** Redis reads GETRANGE / SETRANGE positions as 64-bit; beyond any string's length they all act alike. */
function position(arg: Buffer): number {
  const v = int64Arg(arg);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(v > limit ? limit : v < -limit ? -limit : v);
}

function getrange(ctx: CommandContext, argv: Buffer[]): void {
  let start = position(argv[2]!);
  let end = position(argv[3]!);
  const s = StringValue.open(ctx.ks, argv[1]!);
  const len = s?.length ?? 0;
  if (start < 0 && end < 0 && start > end) return ctx.out.bulk(EMPTY);
  if (start < 0) start = Math.max(0, len + start);
  if (end < 0) end = Math.max(0, len + end);
  if (end >= len) end = len - 1;
  if (s === undefined || len === 0 || start > end) return ctx.out.bulk(EMPTY);
  ctx.out.bulk(s.read(start, end + 1));
}

function setrange(ctx: CommandContext, argv: Buffer[]): void {
  const offset = position(argv[2]!);
  if (offset < 0) throw new ReplyError('ERR offset is out of range');
  const value = argv[3]!;
  const s = StringValue.open(ctx.ks, argv[1]!);
  if (value.length === 0) return ctx.out.int(s?.length ?? 0);
  checkSize(ctx, offset + value.length);
  ctx.out.int(writeBytes(ctx.ks, argv[1]!, s, offset, value));
}

function incrBy(ctx: CommandContext, key: Buffer, delta: bigint): void {
  // A fragmented string is longer than any integer: no need to reassemble it to say so.
  if (ctx.ks.get(key)?.type === ValueType.FragmentedString) throw new ReplyError(ERR.notInteger);
  const e = getString(ctx.ks, key);
  let current = 0n;
  if (e) {
    const parsed = parseInt64(e.value);
    if (parsed === undefined) throw new ReplyError(ERR.notInteger);
    current = parsed;
  }
  const next = current + delta;
  if (!inInt64(next)) throw new ReplyError(ERR.overflow);
  ctx.ks.set(key, ValueType.String, Buffer.from(next.toString(), 'latin1'), e ? e.expiresAt : 0);
  ctx.out.int(next);
}

/** INCRBYFLOAT in Redis's long double arithmetic; WRONGTYPE before either number is parsed, as in Redis. */
function incrbyfloat(ctx: CommandContext, argv: Buffer[]): void {
  const e = getString(ctx.ks, argv[1]!);
  const current = e ? parseLongDouble(e.value) : LONG_DOUBLE_ZERO;
  if (current === undefined) throw new ReplyError(ERR.notFloat);
  const delta = parseLongDouble(argv[2]!);
  if (delta === undefined) throw new ReplyError(ERR.notFloat);
  const next = addLongDouble(current, delta);
  if (next === undefined || !next.finite) throw new ReplyError('ERR increment would produce NaN or Infinity');
  const text = Buffer.from(formatLongDoubleHuman(next), 'latin1');
  // Redis makes a new object from the text: never int-encoded, even for "3".
  ctx.ks.set(argv[1]!, ValueType.String, text, e ? e.expiresAt : 0, StringForm.Text);
  ctx.out.bulk(text);
}

const W = ['write', 'denyoom'] as const;
const R = ['readonly', 'fast'] as const;
const one = { firstKey: 1, lastKey: 1, step: 1 };

export const stringCommands: CommandSpec[] = [
  command({ name: 'get', arity: 2, flags: R, ...one, categories: ['read', 'string', 'fast'], run: get }),
  command({ name: 'set', arity: -3, flags: W, ...one, categories: ['write', 'string', 'slow'], run: set }),
  command({ name: 'setnx', arity: 3, flags: [...W, 'fast'], ...one, categories: ['write', 'string', 'fast'], run: setnx }),
  command({ name: 'setex', arity: 4, flags: W, ...one, categories: ['write', 'string', 'slow'], run: setex('ex', 'setex') }),
  command({ name: 'psetex', arity: 4, flags: W, ...one, categories: ['write', 'string', 'slow'], run: setex('px', 'psetex') }),
  command({ name: 'mget', arity: -2, flags: R, firstKey: 1, lastKey: -1, step: 1, categories: ['read', 'string', 'fast'], run: mget }),
  command({ name: 'mset', arity: -3, flags: W, firstKey: 1, lastKey: -1, step: 2, categories: ['write', 'string', 'slow'], run: mset }),
  command({ name: 'msetnx', arity: -3, flags: W, firstKey: 1, lastKey: -1, step: 2, categories: ['write', 'string', 'slow'], run: msetnx }),
  command({ name: 'getset', arity: 3, flags: [...W, 'fast'], ...one, categories: ['write', 'string', 'fast'], run: getset }),
  command({ name: 'getdel', arity: 2, flags: ['write', 'fast'], ...one, categories: ['write', 'string', 'fast'], run: getdel }),
  command({ name: 'getex', arity: -2, flags: ['write', 'fast'], ...one, categories: ['write', 'string', 'fast'], run: getex }),
  command({ name: 'append', arity: 3, flags: [...W, 'fast'], ...one, categories: ['write', 'string', 'fast'], run: append }),
  command({ name: 'strlen', arity: 2, flags: R, ...one, categories: ['read', 'string', 'fast'], run: strlen }),
  command({ name: 'getrange', arity: 4, flags: ['readonly'], ...one, categories: ['read', 'string', 'slow'], run: getrange }),
  command({ name: 'substr', arity: 4, flags: ['readonly'], ...one, categories: ['read', 'string', 'slow'], run: getrange }),
  command({ name: 'setrange', arity: 4, flags: W, ...one, categories: ['write', 'string', 'slow'], run: setrange }),
  command({ name: 'incr', arity: 2, flags: [...W, 'fast'], ...one, categories: ['write', 'string', 'fast'], run: (c, a) => incrBy(c, a[1]!, 1n) }),
  command({ name: 'decr', arity: 2, flags: [...W, 'fast'], ...one, categories: ['write', 'string', 'fast'], run: (c, a) => incrBy(c, a[1]!, -1n) }),
  command({ name: 'incrby', arity: 3, flags: [...W, 'fast'], ...one, categories: ['write', 'string', 'fast'], run: (c, a) => incrBy(c, a[1]!, int64Arg(a[2]!)) }),
  command({
    name: 'decrby', arity: 3, flags: [...W, 'fast'], ...one, categories: ['write', 'string', 'fast'],
    run: (c, a) => {
      const d = int64Arg(a[2]!);
      if (d === -(2n ** 63n)) throw new ReplyError('ERR decrement would overflow');
      incrBy(c, a[1]!, -d);
    },
  }),
  command({ name: 'incrbyfloat', arity: 3, flags: [...W, 'fast'], ...one, categories: ['write', 'string', 'fast'], run: incrbyfloat }),
];
