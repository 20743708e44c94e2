import type { Keyspace } from '../commands/keyspace.js';
import { ValueType } from '../storage/types.js';
import { Collection } from './collection.js';
import { ElementKind } from './record-keys.js';
import { decodeScore, exactScoreBytes, indexScoreBytes, nextScoreBytes, SCORE_BYTES } from './score-codec.js';

/**
 * A sorted set over element records (kvrocks's layout):
 *
 *   Member record  sub-key = member bytes             value = the score (8 bytes, score-codec.ts)
 *   Score record   sub-key = score (8 bytes) ‖ member value = empty, or 0x01 when the score is -0
 *
 * The Score records are the index: their byte order is Redis's order (score, then member bytes),
 * so ranges by score seek straight to their first element and ranges by rank walk from the
 * nearer end. Changing a score replaces the member's Score record. -0 sorts as 0 (the index
 * folds it), but a member keeps the -0 Redis holds for it: Redis's listpack turns "-0" into 0
 * while its skiplist keeps -0, so a compact set stores 0 and a large one -0, as Redis does.
 *
 * Costs: ZSCORE and ZADD of one member read and write a few records; ranges cost what they
 * return plus their offset; ZRANK / ZREVRANK and ranges by rank cost O(min(rank, size - rank)),
 * not O(log n) (LMDB keeps no counts in its B-tree).
 */

/** When a sorted set leaves listpack (zset-max-listpack-entries / -value), as Redis converts it. */
export interface ZSetLimits {
  entries: number;
  value: number;
}

export type ZEntry = [member: Buffer, score: number];

export interface ScoreRange {
  min: number;
  max: number;
  minExclusive: boolean;
  maxExclusive: boolean;
}

/** A lex bound: '-' and '+' are below and above every member. */
export type LexBound = { kind: 'min' } | { kind: 'max' } | { kind: 'value'; value: Buffer; exclusive: boolean };

export interface LexRange {
  min: LexBound;
  max: LexBound;
}

export interface AddFlags {
  nx?: boolean;
  xx?: boolean;
  gt?: boolean;
  lt?: boolean;
  incr?: boolean;
}

/** What ZADD did to one member: its score afterwards, or nothing (an option kept it out), or NaN. */
export type AddOutcome = { kind: 'added' | 'updated' | 'same'; score: number } | { kind: 'nop' } | { kind: 'nan' };

/** Offset and count of a range, as ZRANGE … LIMIT (a negative count takes everything). */
export interface Window {
  offset: number;
  count: number;
}

const NEGATIVE_ZERO = Buffer.from([0x01]);
const EMPTY = Buffer.alloc(0);
const ZERO_BYTE = Buffer.from([0]);
/** First chunk of a two-ended rank walk; each round doubles it. */
const RANK_CHUNK_MIN = 32;

/** A member's score-index sub-key: the score in index order, then the member. */
export function indexSub(member: Buffer, score: number): Buffer {
  return Buffer.concat([indexScoreBytes(score), member]);
}

/** A score-index entry's value: it marks a member held at -0, which the index orders as 0. */
export function indexValue(score: number): Buffer {
  return Object.is(score, -0) ? NEGATIVE_ZERO : EMPTY;
}

function entryOfIndex(sub: Buffer, value: Buffer): ZEntry {
  const score = value.length > 0 && value[0] === 0x01 ? -0 : decodeScore(sub);
  return [Buffer.from(sub.subarray(SCORE_BYTES)), score];
}

export function lexCompare(a: Buffer, bound: LexBound): number {
  if (bound.kind === 'min') return 1;
  if (bound.kind === 'max') return -1;
  return Buffer.compare(a, bound.value);
}

function lexGteMin(m: Buffer, r: LexRange): boolean {
  const c = lexCompare(m, r.min);
  return r.min.kind === 'value' && r.min.exclusive ? c > 0 : c >= 0;
}

function lexLteMax(m: Buffer, r: LexRange): boolean {
  const c = lexCompare(m, r.max);
  return r.max.kind === 'value' && r.max.exclusive ? c < 0 : c <= 0;
}

