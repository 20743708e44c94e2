/**
 * ZRANGE and everything Redis 7.0 runs through zrangeGenericCommand (ZRANGESTORE, ZREVRANGE,
 * Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX), plus the other commands that take a score or lex range:
 * ZCOUNT, ZLEXCOUNT and ZREMRANGEBY{RANK,SCORE,LEX}. Arguments are read in Redis's order, so the
 * same bad command gets the same error.
 */
import { ERR, ReplyError } from '../core/errors.js';
import { storeZSet, ZSetType, type LexBound, type LexRange, type ScoreRange, type Window, type ZEntry } from '../collections/zset-type.js';
import type { CommandContext } from './spec.js';
import { lower } from './args.js';
import { parseScoreBound } from './score-text.js';
import { longArg, writeEntries, zsetLimits } from './sorted-set-replies.js';

type RangeKind = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'forward' | 'reverse';

const NOT_FLOAT_RANGE = 'ERR min or max is not a float';
const NOT_LEX_RANGE = 'ERR min or max not valid string range item';

export function parseScoreRange(min: Buffer, max: Buffer): ScoreRange {
  const lo = parseScoreBound(min);
  const hi = parseScoreBound(max);
  if (lo === undefined || hi === undefined) throw new ReplyError(NOT_FLOAT_RANGE);
  return { min: lo.value, max: hi.value, minExclusive: lo.exclusive, maxExclusive: hi.exclusive };
}

/** zslParseLexRangeItem: "-", "+" (a C string: a NUL may follow), "(value" or "[value". */
function lexBound(b: Buffer): LexBound | undefined {
  const first = b[0];
  const alone = b.length === 1 || b[1] === 0;
  if (first === 0x2b) return alone ? { kind: 'max' } : undefined;
  if (first === 0x2d) return alone ? { kind: 'min' } : undefined;
  if (first === 0x28 || first === 0x5b) return { kind: 'value', value: b.subarray(1), exclusive: first === 0x28 };
  return undefined;
}

export function parseLexRange(min: Buffer, max: Buffer): LexRange {
  const lo = lexBound(min);
  const hi = lexBound(max);
  if (lo === undefined || hi === undefined) throw new ReplyError(NOT_LEX_RANGE);
  return { min: lo, max: hi };
}

/** Redis's rank sanitising: negative indexes from the end; undefined for an empty range. */
export function rankWindow(start: number, end: number, size: number): [number, number] | undefined {
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  if (start > end || start >= size) return undefined;
  return [start, Math.min(end, size - 1)];
}

/** Ranks of ZRANGE … REV are counted from the top: read them ascending, then turn them round. */
function byRank(z: ZSetType, start: number, end: number, reverse: boolean): ZEntry[] {
  const w = rankWindow(start, end, z.size);
  if (w === undefined) return [];
  if (!reverse) return z.byRank(w[0], w[1]);
  return z.byRank(z.size - 1 - w[1], z.size - 1 - w[0]).reverse();
}

/**
 * zrangeGenericCommand: `first` is the argument index of the source key; `store` names the
 * destination (ZRANGESTORE) instead of replying with the range.
 */
function zrangeGeneric(ctx: CommandContext, argv: Buffer[], first: number, store: boolean, fixedKind: RangeKind, fixedDirection: Direction): void {
  let kind = fixedKind;
  let direction = fixedDirection;
  let withScores = false;
  let limit: Window | undefined;
  for (let j = first + 3; j < argv.length; j++) {
    const opt = lower(argv[j]!);
    const left = argv.length - j - 1;
    if (!store && opt === 'withscores') withScores = true;
    else if (opt === 'limit' && left >= 2) {
      limit = { offset: longArg(argv[j + 1]!), count: longArg(argv[j + 2]!) };
      j += 2;
    } else if (direction === 'auto' && opt === 'rev') direction = 'reverse';
    else if (kind === 'auto' && opt === 'bylex') kind = 'lex';
    else if (kind === 'auto' && opt === 'byscore') kind = 'score';
    else throw new ReplyError(ERR.syntax);
  }
  if (kind === 'auto') kind = 'rank';
  const reverse = direction === 'reverse';
  // Redis checks LIMIT by its count, which defaults to -1: an explicit "LIMIT 0 -1" passes.
  if (limit !== undefined && limit.count !== -1 && kind === 'rank') {
    throw new ReplyError('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  }
  if (withScores && kind === 'lex') throw new ReplyError('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  // By score and by lex a reversed range is given max first.
  const [a, b] = reverse && kind !== 'rank' ? [argv[first + 2]!, argv[first + 1]!] : [argv[first + 1]!, argv[first + 2]!];
  let read: (z: ZSetType) => ZEntry[];
  const window = limit ?? { offset: 0, count: -1 };
  if (kind === 'rank') {
    const start = longArg(a);
    const end = longArg(b);
    read = (z) => byRank(z, start, end, reverse);
  } else if (kind === 'score') {
    const range = parseScoreRange(a, b);
    read = (z) => z.byScore(range, reverse, window);
  } else {
    const range = parseLexRange(a, b);
    read = (z) => z.byLex(range, reverse, window);
  }
  const z = ZSetType.open(ctx.ks, argv[first]!);
  const entries = z === undefined ? [] : read(z);
  if (store) ctx.out.int(storeZSet(ctx.ks, argv[1]!, entries, zsetLimits(ctx)));
  else writeEntries(ctx.out, entries, withScores);
}

export function zrangeCommand(kind: RangeKind, direction: Direction) {
  return (ctx: CommandContext, argv: Buffer[]): void => zrangeGeneric(ctx, argv, 1, false, kind, direction);
}

export function zrangestore(ctx: CommandContext, argv: Buffer[]): void {
  zrangeGeneric(ctx, argv, 2, true, 'auto', 'auto');
}

export function zcount(ctx: CommandContext, argv: Buffer[]): void {
  const range = parseScoreRange(argv[2]!, argv[3]!);
  ctx.out.int(ZSetType.open(ctx.ks, argv[1]!)?.countScore(range) ?? 0);
}

export function zlexcount(ctx: CommandContext, argv: Buffer[]): void {
  const range = parseLexRange(argv[2]!, argv[3]!);
  ctx.out.int(ZSetType.open(ctx.ks, argv[1]!)?.countLex(range) ?? 0);
}

/** ZREMRANGEBYRANK / BYSCORE / BYLEX: the range is parsed before the key is looked up. */
export function zremrange(kind: 'rank' | 'score' | 'lex') {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    let read: (z: ZSetType) => ZEntry[];
    if (kind === 'rank') {
      const start = longArg(argv[2]!);
      const end = longArg(argv[3]!);
      read = (z) => byRank(z, start, end, false);
    } else if (kind === 'score') {
      const range = parseScoreRange(argv[2]!, argv[3]!);
      read = (z) => z.byScore(range, false);
    } else {
      const range = parseLexRange(argv[2]!, argv[3]!);
      read = (z) => z.byLex(range, false);
    }
    const z = ZSetType.open(ctx.ks, argv[1]!);
    if (z === undefined) return ctx.out.int(0);
    const doomed = read(z);
    z.removeAll(doomed);
    z.save();
    ctx.out.int(doomed.length);
  };
}
