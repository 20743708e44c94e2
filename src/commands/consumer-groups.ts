import { ERR, ReplyError, subcommandSyntaxError as subcommandSyntax } from '../core/errors.js';
import { StreamGroups } from '../collections/stream-groups.js';
import { ENTRIES_READ_UNKNOWN, type GroupState } from '../collections/stream-codec.js';
import { compareIds, formatId, MAX_ID, MIN_ID, prevId, type StreamId } from '../collections/stream-id.js';
import { StreamType } from '../collections/stream-type.js';
import { container, command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, lower, parseInt64 } from './args.js';
import { GROUP_OPTIONS_ERROR, noGroup, openStream, rangeEndArg, rangeStartArg, strictIdArg, idArg, writeEntry } from './stream-args.js';

/**
 * Consumer-group commands: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, as Redis 7.0 parses and
 * answers them. Group state is collections/stream-groups.ts.
 */

const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

function noConsumerGroup(key: Buffer, group: Buffer): ReplyError {
  return new ReplyError(`NOGROUP No such consumer group '${group.toString('latin1')}' for key name '${key.toString('latin1')}'`);
}

function entriesReadArg(arg: Buffer): bigint {
  const v = int64Arg(arg);
  if (v < 0n && v !== ENTRIES_READ_UNKNOWN) throw new ReplyError('ERR value for ENTRIESREAD must be positive or -1');
  return v;
}

/** The stream an XGROUP subcommand (other than CREATE … MKSTREAM) works on: it must exist. */
function groupStream(ctx: CommandContext, argv: Buffer[]): StreamType {
  const s = openStream(ctx.ks, argv[2]!);
  if (s === undefined) throw new ReplyError(GROUP_OPTIONS_ERROR);
  return s;
}

/** The group a subcommand needs to exist (SETID, CREATECONSUMER, DELCONSUMER). */
function existingGroup(argv: Buffer[], gs: StreamGroups): GroupState {
  const g = gs.get(argv[3]!);
  if (g === undefined) throw noConsumerGroup(argv[2]!, argv[3]!);
  return g;
}

function xgroupCreate(ctx: CommandContext, argv: Buffer[]): void {
  let mkstream = false;
  let entriesRead = ENTRIES_READ_UNKNOWN;
  for (let i = 5; i < argv.length;) {
    const o = lower(argv[i]!);
    if (o === 'mkstream') {
      mkstream = true;
      i++;
    } else if (o === 'entriesread' && i + 1 < argv.length) {
      entriesRead = entriesReadArg(argv[i + 1]!);
      i += 2;
    } else {
      throw subcommandSyntax(argv);
    }
  }
  let s = openStream(ctx.ks, argv[2]!);
  if (s === undefined && !mkstream) throw new ReplyError(GROUP_OPTIONS_ERROR);
  if (argv.length > 8) throw subcommandSyntax(argv);
  const id = argv[4]!.toString('latin1') === '$' ? (s?.meta.lastId ?? MIN_ID) : strictIdArg(argv[4]!);
  s ??= StreamType.create(ctx.ks, argv[2]!);
  if (!new StreamGroups(s).create(argv[3]!, id, entriesRead)) throw new ReplyError('BUSYGROUP Consumer Group name already exists');
  s.save();
  ctx.out.ok();
}

function xgroupSetId(ctx: CommandContext, argv: Buffer[]): void {
  let entriesRead = ENTRIES_READ_UNKNOWN;
  if (argv.length >= 5) {
    for (let i = 5; i < argv.length;) {
      if (lower(argv[i]!) === 'entriesread' && i + 1 < argv.length) {
        entriesRead = entriesReadArg(argv[i + 1]!);
        i += 2;
      } else {
        throw subcommandSyntax(argv);
      }
    }
  }
  const s = groupStream(ctx, argv);
  const gs = new StreamGroups(s);
  const g = existingGroup(argv, gs);
  if (argv.length !== 5 && argv.length !== 7) throw subcommandSyntax(argv);
  g.lastId = argv[4]!.toString('latin1') === '$' ? s.meta.lastId : idArg(argv[4]!, 0n, false).id;
  g.entriesRead = entriesRead;
  gs.put(argv[3]!, g);
  s.save();
  ctx.out.ok();
}