/** Redis's zslIsInLexRange first test: a range that holds nothing whatever the set. */
function lexRangeEmpty(r: LexRange): boolean {
  const rank = (b: LexBound): number => (b.kind === 'min' ? -1 : b.kind === 'max' ? 1 : 0);
  let cmp = rank(r.min) - rank(r.max);
  if (cmp === 0 && r.min.kind === 'value' && r.max.kind === 'value') cmp = Buffer.compare(r.min.value, r.max.value);
  else if (cmp === 0) return true; // '-' '-' or '+' '+': both bounds count as exclusive
  const exclusive = (r.min.kind !== 'value' || r.min.exclusive) || (r.max.kind !== 'value' || r.max.exclusive);
  return cmp > 0 || (cmp === 0 && exclusive);
}

export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minExclusive || r.maxExclusive));
}

export function inScoreRange(score: number, r: ScoreRange): boolean {
  const geMin = r.minExclusive ? score > r.min : score >= r.min;
  const leMax = r.maxExclusive ? score < r.max : score <= r.max;
  return geMin && leMax;
}

export class ZSetType {
  private constructor(readonly c: Collection) {}

  static open(ks: Keyspace, key: Buffer): ZSetType | undefined {
    const c = Collection.open(ks, key, ValueType.ZSet);
    return c && new ZSetType(c);
  }

  static openOrCreate(ks: Keyspace, key: Buffer): ZSetType {
    return new ZSetType(Collection.openOrCreate(ks, key, ValueType.ZSet));
  }

  /** A new empty sorted set under `key`, replacing whatever it held (the STORE commands). */
  static create(ks: Keyspace, key: Buffer): ZSetType {
    return new ZSetType(Collection.create(ks, key, ValueType.ZSet, 0));
  }

  get size(): number {
    return this.c.size;
  }

  get large(): boolean {
    return this.c.meta.large;
  }

  score(member: Buffer): number | undefined {
    const v = this.c.get(ElementKind.Member, member);
    return v === undefined ? undefined : decodeScore(v);
  }

  /** A compact set holds -0 as 0 (module comment). */
  private stored(score: number): number {
    return score === 0 && !this.c.meta.large ? 0 : score;
  }

  private writeScore(member: Buffer, score: number): void {
    this.c.put(ElementKind.Member, member, exactScoreBytes(score));
    this.c.put(ElementKind.Score, indexSub(member, score), indexValue(score));
  }

  /** Adds a member known to be absent. Like Redis, the set converts before a member that would not fit. */
  insert(member: Buffer, score: number, limits: ZSetLimits): void {
    if (this.c.size + 1 > limits.entries || member.length > limits.value) this.c.markLarge();
    this.writeScore(member, this.stored(score));
    this.c.resize(1);
  }

  /** Moves a present member from `old` to `score`. */
  private rescore(member: Buffer, old: number, score: number): void {
    this.c.delete(ElementKind.Score, indexSub(member, old));
    this.writeScore(member, this.stored(score));
  }

  /** ZADD's zsetAdd for one member: NX, XX, GT, LT and INCR as Redis applies them. */
  add(member: Buffer, score: number, flags: AddFlags, limits: ZSetLimits): AddOutcome {
    const current = this.score(member);
    if (current === undefined) {
      if (flags.xx === true) return { kind: 'nop' };
      this.insert(member, score, limits);
      return { kind: 'added', score };
    }
    if (flags.nx === true) return { kind: 'nop' };
    let next = score;
    if (flags.incr === true) {
      next = current + score;
      if (Number.isNaN(next)) return { kind: 'nan' };
    }
    if ((flags.lt === true && next >= current) || (flags.gt === true && next <= current)) return { kind: 'nop' };
    // -0 and 0 are the same score: nothing changes, as in Redis.
    if (next === current) return { kind: 'same', score: next };
    this.rescore(member, current, next);
    return { kind: 'updated', score: next };
  }

  /** Removes a member; true when it was there. */
  remove(member: Buffer): boolean {
    const current = this.score(member);
    if (current === undefined) return false;
    this.removeEntry(member, current);
    return true;
  }

  private removeEntry(member: Buffer, score: number): void {
    this.c.delete(ElementKind.Member, member);
    this.c.delete(ElementKind.Score, indexSub(member, score));
    this.c.resize(-1);
  }

  /** Removes entries read from this set (ranges, pops). */
  removeAll(entries: readonly ZEntry[]): void {
    for (const [m, s] of entries) this.removeEntry(m, s);
  }

  /** Walks the index from one end, skipping `skip` entries, then visiting until `visit` says stop. */
  private walk(reverse: boolean, skip: number, visit: (e: ZEntry) => boolean, bounds: { lo?: Buffer; hi?: Buffer } = {}): void {
    let skipped = 0;
    this.c.scan(ElementKind.Score, (sub, value) => {
      if (skipped < skip) {
        skipped++;
        return true;
      }
      return visit(entryOfIndex(sub, value));
    }, { reverse, ...bounds });
  }

