import { ERR, ReplyError } from '../core/errors.js';
import type { HashValue } from '../storage/types.js';

const INT64_MAX = 2n ** 63n - 1n;
import { ValueType } from './keyspace.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { getHash, inInt64, int64Arg, lower, parseInt64 } from './args.js';
import { addLongDouble, formatLongDoubleHuman, LONG_DOUBLE_ZERO, parseLongDouble } from './long-double.js';
import { globMatch } from './glob.js';

const f = (b: Buffer): string => b.toString('latin1');
const unf = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A copy to modify: stored maps are shared with the store and must never change in place. */
function editable(ctx: CommandContext, key: Buffer): { map: HashValue; expiresAt: number; existed: boolean } {
  const e = getHash(ctx.ks, key);
  return e ? { map: new Map(e.value), expiresAt: e.expiresAt, existed: true } : { map: new Map(), expiresAt: 0, existed: false };
}

function save(ctx: CommandContext, key: Buffer, map: HashValue, expiresAt: number): void {
  if (map.size === 0) ctx.ks.del(key);
  else ctx.ks.set(key, ValueType.Hash, map, expiresAt);
}

function hset(reply: 'count' | 'ok', name: string) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    if (argv.length % 2 !== 0) throw new ReplyError(ERR.wrongArity(name));
    const h = editable(ctx, argv[1]!);
    let added = 0;
    for (let i = 2; i < argv.length; i += 2) {
      const k = f(argv[i]!);
      if (!h.map.has(k)) added++;
      h.map.set(k, argv[i + 1]!);
    }
    save(ctx, argv[1]!, h.map, h.expiresAt);
    if (reply === 'ok') ctx.out.ok();
    else ctx.out.int(added);
  };
}

function hsetnx(ctx: CommandContext, argv: Buffer[]): void {
  const h = editable(ctx, argv[1]!);
  const k = f(argv[2]!);
  if (h.map.has(k)) return ctx.out.int(0);
  h.map.set(k, argv[3]!);
  save(ctx, argv[1]!, h.map, h.expiresAt);
  ctx.out.int(1);
}

function hget(ctx: CommandContext, argv: Buffer[]): void {
  const v = getHash(ctx.ks, argv[1]!)?.value.get(f(argv[2]!));
  if (v) ctx.out.bulk(v);
  else ctx.out.nullBulk();
}

function hmget(ctx: CommandContext, argv: Buffer[]): void {
  const map = getHash(ctx.ks, argv[1]!)?.value;
  ctx.out.arrayHeader(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const v = map?.get(f(argv[i]!));
    if (v) ctx.out.bulk(v);
    else ctx.out.nullBulk();
  }
}

function hdel(ctx: CommandContext, argv: Buffer[]): void {
  const e = getHash(ctx.ks, argv[1]!);
  if (!e) return ctx.out.int(0);
  const map = new Map(e.value);
  let n = 0;
  for (let i = 2; i < argv.length; i++) if (map.delete(f(argv[i]!))) n++;
  if (n > 0) save(ctx, argv[1]!, map, e.expiresAt);
  ctx.out.int(n);
}

function hgetall(ctx: CommandContext, argv: Buffer[]): void {
  const map = getHash(ctx.ks, argv[1]!)?.value;
  ctx.out.mapHeader(map?.size ?? 0);
  if (map) for (const [k, v] of map) {
    ctx.out.bulk(unf(k));
    ctx.out.bulk(v);
  }
}

function hkeysOrVals(which: 'keys' | 'vals') {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const map = getHash(ctx.ks, argv[1]!)?.value;
    ctx.out.arrayHeader(map?.size ?? 0);
    if (map) for (const [k, v] of map) ctx.out.bulk(which === 'keys' ? unf(k) : v);
  };
}

function hincrby(ctx: CommandContext, argv: Buffer[]): void {
  const delta = int64Arg(argv[3]!);
  const h = editable(ctx, argv[1]!);
  const k = f(argv[2]!);
  const cur = h.map.get(k);
  let current = 0n;
  if (cur) {
    const p = parseInt64(cur);
    if (p === undefined) throw new ReplyError('ERR hash value is not an integer');
    current = p;
  }
  const next = current + delta;
  if (!inInt64(next)) throw new ReplyError(ERR.overflow);
  h.map.set(k, unf(next.toString()));
  save(ctx, argv[1]!, h.map, h.expiresAt);
  ctx.out.int(next);
}

/** HINCRBYFLOAT in Redis's long double arithmetic; an infinite increment is refused before the key is read. */
function hincrbyfloat(ctx: CommandContext, argv: Buffer[]): void {
  const delta = parseLongDouble(argv[3]!);
  if (delta === undefined) throw new ReplyError(ERR.notFloat);
  if (!delta.finite) throw new ReplyError('ERR value is NaN or Infinity');
  const h = editable(ctx, argv[1]!);
  const k = f(argv[2]!);
  const cur = h.map.get(k);
  const current = cur === undefined ? LONG_DOUBLE_ZERO : parseLongDouble(cur);
  if (current === undefined) throw new ReplyError('ERR hash value is not a float');
  const next = addLongDouble(current, delta);
  if (next === undefined || !next.finite) throw new ReplyError('ERR increment would produce NaN or Infinity');
  const text = unf(formatLongDoubleHuman(next));
  h.map.set(k, text);
  save(ctx, argv[1]!, h.map, h.expiresAt);
  ctx.out.bulk(text);
}