function xgroupDestroy(ctx: CommandContext, argv: Buffer[]): void {
  const s = groupStream(ctx, argv);
  const destroyed = new StreamGroups(s).destroy(argv[3]!);
  if (destroyed) s.save();
  ctx.out.int(destroyed ? 1 : 0);
}

function xgroupCreateConsumer(ctx: CommandContext, argv: Buffer[]): void {
  const s = groupStream(ctx, argv);
  const gs = new StreamGroups(s);
  const g = existingGroup(argv, gs);
  const { created } = gs.ensureConsumer(argv[3]!, g, argv[4]!, ctx.ks.now, false);
  if (created) {
    s.touch();
    s.save();
  }
  ctx.out.int(created ? 1 : 0);
}

function xgroupDelConsumer(ctx: CommandContext, argv: Buffer[]): void {
  const s = groupStream(ctx, argv);
  const gs = new StreamGroups(s);
  const g = existingGroup(argv, gs);
  const pending = gs.deleteConsumer(argv[3]!, g, argv[4]!);
  if (pending !== undefined) {
    s.touch();
    s.save();
  }
  ctx.out.int(pending ?? 0);
}

const XGROUP_HELP = [
  'XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
  'HELP',
  '    Prints this help.',
];

function help(lines: readonly string[]) {
  return (ctx: CommandContext): void => {
    ctx.out.arrayHeader(lines.length);
    for (const l of lines) ctx.out.simple(l);
  };
}

/** The stream and group of XACK / XCLAIM / XAUTOCLAIM; undefined when either is missing. */
function openGroup(ctx: CommandContext, key: Buffer, group: Buffer): { s: StreamType; gs: StreamGroups; g: GroupState } | undefined {
  const s = openStream(ctx.ks, key);
  if (s === undefined) return undefined;
  const gs = new StreamGroups(s);
  const g = gs.get(group);
  return g === undefined ? undefined : { s, gs, g };
}

function xack(ctx: CommandContext, argv: Buffer[]): void {
  const found = openGroup(ctx, argv[1]!, argv[2]!);
  if (found === undefined) return ctx.out.int(0);
  const ids = argv.slice(3).map(strictIdArg);
  let acked = 0;
  for (const id of ids) if (found.gs.removePending(argv[2]!, found.g, id)) acked++;
  if (acked > 0) {
    found.gs.put(argv[2]!, found.g);
    found.s.touch();
    found.s.save();
  }
  ctx.out.int(acked);
}