  /** Entries at ranks start … end (0-based, ascending, 0 <= start <= end < size), read from the nearer end. */
  byRank(start: number, end: number): ZEntry[] {
    const out: ZEntry[] = [];
    const want = end - start + 1;
    const fromTail = this.size - 1 - end;
    const reverse = fromTail < start;
    this.walk(reverse, reverse ? fromTail : start, (e) => {
      out.push(e);
      return out.length < want;
    });
    if (reverse) out.reverse();
    return out;
  }

  /** The first (lowest) or last `count` entries. */
  edge(reverse: boolean, count: number): ZEntry[] {
    const out: ZEntry[] = [];
    if (count <= 0) return out;
    this.walk(reverse, 0, (e) => {
      out.push(e);
      return out.length < count;
    });
    return out;
  }

  /** Index bounds of a score range: lo inclusive, hi exclusive. */
  private scoreBounds(r: ScoreRange): { lo?: Buffer; hi?: Buffer } {
    const minBytes = indexScoreBytes(r.min);
    const maxBytes = indexScoreBytes(r.max);
    return {
      lo: r.minExclusive ? nextScoreBytes(minBytes) ?? minBytes : minBytes,
      hi: r.maxExclusive ? maxBytes : nextScoreBytes(maxBytes),
    };
  }

  /** Entries with scores in range, ascending (descending when `reverse`), after `offset`, up to `count` (< 0: all). */
  byScore(r: ScoreRange, reverse: boolean, w: Window = { offset: 0, count: -1 }): ZEntry[] {
    const out: ZEntry[] = [];
    if (scoreRangeEmpty(r) || w.offset < 0 || w.count === 0) return out;
    this.walk(reverse, w.offset, (e) => {
      if (!inScoreRange(e[1], r)) return false;
      out.push(e);
      return w.count < 0 || out.length < w.count;
    }, this.scoreBounds(r));
    return out;
  }

  /** Visits the entries with scores in range, ascending, until `visit` returns false (geo searches). */
  eachInScoreRange(r: ScoreRange, visit: (e: ZEntry) => boolean): void {
    if (scoreRangeEmpty(r)) return;
    this.walk(false, 0, (e) => inScoreRange(e[1], r) && visit(e), this.scoreBounds(r));
  }

  /** How many scores lie in the range: O(what it counts). */
  countScore(r: ScoreRange): number {
    let n = 0;
    if (scoreRangeEmpty(r)) return 0;
    this.c.scan(ElementKind.Score, () => {
      n++;
      return true;
    }, this.scoreBounds(r));
    return n;
  }

  /**
   * Entries whose members lie in a lex range. Redis defines this for sets whose scores are all
   * equal; then the range is contiguous and found by a seek. Otherwise it walks in score order as
   * Redis's listpack does (first member >= min, then on while <= max), so the answer is still Redis's.
   */
  byLex(r: LexRange, reverse: boolean, w: Window = { offset: 0, count: -1 }): ZEntry[] {
    const out: ZEntry[] = [];
    this.eachInLex(r, reverse, w, (e) => out.push(e));
    return out;
  }

  /** How many members lie in a lex range (ZLEXCOUNT): O(what it counts), nothing kept. */
  countLex(r: LexRange): number {
    let n = 0;
    this.eachInLex(r, false, { offset: 0, count: -1 }, () => n++);
    return n;
  }

