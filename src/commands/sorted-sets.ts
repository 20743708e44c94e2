import { writeRepeatedPairs } from './repeated-picks.js';
import { ERR, ReplyError } from '../core/errors.js';
import { emptyScan, matches, scanCursor, scanOptions, scanPage } from './element-scan.js';
import { blockOn, openForBlockingPop, parseBlockTimeout } from './blocking.js';
import { ZSetType, type AddFlags, type ZEntry } from '../collections/zset-type.js';
import { randomElements } from '../collections/random-pick.js';
import { ElementKind } from '../collections/record-keys.js';
import { decodeScore } from '../collections/score-codec.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, lower } from './args.js';
import { formatScore, parseScore } from './score-text.js';
import { longArg, positiveLongArg, writeEntries, writeScore, zsetLimits } from './sorted-set-replies.js';
import { zcount, zlexcount, zrangeCommand, zrangestore, zremrange } from './sorted-set-ranges.js';
import { numkeysKeys, zdiff, zdiffstore, zinter, zintercard, zinterstore, zunion, zunionstore } from './sorted-set-algebra.js';

const INT64_MAX = 2n ** 63n - 1n;
const NAN_SCORE = 'ERR resulting score is not a number (NaN)';

/** ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member …; ZINCRBY is ZADD … INCR with one pair. */
function zadd(incrCommand: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const flags: AddFlags = { incr: incrCommand };
    let ch = false;
    let at = 2;
    // Redis reads options from the third argument on, ZINCRBY too (so "ZINCRBY k nx m" is a syntax error).
    for (; at < argv.length; at++) {
      const o = lower(argv[at]!);
      if (o === 'nx') flags.nx = true;
      else if (o === 'xx') flags.xx = true;
      else if (o === 'ch') ch = true;
      else if (o === 'incr') flags.incr = true;
      else if (o === 'gt') flags.gt = true;
      else if (o === 'lt') flags.lt = true;
      else break;
    }
    const elements = argv.length - at;
    if (elements % 2 !== 0 || elements === 0) throw new ReplyError(ERR.syntax);
    const pairs = elements / 2;
    if (flags.nx && flags.xx) throw new ReplyError('ERR XX and NX options at the same time are not compatible');
    if ((flags.gt && flags.nx) || (flags.lt && flags.nx) || (flags.gt && flags.lt)) {
      throw new ReplyError('ERR GT, LT, and/or NX options at the same time are not compatible');
    }
    if (flags.incr && pairs > 1) throw new ReplyError('ERR INCR option supports a single increment-element pair');
    // Every score is checked before anything changes: the command applies whole or not at all.
    const scores: number[] = [];
    for (let j = 0; j < pairs; j++) {
      const s = parseScore(argv[at + j * 2]!);
      if (s === undefined) throw new ReplyError(ERR.notFloat);
      scores.push(s);
    }
    let z = ZSetType.open(ctx.ks, argv[1]!);
    let added = 0;
    let updated = 0;
    let processed = 0;
    let last = 0;
    if (z !== undefined || flags.xx !== true) {
      z ??= ZSetType.create(ctx.ks, argv[1]!);
      const limits = zsetLimits(ctx);
      for (let j = 0; j < pairs; j++) {
        const r = z.add(argv[at + 1 + j * 2]!, scores[j]!, flags, limits);
        if (r.kind === 'nan') {
          z.save();
          throw new ReplyError(NAN_SCORE);
        }
        if (r.kind === 'nop') continue;
        processed++;
        if (r.kind === 'added') added++;
        if (r.kind === 'updated') updated++;
        last = r.score;
      }
      z.save();
    }
    if (flags.incr) {
      if (processed > 0) writeScore(ctx.out, last);
      else ctx.out.nullBulk();
    } else ctx.out.int(ch ? added + updated : added);
  };
}

/** ZADD as a function of argv: GEOADD rewrites its arguments into a ZADD, as Redis does. */
export const zaddCommand = zadd(false);

function zrem(ctx: CommandContext, argv: Buffer[]): void {
  const z = ZSetType.open(ctx.ks, argv[1]!);
  if (z === undefined) return ctx.out.int(0);
  let n = 0;
  for (let i = 2; i < argv.length; i++) if (z.remove(argv[i]!)) n++;
  z.save();
  ctx.out.int(n);
}

function zcard(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.int(ZSetType.open(ctx.ks, argv[1]!)?.size ?? 0);
}

function zscore(ctx: CommandContext, argv: Buffer[]): void {
  const s = ZSetType.open(ctx.ks, argv[1]!)?.score(argv[2]!);
  if (s === undefined) ctx.out.nullBulk();
  else writeScore(ctx.out, s);
}