/** HRANDFIELD key [count [WITHVALUES]]: positive count = distinct fields, negative = may repeat. */
function hrandfield(ctx: CommandContext, argv: Buffer[]): void {
  const { out } = ctx;
  if (argv.length === 2) {
    const map = getHash(ctx.ks, argv[1]!)?.value;
    if (!map || map.size === 0) return out.nullBulk();
    const keys = [...map.keys()];
    return out.bulk(unf(keys[Math.floor(Math.random() * keys.length)]!));
  }
  // Redis checks the count, then the options, then the key: errors come in that order.
  const wide = int64Arg(argv[2]!);
  if (wide < -INT64_MAX) throw new ReplyError(`ERR value is out of range, value must between -${INT64_MAX} and ${INT64_MAX}`);
  if (argv.length > 4 || (argv.length === 4 && lower(argv[3]!) !== 'withvalues')) throw new ReplyError(ERR.syntax);
  const withValues = argv.length === 4;
  if (withValues && (wide < -INT64_MAX / 2n || wide > INT64_MAX / 2n)) throw new ReplyError('ERR value is out of range');
  const map = getHash(ctx.ks, argv[1]!)?.value;
  // A positive count beyond the hash's size gives the whole hash; a negative one that large
  // (that many repeated picks) is more than a reply can hold.
  if (wide < -BigInt(Number.MAX_SAFE_INTEGER)) throw new ReplyError(ERR.notInteger);
  const count = wide > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(wide);
  const entries = map ? [...map.entries()] : [];
  let picked: Array<[string, Buffer]>;
  if (entries.length === 0 || count === 0) picked = [];
  else if (count > 0) {
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    picked = entries.slice(0, count);
  } else {
    picked = Array.from({ length: -count }, () => entries[Math.floor(Math.random() * entries.length)]!);
  }
  if (withValues && out.proto === 3) {
    out.arrayHeader(picked.length);
    for (const [k, v] of picked) {
      out.arrayHeader(2);
      out.bulk(unf(k));
      out.bulk(v);
    }
    return;
  }
  out.arrayHeader(picked.length * (withValues ? 2 : 1));
  for (const [k, v] of picked) {
    out.bulk(unf(k));
    if (withValues) out.bulk(v);
  }
}

/** HSCAN key cursor [MATCH p] [COUNT n] [NOVALUES]: the cursor is an offset into the field order. */
function hscan(ctx: CommandContext, argv: Buffer[]): void {
  const cursorText = argv[2]!.toString('latin1');
  if (!/^\d+$/.test(cursorText)) throw new ReplyError('ERR invalid cursor');
  // As in Redis: the key is looked up before the options are read, so a missing key gives an
  // empty scan and a wrong type WRONGTYPE even when an option is wrong.
  const map = getHash(ctx.ks, argv[1]!)?.value;
  if (map === undefined) {
    ctx.out.arrayHeader(2);
    ctx.out.bulk('0');
    return ctx.out.bulkArray([]);
  }
  let pattern: Buffer | undefined;
  let count = 10;
  let novalues = false;
  for (let i = 3; i < argv.length; i++) {
    const o = lower(argv[i]!);
    if (o === 'novalues') novalues = true;
    else if (o === 'match' && i + 1 < argv.length) pattern = argv[++i]!;
    else if (o === 'count' && i + 1 < argv.length) {
      const wide = int64Arg(argv[++i]!);
      if (wide < 1n) throw new ReplyError(ERR.syntax);
      count = wide > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(wide);
    } else throw new ReplyError(ERR.syntax);
  }
  const entries = [...map.entries()];
  const start = Number(cursorText);
  // Small hashes come back whole, as Redis does for its compact encoding.
  const end = entries.length <= 128 ? entries.length : Math.min(entries.length, start + count);
  const from = entries.length <= 128 ? 0 : start;
  const items: Buffer[] = [];
  for (let i = from; i < end; i++) {
    const [k, v] = entries[i]!;
    const kb = unf(k);
    if (pattern && !globMatch(pattern, kb)) continue;
    items.push(kb);
    if (!novalues) items.push(v);
  }
  ctx.out.arrayHeader(2);
  ctx.out.bulk(end >= entries.length ? '0' : String(end));
  ctx.out.bulkArray(items);
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
  command({ name: 'hexists', arity: 3, flags: R, ...one, categories: rc, run: (c, a) => c.out.int(getHash(c.ks, a[1]!)?.value.has(f(a[2]!)) ? 1 : 0) }),
  command({ name: 'hlen', arity: 2, flags: R, ...one, categories: rc, run: (c, a) => c.out.int(getHash(c.ks, a[1]!)?.value.size ?? 0) }),
  command({ name: 'hstrlen', arity: 3, flags: R, ...one, categories: rc, run: (c, a) => c.out.int(getHash(c.ks, a[1]!)?.value.get(f(a[2]!))?.length ?? 0) }),
  command({ name: 'hkeys', arity: 2, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hkeysOrVals('keys') }),
  command({ name: 'hvals', arity: 2, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hkeysOrVals('vals') }),
  command({ name: 'hgetall', arity: 2, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hgetall }),
  command({ name: 'hincrby', arity: 4, flags: W, ...one, categories: wc, run: hincrby }),
  command({ name: 'hincrbyfloat', arity: 4, flags: W, ...one, categories: wc, run: hincrbyfloat }),
  command({ name: 'hrandfield', arity: -2, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hrandfield }),
  command({ name: 'hscan', arity: -3, flags: ['readonly'], ...one, categories: ['read', 'hash', 'slow'], run: hscan }),
];
