import { ERR, ReplyError } from '../core/errors.js';
import { ListType, type End } from '../collections/list-type.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, lower } from './args.js';
import { blockOn, openForBlockingPop, parseBlockTimeout } from './blocking.js';

/**
 * The list commands: argument parsing and replies, in Redis 7.0's order of checks (which error a
 * command gives when several apply is part of the contract). The list itself is list-type.ts.
 */

const LONG_MAX = 2n ** 63n - 1n;

function end(arg: Buffer): End {
  const w = lower(arg);
  if (w === 'left') return 'left';
  if (w === 'right') return 'right';
  throw new ReplyError(ERR.syntax);
}

/** Clamps a bigint index pair to offsets of a list of `len` (Redis's LRANGE/LTRIM rules); undefined = empty. */
function clampRange(start: bigint, stop: bigint, len: number): [number, number] | undefined {
  const n = BigInt(len);
  if (start < 0n) start += n;
  if (stop < 0n) stop += n;
  if (start < 0n) start = 0n;
  if (start > stop || start >= n) return undefined;
  if (stop >= n) stop = n - 1n;
  return [Number(start), Number(stop)];
}

function push(where: End, onlyExisting: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const l = onlyExisting ? ListType.open(ctx.ks, argv[1]!) : ListType.openOrCreate(ctx.ks, argv[1]!);
    if (l === undefined) return ctx.out.int(0);
    for (let i = 2; i < argv.length; i++) l.push(where, argv[i]!);
    l.save();
    ctx.out.int(l.length);
  };
}

/** LPOP / RPOP key [count]: one element as a bulk string, or with a count an array (null array when the key is missing). */
function pop(where: End, name: string) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    if (argv.length > 3) throw new ReplyError(ERR.wrongArity(name));
    let count: number | undefined;
    if (argv.length === 3) {
      const wide = int64Arg(argv[2]!, 'ERR value is out of range, must be positive');
      if (wide < 0n) throw new ReplyError('ERR value is out of range, must be positive');
      count = wide > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(wide);
    }
    const l = ListType.open(ctx.ks, argv[1]!);
    if (l === undefined) return count === undefined ? ctx.out.nullBulk() : ctx.out.nullArray();
    if (count === undefined) {
      const v = l.pop(where)!;
      l.save();
      return ctx.out.bulk(v);
    }
    const n = Math.min(count, l.length);
    ctx.out.arrayHeader(n);
    for (let i = 0; i < n; i++) ctx.out.bulk(l.pop(where)!);
    l.save();
  };
}

function llen(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.int(ListType.open(ctx.ks, argv[1]!)?.length ?? 0);
}

function lrange(ctx: CommandContext, argv: Buffer[]): void {
  const start = int64Arg(argv[2]!);
  const stop = int64Arg(argv[3]!);
  const l = ListType.open(ctx.ks, argv[1]!);
  const r = l && clampRange(start, stop, l.length);
  if (l === undefined || r === undefined) return ctx.out.arrayHeader(0);
  ctx.out.arrayHeader(r[1] - r[0] + 1);
  l.values(r[0], r[1] + 1, (v) => {
    ctx.out.bulk(v);
    return true;
  });
}

function lindex(ctx: CommandContext, argv: Buffer[]): void {
  const l = ListType.open(ctx.ks, argv[1]!);
  if (l === undefined) return ctx.out.nullBulk();
  const index = int64Arg(argv[2]!);
  const off = index < -BigInt(l.length) || index >= BigInt(l.length) ? undefined : l.offset(Number(index));
  const v = off === undefined ? undefined : l.at(off);
  if (v === undefined) ctx.out.nullBulk();
  else ctx.out.bulk(v);
}

function lset(ctx: CommandContext, argv: Buffer[]): void {
  const l = ListType.open(ctx.ks, argv[1]!);
  if (l === undefined) throw new ReplyError(ERR.noSuchKey);
  const index = int64Arg(argv[2]!);
  const off = index < -BigInt(l.length) || index >= BigInt(l.length) ? undefined : l.offset(Number(index));
  if (off === undefined) throw new ReplyError('ERR index out of range');
  l.setAt(off, argv[3]!);
  l.c.touch();
  l.save();
  ctx.out.ok();
}