function zmscore(ctx: CommandContext, argv: Buffer[]): void {
  const z = ZSetType.open(ctx.ks, argv[1]!);
  ctx.out.arrayHeader(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const s = z?.score(argv[i]!);
    if (s === undefined) ctx.out.nullBulk();
    else writeScore(ctx.out, s);
  }
}

/** ZRANK / ZREVRANK: O(min(rank, size - rank)) on this layout (zset-type.ts). */
function zrank(reverse: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const r = ZSetType.open(ctx.ks, argv[1]!)?.rank(argv[2]!, reverse);
    if (r === undefined) ctx.out.nullBulk();
    else ctx.out.int(r);
  };
}

/** The pop every popping command shares (ZPOPMIN, ZPOPMAX, ZMPOP; the blocking forms later). */
export function popFrom(z: ZSetType, max: boolean, count: number): ZEntry[] {
  const popped = z.pop(max, count);
  z.save();
  return popped;
}

/** ZPOPMIN / ZPOPMAX key [count]: RESP3 nests pairs only when a count was given. */
function zpop(max: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    if (argv.length > 3) throw new ReplyError(ERR.syntax);
    const count = argv.length === 3 ? positiveLongArg(argv[2]!) : -1;
    const z = ZSetType.open(ctx.ks, argv[1]!);
    if (z === undefined || count === 0) return ctx.out.arrayHeader(0);
    const popped = popFrom(z, max, count === -1 ? 1 : count);
    if (count !== -1) return writeEntries(ctx.out, popped, true);
    ctx.out.arrayHeader(popped.length * 2);
    for (const [m, s] of popped) {
      ctx.out.bulk(m);
      writeScore(ctx.out, s);
    }
  };
}

/** ZMPOP / BZMPOP arguments from `numkeysAt`: the keys, MIN|MAX, COUNT (-1 when not given). */
function zmpopArgs(argv: Buffer[], numkeysAt: number): { keys: Buffer[]; max: boolean; count: number } {
  const numkeys = longArg(argv[numkeysAt]!, 'ERR numkeys should be greater than 0');
  if (numkeys < 1) throw new ReplyError('ERR numkeys should be greater than 0');
  const whereAt = numkeysAt + 1 + numkeys;
  if (whereAt >= argv.length) throw new ReplyError(ERR.syntax);
  const where = lower(argv[whereAt]!);
  if (where !== 'min' && where !== 'max') throw new ReplyError(ERR.syntax);
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && lower(argv[j]!) === 'count' && j + 1 < argv.length) {
      count = longArg(argv[++j]!, 'ERR count should be greater than 0');
      if (count < 1) throw new ReplyError('ERR count should be greater than 0');
    } else throw new ReplyError(ERR.syntax);
  }
  return { keys: argv.slice(numkeysAt + 1, whereAt), max: where === 'max', count };
}

/** Pops from the first key holding a sorted set and answers as ZMPOP does; false when every key is empty. */
function zmpopFirst(ctx: CommandContext, keys: Buffer[], max: boolean, count: number): boolean {
  for (const key of keys) {
    const z = openForBlockingPop(ctx, () => ZSetType.open(ctx.ks, key));
    if (z === undefined) continue;
    const popped = popFrom(z, max, count === -1 ? 1 : count);
    ctx.out.arrayHeader(2);
    ctx.out.bulk(key);
    // Nested [member, score] pairs in RESP2 too.
    ctx.out.arrayHeader(popped.length);
    for (const [m, s] of popped) {
      ctx.out.arrayHeader(2);
      ctx.out.bulk(m);
      writeScore(ctx.out, s);
    }
    return true;
  }
  return false;
}

/** ZMPOP numkeys key … MIN|MAX [COUNT count]: pops from the first key that holds a sorted set. */
function zmpop(ctx: CommandContext, argv: Buffer[]): void {
  const { keys, max, count } = zmpopArgs(argv, 1);
  if (!zmpopFirst(ctx, keys, max, count)) ctx.out.nullArray();
}

/** BZMPOP timeout numkeys key … MIN|MAX [COUNT count]: ZMPOP that waits (blocking.ts). */
function bzmpop(ctx: CommandContext, argv: Buffer[]): void {
  const timeoutMs = parseBlockTimeout(argv[1]!);
  const { keys, max, count } = zmpopArgs(argv, 2);
  if (zmpopFirst(ctx, keys, max, count)) return;
  if (!blockOn(ctx, keys, timeoutMs)) ctx.out.nullArray();
}

/** BZPOPMIN / BZPOPMAX key [key …] timeout: [key, member, score] from the first non-empty key, or wait. */
function bzpop(max: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const timeoutMs = parseBlockTimeout(argv[argv.length - 1]!);
    const keys = argv.slice(1, -1);
    for (const key of keys) {
      const z = openForBlockingPop(ctx, () => ZSetType.open(ctx.ks, key));
      if (z === undefined) continue;
      const [[m, s]] = popFrom(z, max, 1) as [ZEntry];
      ctx.out.arrayHeader(3);
      ctx.out.bulk(key);
      ctx.out.bulk(m);
      writeScore(ctx.out, s);
      return;
    }
    if (!blockOn(ctx, keys, timeoutMs)) ctx.out.nullArray();
  };
}