function clampCount(v: bigint): number {
  return v < 0n ? 0 : v > SAFE_MAX ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** XPENDING key group [[IDLE min-idle] start end count [consumer]]. */
function xpending(ctx: CommandContext, argv: Buffer[]): void {
  const summary = argv.length === 3;
  if (!summary && (argv.length < 6 || argv.length > 9)) throw new ReplyError(ERR.syntax);
  let start = MIN_ID;
  let end = MAX_ID;
  let count = 0;
  let minIdle = 0n;
  let consumer: Buffer | undefined;
  if (!summary) {
    let at = 3;
    if (lower(argv[3]!) === 'idle') {
      minIdle = int64Arg(argv[4]!);
      if (argv.length < 8) throw new ReplyError(ERR.syntax);
      at += 2;
    }
    count = clampCount(int64Arg(argv[at + 2]!));
    start = rangeStartArg(argv[at]!);
    end = rangeEndArg(argv[at + 1]!);
    if (at + 3 < argv.length) consumer = argv[at + 3];
  }
  const found = openGroup(ctx, argv[1]!, argv[2]!);
  if (found === undefined) throw new ReplyError(noGroup(argv[1]!, argv[2]!));
  const { gs, g } = found;
  const group = argv[2]!;
  if (summary) return pendingSummary(ctx, gs, group, g);
  const now = ctx.ks.now;
  const rows: Array<[StreamId, Buffer, number, bigint]> = [];
  const visit = (id: StreamId, p: { deliveryTime: number; deliveries: bigint; consumer: Buffer }): boolean => {
    if (rows.length >= count) return false;
    const idle = now - p.deliveryTime;
    if (minIdle !== 0n && BigInt(idle) < minIdle) return true;
    rows.push([id, Buffer.from(p.consumer), Math.max(0, idle), p.deliveries]);
    return rows.length < count;
  };
  if (count > 0 && compareIds(start, end) <= 0) {
    if (consumer !== undefined) {
      if (gs.consumer(group, consumer) === undefined) return ctx.out.arrayHeader(0);
      // The consumer's own index from `start`, then each entry's delivery record.
      gs.scanConsumerPending(group, consumer, prevId(start), (id) => {
        const p = gs.pending(group, id);
        return p === undefined ? true : visit(id, p);
      }, end);
    } else {
      gs.scanPending(group, start, end, visit);
    }
  }
  ctx.out.arrayHeader(rows.length);
  for (const [id, name, idle, deliveries] of rows) {
    ctx.out.arrayHeader(4);
    ctx.out.bulk(formatId(id));
    ctx.out.bulk(name);
    ctx.out.int(idle);
    ctx.out.int(deliveries);
  }
}

function pendingSummary(ctx: CommandContext, gs: StreamGroups, group: Buffer, g: GroupState): void {
  ctx.out.arrayHeader(4);
  ctx.out.int(g.pending);
  if (g.pending === 0) {
    ctx.out.nullBulk();
    ctx.out.nullBulk();
    ctx.out.nullArray();
    return;
  }
  let first: StreamId | undefined;
  let last: StreamId | undefined;
  gs.scanPending(group, MIN_ID, MAX_ID, (id) => {
    first = id;
    return false;
  });
  gs.scanPending(group, MIN_ID, MAX_ID, (id) => {
    last = id;
    return false;
  }, true);
  ctx.out.bulk(formatId(first!));
  ctx.out.bulk(formatId(last!));
  const consumers: Array<[Buffer, number]> = [];
  gs.scanConsumers(group, (name, c) => {
    if (c.pending > 0) consumers.push([Buffer.from(name), c.pending]);
    return true;
  });
  ctx.out.arrayHeader(consumers.length);
  for (const [name, n] of consumers) {
    ctx.out.arrayHeader(2);
    ctx.out.bulk(name);
    ctx.out.bulk(String(n));
  }
}

/**
 * Moves a pending entry to `consumer` (XCLAIM, XAUTOCLAIM): delivery time `time`, deliveries set
 * to `retryCount` when given, else one more unless `justId`.
 */
function claimOne(gs: StreamGroups, group: Buffer, g: GroupState, id: StreamId, consumer: Buffer, p: { deliveries: bigint } | undefined, time: number, retryCount: bigint | undefined, justId: boolean): void {
  // An entry FORCE brings into the PEL starts as a fresh delivery (count 1), as Redis's new NACK
  // does, and is then counted like any claimed one: 2 without JUSTID or RETRYCOUNT.
  let deliveries = p?.deliveries ?? 1n;
  // Redis starts RETRYCOUNT at -1 for "not given" and so takes any negative one as not given.
  if (retryCount !== undefined && retryCount >= 0n) deliveries = retryCount;
  else if (!justId) deliveries++;
  gs.setPending(group, g, id, consumer, time, deliveries);
}

function longArgOr(arg: Buffer, error: string): bigint {
  const v = parseInt64(arg);
  if (v === undefined) throw new ReplyError(`ERR ${error}`);
  return v;
}

/** XCLAIM key group consumer min-idle-time id [id …] [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id]. */
function xclaim(ctx: CommandContext, argv: Buffer[]): void {
  const found = openGroup(ctx, argv[1]!, argv[2]!);
  if (found === undefined) throw new ReplyError(noGroup(argv[1]!, argv[2]!));
  const { s, gs, g } = found;
  const group = argv[2]!;
  const consumer = argv[3]!;
  let minIdle = longArgOr(argv[4]!, 'Invalid min-idle-time argument for XCLAIM');
  if (minIdle < 0n) minIdle = 0n;
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const id = parseStrict(argv[j]!);
    if (id === undefined) break;
    ids.push(id);
  }
  const now = ctx.ks.now;
  let force = false;
  let justId = false;
  let deliveryTime: bigint | undefined;
  let retryCount: bigint | undefined;
  let lastId = MIN_ID;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = lower(argv[j]!);
    if (o === 'force') force = true;
    else if (o === 'justid') justId = true;
    else if (o === 'idle' && more > 0) deliveryTime = BigInt(now) - longArgOr(argv[++j]!, 'Invalid IDLE option argument for XCLAIM');
    else if (o === 'time' && more > 0) deliveryTime = longArgOr(argv[++j]!, 'Invalid TIME option argument for XCLAIM');
    else if (o === 'retrycount' && more > 0) retryCount = longArgOr(argv[++j]!, 'Invalid RETRYCOUNT option argument for XCLAIM');
    else if (o === 'lastid' && more > 0) lastId = strictIdArg(argv[++j]!);
    else throw new ReplyError(`ERR Unrecognized XCLAIM option '${argv[j]!.toString('latin1')}'`);
  }
  let changed = false;
  if (compareIds(lastId, g.lastId) > 0) {
    g.lastId = lastId;
    changed = true;
  }
  const time = deliveryTime === undefined || deliveryTime < 0n || deliveryTime > BigInt(now) ? now : Number(deliveryTime);
  const replies: Array<() => void> = [];
  let consumerReady = false;
  for (const id of ids) {
    const p = gs.pending(group, id);
    const value = s.get(id);
    if (value === undefined) {
      // The entry is gone from the stream: its pending record goes too.
      if (p !== undefined && gs.removePending(group, g, id)) changed = true;
      continue;
    }
    if (p === undefined && !force) continue;
    if (p !== undefined && minIdle > 0n && BigInt(now - p.deliveryTime) < minIdle) continue;
    if (!consumerReady) {
      gs.ensureConsumer(group, g, consumer, now, true);
      consumerReady = true;
    }
    claimOne(gs, group, g, id, consumer, p, time, retryCount, justId);
    changed = true;
    const entry = Buffer.from(value);
    replies.push(justId ? () => ctx.out.bulk(formatId(id)) : () => writeEntry(ctx.out, id, entry));
  }
  if (changed) {
    gs.put(group, g);
    s.touch();
    s.save();
  }
  ctx.out.arrayHeader(replies.length);
  for (const r of replies) r();
}