function linsert(ctx: CommandContext, argv: Buffer[]): void {
  const w = lower(argv[2]!);
  if (w !== 'before' && w !== 'after') throw new ReplyError(ERR.syntax);
  const l = ListType.open(ctx.ks, argv[1]!);
  if (l === undefined) return ctx.out.int(0);
  let found = -1;
  l.scan(0, l.length, (v, off) => {
    if (!v.equals(argv[3]!)) return true;
    found = off;
    return false;
  });
  if (found < 0) return ctx.out.int(-1);
  l.insertAt(w === 'before' ? found : found + 1, argv[4]!);
  l.save();
  ctx.out.int(l.length);
}

function lrem(ctx: CommandContext, argv: Buffer[]): void {
  const count = int64Arg(argv[2]!);
  const l = ListType.open(ctx.ks, argv[1]!);
  if (l === undefined) return ctx.out.int(0);
  const abs = count < 0n ? -count : count;
  const limit = abs > BigInt(l.length) ? 0 : Number(abs);
  const removed = l.removeMatching(argv[3]!, limit, count < 0n);
  l.save();
  ctx.out.int(removed);
}

function ltrim(ctx: CommandContext, argv: Buffer[]): void {
  const start = int64Arg(argv[2]!);
  const stop = int64Arg(argv[3]!);
  const l = ListType.open(ctx.ks, argv[1]!);
  if (l === undefined) return ctx.out.ok();
  const r = clampRange(start, stop, l.length);
  if (r === undefined) l.trim(1, 0);
  else if (r[0] > 0 || r[1] < l.length - 1) l.trim(r[0], r[1]);
  l.save();
  ctx.out.ok();
}

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]. */
const INT64_MIN = -(2n ** 63n);

function lpos(ctx: CommandContext, argv: Buffer[]): void {
  let rank = 1n;
  let count: bigint | undefined;
  let maxlen = 0n;
  for (let i = 3; i < argv.length; i++) {
    const o = lower(argv[i]!);
    const more = i + 1 < argv.length;
    if (o === 'rank' && more) {
      rank = int64Arg(argv[++i]!);
      if (rank === 0n) throw new ReplyError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
    } else if (o === 'count' && more) {
      // getPositiveLongFromObjectOrReply: a non-integer gets the same message as a negative one.
      count = int64Arg(argv[++i]!, "ERR COUNT can't be negative");
      if (count < 0n) throw new ReplyError("ERR COUNT can't be negative");
    } else if (o === 'maxlen' && more) {
      maxlen = int64Arg(argv[++i]!, "ERR MAXLEN can't be negative");
      if (maxlen < 0n) throw new ReplyError("ERR MAXLEN can't be negative");
    } else throw new ReplyError(ERR.syntax);
  }
  const l = ListType.open(ctx.ks, argv[1]!);
  if (l === undefined) return count !== undefined ? ctx.out.arrayHeader(0) : ctx.out.nullBulk();
  const want = count === undefined ? 1 : count === 0n || count > BigInt(l.length) ? Infinity : Number(count);
  // Redis negates a negative rank in a long: LONG_MIN stays negative and every match counts, as for -1.
  let skip = rank === INT64_MIN ? 0n : rank < 0n ? -rank - 1n : rank - 1n;
  const budget = maxlen === 0n || maxlen > BigInt(l.length) ? l.length : Number(maxlen);
  const matches: number[] = [];
  let examined = 0;
  const visit = (v: Buffer, off: number): boolean => {
    if (examined++ >= budget) return false;
    if (v.equals(argv[2]!)) {
      if (skip > 0n) skip--;
      else matches.push(off);
    }
    return matches.length < want;
  };
  if (rank > 0n) l.scan(0, l.length, visit);
  else l.scanBack(l.length, visit);
  if (count === undefined) return matches.length > 0 ? ctx.out.int(matches[0]!) : ctx.out.nullBulk();
  ctx.out.arrayHeader(matches.length);
  for (const m of matches) ctx.out.int(m);
}

/**
 * Pops from `src` and pushes onto `dst` (the same list when the keys are equal). The destination's
 * type is checked before anything is popped, as Redis does. Undefined when `src` is empty.
 */
