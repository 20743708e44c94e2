import { ERR, ReplyError, subcommandSyntaxError as syntax } from '../core/errors.js';
import { StreamGroups } from '../collections/stream-groups.js';
import { ENTRIES_READ_UNKNOWN, type ConsumerState, type GroupState } from '../collections/stream-codec.js';
import { groupLag } from '../collections/stream-lag.js';
import { formatId, MAX_ID, MIN_ID, type StreamId } from '../collections/stream-id.js';
import type { StreamType } from '../collections/stream-type.js';
import { container, type CommandContext } from './spec.js';
import { int64Arg, lower } from './args.js';
import { openStream, writeEntry } from './stream-args.js';

/**
 * XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP with Redis 7.0's fields. Every part is
 * read from the metadata and bounded scans (FULL's COUNT, default 10, bounds entries and each PEL
 * listed). radix-tree-keys counts the storage nodes (stream-type.ts), as Redis counts listpacks;
 * radix-tree-nodes is an estimate (ringkv keeps no radix tree).
 */

const FULL_COUNT_DEFAULT = 10;

function streamOf(ctx: CommandContext, key: Buffer): StreamType {
  const s = openStream(ctx.ks, key);
  if (s === undefined) throw new ReplyError(ERR.noSuchKey);
  return s;
}

function writeLag(ctx: CommandContext, s: StreamType, g: GroupState): void {
  const lag = groupLag(s.meta, s.length, g);
  if (lag === undefined) ctx.out.nullBulk();
  else ctx.out.int(lag);
}

function writeEntriesRead(ctx: CommandContext, g: GroupState): void {
  if (g.entriesRead === ENTRIES_READ_UNKNOWN) ctx.out.nullBulk();
  else ctx.out.int(g.entriesRead);
}

function writeHead(ctx: CommandContext, s: StreamType): void {
  const m = s.meta;
  ctx.out.bulk('length');
  ctx.out.int(s.length);
  ctx.out.bulk('radix-tree-keys');
  ctx.out.int(m.nodes);
  ctx.out.bulk('radix-tree-nodes');
  ctx.out.int(m.nodes + 1);
  ctx.out.bulk('last-generated-id');
  ctx.out.bulk(formatId(m.lastId));
  ctx.out.bulk('max-deleted-entry-id');
  ctx.out.bulk(formatId(m.maxDeletedId));
  ctx.out.bulk('entries-added');
  ctx.out.int(m.entriesAdded);
  ctx.out.bulk('recorded-first-entry-id');
  ctx.out.bulk(formatId(m.firstId));
}

function writeEdge(ctx: CommandContext, s: StreamType, last: boolean): void {
  let found: [StreamId, Buffer] | undefined;
  s.scan(MIN_ID, MAX_ID, last, (id, value) => {
    found = [id, Buffer.from(value)];
    return false;
  });
  if (found === undefined) ctx.out.nullBulk();
  else writeEntry(ctx.out, found[0], found[1]);
}

function xinfoStream(ctx: CommandContext, argv: Buffer[]): void {
  const s = streamOf(ctx, argv[2]!);
  const rest = argv.length - 3;
  if (rest === 0) {
    ctx.out.mapHeader(10);
    writeHead(ctx, s);
    ctx.out.bulk('groups');
    ctx.out.int(s.meta.groups);
    ctx.out.bulk('first-entry');
    writeEdge(ctx, s, false);
    ctx.out.bulk('last-entry');
    writeEdge(ctx, s, true);
    return;
  }
  if ((rest !== 1 && rest !== 3) || lower(argv[3]!) !== 'full') throw syntax(argv);
  let count = FULL_COUNT_DEFAULT;
  if (rest === 3) {
    if (lower(argv[4]!) !== 'count') throw syntax(argv);
    const n = int64Arg(argv[5]!);
    count = n < 0n ? FULL_COUNT_DEFAULT : n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
  }
  const within = (n: number): boolean => count === 0 || n < count;
  ctx.out.mapHeader(9);
  writeHead(ctx, s);
  ctx.out.bulk('entries');
  const entries: Array<[StreamId, Buffer]> = [];
  s.scan(MIN_ID, MAX_ID, false, (id, value) => {
    entries.push([id, Buffer.from(value)]);
    return within(entries.length);
  });
  ctx.out.arrayHeader(entries.length);
  for (const [id, value] of entries) writeEntry(ctx.out, id, value);
  ctx.out.bulk('groups');
  const gs = new StreamGroups(s);
  const groups: Array<[Buffer, GroupState]> = [];
  gs.scanGroups((name, g) => {
    groups.push([Buffer.from(name), g]);
    return true;
  });
  ctx.out.arrayHeader(groups.length);
  for (const [name, g] of groups) {
    ctx.out.mapHeader(7);
    ctx.out.bulk('name');
    ctx.out.bulk(name);
    ctx.out.bulk('last-delivered-id');
    ctx.out.bulk(formatId(g.lastId));
    ctx.out.bulk('entries-read');
    writeEntriesRead(ctx, g);
    ctx.out.bulk('lag');
    writeLag(ctx, s, g);
    ctx.out.bulk('pel-count');
    ctx.out.int(g.pending);
    ctx.out.bulk('pending');
    const pel: Array<[StreamId, Buffer, number, bigint]> = [];
    gs.scanPending(name, MIN_ID, MAX_ID, (id, p) => {
      if (!within(pel.length)) return false;
      pel.push([id, p.consumer, p.deliveryTime, p.deliveries]);
      return true;
    });
    ctx.out.arrayHeader(pel.length);
    for (const [id, consumer, time, n] of pel) {
      ctx.out.arrayHeader(4);
      ctx.out.bulk(formatId(id));
      ctx.out.bulk(consumer);
      ctx.out.int(time);
      ctx.out.int(n);
    }
    ctx.out.bulk('consumers');
    const consumers = consumersOf(gs, name);
    ctx.out.arrayHeader(consumers.length);
    for (const [c, state] of consumers) {
      ctx.out.mapHeader(4);
      ctx.out.bulk('name');
      ctx.out.bulk(c);
      ctx.out.bulk('seen-time');
      ctx.out.int(state.seenTime);
      ctx.out.bulk('pel-count');
      ctx.out.int(state.pending);
      ctx.out.bulk('pending');
      const own: Array<[StreamId, number, bigint]> = [];
      gs.scanConsumerPending(name, c, undefined, (id) => {
        if (!within(own.length)) return false;
        const p = gs.pending(name, id);
        if (p !== undefined) own.push([id, p.deliveryTime, p.deliveries]);
        return true;
      });
      ctx.out.arrayHeader(own.length);
      for (const [id, time, n] of own) {
        ctx.out.arrayHeader(3);
        ctx.out.bulk(formatId(id));
        ctx.out.int(time);
        ctx.out.int(n);
      }
    }
  }
}