/** ZRANDMEMBER key [count [WITHSCORES]]: positive count = distinct members, negative = may repeat. */
function zrandmember(ctx: CommandContext, argv: Buffer[]): void {
  const { out } = ctx;
  if (argv.length === 2) {
    const z = ZSetType.open(ctx.ks, argv[1]!);
    const pick = z ? randomElements(z.c, ElementKind.Member, 1, true)[0] : undefined;
    return pick ? out.bulk(pick[0]) : out.nullBulk();
  }
  // The count, then the options, then the key: errors come in Redis's order.
  const wide = int64Arg(argv[2]!);
  if (wide < -INT64_MAX) throw new ReplyError(`ERR value is out of range, value must between -${INT64_MAX} and ${INT64_MAX}`);
  if (argv.length > 4 || (argv.length === 4 && lower(argv[3]!) !== 'withscores')) throw new ReplyError(ERR.syntax);
  const withScores = argv.length === 4;
  if (withScores && (wide < -INT64_MAX / 2n || wide > INT64_MAX / 2n)) throw new ReplyError('ERR value is out of range');
  const z = ZSetType.open(ctx.ks, argv[1]!);
  // (A missing key answers an empty array whatever the count, as in Redis.)
  if (z !== undefined && wide < -BigInt(Number.MAX_SAFE_INTEGER)) throw new ReplyError(ERR.notInteger);
  const count = wide > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(wide);
  if (z !== undefined && count < 0) {
    // Repeated picks: as many as asked, written as they are made (repeated-picks.ts).
    writeRepeatedPairs(ctx, -count, withScores, (n) => randomElements(z.c, ElementKind.Member, n, false), ([m]) => out.bulk(m), ([, v]) => writeScore(out, decodeScore(v)));
    return;
  }
  const picked = z === undefined || count === 0 ? [] : randomElements(z.c, ElementKind.Member, Math.min(count, z.size), true);
  writeEntries(out, picked.map(([m, v]): ZEntry => [m, decodeScore(v)]), withScores);
}

/**
 * ZSCAN key cursor [MATCH p] [COUNT n]. A set still in its compact encoding comes back whole in
 * score order, as Redis answers for a listpack; a larger one in pages of about COUNT members in
 * byte order, the cursor naming the last member returned (element-cursors.ts).
 */
function zscan(ctx: CommandContext, argv: Buffer[]): void {
  const cursor = scanCursor(argv[2]!);
  const z = ZSetType.open(ctx.ks, argv[1]!);
  if (z === undefined) return emptyScan(ctx);
  const opts = scanOptions(argv, false);
  const items: Buffer[] = [];
  const compact = !z.large;
  const keep = (m: Buffer, s: number): void => {
    if (!matches(opts, m)) return;
    items.push(Buffer.from(m), Buffer.from(compact ? formatListpackScore(s) : formatScore(s), 'latin1'));
  };
  let next = '0';
  // A compact set comes back whole, in score order as a listpack holds it.
  if (compact) z.entries(keep);
  else next = scanPage(z.c, argv[1]!, cursor, opts.count, false, (m, value) => keep(m, decodeScore(value)));
  ctx.out.arrayHeader(2);
  ctx.out.bulk(next);
  ctx.out.bulkArray(items);
}

const LISTPACK_INTEGER_MAX = 2 ** 62;

/**
 * A score as a listpack holds it (Redis's d2string), which ZSCAN of a compact set returns: whole
 * numbers up to 2^62 in full ("100000000000000000"), the rest as replies print them ("1e+21").
 */
function formatListpackScore(s: number): string {
  if (Number.isInteger(s) && Math.abs(s) <= LISTPACK_INTEGER_MAX && !Object.is(s, -0)) return BigInt(s).toString();
  return formatScore(s);
}

const one = { firstKey: 1, lastKey: 1, step: 1 };
const R = ['readonly', 'fast'] as const;
const W = ['write', 'denyoom', 'fast'] as const;
const rc = ['read', 'sortedset', 'fast'];
const rs = ['read', 'sortedset', 'slow'];
const wc = ['write', 'sortedset', 'fast'];
const ws = ['write', 'sortedset', 'slow'];
const numkeys1 = numkeysKeys(1, false);
const numkeys2 = numkeysKeys(2, true);

