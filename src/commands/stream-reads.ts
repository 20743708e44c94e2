import { ERR, ReplyError } from '../core/errors.js';
import { StreamGroups } from '../collections/stream-groups.js';
import { ENTRIES_READ_UNKNOWN, type GroupState } from '../collections/stream-codec.js';
import { compareIds, MAX_ID, nextId, type StreamId } from '../collections/stream-id.js';
import type { StreamType } from '../collections/stream-type.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { lower, parseInt64 } from './args.js';
import { blockOn, isRetry, openForBlockingPop } from './blocking.js';
import { entriesReadAt, hasTombstonesFrom } from '../collections/stream-lag.js';
import { noGroup, openStream, strictIdArg, writeDeletedEntry, writeEntry } from './stream-args.js';

/**
 * XREAD and XREADGROUP, as Redis 7.0's xreadCommand: options, then ids (`$` = the stream's last
 * id now, `>` = the group's next undelivered entries), then a synchronous answer if any stream has
 * something, else a wait (BLOCK) or a null. A wait is a retry of the command (docs/decisions.md,
 * "Blocking commands"); `$` is fixed at the first try and carried to the later ones.
 */

interface ReadArgs {
  timeoutMs: number | undefined;
  count: number;
  noAck: boolean;
  group: Buffer | undefined;
  consumer: Buffer | undefined;
  keys: Buffer[];
  idArgs: Buffer[];
}