function xinfoGroups(ctx: CommandContext, argv: Buffer[]): void {
  const s = streamOf(ctx, argv[2]!);
  const groups: Array<[Buffer, GroupState]> = [];
  new StreamGroups(s).scanGroups((name, g) => {
    groups.push([Buffer.from(name), g]);
    return true;
  });
  ctx.out.arrayHeader(groups.length);
  for (const [name, g] of groups) {
    ctx.out.mapHeader(6);
    ctx.out.bulk('name');
    ctx.out.bulk(name);
    ctx.out.bulk('consumers');
    ctx.out.int(g.consumers);
    ctx.out.bulk('pending');
    ctx.out.int(g.pending);
    ctx.out.bulk('last-delivered-id');
    ctx.out.bulk(formatId(g.lastId));
    ctx.out.bulk('entries-read');
    writeEntriesRead(ctx, g);
    ctx.out.bulk('lag');
    writeLag(ctx, s, g);
  }
}

function xinfoConsumers(ctx: CommandContext, argv: Buffer[]): void {
  const s = streamOf(ctx, argv[2]!);
  const gs = new StreamGroups(s);
  const group = argv[3]!;
  if (gs.get(group) === undefined) {
    throw new ReplyError(`NOGROUP No such consumer group '${group.toString('latin1')}' for key name '${argv[2]!.toString('latin1')}'`);
  }
  const now = ctx.ks.now;
  const consumers = consumersOf(gs, group);
  ctx.out.arrayHeader(consumers.length);
  for (const [name, c] of consumers) {
    ctx.out.mapHeader(3);
    ctx.out.bulk('name');
    ctx.out.bulk(name);
    ctx.out.bulk('pending');
    ctx.out.int(c.pending);
    ctx.out.bulk('idle');
    ctx.out.int(Math.max(0, now - c.seenTime));
  }
}

/** A group's consumers in name order, each name copied out of the scan (it reuses its buffer). */
function consumersOf(gs: StreamGroups, group: Buffer): Array<[Buffer, ConsumerState]> {
  const out: Array<[Buffer, ConsumerState]> = [];
  gs.scanConsumers(group, (name, state) => {
    out.push([Buffer.from(name), state]);
    return true;
  });
  return out;
}

const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

const rs = ['read', 'stream', 'slow'];
const key2 = { firstKey: 2, lastKey: 2, step: 1 };

export const xinfoCommand = container('xinfo', [], ['slow'], [
  { name: 'stream', arity: -3, flags: ['readonly'], ...key2, categories: rs, run: xinfoStream },
  { name: 'groups', arity: 3, flags: ['readonly'], ...key2, categories: rs, run: xinfoGroups },
  { name: 'consumers', arity: 4, flags: ['readonly'], ...key2, categories: rs, run: xinfoConsumers },
  {
    name: 'help', arity: 2, flags: ['loading', 'stale'], categories: ['stream', 'slow'],
    run: (ctx) => {
      ctx.out.arrayHeader(XINFO_HELP.length);
      for (const l of XINFO_HELP) ctx.out.simple(l);
    },
  },
]);