function move(ctx: CommandContext, srcKey: Buffer, dstKey: Buffer, from: End, to: End, blocking: boolean): Buffer | undefined {
  const src = blocking ? openForBlockingPop(ctx, () => ListType.open(ctx.ks, srcKey)) : ListType.open(ctx.ks, srcKey);
  if (src === undefined) return undefined;
  const same = srcKey.equals(dstKey);
  const dst = same ? src : ListType.openOrCreate(ctx.ks, dstKey);
  const v = src.pop(from)!;
  dst.push(to, v);
  src.save();
  if (!same) dst.save();
  return v;
}

function lmove(ctx: CommandContext, argv: Buffer[]): void {
  const from = end(argv[3]!);
  const to = end(argv[4]!);
  const v = move(ctx, argv[1]!, argv[2]!, from, to, false);
  if (v === undefined) ctx.out.nullBulk();
  else ctx.out.bulk(v);
}

function rpoplpush(ctx: CommandContext, argv: Buffer[]): void {
  const v = move(ctx, argv[1]!, argv[2]!, 'right', 'left', false);
  if (v === undefined) ctx.out.nullBulk();
  else ctx.out.bulk(v);
}

/** The keys, end and count of LMPOP / BLMPOP, from `at` (the numkeys argument). */
function mpopArgs(argv: Buffer[], at: number): { keys: Buffer[]; where: End; count: number } {
  const numkeysError = 'ERR numkeys should be greater than 0';
  const numkeys = int64Arg(argv[at]!, numkeysError);
  if (numkeys < 1n) throw new ReplyError(numkeysError);
  if (numkeys > BigInt(argv.length - at - 2)) throw new ReplyError(ERR.syntax);
  const n = Number(numkeys);
  const keys = argv.slice(at + 1, at + 1 + n);
  const where = end(argv[at + 1 + n]!);
  let count: number | undefined;
  for (let i = at + 2 + n; i < argv.length; i++) {
    if (lower(argv[i]!) === 'count' && i + 1 < argv.length && count === undefined) {
      const c = int64Arg(argv[++i]!, 'ERR count should be greater than 0');
      if (c < 1n || c > LONG_MAX) throw new ReplyError('ERR count should be greater than 0');
      count = c > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(c);
    } else throw new ReplyError(ERR.syntax);
  }
  return { keys, where, count: count ?? 1 };
}

/** The first non-empty list of `keys`, popped: [key, [elements]]; false when all are empty. */
function mpop(ctx: CommandContext, keys: Buffer[], where: End, count: number, blocking: boolean): boolean {
  for (const key of keys) {
    const l = blocking ? openForBlockingPop(ctx, () => ListType.open(ctx.ks, key)) : ListType.open(ctx.ks, key);
    if (l === undefined) continue;
    const n = Math.min(count, l.length);
    ctx.out.arrayHeader(2);
    ctx.out.bulk(key);
    ctx.out.arrayHeader(n);
    for (let i = 0; i < n; i++) ctx.out.bulk(l.pop(where)!);
    l.save();
    return true;
  }
  return false;
}

function lmpop(ctx: CommandContext, argv: Buffer[]): void {
  const { keys, where, count } = mpopArgs(argv, 1);
  if (!mpop(ctx, keys, where, count, false)) ctx.out.nullArray();
}

/** BLPOP / BRPOP key [key …] timeout. */
function bpop(where: End) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const timeoutMs = parseBlockTimeout(argv[argv.length - 1]!);
    const keys = argv.slice(1, -1);
    for (const key of keys) {
      const l = openForBlockingPop(ctx, () => ListType.open(ctx.ks, key));
      if (l === undefined) continue;
      const v = l.pop(where)!;
      l.save();
      ctx.out.arrayHeader(2);
      ctx.out.bulk(key);
      ctx.out.bulk(v);
      return;
    }
    if (!blockOn(ctx, keys, timeoutMs)) ctx.out.nullArray();
  };
}

function blmoveWith(ctx: CommandContext, src: Buffer, dst: Buffer, from: End, to: End, timeoutArg: Buffer): void {
  const timeoutMs = parseBlockTimeout(timeoutArg);
  const v = move(ctx, src, dst, from, to, true);
  if (v !== undefined) return ctx.out.bulk(v);
  if (!blockOn(ctx, [src], timeoutMs)) ctx.out.nullBulk();
}

function blmove(ctx: CommandContext, argv: Buffer[]): void {
  const from = end(argv[3]!);
  const to = end(argv[4]!);
  blmoveWith(ctx, argv[1]!, argv[2]!, from, to, argv[5]!);
}

