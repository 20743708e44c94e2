import { ERR, ReplyError } from '../core/errors.js';
import { compareIds, formatId, isZeroId, MAX_ID, nextEntryId, U64_MAX, type ParsedId, type StreamId } from '../collections/stream-id.js';
import { StreamType } from '../collections/stream-type.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, lower } from './args.js';
import { idArg, openStream, rangeEndArg, rangeStartArg, strictIdArg, writeEntry, wrongArity } from './stream-args.js';
import { streamGroupCommands } from './consumer-groups.js';
import { streamReadCommands } from './stream-reads.js';
import { xinfoCommand } from './stream-info.js';

/**
 * The stream commands that work on entries: XADD, XTRIM, XDEL, XLEN, XRANGE, XREVRANGE, XSETID.
 * Argument parsing and replies in Redis 7.0's order of checks; the stream itself is
 * collections/stream-type.ts. Groups are stream-groups.ts, reads stream-reads.ts, XINFO
 * stream-info.ts.
 */

/** Entries `~` trimming may remove per command unless LIMIT says otherwise: 100 nodes, as Redis caps it. */
function approxLimitDefault(nodeEntries: number): number {
  const limit = 100 * nodeEntries;
  return limit <= 0 ? 10_000 : Math.min(limit, 1_000_000);
}

interface TrimArgs {
  rule: { maxLen: number } | { minId: StreamId } | undefined;
  approx: boolean;
  limit: number;
}

interface AddArgs extends TrimArgs {
  noMkStream: boolean;
  /** Undefined for `*`. */
  id: ParsedId | undefined;
  /** Where the field-value pairs start. */
  fieldsAt: number;
}

/** XADD's and XTRIM's options, as streamParseAddOrTrimArgsOrReply. */
function parseAddOrTrim(argv: Buffer[], xadd: boolean, nodeEntries: number): AddArgs {
  const a: AddArgs = { rule: undefined, approx: false, limit: 0, noMkStream: false, id: undefined, fieldsAt: argv.length };
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = lower(argv[i]!);
    if (xadd && opt === '*') {
      break;
    } else if ((opt === 'maxlen' || opt === 'minid') && more > 0) {
      if (a.rule !== undefined) throw new ReplyError('ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
      a.approx = false;
      const next = argv[i + 1]!.toString('latin1');
      if (more >= 2 && next === '~') {
        a.approx = true;
        i++;
      } else if (more >= 2 && next === '=') {
        i++;
      }
      if (opt === 'maxlen') {
        const n = int64Arg(argv[i + 1]!);
        if (n < 0n) throw new ReplyError('ERR The MAXLEN argument must be >= 0.');
        a.rule = { maxLen: n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n) };
      } else {
        a.rule = { minId: strictIdArg(argv[i + 1]!) };
      }
      i++;
    } else if (opt === 'limit' && more > 0) {
      const n = int64Arg(argv[i + 1]!);
      if (n < 0n) throw new ReplyError('ERR The LIMIT argument must be >= 0.');
      a.limit = n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
      limitGiven = true;
      i++;
    } else if (xadd && opt === 'nomkstream') {
      a.noMkStream = true;
    } else if (xadd) {
      a.id = idArg(argv[i]!, 0n, true, true);
      break;
    } else {
      throw new ReplyError(ERR.syntax);
    }
  }
  if (a.limit > 0 && a.rule === undefined) throw new ReplyError('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
  if (!xadd && a.rule === undefined) throw new ReplyError('ERR syntax error, XTRIM must be called with a trimming strategy');
  if (limitGiven) {
    if (!a.approx) throw new ReplyError('ERR syntax error, LIMIT cannot be used without the special ~ option');
  } else {
    a.limit = a.approx ? approxLimitDefault(nodeEntries) : 0;
  }
  a.fieldsAt = i + 1;
  return a;
}

