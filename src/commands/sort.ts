/**
 * SORT and SORT_RO, as Redis 7.0's sort.c: the elements of a list, set or sorted set, ordered
 * numerically (strtod) or ALPHA, by themselves or by the values of other keys named by a BY
 * pattern (`weight_*`, `obj_*->field`), with LIMIT, GET patterns and STORE into a list.
 *
 * The cost is what SORT costs in Redis: every element is read and sorted (O(n log n)), plus one
 * key read per element and pattern. `BY <no star>` (nosort) on a list or sorted set reads only
 * the LIMIT range. In cluster mode a BY pattern with a star, and every GET, is refused as Redis
 * 7.0 refuses them: the keys they form may be in other slots.
 */
import { hasUnrestrictedReadAccess } from '../acl/acl-check.js';
import { ERR, ReplyError } from '../core/errors.js';
import { ValueType } from './keyspace.js';
import { ListType } from '../collections/list-type.js';
import { SetType } from '../collections/set-type.js';
import { ZSetType } from '../collections/zset-type.js';
import { HashType } from '../collections/hash-type.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { lower } from './args.js';
import { longArg } from './sorted-set-replies.js';
import { strtod } from './score-text.js';
import type { Keyspace } from './keyspace.js';

/** Where a pattern points for one element: the element itself (`#`), a string key, or a hash field. */
export type PatternTarget = { kind: 'self' } | { kind: 'key'; key: Buffer; field?: Buffer };

const STAR = 0x2a;
const ARROW = Buffer.from('->');

/** A C string view: Redis reads patterns with strchr / strstr, which stop at a NUL byte. */
function cString(b: Buffer): Buffer {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

/**
 * lookupKeyByPattern's substitution: the first `*` becomes the element; a `->field` after it (with
 * a non-empty field) names a hash field. undefined for a pattern without a star (nothing to read).
 */
export function patternTarget(pattern: Buffer, element: Buffer): PatternTarget | undefined {
  if (pattern.length === 1 && pattern[0] === 0x23) return { kind: 'self' };
  const spat = cString(pattern);
  const star = spat.indexOf(STAR);
  if (star < 0) return undefined;
  const arrow = spat.indexOf(ARROW, star + 1);
  const hasField = arrow >= 0 && arrow + 2 < spat.length;
  // The key's tail runs to the end of the whole pattern (sdslen), less the field part.
  const tailEnd = hasField ? arrow : pattern.length;
  const key = Buffer.concat([pattern.subarray(0, star), element, pattern.subarray(star + 1, tailEnd)]);
  return hasField ? { kind: 'key', key, field: Buffer.from(pattern.subarray(arrow + 2)) } : { kind: 'key', key };
}

/** The value a pattern gives for an element: a string key's value or a hash field; undefined otherwise. */
function lookupByPattern(ks: Keyspace, pattern: Buffer, element: Buffer): Buffer | undefined {
  const t = patternTarget(pattern, element);
  if (t === undefined) return undefined;
  if (t.kind === 'self') return element;
  const e = ks.get(t.key);
  if (e === undefined) return undefined;
  if (t.field !== undefined) {
    if (e.type !== ValueType.Hash) return undefined;
    return HashType.open(ks, t.key)?.get(t.field);
  }
  return e.type === ValueType.String ? e.value : undefined;
}

interface SortOptions {
  desc: boolean;
  alpha: boolean;
  limitStart: number;
  limitCount: number;
  by: Buffer | undefined;
  dontSort: boolean;
  gets: Buffer[];
  store: Buffer | undefined;
}

function userReadsEveryKey(ctx: CommandContext, argv: Buffer[]): boolean {
  const user = ctx.session.user;
  if (user === undefined || user.unrestricted) return true;
  const cmd = ctx.node.acl.commands.of(ctx.node.commands.get(lower(argv[0]!))!);
  return cmd === undefined || hasUnrestrictedReadAccess(user, cmd, argv);
}

function parseOptions(ctx: CommandContext, argv: Buffer[], readonly: boolean): SortOptions {
  const o: SortOptions = { desc: false, alpha: false, limitStart: 0, limitCount: -1, by: undefined, dontSort: false, gets: [], store: undefined };
  const cluster = ctx.node.cluster !== undefined;
  // BY and GET patterns may read any key: only a user who may read every key can use them (Redis 7.0).
  let fullAccess: boolean | undefined;
  const mayReadAll = (): boolean => (fullAccess ??= userReadsEveryKey(ctx, argv));
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const a = lower(argv[j]!);
    if (a === 'asc') o.desc = false;
    else if (a === 'desc') o.desc = true;
    else if (a === 'alpha') o.alpha = true;
    else if (a === 'limit' && left >= 2) {
      o.limitStart = longArg(argv[j + 1]!);
      o.limitCount = longArg(argv[j + 2]!);
      j += 2;
    } else if (!readonly && a === 'store' && left >= 1) {
      o.store = argv[++j]!;
    } else if (a === 'by' && left >= 1) {
      o.by = argv[++j]!;
      if (cString(o.by).indexOf(STAR) < 0) o.dontSort = true;
      else if (cluster) throw new ReplyError('ERR BY option of SORT denied in Cluster mode.');
      else if (!mayReadAll()) throw new ReplyError('ERR BY option of SORT denied due to insufficient ACL permissions.');
    } else if (a === 'get' && left >= 1) {
      if (cluster) throw new ReplyError('ERR GET option of SORT denied in Cluster mode.');
      if (!mayReadAll()) throw new ReplyError('ERR GET option of SORT denied due to insufficient ACL permissions.');
      o.gets.push(argv[++j]!);
    } else throw new ReplyError(ERR.syntax);
  }
  return o;
}