function brpoplpush(ctx: CommandContext, argv: Buffer[]): void {
  blmoveWith(ctx, argv[1]!, argv[2]!, 'right', 'left', argv[3]!);
}

function blmpop(ctx: CommandContext, argv: Buffer[]): void {
  const { keys, where, count } = mpopArgs(argv, 2);
  const timeoutMs = parseBlockTimeout(argv[1]!);
  if (mpop(ctx, keys, where, count, true)) return;
  if (!blockOn(ctx, keys, timeoutMs)) ctx.out.nullArray();
}

/** LMPOP / BLMPOP keys: `numkeys` keys after the numkeys argument at `at`; none when it is not a valid count. */
function mpopKeys(at: number) {
  return (argv: readonly Buffer[]): number[] => {
    const n = Number(argv[at]?.toString('latin1'));
    if (!Number.isInteger(n) || n < 1 || n > argv.length - at - 1) return [];
    return Array.from({ length: n }, (_, i) => at + 1 + i);
  };
}

const one = { firstKey: 1, lastKey: 1, step: 1 };
const two = { firstKey: 1, lastKey: 2, step: 1 };
const rf = ['read', 'list', 'fast'];
const rs = ['read', 'list', 'slow'];
const wf = ['write', 'list', 'fast'];
const ws = ['write', 'list', 'slow'];
const wb = ['write', 'list', 'slow', 'blocking'];

export const listCommands: CommandSpec[] = [
  command({ name: 'lpush', arity: -3, flags: ['write', 'denyoom', 'fast'], ...one, categories: wf, run: push('left', false) }),
  command({ name: 'rpush', arity: -3, flags: ['write', 'denyoom', 'fast'], ...one, categories: wf, run: push('right', false) }),
  command({ name: 'lpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], ...one, categories: wf, run: push('left', true) }),
  command({ name: 'rpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], ...one, categories: wf, run: push('right', true) }),
  command({ name: 'lpop', arity: -2, flags: ['write', 'fast'], ...one, categories: wf, run: pop('left', 'lpop') }),
  command({ name: 'rpop', arity: -2, flags: ['write', 'fast'], ...one, categories: wf, run: pop('right', 'rpop') }),
  command({ name: 'llen', arity: 2, flags: ['readonly', 'fast'], ...one, categories: rf, run: llen }),
  command({ name: 'lrange', arity: 4, flags: ['readonly'], ...one, categories: rs, run: lrange }),
  command({ name: 'lindex', arity: 3, flags: ['readonly'], ...one, categories: rs, run: lindex }),
  command({ name: 'lset', arity: 4, flags: ['write', 'denyoom'], ...one, categories: ws, run: lset }),
  command({ name: 'linsert', arity: 5, flags: ['write', 'denyoom'], ...one, categories: ws, run: linsert }),
  command({ name: 'lrem', arity: 4, flags: ['write'], ...one, categories: ws, run: lrem }),
  command({ name: 'ltrim', arity: 4, flags: ['write'], ...one, categories: ws, run: ltrim }),
  command({ name: 'lpos', arity: -3, flags: ['readonly'], ...one, categories: rs, run: lpos }),
  command({ name: 'lmove', arity: 5, flags: ['write', 'denyoom'], ...two, categories: ws, run: lmove }),
  command({ name: 'rpoplpush', arity: 3, flags: ['write', 'denyoom'], ...two, categories: ws, run: rpoplpush }),
  command({ name: 'lmpop', arity: -4, flags: ['write', 'movablekeys'], categories: ws, keyIndexes: mpopKeys(1), run: lmpop }),
  command({ name: 'blpop', arity: -3, flags: ['write', 'noscript', 'blocking'], firstKey: 1, lastKey: -2, step: 1, categories: wb, run: bpop('left') }),
  command({ name: 'brpop', arity: -3, flags: ['write', 'noscript', 'blocking'], firstKey: 1, lastKey: -2, step: 1, categories: wb, run: bpop('right') }),
  command({ name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'], ...two, categories: wb, run: blmove }),
  command({ name: 'brpoplpush', arity: 4, flags: ['write', 'denyoom', 'noscript', 'blocking'], ...two, categories: wb, run: brpoplpush }),
  command({ name: 'blmpop', arity: -5, flags: ['write', 'blocking', 'movablekeys'], categories: wb, keyIndexes: mpopKeys(2), run: blmpop }),
];