function parseStrict(arg: Buffer): StreamId | undefined {
  try {
    return strictIdArg(arg);
  } catch {
    return undefined;
  }
}

/** Attempts per entry returned (Redis's attempts_factor): XAUTOCLAIM looks at most COUNT × 10 pending entries. */
const AUTOCLAIM_ATTEMPTS_FACTOR = 10;

/** XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]. */
function xautoclaim(ctx: CommandContext, argv: Buffer[]): void {
  let minIdle = longArgOr(argv[4]!, 'Invalid min-idle-time argument for XAUTOCLAIM');
  if (minIdle < 0n) minIdle = 0n;
  const start = rangeStartArg(argv[5]!);
  let count = 100;
  let justId = false;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = lower(argv[j]!);
    if (o === 'count' && more > 0) {
      const v = parseInt64(argv[++j]!);
      const max = (2n ** 63n - 1n) / 16n;
      if (v === undefined || v < 1n || v > max) throw new ReplyError('ERR COUNT must be > 0');
      count = Number(v > SAFE_MAX ? SAFE_MAX : v);
    } else if (o === 'justid') {
      justId = true;
    } else {
      throw new ReplyError(ERR.syntax);
    }
  }
  const found = openGroup(ctx, argv[1]!, argv[2]!);
  if (found === undefined) throw new ReplyError(noGroup(argv[1]!, argv[2]!));
  const { s, gs, g } = found;
  const group = argv[2]!;
  const consumer = argv[3]!;
  const now = ctx.ks.now;
  let attempts = count * AUTOCLAIM_ATTEMPTS_FACTOR;
  let left = count;
  const visited: Array<{ id: StreamId; deliveryTime: number; deliveries: bigint }> = [];
  let cursor: StreamId = MIN_ID;
  // Read what the loop may look at (attempts bound it), plus one more: the next call's cursor.
  gs.scanPending(group, start, MAX_ID, (id, p) => {
    visited.push({ id, deliveryTime: p.deliveryTime, deliveries: p.deliveries });
    return visited.length <= attempts;
  });
  const claimed: Array<() => void> = [];
  const deleted: StreamId[] = [];
  let i = 0;
  let consumerReady = false;
  for (; attempts > 0 && left > 0 && i < visited.length; i++) {
    attempts--;
    const v = visited[i]!;
    const value = s.get(v.id);
    if (value === undefined) {
      gs.removePending(group, g, v.id);
      deleted.push(v.id);
      left--;
      continue;
    }
    if (minIdle > 0n && BigInt(now - v.deliveryTime) < minIdle) continue;
    if (!consumerReady) {
      gs.ensureConsumer(group, g, consumer, now, true);
      consumerReady = true;
    }
    claimOne(gs, group, g, v.id, consumer, v, now, undefined, justId);
    const entry = Buffer.from(value);
    const id = v.id;
    claimed.push(justId ? () => ctx.out.bulk(formatId(id)) : () => writeEntry(ctx.out, id, entry));
    left--;
  }
  if (i < visited.length) cursor = visited[i]!.id;
  if (claimed.length > 0 || deleted.length > 0) {
    gs.put(group, g);
    s.touch();
    s.save();
  }
  ctx.out.arrayHeader(3);
  ctx.out.bulk(formatId(cursor));
  ctx.out.arrayHeader(claimed.length);
  for (const r of claimed) r();
  ctx.out.arrayHeader(deleted.length);
  for (const id of deleted) ctx.out.bulk(formatId(id));
}

