import { writeRepeatedPicks } from './repeated-picks.js';
import { ERR, ReplyError } from '../core/errors.js';
import { emptyScan, matches, scanCursor, scanOptions, scanPage } from './element-scan.js';
import { SetType } from '../collections/set-type.js';
import { diff, forEachCommon, intersect, union, type SetResult } from '../collections/set-algebra.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, lower, parseInt64 } from './args.js';

const INT64_MAX = 2n ** 63n - 1n;
/** Redis caps set-max-intset-entries here (intset internals). */
const INTSET_ENTRIES_CAP = 1 << 30;

function intsetMax(ctx: CommandContext): number {
  return Math.min(ctx.node.config.int('set-max-intset-entries'), INTSET_ENTRIES_CAP);
}

function members(ctx: CommandContext, list: readonly Buffer[]): void {
  ctx.out.setHeader(list.length);
  for (const m of list) ctx.out.bulk(m);
}

function sadd(ctx: CommandContext, argv: Buffer[]): void {
  const s = SetType.openOrCreate(ctx.ks, argv[1]!);
  const max = intsetMax(ctx);
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (s.add(argv[i]!, max)) added++;
  s.save();
  ctx.out.int(added);
}

function srem(ctx: CommandContext, argv: Buffer[]): void {
  const s = SetType.open(ctx.ks, argv[1]!);
  if (!s) return ctx.out.int(0);
  let removed = 0;
  for (let i = 2; i < argv.length; i++) if (s.remove(argv[i]!)) removed++;
  s.save();
  ctx.out.int(removed);
}

function smembers(ctx: CommandContext, argv: Buffer[]): void {
  members(ctx, SetType.open(ctx.ks, argv[1]!)?.members() ?? []);
}

function sismember(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.int(SetType.open(ctx.ks, argv[1]!)?.has(argv[2]!) === true ? 1 : 0);
}

/** Integers, not RESP3 booleans, as Redis 7.0 answers. */
function smismember(ctx: CommandContext, argv: Buffer[]): void {
  const s = SetType.open(ctx.ks, argv[1]!);
  ctx.out.arrayHeader(argv.length - 2);
  for (let i = 2; i < argv.length; i++) ctx.out.int(s?.has(argv[i]!) === true ? 1 : 0);
}

function scard(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.int(SetType.open(ctx.ks, argv[1]!)?.size ?? 0);
}

/** SPOP key [count]: one member (or nil), or a set of up to `count` distinct members. */
function spop(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) throw new ReplyError(ERR.syntax);
  if (argv.length === 2) {
    const s = SetType.open(ctx.ks, argv[1]!);
    if (s === undefined) return ctx.out.nullBulk();
    const [m] = s.pop(1);
    s.save();
    return m === undefined ? ctx.out.nullBulk() : ctx.out.bulk(m);
  }
  // Redis reads the count first and answers the same error for any count that is not a non-negative integer.
  const wide = parseInt64(argv[2]!);
  if (wide === undefined || wide < 0n) throw new ReplyError('ERR value is out of range, must be positive');
  const s = SetType.open(ctx.ks, argv[1]!);
  if (!s || wide === 0n) return members(ctx, []);
  if (wide >= BigInt(s.size)) {
    // The whole set, in the order SMEMBERS gives it, and the key goes.
    const all = s.members();
    s.clear();
    s.save();
    return members(ctx, all);
  }
  const popped = s.pop(Number(wide));
  s.save();
  members(ctx, popped);
}

