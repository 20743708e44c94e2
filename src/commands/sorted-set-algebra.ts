/**
 * ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (Redis 7.0's
 * zunionInterDiffGenericCommand). Inputs may be sorted sets or plain sets (every member scores
 * 1). The result is built in memory, as Redis builds it, then replied in (score, member) order or
 * stored as a new sorted set.
 */
import { ERR, ReplyError } from '../core/errors.js';
import { Collection } from '../collections/collection.js';
import { ElementKind } from '../collections/record-keys.js';
import { storeZSet, ZSetType, type ZEntry } from '../collections/zset-type.js';
import { ValueType } from '../storage/types.js';
import type { CommandContext } from './spec.js';
import { lower } from './args.js';
import { parseScore } from './score-text.js';
import { compareEntries, longArg, positiveLongArg, writeEntries, zsetLimits } from './sorted-set-replies.js';

type SetOp = 'union' | 'inter' | 'diff';
type Aggregate = 'sum' | 'min' | 'max';

/** One input: a sorted set, a set (scores 1) or a missing key (empty). */
interface Source {
  key: Buffer;
  size: number;
  weight: number;
  each(visit: (member: Buffer, score: number) => void): void;
  find(member: Buffer): number | undefined;
}

function openSource(ctx: CommandContext, key: Buffer): Source {
  const e = ctx.ks.get(key);
  const empty: Source = { key, size: 0, weight: 1, each: () => undefined, find: () => undefined };
  if (e === undefined) return empty;
  if (e.type === ValueType.ZSet) {
    const z = ZSetType.open(ctx.ks, key)!;
    return { key, size: z.size, weight: 1, each: (v) => z.entries(v), find: (m) => z.score(m) };
  }
  if (e.type === ValueType.Set) {
    const c = Collection.open(ctx.ks, key, ValueType.Set)!;
    return {
      key, size: c.size, weight: 1,
      each: (v) => c.scan(ElementKind.Member, (m) => (v(Buffer.from(m), 1), true)),
      find: (m) => (c.get(ElementKind.Member, m) === undefined ? undefined : 1),
    };
  }
  throw new ReplyError(ERR.wrongType);
}

/** zunionInterAggregate: a sum of +inf and -inf is 0, as Redis keeps it. */
function aggregate(target: number, value: number, how: Aggregate): number {
  if (how === 'sum') {
    const s = target + value;
    return Number.isNaN(s) ? 0 : s;
  }
  if (how === 'min') return value < target ? value : target;
  return value > target ? value : target;
}

/** A weighted score; inf × 0 is 0, as Redis keeps it. */
function weighted(score: number, weight: number): number {
  const v = score * weight;
  return Number.isNaN(v) ? 0 : v;
}

function inter(src: Source[], how: Aggregate, limit: number, countOnly: boolean): { entries: ZEntry[]; count: number } {
  const entries: ZEntry[] = [];
  let count = 0;
  const first = src[0]!;
  if (first.size === 0) return { entries, count };
  let done = false;
  first.each((member, s0) => {
    if (done) return;
    let score = weighted(s0, first.weight);
    for (let j = 1; j < src.length; j++) {
      const other = src[j]!;
      // Redis multiplies here without the NaN rule; the aggregate then applies its own.
      const found = other.key.equals(first.key) ? s0 : other.find(member);
      if (found === undefined) return;
      score = aggregate(score, found * other.weight, how);
    }
    count++;
    if (countOnly) {
      if (limit > 0 && count >= limit) done = true;
      return;
    }
    entries.push([member, score]);
  });
  return { entries, count };
}

function union(src: Source[], how: Aggregate): ZEntry[] {
  const acc = new Map<string, ZEntry>();
  for (const s of src) {
    if (s.size === 0) continue;
    s.each((member, score) => {
      const value = weighted(score, s.weight);
      const id = member.toString('latin1');
      const had = acc.get(id);
      if (had === undefined) acc.set(id, [member, value]);
      else had[1] = aggregate(had[1], value, how);
    });
  }
  return [...acc.values()];
}