const ws = ['write', 'stream', 'slow'];
const wf = ['write', 'stream', 'fast'];
const one = { firstKey: 1, lastKey: 1, step: 1 };
const groupKey = { firstKey: 2, lastKey: 2, step: 1 };

export const streamGroupCommands: CommandSpec[] = [
  container('xgroup', [], ['slow'], [
    { name: 'create', arity: -5, flags: ['write', 'denyoom'], ...groupKey, categories: ws, run: xgroupCreate },
    { name: 'setid', arity: -5, flags: ['write'], ...groupKey, categories: ws, run: xgroupSetId },
    { name: 'destroy', arity: 4, flags: ['write'], ...groupKey, categories: ws, run: xgroupDestroy },
    { name: 'createconsumer', arity: 5, flags: ['write', 'denyoom'], ...groupKey, categories: ws, run: xgroupCreateConsumer },
    { name: 'delconsumer', arity: 5, flags: ['write'], ...groupKey, categories: ws, run: xgroupDelConsumer },
    { name: 'help', arity: 2, flags: ['loading', 'stale'], categories: ['stream', 'slow'], run: help(XGROUP_HELP) },
  ]),
  command({ name: 'xack', arity: -4, flags: ['write', 'fast'], ...one, categories: wf, run: xack }),
  command({ name: 'xpending', arity: -3, flags: ['readonly'], ...one, categories: ['read', 'stream', 'slow'], run: xpending }),
  command({ name: 'xclaim', arity: -6, flags: ['write', 'fast'], ...one, categories: wf, run: xclaim }),
  command({ name: 'xautoclaim', arity: -6, flags: ['write', 'fast'], ...one, categories: wf, run: xautoclaim }),
];
