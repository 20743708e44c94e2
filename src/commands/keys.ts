import { ReplyOverLimit, replyBudget } from './reply-budget.js';
import { ERR, ReplyError } from '../core/errors.js';
import type { ScanEntry, ScanPosition } from '../storage/types.js';
import { typeName as keyTypeName, type Entry, type KeyType } from './keyspace.js';
import { copyCollection, isCollectionType } from '../collections/collection.js';
import { userKeyOf } from '../collections/record-keys.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, intArg, inInt64, lower } from './args.js';
import { globMatch } from './glob.js';
import { ScanCursors } from './scan-cursors.js';

function typeName(e: Entry | undefined): string {
  return e ? keyTypeName(e.type) : 'none';
}

/**
 * Writes `value` of `type` under `dst`: a string as it is (its form too: Redis's COPY duplicates
 * the object in the same encoding, RENAME and MOVE keep the object), a collection with all its
 * elements.
 */
function writeCopy(ctx: CommandContext, src: Buffer, dst: Buffer, e: Entry): void {
  if (isCollectionType(e.type)) copyCollection(ctx.ks, src, dst, e.type, e.expiresAt);
  else ctx.ks.set(dst, e.type, e.value, e.expiresAt, e.form);
}

function del(ctx: CommandContext, argv: Buffer[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (ctx.ks.del(argv[i]!)) n++;
  ctx.out.int(n);
}

function exists(ctx: CommandContext, argv: Buffer[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (ctx.ks.get(argv[i]!)) n++;
  ctx.out.int(n);
}

type ExpireUnit = 'ex' | 'px' | 'exat' | 'pxat';

/** EXPIRE family with NX | XX | GT | LT; a time in the past deletes the key. */
function expireGeneric(unit: ExpireUnit, name: string) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const { ks } = ctx;
    let nx = false, xx = false, gt = false, lt = false;
    for (let i = 3; i < argv.length; i++) {
      const o = lower(argv[i]!);
      if (o === 'nx') nx = true;
      else if (o === 'xx') xx = true;
      else if (o === 'gt') gt = true;
      else if (o === 'lt') lt = true;
      else throw new ReplyError(`ERR Unsupported option ${argv[i]!.toString('latin1')}`);
    }
    if (nx && (xx || gt || lt)) throw new ReplyError('ERR NX and XX, GT or LT options at the same time are not compatible');
    if (gt && lt) throw new ReplyError('ERR GT and LT options at the same time are not compatible');
    // Redis reads the time only after the options: an option error wins over a bad number.
    const v = int64Arg(argv[2]!);
    const ms = unit === 'ex' || unit === 'exat' ? v * 1000n : v;
    const abs = unit === 'ex' || unit === 'px' ? ms + BigInt(ks.now) : ms;
    if (!inInt64(ms) || !inInt64(abs)) throw new ReplyError(ERR.invalidExpire(name));
    const e = ks.get(argv[1]!);
    if (!e) return ctx.out.int(0);
    const at = Number(abs);
    const current = e.expiresAt === 0 ? Infinity : e.expiresAt;
    if ((nx && e.expiresAt !== 0) || (xx && e.expiresAt === 0) || (gt && !(at > current)) || (lt && !(at < current))) {
      return ctx.out.int(0);
    }
    if (at <= ks.now) ks.del(argv[1]!);
    else ks.set(argv[1]!, e.type, e.value, at, e.form);
    ctx.out.int(1);
  };
}

function ttlGeneric(kind: 'ttl' | 'pttl' | 'expiretime' | 'pexpiretime') {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const e = ctx.ks.get(argv[1]!);
    if (!e) return ctx.out.int(-2);
    if (e.expiresAt === 0) return ctx.out.int(-1);
    const left = Math.max(0, e.expiresAt - ctx.ks.now);
    // Seconds round to the nearest as Redis's ttlGenericCommand does ((ms + 500) / 1000), the
    // absolute time too: PEXPIREAT k 99999999999999 has EXPIRETIME 100000000000.
    if (kind === 'ttl') ctx.out.int(Math.floor((left + 500) / 1000));
    else if (kind === 'pttl') ctx.out.int(left);
    else if (kind === 'expiretime') ctx.out.int(Math.floor((e.expiresAt + 500) / 1000));
    else ctx.out.int(e.expiresAt);
  };
}