/** SRANDMEMBER key [count]: positive count = distinct members, negative = |count| picks that may repeat. An array, not a set. */
function srandmember(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) throw new ReplyError(ERR.syntax);
  if (argv.length === 2) {
    const s = SetType.open(ctx.ks, argv[1]!);
    const [m] = s?.randomDistinct(1) ?? [];
    return m === undefined ? ctx.out.nullBulk() : ctx.out.bulk(m);
  }
  const wide = int64Arg(argv[2]!);
  if (wide < -INT64_MAX) throw new ReplyError(`ERR value is out of range, value must between -${INT64_MAX} and ${INT64_MAX}`);
  const s = SetType.open(ctx.ks, argv[1]!);
  // A negative count that large (that many picks) is more than a reply can hold.
  // (A missing key answers an empty array whatever the count, as in Redis.)
  if (s !== undefined && wide < -BigInt(Number.MAX_SAFE_INTEGER)) throw new ReplyError(ERR.notInteger);
  if (s && wide < 0n) {
    // Repeated picks: as many as asked, written as they are made (repeated-picks.ts).
    const count = Number(-wide);
    ctx.out.arrayHeader(count);
    writeRepeatedPicks(ctx, count, (n) => s.randomWithRepeats(n), (m) => ctx.out.bulk(m));
    return;
  }
  let picked: Buffer[] = [];
  if (s && wide > 0n) picked = wide >= BigInt(s.size) ? s.members() : s.randomDistinct(Number(wide));
  ctx.out.bulkArray(picked);
}

/** SMOVE src dst member, in Redis's order of checks: a missing source answers 0 before the destination's type is looked at. */
function smove(ctx: CommandContext, argv: Buffer[]): void {
  const [, srcKey, dstKey, member] = argv as [Buffer, Buffer, Buffer, Buffer];
  const src = SetType.open(ctx.ks, srcKey);
  if (!src) return ctx.out.int(0);
  if (srcKey.equals(dstKey)) return ctx.out.int(src.has(member) ? 1 : 0);
  const dst = SetType.open(ctx.ks, dstKey);
  if (!src.remove(member)) return ctx.out.int(0);
  src.save();
  const target = dst ?? SetType.create(ctx.ks, dstKey);
  target.add(member, intsetMax(ctx));
  target.save();
  ctx.out.int(1);
}

/** Opens every key first: a wrong type anywhere answers WRONGTYPE, even after a missing key. */
function openAll(ctx: CommandContext, keys: readonly Buffer[]): Array<SetType | undefined> {
  return keys.map((k) => SetType.open(ctx.ks, k));
}

type Algebra = (sets: ReadonlyArray<SetType | undefined>, intsetMax: number) => SetResult;

function setOp(op: Algebra) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    members(ctx, op(openAll(ctx, argv.slice(1)), intsetMax(ctx)).members);
  };
}

/** *STORE: the destination is replaced by a new set (no expiry), or deleted when the result is empty. */
function setOpStore(op: Algebra) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const result = op(openAll(ctx, argv.slice(2)), intsetMax(ctx));
    if (result.members.length === 0) {
      // Only a key that is there is deleted: in a cluster a delete writes a tombstone even for a
      // missing key, which would break a WATCH on it where Redis leaves the key untouched.
      if (ctx.ks.get(argv[1]!) !== undefined) ctx.ks.del(argv[1]!);
      return ctx.out.int(0);
    }
    const dst = SetType.create(ctx.ks, argv[1]!);
    dst.fill(result.members, result.intset);
    dst.save();
    ctx.out.int(result.members.length);
  };
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit]: the intersection's size, counting stops at LIMIT (0 = none). */
function sintercard(ctx: CommandContext, argv: Buffer[]): void {
  // Redis answers its own message for any numkeys or LIMIT it cannot use, integer or not.
  const numkeys = parseInt64(argv[1]!);
  if (numkeys === undefined || numkeys < 1n) throw new ReplyError('ERR numkeys should be greater than 0');
  if (numkeys > BigInt(argv.length - 2)) throw new ReplyError("ERR Number of keys can't be greater than number of args");
  const n = Number(numkeys);
  let limit = 0;
  for (let i = 2 + n; i < argv.length; i++) {
    if (lower(argv[i]!) === 'limit' && i + 1 < argv.length) {
      const l = parseInt64(argv[++i]!);
      if (l === undefined || l < 0n) throw new ReplyError("ERR LIMIT can't be negative");
      limit = l > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(l);
    } else throw new ReplyError(ERR.syntax);
  }
  let count = 0;
  forEachCommon(openAll(ctx, argv.slice(2, 2 + n)), () => ++count !== limit);
  ctx.out.int(count);
}