export const sortedSetCommands: CommandSpec[] = [
  command({ name: 'zadd', arity: -4, flags: W, ...one, categories: wc, run: zadd(false) }),
  command({ name: 'zincrby', arity: 4, flags: W, ...one, categories: wc, run: zadd(true) }),
  command({ name: 'zrem', arity: -3, flags: ['write', 'fast'], ...one, categories: wc, run: zrem }),
  command({ name: 'zcard', arity: 2, flags: R, ...one, categories: rc, run: zcard }),
  command({ name: 'zscore', arity: 3, flags: R, ...one, categories: rc, run: zscore }),
  command({ name: 'zmscore', arity: -3, flags: R, ...one, categories: rc, run: zmscore }),
  command({ name: 'zcount', arity: 4, flags: R, ...one, categories: rc, run: zcount }),
  command({ name: 'zlexcount', arity: 4, flags: R, ...one, categories: rc, run: zlexcount }),
  command({ name: 'zrank', arity: 3, flags: R, ...one, categories: rc, run: zrank(false) }),
  command({ name: 'zrevrank', arity: 3, flags: R, ...one, categories: rc, run: zrank(true) }),
  command({ name: 'zrange', arity: -4, flags: ['readonly'], ...one, categories: rs, run: zrangeCommand('auto', 'auto') }),
  command({ name: 'zrangestore', arity: -5, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, step: 1, categories: ws, run: zrangestore }),
  command({ name: 'zrevrange', arity: -4, flags: ['readonly'], ...one, categories: rs, run: zrangeCommand('rank', 'reverse') }),
  command({ name: 'zrangebyscore', arity: -4, flags: ['readonly'], ...one, categories: rs, run: zrangeCommand('score', 'forward') }),
  command({ name: 'zrevrangebyscore', arity: -4, flags: ['readonly'], ...one, categories: rs, run: zrangeCommand('score', 'reverse') }),
  command({ name: 'zrangebylex', arity: -4, flags: ['readonly'], ...one, categories: rs, run: zrangeCommand('lex', 'forward') }),
  command({ name: 'zrevrangebylex', arity: -4, flags: ['readonly'], ...one, categories: rs, run: zrangeCommand('lex', 'reverse') }),
  command({ name: 'zremrangebyrank', arity: 4, flags: ['write'], ...one, categories: ws, run: zremrange('rank') }),
  command({ name: 'zremrangebyscore', arity: 4, flags: ['write'], ...one, categories: ws, run: zremrange('score') }),
  command({ name: 'zremrangebylex', arity: 4, flags: ['write'], ...one, categories: ws, run: zremrange('lex') }),
  command({ name: 'zpopmin', arity: -2, flags: ['write', 'fast'], ...one, categories: wc, run: zpop(false) }),
  command({ name: 'zpopmax', arity: -2, flags: ['write', 'fast'], ...one, categories: wc, run: zpop(true) }),
  command({ name: 'zmpop', arity: -4, flags: ['write'], categories: ws, keyIndexes: numkeysKeys(1, false, 1), run: zmpop }),
  command({ name: 'bzpopmin', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, step: 1, categories: ['write', 'sortedset', 'fast', 'blocking'], run: bzpop(false) }),
  command({ name: 'bzpopmax', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], firstKey: 1, lastKey: -2, step: 1, categories: ['write', 'sortedset', 'fast', 'blocking'], run: bzpop(true) }),
  command({ name: 'bzmpop', arity: -5, flags: ['write', 'blocking'], categories: ['write', 'sortedset', 'slow', 'blocking'], keyIndexes: numkeysKeys(2, false, 1), run: bzmpop }),
  command({ name: 'zrandmember', arity: -2, flags: ['readonly'], ...one, categories: rs, run: zrandmember }),
  command({ name: 'zunion', arity: -3, flags: ['readonly'], categories: rs, keyIndexes: numkeys1, run: zunion }),
  command({ name: 'zinter', arity: -3, flags: ['readonly'], categories: rs, keyIndexes: numkeys1, run: zinter }),
  command({ name: 'zdiff', arity: -3, flags: ['readonly'], categories: rs, keyIndexes: numkeys1, run: zdiff }),
  command({ name: 'zintercard', arity: -3, flags: ['readonly'], categories: rs, keyIndexes: numkeys1, run: zintercard }),
  command({ name: 'zunionstore', arity: -4, flags: ['write', 'denyoom'], ...one, categories: ws, keyIndexes: numkeys2, run: zunionstore }),
  command({ name: 'zinterstore', arity: -4, flags: ['write', 'denyoom'], ...one, categories: ws, keyIndexes: numkeys2, run: zinterstore }),
  command({ name: 'zdiffstore', arity: -4, flags: ['write', 'denyoom'], ...one, categories: ws, keyIndexes: numkeys2, run: zdiffstore }),
  command({ name: 'zscan', arity: -3, flags: ['readonly'], ...one, categories: rs, run: zscan }),
];