function persist(ctx: CommandContext, argv: Buffer[]): void {
  const e = ctx.ks.get(argv[1]!);
  if (!e || e.expiresAt === 0) return ctx.out.int(0);
  ctx.ks.set(argv[1]!, e.type, e.value, 0, e.form);
  ctx.out.int(1);
}

function rename(nx: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const { ks } = ctx;
    const src = ks.get(argv[1]!);
    if (!src) throw new ReplyError(ERR.noSuchKey);
    const same = argv[1]!.equals(argv[2]!);
    if (nx && (same || ks.get(argv[2]!))) return ctx.out.int(0);
    if (!same) {
      writeCopy(ctx, argv[1]!, argv[2]!, src);
      ks.del(argv[1]!);
    }
    if (nx) ctx.out.int(1);
    else ctx.out.ok();
  };
}

/** COPY source destination [DB n] [REPLACE] — only db 0 exists. */
function copy(ctx: CommandContext, argv: Buffer[]): void {
  let replace = false;
  for (let i = 3; i < argv.length; i++) {
    const o = lower(argv[i]!);
    if (o === 'replace') replace = true;
    else if (o === 'db' && i + 1 < argv.length) {
      if (intArg(argv[++i]!) !== 0) throw new ReplyError('ERR DB index is out of range');
    } else throw new ReplyError(ERR.syntax);
  }
  // Redis refuses a copy onto itself before looking the key up, whether or not it exists.
  if (argv[1]!.equals(argv[2]!)) throw new ReplyError('ERR source and destination objects are the same');
  const { ks } = ctx;
  const src = ks.get(argv[1]!);
  if (!src) return ctx.out.int(0);
  if (!replace && ks.get(argv[2]!)) return ctx.out.int(0);
  writeCopy(ctx, argv[1]!, argv[2]!, src);
  ctx.out.int(1);
}

/** The next position at or after `pos` in a slot this node lists (cluster: its primary slots). */
function listedFrom(ctx: CommandContext, pos: ScanPosition | null): ScanPosition | null {
  const serves = ctx.node.servesSlot;
  if (!pos || !serves || serves(pos.slot)) return pos;
  for (let slot = pos.slot + 1; slot < 16384; slot++) if (serves(slot)) return { slot };
  return null;
}

function listed(ctx: CommandContext, slot: number): boolean {
  return ctx.node.servesSlot?.(slot) ?? true;
}

/** Scanning strictly after this passes every element record (record-keys.ts) of a slot. */
const INTERNAL_RANGE_LAST = Buffer.from([0xff, 0xfe]);

/**
 * A page of store.scan over user keys only: a slot's element records sort between its plain keys
 * and its escaped 0xFF… keys, and a page that reaches them continues past all of them at once, so
 * a slot holding big collections costs SCAN no more than one holding small ones.
 */
function scanKeys(ctx: CommandContext, from: ScanPosition, count: number): { entries: ScanEntry[]; next: ScanPosition | null } {
  const r = ctx.node.store.scan(from, count, ctx.ks.now);
  const entries = r.entries.filter((e) => userKeyOf(e.key) !== undefined);
  const next = r.next !== null && r.next.after !== undefined && userKeyOf(r.next.after) === undefined ? { slot: r.next.slot, after: INTERNAL_RANGE_LAST } : r.next;
  return { entries, next };
}

/**
 * Up to about `count` of the keys this node lists from `pos` on (`{ slot: 0 }`: from the start),
 * and where the next page starts (null: nothing is left).
 */