function xadd(ctx: CommandContext, argv: Buffer[]): void {
  const a = parseAddOrTrim(argv, true, ctx.node.config.int('stream-node-max-entries'));
  const pairs = argv.length - a.fieldsAt;
  if (pairs < 2 || pairs % 2 === 1) throw wrongArity('xadd');
  if (a.id !== undefined && a.id.seqGiven && isZeroId(a.id.id)) throw new ReplyError('ERR The ID specified in XADD must be greater than 0-0');
  let s = StreamType.open(ctx.ks, argv[1]!);
  if (s === undefined) {
    if (a.noMkStream) return ctx.out.nullBulk();
    s = StreamType.create(ctx.ks, argv[1]!);
  }
  if (compareIds(s.meta.lastId, MAX_ID) === 0) throw new ReplyError('ERR The stream has exhausted the last possible ID, unable to add more items');
  // `ms-*` on the last id's ms once its sequence is 2^64-1: Redis 7.0's streamAppendItem fails
  // there without setting EDOM, so XADD answers with its other error, not "equal or smaller".
  if (a.id !== undefined && !a.id.seqGiven && a.id.id.ms === s.meta.lastId.ms && s.meta.lastId.seq === U64_MAX) throw new ReplyError('ERR Elements are too large to be stored');
  const id = nextEntryId(s.meta.lastId, a.id, ctx.ks.now);
  if (id === undefined) throw new ReplyError('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  s.add(id, argv.slice(a.fieldsAt), ctx.node.config.int('stream-node-max-entries'));
  if (a.rule !== undefined) s.trim(a.rule, a.approx, a.limit);
  s.save();
  ctx.out.bulk(formatId(id));
}

function xtrim(ctx: CommandContext, argv: Buffer[]): void {
  const a = parseAddOrTrim(argv, false, ctx.node.config.int('stream-node-max-entries'));
  const s = openStream(ctx.ks, argv[1]!);
  if (s === undefined) return ctx.out.int(0);
  const removed = s.trim(a.rule!, a.approx, a.limit);
  if (removed > 0 || s.layoutChanged) s.save();
  ctx.out.int(removed);
}

function xdel(ctx: CommandContext, argv: Buffer[]): void {
  const s = openStream(ctx.ks, argv[1]!);
  if (s === undefined) return ctx.out.int(0);
  const ids = argv.slice(2).map(strictIdArg);
  let deleted = 0;
  for (const id of ids) if (s.delete(id)) deleted++;
  if (deleted > 0) s.save();
  ctx.out.int(deleted);
}

function xlen(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.int(openStream(ctx.ks, argv[1]!)?.length ?? 0);
}

/** XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n]. */
function range(reverse: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const startArg = reverse ? argv[3]! : argv[2]!;
    const endArg = reverse ? argv[2]! : argv[3]!;
    const start = rangeStartArg(startArg);
    const end = rangeEndArg(endArg);
    let count = -1;
    for (let j = 4; j < argv.length; j++) {
      if (lower(argv[j]!) === 'count' && j + 1 < argv.length) {
        const n = int64Arg(argv[++j]!);
        count = n < 0n ? 0 : n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
      } else {
        throw new ReplyError(ERR.syntax);
      }
    }
    const s = openStream(ctx.ks, argv[1]!);
    if (s === undefined) return ctx.out.arrayHeader(0);
    if (count === 0) return ctx.out.nullArray();
    const found: Array<[StreamId, Buffer]> = [];
    s.scan(start, end, reverse, (id, value) => {
      found.push([id, Buffer.from(value)]);
      return count < 0 || found.length < count;
    });
    ctx.out.arrayHeader(found.length);
    for (const [id, value] of found) writeEntry(ctx.out, id, value);
  };
}

/** XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]. */
function xsetid(ctx: CommandContext, argv: Buffer[]): void {
  const id = strictIdArg(argv[2]!);
  let entriesAdded = -1n;
  let maxDeleted: StreamId | undefined;
  for (let i = 3; i < argv.length; i += 2) {
    const more = argv.length - 1 - i;
    const opt = lower(argv[i]!);
    if (opt === 'entriesadded' && more > 0) {
      entriesAdded = int64Arg(argv[i + 1]!);
      if (entriesAdded < 0n) throw new ReplyError('ERR entries_added must be positive');
    } else if (opt === 'maxdeletedid' && more > 0) {
      maxDeleted = strictIdArg(argv[i + 1]!);
      if (compareIds(id, maxDeleted) < 0) throw new ReplyError('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
    } else {
      throw new ReplyError(ERR.syntax);
    }
  }
  const s = openStream(ctx.ks, argv[1]!);
  if (s === undefined) throw new ReplyError(ERR.noSuchKey);
  if (s.length > 0) {
    const top = s.edge(true)!;
    if (compareIds(id, top) < 0) throw new ReplyError('ERR The ID specified in XSETID is smaller than the target stream top item');
    if (entriesAdded !== -1n && BigInt(s.length) > entriesAdded) throw new ReplyError('ERR The entries_added specified in XSETID is smaller than the target stream length');
  }
  s.meta.lastId = id;
  if (entriesAdded !== -1n) s.meta.entriesAdded = entriesAdded;
  if (maxDeleted !== undefined && !isZeroId(maxDeleted)) s.meta.maxDeletedId = maxDeleted;
  s.touch();
  s.save();
  ctx.out.ok();
}

const one = { firstKey: 1, lastKey: 1, step: 1 };
const rf = ['read', 'stream', 'fast'];
const rs = ['read', 'stream', 'slow'];
const wf = ['write', 'stream', 'fast'];
const ws = ['write', 'stream', 'slow'];

export const streamCommands: CommandSpec[] = [
  command({ name: 'xadd', arity: -5, flags: ['write', 'denyoom', 'fast'], ...one, categories: wf, run: xadd }),
  command({ name: 'xtrim', arity: -4, flags: ['write'], ...one, categories: ws, run: xtrim }),
  command({ name: 'xdel', arity: -3, flags: ['write', 'fast'], ...one, categories: wf, run: xdel }),
  command({ name: 'xlen', arity: 2, flags: ['readonly', 'fast'], ...one, categories: rf, run: xlen }),
  command({ name: 'xrange', arity: -4, flags: ['readonly'], ...one, categories: rs, run: range(false) }),
  command({ name: 'xrevrange', arity: -4, flags: ['readonly'], ...one, categories: rs, run: range(true) }),
  command({ name: 'xsetid', arity: -3, flags: ['write', 'denyoom', 'fast'], ...one, categories: wf, run: xsetid }),
  ...streamGroupCommands,
  ...streamReadCommands,
  xinfoCommand,
];