/** SINTERCARD's keys: numkeys of them after it (none when numkeys is unusable; the command then answers the error). */
function sintercardKeys(argv: readonly Buffer[]): number[] {
  const n = argv[1] === undefined ? undefined : parseInt64(argv[1]);
  if (n === undefined || n < 1n || n > BigInt(argv.length - 2)) return [];
  return Array.from({ length: Number(n) }, (_, i) => 2 + i);
}

/** SSCAN key cursor [MATCH p] [COUNT n]: an intset comes back whole in numeric order (element-scan.ts). */
function sscan(ctx: CommandContext, argv: Buffer[]): void {
  const cursor = scanCursor(argv[2]!);
  const s = SetType.open(ctx.ks, argv[1]!);
  if (s === undefined) return emptyScan(ctx);
  const opts = scanOptions(argv, false);
  ctx.out.arrayHeader(2);
  if (s.intset) {
    ctx.out.bulk('0');
    return ctx.out.bulkArray(s.members().filter((m) => matches(opts, m)));
  }
  const items: Buffer[] = [];
  const next = scanPage(s.c, argv[1]!, cursor, opts.count, false, (m) => {
    if (matches(opts, m)) items.push(m);
  });
  ctx.out.bulk(next);
  ctx.out.bulkArray(items);
}


const one = { firstKey: 1, lastKey: 1, step: 1 };
const all = { firstKey: 1, lastKey: -1, step: 1 };
const rc = ['read', 'set', 'fast'];
const rs = ['read', 'set', 'slow'];
const wc = ['write', 'set', 'fast'];
const ws = ['write', 'set', 'slow'];

export const setCommands: CommandSpec[] = [
  command({ name: 'sadd', arity: -3, flags: ['write', 'denyoom', 'fast'], ...one, categories: wc, run: sadd }),
  command({ name: 'srem', arity: -3, flags: ['write', 'fast'], ...one, categories: wc, run: srem }),
  command({ name: 'smembers', arity: 2, flags: ['readonly'], ...one, categories: rs, run: smembers }),
  command({ name: 'sismember', arity: 3, flags: ['readonly', 'fast'], ...one, categories: rc, run: sismember }),
  command({ name: 'smismember', arity: -3, flags: ['readonly', 'fast'], ...one, categories: rc, run: smismember }),
  command({ name: 'scard', arity: 2, flags: ['readonly', 'fast'], ...one, categories: rc, run: scard }),
  command({ name: 'spop', arity: -2, flags: ['write', 'fast'], ...one, categories: wc, run: spop }),
  command({ name: 'srandmember', arity: -2, flags: ['readonly'], ...one, categories: rs, run: srandmember }),
  command({ name: 'smove', arity: 4, flags: ['write', 'fast'], firstKey: 1, lastKey: 2, step: 1, categories: wc, run: smove }),
  command({ name: 'sinter', arity: -2, flags: ['readonly'], ...all, categories: rs, run: setOp(intersect) }),
  command({ name: 'sintercard', arity: -3, flags: ['readonly'], categories: rs, keyIndexes: sintercardKeys, run: sintercard }),
  command({ name: 'sinterstore', arity: -3, flags: ['write', 'denyoom'], ...all, categories: ws, run: setOpStore(intersect) }),
  command({ name: 'sunion', arity: -2, flags: ['readonly'], ...all, categories: rs, run: setOp(union) }),
  command({ name: 'sunionstore', arity: -3, flags: ['write', 'denyoom'], ...all, categories: ws, run: setOpStore(union) }),
  command({ name: 'sdiff', arity: -2, flags: ['readonly'], ...all, categories: rs, run: setOp(diff) }),
  command({ name: 'sdiffstore', arity: -3, flags: ['write', 'denyoom'], ...all, categories: ws, run: setOpStore(diff) }),
  command({ name: 'sscan', arity: -3, flags: ['readonly'], ...one, categories: rs, run: sscan }),
];