export function listedKeysPage(ctx: CommandContext, pos: ScanPosition, count: number): { keys: Buffer[]; next: ScanPosition | null } {
  const from = listedFrom(ctx, pos);
  if (from === null) return { keys: [], next: null };
  const r = scanKeys(ctx, from, count);
  const keys: Buffer[] = [];
  for (const e of r.entries) {
    const key = userKeyOf(e.key);
    if (key !== undefined && listed(ctx, e.slot)) keys.push(key);
  }
  return { keys, next: listedFrom(ctx, r.next) };
}

/**
 * Every key this node lists (KEYS, SCAN, DBSIZE: all of them standalone, those of its primary
 * slots in a cluster), a page at a time.
 */
export function eachListedKey(ctx: CommandContext, visit: (key: Buffer) => void): void {
  let pos: ScanPosition | null = { slot: 0 };
  while (pos) {
    const page = listedKeysPage(ctx, pos, 1024);
    for (const key of page.keys) visit(key);
    pos = page.next;
  }
}

function keys(ctx: CommandContext, argv: Buffer[]): void {
  const pattern = argv[1]!;
  const all = pattern.length === 1 && pattern[0] === 0x2a;
  const found: Buffer[] = [];
  // The keyspace may be larger than memory: the reply is weighed as it is gathered (reply-budget.ts).
  const budget = replyBudget(ctx);
  let bytes = 0;
  eachListedKey(ctx, (key) => {
    if (!all && !globMatch(pattern, key)) return;
    found.push(key);
    bytes += key.length + 16;
    if (bytes > budget) throw new ReplyOverLimit(bytes);
  });
  ctx.out.bulkArray(found);
}

const cursors = new ScanCursors();

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]; cursors are opaque ids of server-side positions. */
function scan(ctx: CommandContext, argv: Buffer[]): void {
  let pattern: Buffer | undefined;
  let count = 10;
  let type: string | undefined;
  // Redis reads the cursor before the options: an invalid cursor wins over a syntax error.
  const resolved = cursors.resolve(argv[1]!);
  if (resolved === undefined) throw new ReplyError('ERR invalid cursor');
  for (let i = 2; i < argv.length; i++) {
    const o = lower(argv[i]!);
    if (i + 1 >= argv.length) throw new ReplyError(ERR.syntax);
    if (o === 'match') pattern = argv[++i]!;
    else if (o === 'count') {
      // Any long is a count (getLongFromObjectOrReply); pages are capped below anyway.
      const wide = int64Arg(argv[++i]!);
      if (wide < 1n) throw new ReplyError(ERR.syntax);
      count = wide > 1_000_000n ? 1_000_000 : Number(wide);
    } else if (o === 'type') type = lower(argv[++i]!);
    else throw new ReplyError(ERR.syntax);
  }
  const start = listedFrom(ctx, resolved);
  const r = start === null ? { entries: [], next: null } : scanKeys(ctx, start, Math.min(count, 100_000));
  const keysOut: Buffer[] = [];
  for (const e of r.entries) {
    const key = userKeyOf(e.key);
    if (key === undefined || !listed(ctx, e.slot)) continue;
    if (pattern && !globMatch(pattern, key)) continue;
    if (type && keyTypeName(e.record.type as KeyType) !== type) continue;
    keysOut.push(key);
  }
  ctx.out.arrayHeader(2);
  const next = listedFrom(ctx, r.next);
  ctx.out.bulk(next ? cursors.issue(next) : '0');
  ctx.out.bulkArray(keysOut);
}

function randomkey(ctx: CommandContext): void {
  const startSlot = Math.floor(Math.random() * 16384);
  for (const from of [startSlot, 0]) {
    let pos = listedFrom(ctx, { slot: from });
    while (pos) {
      const r = scanKeys(ctx, pos, 16);
      const hit = r.entries.find((e) => listed(ctx, e.slot) && userKeyOf(e.key) !== undefined);
      if (hit) return ctx.out.bulk(userKeyOf(hit.key)!);
      pos = listedFrom(ctx, r.next);
    }
  }
  ctx.out.nullBulk();
}