  private eachInLex(r: LexRange, reverse: boolean, w: Window, emit: (e: ZEntry) => void): void {
    let taken = 0;
    if (lexRangeEmpty(r) || w.offset < 0 || w.count === 0 || this.size === 0) return;
    const first = this.edge(false, 1)[0]!;
    const last = this.edge(true, 1)[0]!;
    if (!lexGteMin(last[0], r) || !lexLteMax(first[0], r)) return;
    let skipped = 0;
    const take = (e: ZEntry): boolean => {
      if (skipped < w.offset) {
        skipped++;
        return true;
      }
      emit(e);
      taken++;
      return w.count < 0 || taken < w.count;
    };
    if (first[1] === last[1]) {
      // One score: the index is in member order; seek to the bounds.
      const prefix = indexScoreBytes(first[1]);
      const bound = (b: LexBound, upper: boolean): Buffer | undefined => {
        if (b.kind === 'min') return upper ? prefix : undefined;
        if (b.kind === 'max') return upper ? undefined : nextScoreBytes(prefix);
        const at = Buffer.concat([prefix, b.value]);
        // lo is inclusive and hi exclusive: an exclusive min and an inclusive max move past the value.
        return (upper ? !b.exclusive : b.exclusive) ? Buffer.concat([at, ZERO_BYTE]) : at;
      };
      const lo = bound(r.min, false);
      const hi = bound(r.max, true);
      this.c.scan(ElementKind.Score, (sub, value) => take(entryOfIndex(sub, value)), { reverse, ...(lo && { lo }), ...(hi && { hi }) });
      return;
    }
    // Several scores (undefined in Redis): the listpack's walk, from the head or from the tail.
    let started = false;
    this.walk(reverse, 0, (e) => {
      if (!started) {
        if (!(reverse ? lexLteMax(e[0], r) : lexGteMin(e[0], r))) return true;
        if (!(reverse ? lexGteMin(e[0], r) : lexLteMax(e[0], r))) return false;
        started = true;
      } else if (!(reverse ? lexGteMin(e[0], r) : lexLteMax(e[0], r))) return false;
      return take(e);
    });
  }

  /**
   * The 0-based rank of a member (from the top when `reverse`); undefined when absent. The index
   * is counted from both ends at once in doubling chunks, so the cost is O(min(rank, size - rank)).
   */
  rank(member: Buffer, reverse: boolean): number | undefined {
    const score = this.score(member);
    if (score === undefined) return undefined;
    const target = indexSub(member, score);
    const after = Buffer.concat([target, ZERO_BYTE]);
    let below = 0;
    let above = 0;
    let lo: Buffer | undefined;
    let hi: Buffer | undefined;
    for (let chunk = RANK_CHUNK_MIN; ; chunk *= 2) {
      let seen = 0;
      let last: Buffer | undefined;
      this.c.scan(ElementKind.Score, (sub) => {
        seen++;
        last = sub;
        return seen < chunk;
      }, { ...(lo && { lo }), hi: target });
      below += seen;
      if (seen < chunk) return reverse ? this.size - 1 - below : below;
      lo = Buffer.concat([last!, ZERO_BYTE]);
      seen = 0;
      this.c.scan(ElementKind.Score, (sub) => {
        seen++;
        last = sub;
        return seen < chunk;
      }, { reverse: true, lo: after, ...(hi && { hi }) });
      above += seen;
      if (seen < chunk) return reverse ? above : this.size - 1 - above;
      hi = Buffer.from(last!);
    }
  }

  /** Every entry in index order (the set algebra reads whole inputs, as Redis does). */
  entries(visit: (member: Buffer, score: number) => void): void {
    this.c.scan(ElementKind.Score, (sub, value) => {
      const [m, s] = entryOfIndex(sub, value);
      visit(m, s);
      return true;
    });
  }

  /**
   * Pops up to `count` entries from the low end (or the high end when `max`): ZPOPMIN, ZPOPMAX,
   * ZMPOP, and the blocking forms once they exist. The caller saves.
   */
  pop(max: boolean, count: number): ZEntry[] {
    const popped = this.edge(max, Math.min(count, this.size));
    this.removeAll(popped);
    return popped;
  }

  save(): void {
    this.c.save();
  }
}

/** Whether a set of these entries is large (skiplist) as a whole: more entries or a longer member than the listpack limits. */
export function zsetIsLarge(entries: readonly ZEntry[], limits: ZSetLimits): boolean {
  return entries.length > limits.entries || entries.some(([m]) => m.length > limits.value);
}

/**
 * A sorted set built whole by a STORE command: like Redis, its encoding follows from the final
 * size and longest member (listpack at or below both limits), and a compact one holds -0 as 0.
 */
export function storeZSet(ks: Keyspace, key: Buffer, entries: readonly ZEntry[], limits: ZSetLimits): number {
  if (entries.length === 0) {
    ks.del(key);
    return 0;
  }
  const z = ZSetType.create(ks, key);
  if (zsetIsLarge(entries, limits)) z.c.markLarge();
  const unlimited: ZSetLimits = { entries: Number.MAX_SAFE_INTEGER, value: Number.MAX_SAFE_INTEGER };
  for (const [m, s] of entries) z.insert(m, s, unlimited);
  z.save();
  return entries.length;
}