/** BLOCK's argument: integer milliseconds, Redis's errors. */
function parseMsTimeout(arg: Buffer): number {
  const v = parseInt64(arg);
  if (v === undefined) throw new ReplyError('ERR timeout is not an integer or out of range');
  if (v < 0n) throw new ReplyError('ERR timeout is negative');
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

function parseReadArgs(ctx: CommandContext, argv: Buffer[], group: boolean): ReadArgs {
  const a: ReadArgs = { timeoutMs: undefined, count: 0, noAck: false, group: undefined, consumer: undefined, keys: [], idArgs: [] };
  let streamsAt = 0;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const o = lower(argv[i]!);
    if (o === 'block' && more > 0) {
      if (ctx.fromScript === true) throw new ReplyError(`ERR ${argv[0]!.toString('latin1')} command is not allowed with BLOCK option from scripts`);
      a.timeoutMs = parseMsTimeout(argv[++i]!);
    } else if (o === 'count' && more > 0) {
      const v = parseInt64(argv[++i]!);
      if (v === undefined) throw new ReplyError(ERR.notInteger);
      a.count = v < 0n ? 0 : v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
    } else if (o === 'streams' && more > 0) {
      streamsAt = i + 1;
      const n = argv.length - streamsAt;
      if (n % 2 !== 0) {
        // Redis 7.0 words it so for XREADGROUP too.
        throw new ReplyError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
      }
      break;
    } else if (o === 'group' && more >= 2) {
      if (!group) throw new ReplyError('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
      a.group = argv[i + 1]!;
      a.consumer = argv[i + 2]!;
      i += 2;
    } else if (o === 'noack') {
      if (!group) throw new ReplyError('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
      a.noAck = true;
    } else {
      throw new ReplyError(ERR.syntax);
    }
  }
  if (streamsAt === 0) throw new ReplyError(ERR.syntax);
  if (group && a.group === undefined) throw new ReplyError('ERR Missing GROUP option for XREADGROUP');
  const n = (argv.length - streamsAt) / 2;
  a.keys = argv.slice(streamsAt, streamsAt + n);
  a.idArgs = argv.slice(streamsAt + n);
  return a;
}

/** XREAD / XREADGROUP keys (COMMAND GETKEYS, routing): the first half after STREAMS, as Redis's xreadGetKeys. */
function readKeys(argv: readonly Buffer[]): number[] {
  let streamsAt = -1;
  for (let i = 1; i < argv.length; i++) {
    const o = argv[i]!.toString('latin1').toLowerCase();
    if (o === 'block' || o === 'count') i++;
    else if (o === 'group') i += 2;
    else if (o === 'noack') continue;
    else if (o === 'streams') {
      streamsAt = i;
      break;
    } else break;
  }
  const num = argv.length - streamsAt - 1;
  if (streamsAt < 0 || num === 0 || num % 2 !== 0) return [];
  return Array.from({ length: num / 2 }, (_, i) => streamsAt + 1 + i);
}

/** The BLOCK timeout of an XREAD / XREADGROUP, undefined without BLOCK (or when it does not parse). */
function readTimeout(argv: readonly Buffer[]): number | undefined {
  for (let i = 1; i + 1 < argv.length; i++) {
    const o = argv[i]!.toString('latin1').toLowerCase();
    if (o === 'streams') return undefined;
    if (o === 'block') {
      try {
        return parseMsTimeout(argv[i + 1]!);
      } catch {
        return undefined;
      }
    }
    if (o === 'count') i++;
    else if (o === 'group') i += 2;
  }
  return undefined;
}

/**
 * Opens each stream and resolves what it is read after (`>` is MAX_ID), key by key as Redis does
 * (a key's type is checked before its id is parsed). `$` is fixed at the first try: later tries of
 * a blocked command reuse the ids (the memo).
 */
function openAndResolve<T extends StreamType | undefined>(ctx: CommandContext, a: ReadArgs, open: (key: Buffer) => T): { streams: T[]; ids: StreamId[] } {
  const memo = ctx.session.blockAttempt?.memo;
  const remembered = Array.isArray(memo) && memo.length === a.keys.length ? (memo as StreamId[]) : undefined;
  const grouped = a.group !== undefined;
  const streams: T[] = [];
  const ids: StreamId[] = [];
  a.keys.forEach((key, i) => {
    const s = open(key);
    streams.push(s);
    if (remembered !== undefined) return ids.push(remembered[i]!);
    const text = a.idArgs[i]!.toString('latin1');
    if (text === '$') {
      if (grouped) {
        throw new ReplyError('ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.');
      }
      return ids.push(s?.meta.lastId ?? { ms: 0n, seq: 0n });
    }
    if (text === '>') {
      if (!grouped) throw new ReplyError('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
      return ids.push(MAX_ID);
    }
    return ids.push(strictIdArg(a.idArgs[i]!));
  });
  if (ctx.session.blockAttempt !== undefined) ctx.session.blockAttempt.memo = ids;
  return { streams, ids };
}

function xread(ctx: CommandContext, argv: Buffer[]): void {
  const a = parseReadArgs(ctx, argv, false);
  const { streams, ids } = openAndResolve(ctx, a, (key) => openForBlockingPop(ctx, () => openStream(ctx.ks, key)));
  const served: Array<{ key: Buffer; entries: Array<[StreamId, Buffer]> }> = [];
  streams.forEach((s, i) => {
    if (s === undefined || s.length === 0) return;
    const last = s.edge(true);
    if (last === undefined || compareIds(last, ids[i]!) <= 0) return;
    const start = nextId(ids[i]!);
    if (start === undefined) return;
    served.push({ key: a.keys[i]!, entries: collect(s, start, a.count) });
  });
  if (served.length > 0) return writeServed(ctx, served.map((x) => ({ key: x.key, write: () => writeEntries(ctx, x.entries) })));
  if (a.timeoutMs !== undefined && blockOn(ctx, a.keys, a.timeoutMs)) return;
  ctx.out.nullArray();
}

function collect(s: StreamType, start: StreamId, count: number): Array<[StreamId, Buffer]> {
  const out: Array<[StreamId, Buffer]> = [];
  s.scan(start, MAX_ID, false, (id, value) => {
    out.push([id, Buffer.from(value)]);
    return count === 0 || out.length < count;
  });
  return out;
}

function writeEntries(ctx: CommandContext, entries: Array<[StreamId, Buffer]>): void {
  ctx.out.arrayHeader(entries.length);
  for (const [id, value] of entries) writeEntry(ctx.out, id, value);
}

/** The reply: per stream served, its key and entries (RESP2 an array of pairs, RESP3 a map). */
function writeServed(ctx: CommandContext, served: Array<{ key: Buffer; write: () => void }>): void {
  if (ctx.session.proto === 3) ctx.out.mapHeader(served.length);
  else ctx.out.arrayHeader(served.length);
  for (const s of served) {
    if (ctx.session.proto !== 3) ctx.out.arrayHeader(2);
    ctx.out.bulk(s.key);
    s.write();
  }
}

function xreadgroup(ctx: CommandContext, argv: Buffer[]): void {
  const a = parseReadArgs(ctx, argv, true);
  const group = a.group!;
  const consumer = a.consumer!;
  const groups: GroupState[] = [];
  // A key named twice is one stream and one group, changed by both reads (as in Redis).
  const opened = new Map<string, { s: StreamType; g: GroupState }>();
  const { streams, ids } = openAndResolve(ctx, a, (key): StreamType => {
    const id = key.toString('latin1');
    let o = opened.get(id);
    if (o === undefined) {
      const s = openForBlockingPop(ctx, () => openStream(ctx.ks, key));
      const g = s && new StreamGroups(s).get(group);
      // A blocked read woken because its stream or group went: Redis 7.0 answers these two.
      if (isRetry(ctx) && s === undefined) throw new ReplyError('UNBLOCKED the stream key no longer exists');
      if (isRetry(ctx) && g === undefined) throw new ReplyError('NOGROUP the consumer group this client was blocked on no longer exists');
      if (s === undefined || g === undefined) throw new ReplyError(noGroup(key, group, ' in XREADGROUP with GROUP option'));
      opened.set(id, (o = { s, g }));
    }
    groups.push(o.g);
    return o.s;
  });
  const now = ctx.ks.now;
  // Stream by stream, as Redis: history always answers; new entries when the stream has any past
  // the group's cursor (which an earlier read of the same key may just have moved). Only streams
  // answered see their consumer created or refreshed; with nothing to answer nothing is written
  // (a retry's write would also wake this very waiter again).
  const parts: Buffer[] = [];
  const touched = new Set<StreamType>();
  streams.forEach((s, i) => {
    const state = groups[i]!;
    const history = compareIds(ids[i]!, MAX_ID) !== 0;
    let after = ids[i]!;
    if (!history) {
      const last = s.length > 0 ? s.edge(true) : undefined;
      if (last === undefined || compareIds(last, state.lastId) <= 0) return;
      after = state.lastId;
    }
    const gs = new StreamGroups(s);
    gs.ensureConsumer(group, state, consumer, now, true);
    touched.add(s);
    const out = new ReplyWriter(ctx.session.proto, 256);
    if (ctx.session.proto !== 3) out.arrayHeader(2);
    out.bulk(a.keys[i]!);
    if (history) readHistory(out, gs, group, consumer, after, a.count, now);
    else readNew(out, s, gs, group, state, consumer, after, a.count, a.noAck, now);
    parts.push(out.take());
  });
  if (parts.length === 0) {
    if (!(a.timeoutMs !== undefined && blockOn(ctx, a.keys, a.timeoutMs))) ctx.out.nullArray();
    return;
  }
  if (ctx.session.proto === 3) ctx.out.mapHeader(parts.length);
  else ctx.out.arrayHeader(parts.length);
  for (const p of parts) ctx.out.raw(p);
  streams.forEach((s, i) => {
    if (!touched.delete(s)) return;
    new StreamGroups(s).put(group, groups[i]!);
    s.touch();
    s.save();
  });
}

/** New entries for the group after `after`: each advances the group's cursor and, unless NOACK, becomes pending. */
function readNew(
  out: ReplyWriter, s: StreamType, gs: StreamGroups, group: Buffer, state: GroupState, consumer: Buffer,
  after: StreamId, count: number, noAck: boolean, now: number,
): void {
  const start = nextId(after);
  const entries = start === undefined ? [] : collect(s, start, count);
  out.arrayHeader(entries.length);
  for (const [id, value] of entries) {
    if (compareIds(id, state.lastId) > 0) {
      if (state.entriesRead !== ENTRIES_READ_UNKNOWN && !hasTombstonesFrom(s.meta, s.length, id)) state.entriesRead++;
      else if (s.meta.entriesAdded > 0n) state.entriesRead = entriesReadAt(s.meta, s.length, id);
      state.lastId = id;
    }
    writeEntry(out, id, value);
    if (!noAck) gs.setPending(group, state, id, consumer, now, 1n);
  }
}

/** The consumer's own pending entries after `after` (a deleted entry answers its id and a null), each delivered again. */
function readHistory(out: ReplyWriter, gs: StreamGroups, group: Buffer, consumer: Buffer, after: StreamId, count: number, now: number): void {
  const ids: StreamId[] = [];
  gs.scanConsumerPending(group, consumer, after, (id) => {
    ids.push(id);
    return count === 0 || ids.length < count;
  });
  out.arrayHeader(ids.length);
  for (const id of ids) {
    const value = gs.s.get(id);
    if (value === undefined) {
      writeDeletedEntry(out, id);
      continue;
    }
    writeEntry(out, id, value);
    const p = gs.pending(group, id);
    if (p !== undefined) gs.touchPending(group, id, { ...p, deliveryTime: now, deliveries: p.deliveries + 1n });
  }
}

export const streamReadCommands: CommandSpec[] = [
  command({
    name: 'xread', arity: -4, flags: ['readonly', 'blocking', 'movablekeys'], categories: ['read', 'stream', 'slow', 'blocking'],
    keyIndexes: readKeys, blockTimeoutMs: readTimeout, run: xread,
  }),
  command({
    name: 'xreadgroup', arity: -7, flags: ['write', 'blocking', 'movablekeys'], categories: ['write', 'stream', 'slow', 'blocking'],
    keyIndexes: readKeys, blockTimeoutMs: readTimeout, run: xreadgroup,
  }),
];