function touch(ctx: CommandContext, argv: Buffer[]): void {
  exists(ctx, argv);
}

const many = { firstKey: 1, lastKey: -1, step: 1 };
const one = { firstKey: 1, lastKey: 1, step: 1 };
const two = { firstKey: 1, lastKey: 2, step: 1 };

export const keyCommands: CommandSpec[] = [
  command({ name: 'del', arity: -2, flags: ['write'], ...many, categories: ['keyspace', 'write', 'slow'], run: del }),
  command({ name: 'unlink', arity: -2, flags: ['write', 'fast'], ...many, categories: ['keyspace', 'write', 'fast'], run: del }),
  command({ name: 'exists', arity: -2, flags: ['readonly', 'fast'], ...many, categories: ['keyspace', 'read', 'fast'], run: exists }),
  command({ name: 'touch', arity: -2, flags: ['readonly', 'fast'], ...many, categories: ['keyspace', 'read', 'fast'], run: touch }),
  command({ name: 'type', arity: 2, flags: ['readonly', 'fast'], ...one, categories: ['keyspace', 'read', 'fast'], run: (c, a) => c.out.simple(typeName(c.ks.get(a[1]!))) }),
  command({ name: 'expire', arity: -3, flags: ['write', 'fast'], ...one, categories: ['keyspace', 'write', 'fast'], run: expireGeneric('ex', 'expire') }),
  command({ name: 'pexpire', arity: -3, flags: ['write', 'fast'], ...one, categories: ['keyspace', 'write', 'fast'], run: expireGeneric('px', 'pexpire') }),
  command({ name: 'expireat', arity: -3, flags: ['write', 'fast'], ...one, categories: ['keyspace', 'write', 'fast'], run: expireGeneric('exat', 'expireat') }),
  command({ name: 'pexpireat', arity: -3, flags: ['write', 'fast'], ...one, categories: ['keyspace', 'write', 'fast'], run: expireGeneric('pxat', 'pexpireat') }),
  command({ name: 'ttl', arity: 2, flags: ['readonly', 'fast'], ...one, categories: ['keyspace', 'read', 'fast'], run: ttlGeneric('ttl') }),
  command({ name: 'pttl', arity: 2, flags: ['readonly', 'fast'], ...one, categories: ['keyspace', 'read', 'fast'], run: ttlGeneric('pttl') }),
  command({ name: 'expiretime', arity: 2, flags: ['readonly', 'fast'], ...one, categories: ['keyspace', 'read', 'fast'], run: ttlGeneric('expiretime') }),
  command({ name: 'pexpiretime', arity: 2, flags: ['readonly', 'fast'], ...one, categories: ['keyspace', 'read', 'fast'], run: ttlGeneric('pexpiretime') }),
  command({ name: 'persist', arity: 2, flags: ['write', 'fast'], ...one, categories: ['keyspace', 'write', 'fast'], run: persist }),
  command({ name: 'rename', arity: 3, flags: ['write'], ...two, categories: ['keyspace', 'write', 'slow'], run: rename(false) }),
  command({ name: 'renamenx', arity: 3, flags: ['write', 'fast'], ...two, categories: ['keyspace', 'write', 'fast'], run: rename(true) }),
  command({ name: 'copy', arity: -3, flags: ['write', 'denyoom'], ...two, categories: ['keyspace', 'write', 'slow'], run: copy }),
  command({ name: 'keys', arity: 2, flags: ['readonly'], categories: ['keyspace', 'read', 'slow', 'dangerous'], run: keys }),
  command({ name: 'scan', arity: -2, flags: ['readonly'], categories: ['keyspace', 'read', 'slow'], run: scan }),
  command({ name: 'randomkey', arity: 1, flags: ['readonly'], categories: ['keyspace', 'read', 'slow'], run: randomkey }),
];