/** The collection to sort, as a way to read it; undefined for a missing key (an empty list). */
type Source =
  | { kind: 'list'; list: ListType }
  | { kind: 'set'; set: SetType }
  | { kind: 'zset'; zset: ZSetType };

function openSource(ks: Keyspace, key: Buffer): Source | undefined {
  const e = ks.get(key);
  if (e === undefined) return undefined;
  switch (e.type) {
    case ValueType.List: return { kind: 'list', list: ListType.open(ks, key)! };
    case ValueType.Set: return { kind: 'set', set: SetType.open(ks, key)! };
    case ValueType.ZSet: return { kind: 'zset', zset: ZSetType.open(ks, key)! };
    default: throw new ReplyError(ERR.wrongType);
  }
}

function sizeOf(s: Source | undefined): number {
  if (s === undefined) return 0;
  return s.kind === 'list' ? s.list.length : s.kind === 'set' ? s.set.size : s.zset.size;
}

interface Item {
  element: Buffer;
  score: number;
  /** ALPHA with BY: the looked-up value; undefined when missing. */
  cmp: Buffer | undefined;
}

/** Byte order of two strings as C's strcoll in a C / C.UTF-8 locale: up to the first NUL. */
function collate(a: Buffer, b: Buffer): number {
  return Buffer.compare(cString(a), cString(b));
}

/** sortCompare, for the options in force. */
function comparator(o: SortOptions, store: boolean): (a: Item, b: Item) => number {
  const byPattern = o.by !== undefined;
  const sign = o.desc ? -1 : 1;
  if (!o.alpha) {
    return (a, b) => sign * (a.score > b.score ? 1 : a.score < b.score ? -1 : Buffer.compare(a.element, b.element));
  }
  if (byPattern) {
    return (a, b) => {
      let cmp: number;
      if (a.cmp === undefined || b.cmp === undefined) cmp = a.cmp === b.cmp ? 0 : a.cmp === undefined ? -1 : 1;
      else cmp = store ? Buffer.compare(a.cmp, b.cmp) : collate(a.cmp, b.cmp);
      return sign * cmp;
    };
  }
  return (a, b) => sign * (store ? Buffer.compare(a.element, b.element) : collate(a.element, b.element));
}

/** strtod as SORT checks it: the whole C string a number, no overflow or underflow, not NaN. */
function sortScore(text: Buffer): number | undefined {
  const s = cString(text).toString('latin1');
  const r = strtod(s);
  if (r.end !== s.length || r.range || Number.isNaN(r.value)) return undefined;
  return r.value;
}