function diff(src: Source[]): ZEntry[] {
  const first = src[0]!;
  const out: ZEntry[] = [];
  if (first.size === 0 || src.slice(1).some((s) => s.key.equals(first.key))) return out;
  first.each((member, score) => {
    for (let j = 1; j < src.length; j++) if (src[j]!.find(member) !== undefined) return;
    out.push([member, score]);
  });
  return out;
}

/**
 * `numkeysAt`: where numkeys is (1, or 2 for the STORE forms, whose destination is argv[1]).
 * `countOnly`: ZINTERCARD.
 */
function generic(op: SetOp, store: boolean, countOnly: boolean, name: string) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const numkeysAt = store ? 2 : 1;
    const n = longArg(argv[numkeysAt]!);
    if (n < 1) throw new ReplyError(`ERR at least 1 input key is needed for '${name}' command`);
    if (n > argv.length - (numkeysAt + 1)) throw new ReplyError(ERR.syntax);
    // Keys are looked up (WRONGTYPE) before the options are read, as in Redis.
    const src = Array.from({ length: n }, (_, i) => openSource(ctx, argv[numkeysAt + 1 + i]!));
    let how: Aggregate = 'sum';
    let withScores = false;
    let limit = 0;
    for (let j = numkeysAt + 1 + n; j < argv.length;) {
      const remaining = argv.length - j;
      const opt = lower(argv[j]!);
      if (op !== 'diff' && !countOnly && remaining >= n + 1 && opt === 'weights') {
        j++;
        for (const s of src) {
          const w = parseScore(argv[j++]!);
          if (w === undefined) throw new ReplyError('ERR weight value is not a float');
          s.weight = w;
        }
      } else if (op !== 'diff' && !countOnly && remaining >= 2 && opt === 'aggregate') {
        const a = lower(argv[j + 1]!);
        if (a !== 'sum' && a !== 'min' && a !== 'max') throw new ReplyError(ERR.syntax);
        how = a;
        j += 2;
      } else if (!store && !countOnly && opt === 'withscores') {
        withScores = true;
        j++;
      } else if (countOnly && remaining >= 2 && opt === 'limit') {
        limit = positiveLongArg(argv[j + 1]!, "LIMIT can't be negative");
        j += 2;
      } else throw new ReplyError(ERR.syntax);
    }
    // Smallest input first (a stable sort, as glibc's qsort is here): that order is also the
    // order in which scores are summed, which floating point can tell apart.
    if (op !== 'diff') src.sort((a, b) => a.size - b.size);
    let entries: ZEntry[];
    if (op === 'inter') {
      const r = inter(src, how, limit, countOnly);
      if (countOnly) return ctx.out.int(r.count);
      entries = r.entries;
    } else entries = op === 'union' ? union(src, how) : diff(src);
    entries.sort(compareEntries);
    if (store) ctx.out.int(storeZSet(ctx.ks, argv[1]!, entries, zsetLimits(ctx)));
    else writeEntries(ctx.out, entries, withScores);
  };
}

export const zunion = generic('union', false, false, 'zunion');
export const zinter = generic('inter', false, false, 'zinter');
export const zdiff = generic('diff', false, false, 'zdiff');
export const zunionstore = generic('union', true, false, 'zunionstore');
export const zinterstore = generic('inter', true, false, 'zinterstore');
export const zdiffstore = generic('diff', true, false, 'zdiffstore');
export const zintercard = generic('inter', false, true, 'zintercard');

/**
 * Key positions: [destination,] then numkeys keys after the numkeys argument; `after` arguments
 * must follow them (ZMPOP's MIN|MAX). A numkeys that does not fit names no keys: the command then
 * runs where it is and answers its own error.
 */
export function numkeysKeys(numkeysAt: number, withDestination: boolean, after = 0) {
  return (argv: readonly Buffer[]): number[] => {
    const n = Number(argv[numkeysAt]?.toString('latin1'));
    // No valid count, no keys (as Redis's key extraction), the destination included.
    if (!Number.isInteger(n) || n < 1 || n > argv.length - numkeysAt - 1 - after) return [];
    const keys = withDestination ? [1] : [];
    for (let i = 0; i < n; i++) keys.push(numkeysAt + 1 + i);
    return keys;
  };
}