/** The elements a sort reads, with the [start, end] window to answer from them. */
function loadElements(src: Source | undefined, o: SortOptions, start: number, end: number): { items: Buffer[]; start: number; end: number } {
  const len = sizeOf(src);
  if (src === undefined) return { items: [], start, end };
  const copy = (b: Buffer): Buffer => Buffer.from(b);
  if (o.dontSort && (src.kind === 'list' || src.kind === 'zset')) {
    // Only the window, in the collection's own order (reversed by DESC).
    const items: Buffer[] = [];
    if (end >= start) {
      if (src.kind === 'list') {
        if (o.desc) src.list.scanBack(len - start, (v) => items.push(copy(v)) < end - start + 1);
        else src.list.scan(start, end + 1, (v) => items.push(copy(v)) < end - start + 1);
      } else {
        const entries = o.desc ? src.zset.byRank(len - 1 - end, len - 1 - start).reverse() : src.zset.byRank(start, end);
        for (const [m] of entries) items.push(m);
      }
    }
    return { items, start: 0, end: end - start };
  }
  const items: Buffer[] = [];
  if (src.kind === 'list') src.list.scan(0, len, (v) => items.push(copy(v)) > 0);
  else if (src.kind === 'set') items.push(...src.set.members());
  else src.zset.entries((m) => items.push(m));
  return { items, start, end };
}

function sortCommand(readonly: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const o = parseOptions(ctx, argv, readonly);
    const src = openSource(ctx.ks, argv[1]!);
    // A set has no order of its own: output that is stored or seen by a script (both replicated)
    // would differ between replicas, so Redis sorts it.
    if (o.dontSort && src?.kind === 'set' && (o.store !== undefined || ctx.fromScript === true)) {
      o.dontSort = false;
      o.alpha = true;
      o.by = undefined;
    }
    const len = sizeOf(src);
    let start = o.limitStart < 0 ? 0 : o.limitStart;
    let end = o.limitCount < 0 ? len - 1 : start + o.limitCount - 1;
    if (start >= len) {
      start = len - 1;
      end = len - 2;
    }
    if (end >= len) end = len - 1;
    const loaded = loadElements(src, o, start, end);
    start = loaded.start;
    end = loaded.end;
    const items: Item[] = loaded.items.map((element) => ({ element, score: 0, cmp: undefined }));
    let conversionError = false;
    if (!o.dontSort) {
      for (const item of items) {
        const byVal = o.by === undefined ? item.element : lookupByPattern(ctx.ks, o.by, item.element);
        if (byVal === undefined) continue;
        if (o.alpha) {
          if (o.by !== undefined) item.cmp = byVal;
        } else {
          const s = sortScore(byVal);
          if (s === undefined) conversionError = true;
          else item.score = s;
        }
      }
      items.sort(comparator(o, o.store !== undefined));
    }
    if (conversionError) throw new ReplyError("ERR One or more scores can't be converted into double");
    const window = end >= start ? items.slice(start, end + 1) : [];
    const gets = o.gets;
    const outputLen = gets.length > 0 ? gets.length * window.length : window.length;
    if (o.store === undefined) {
      ctx.out.arrayHeader(outputLen);
      for (const item of window) {
        if (gets.length === 0) ctx.out.bulk(item.element);
        for (const g of gets) {
          const v = lookupByPattern(ctx.ks, g, item.element);
          if (v === undefined) ctx.out.nullBulk();
          else ctx.out.bulk(v);
        }
      }
      return;
    }
    const values: Buffer[] = [];
    for (const item of window) {
      if (gets.length === 0) values.push(item.element);
      // A missing value is stored as an empty string.
      for (const g of gets) values.push(Buffer.from(lookupByPattern(ctx.ks, g, item.element) ?? Buffer.alloc(0)));
    }
    if (values.length === 0) ctx.ks.del(o.store);
    else {
      const list = ListType.create(ctx.ks, o.store);
      for (const v of values) list.push('right', v);
      list.save();
    }
    ctx.out.int(outputLen);
  };
}

/** sortGetKeys: the sorted key, and the last STORE destination (LIMIT, GET and BY skip their arguments). */
function sortKeys(argv: readonly Buffer[]): number[] {
  const skips: Record<string, number> = { limit: 2, get: 1, by: 1 };
  let store = -1;
  for (let i = 2; i < argv.length; i++) {
    const a = lower(argv[i]!);
    const skip = skips[a];
    if (skip !== undefined) i += skip;
    else if (a === 'store' && i + 1 < argv.length) store = i + 1;
  }
  return store === -1 ? [1] : [1, store];
}

export const sortCommands: CommandSpec[] = [
  command({ name: 'sort', arity: -2, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, step: 1, categories: ['write', 'set', 'sortedset', 'list', 'slow', 'dangerous'], keyIndexes: sortKeys, run: sortCommand(false) }),
  command({ name: 'sort_ro', arity: -2, flags: ['readonly'], firstKey: 1, lastKey: 1, step: 1, categories: ['read', 'set', 'sortedset', 'list', 'slow', 'dangerous'], keyIndexes: () => [1], run: sortCommand(true) }),
];
