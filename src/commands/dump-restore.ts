/**
 * DUMP and RESTORE with Redis 7.0's payload format (src/rdb/), so values move between ringkv and
 * redis-server in both directions (backup tools, `redis-cli --cluster import`, MIGRATE-style
 * copies by hand). DUMP reads every element: O(n), as in Redis. RESTORE decodes the whole payload
 * first (a bad payload changes nothing), then writes the elements through the collection model,
 * which logs them with the key's metadata in one frame; the compact/large encoding follows from
 * the configured limits as when Redis loads a value.
 *
 * IDLETIME and FREQ set the key's access information for the eviction policy and OBJECT
 * IDLETIME / FREQ, as Redis's objectSetLRUOrLFU does: FREQ under an LFU policy, IDLETIME otherwise.
 */
import { ERR, ReplyError } from '../core/errors.js';
import { EXPIRES_AT_MAX, ValueType, type Entry, type Keyspace } from './keyspace.js';
import { ListType } from '../collections/list-type.js';
import { isIntsetMember, SetType } from '../collections/set-type.js';
import { ZSetType, zsetIsLarge } from '../collections/zset-type.js';
import { entriesReadAt } from '../collections/stream-lag.js';
import { HashType } from '../collections/hash-type.js';
import { createDumpPayload, readDumpPayload, verifyDumpPayload, RdbFormatError } from '../rdb/dump-payload.js';
import type { DumpValue } from '../rdb/dump-value.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, lower } from './args.js';
import { zsetLimits } from './sorted-set-replies.js';
import { StreamType } from '../collections/stream-type.js';
import { StringValue } from '../strings/fragmented-string.js';
import { StreamGroups } from '../collections/stream-groups.js';
import { entryFields } from '../collections/stream-codec.js';
import { MAX_ID, MIN_ID, type StreamId } from '../collections/stream-id.js';
import type { StreamDump, StreamDumpGroup } from '../rdb/stream-value.js';

/** A stream with its counters, groups, pending entries and consumers, as RDB carries it. */
function streamDumpOf(ks: Keyspace, key: Buffer): StreamDump {
  const s = StreamType.open(ks, key)!;
  const entries: StreamDump['entries'] = [];
  s.scan(MIN_ID, MAX_ID, false, (id, value) => entries.push({ id, fields: entryFields(value).map((b) => Buffer.from(b)) }) > 0);
  return { kind: 'stream', entries, ...streamTailOf(s) };
}

/** A stream's ids, counters and consumer groups: what its RDB value holds after the entries. */
export function streamTailOf(s: StreamType): Omit<StreamDump, 'entries' | 'kind'> {
  const groups: StreamDumpGroup[] = [];
  const sg = new StreamGroups(s);
  sg.scanGroups((name, g) => {
    const group = Buffer.from(name);
    const pending: StreamDumpGroup['pending'] = [];
    sg.scanPending(group, MIN_ID, MAX_ID, (id, p) => pending.push({ id, deliveryTime: p.deliveryTime, deliveries: p.deliveries }) > 0);
    const consumers: StreamDumpGroup['consumers'] = [];
    sg.scanConsumers(group, (cname, c) => {
      const ids: StreamId[] = [];
      const consumer = Buffer.from(cname);
      sg.scanConsumerPending(group, consumer, undefined, (id) => ids.push(id) > 0);
      consumers.push({ name: consumer, seenTime: c.seenTime, pending: ids });
      return true;
    });
    groups.push({ name: group, lastId: g.lastId, entriesRead: g.entriesRead, pending, consumers });
    return true;
  });
  return { ...streamCountersOf(s), groups };
}

/** The ids and counter a stream's RDB value keeps beside its entries (an empty stream's first id is 0-0, as Redis writes it). */
export function streamCountersOf(s: StreamType): Pick<StreamDump, 'lastId' | 'firstId' | 'maxDeletedId' | 'entriesAdded'> {
  const m = s.meta;
  return { lastId: m.lastId, firstId: s.length === 0 ? MIN_ID : m.firstId, maxDeletedId: m.maxDeletedId, entriesAdded: m.entriesAdded };
}

/** Writes a decoded stream: its entries in order, then its counters as they were, then its groups. */
function writeStream(ks: Keyspace, key: Buffer, v: StreamDump, expiresAt: number, nodeEntries: number): void {
  const s = StreamType.create(ks, key);
  s.c.expiresAt = expiresAt;
  for (const e of v.entries) s.add(e.id, e.fields, nodeEntries);
  s.meta.lastId = v.lastId;
  s.meta.maxDeletedId = v.maxDeletedId;
  s.meta.entriesAdded = v.entriesAdded;
  const sg = new StreamGroups(s);
  for (const g of v.groups) {
    // A payload from before Redis 7.0 has no entries-read: estimated from the counters, as Redis loads one.
    const entriesRead = g.entriesRead ?? entriesReadAt(s.meta, s.length, g.lastId);
    if (!sg.create(g.name, g.lastId, entriesRead)) throw new ReplyError('ERR Bad data format');
    const state = sg.get(g.name)!;
    const owner = new Map<string, Buffer>();
    for (const c of g.consumers) {
      sg.ensureConsumer(g.name, state, c.name, c.seenTime, true);
      for (const id of c.pending) owner.set(`${id.ms}-${id.seq}`, c.name);
    }
    for (const p of g.pending) {
      const consumer = owner.get(`${p.id.ms}-${p.id.seq}`);
      if (consumer === undefined) throw new ReplyError('ERR Bad data format');
      sg.setPending(g.name, state, p.id, consumer, p.deliveryTime, p.deliveries);
    }
    sg.put(g.name, state);
  }
  s.save();
}

const INTSET_ENTRIES_CAP = 1 << 30;

/** A key's value as DUMP writes it; undefined for a type without an RDB form here. */
export function dumpValueOf(ks: Keyspace, key: Buffer, e: Entry): DumpValue | undefined {
  switch (e.type as ValueType) {
    case ValueType.String:
      return { kind: 'string', value: e.value };
    case ValueType.FragmentedString:
      // A large string changed in place: DUMP (and MIGRATE) send it whole, as any string.
      return { kind: 'string', value: StringValue.open(ks, key)!.all() };
    case ValueType.List: {
      const list = ListType.open(ks, key)!;
      const items: Buffer[] = [];
      list.scan(0, list.length, (v) => items.push(Buffer.from(v)) > 0);
      return { kind: 'list', items };
    }
    case ValueType.Set:
      return { kind: 'set', members: SetType.open(ks, key)!.members() };
    case ValueType.ZSet: {
      const entries: Array<[Buffer, number]> = [];
      ZSetType.open(ks, key)!.entries((m, s) => entries.push([m, s]));
      return { kind: 'zset', entries };
    }
    case ValueType.Stream:
      return streamDumpOf(ks, key);
    case ValueType.Hash: {
      const pairs: Array<[Buffer, Buffer]> = [];
      // In reply order: a listpack's insertion order, which a RESTORE on Redis or here keeps.
      HashType.open(ks, key)!.each((f, v) => pairs.push([Buffer.from(f), Buffer.from(v)]) > 0);
      return { kind: 'hash', pairs };
    }
    default:
      return undefined;
  }
}

function dump(ctx: CommandContext, argv: Buffer[]): void {
  const e = ctx.ks.get(argv[1]!);
  if (e === undefined) return ctx.out.nullBulk();
  const v = dumpValueOf(ctx.ks, argv[1]!, e);
  if (v === undefined) throw new ReplyError('ERR DUMP is not supported for the type of this key');
  ctx.out.bulk(createDumpPayload(v));
}

/** Writes a decoded value under `key` (known to be free), with the absolute expiry. */
function writeValue(ctx: CommandContext, key: Buffer, v: DumpValue, expiresAt: number): void {
  const { ks } = ctx;
  switch (v.kind) {
    case 'string':
      ks.set(key, ValueType.String, v.value, expiresAt);
      return;
    case 'list': {
      const list = ListType.create(ks, key);
      list.c.expiresAt = expiresAt;
      for (const item of v.items) list.push('right', item);
      list.save();
      return;
    }
    case 'set': {
      // The decoder refused repeated members: a fresh set takes them without probing.
      const set = SetType.create(ks, key);
      set.c.expiresAt = expiresAt;
      const intsetMax = Math.min(ctx.node.config.int('set-max-intset-entries'), INTSET_ENTRIES_CAP);
      set.fill(v.members, v.members.length <= intsetMax && v.members.every(isIntsetMember));
      set.save();
      return;
    }
    case 'zset': {
      const z = ZSetType.create(ks, key);
      z.c.expiresAt = expiresAt;
      const limits = zsetLimits(ctx);
      // Redis loads the whole set, then gives it the encoding its size and longest member call for:
      // a large one keeps a -0 score whatever the payload's order (ringkv's own DUMP lists the
      // lowest score first, so a -0 member came before the long member that makes the set large).
      if (zsetIsLarge(v.entries, limits)) z.c.markLarge();
      for (const [m, s] of v.entries) z.insert(m, s, limits);
      z.save();
      return;
    }
    case 'stream':
      writeStream(ks, key, v, expiresAt, ctx.node.config.int('stream-node-max-entries'));
      return;
    case 'hash': {
      const h = HashType.openOrCreate(ks, key);
      h.c.expiresAt = expiresAt;
      const limits = { entries: ctx.node.config.int('hash-max-listpack-entries'), value: ctx.node.config.int('hash-max-listpack-value') };
      for (const [f, val] of v.pairs) h.set(f, val, limits);
      h.save();
    }
  }
}

/** RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]: checks in Redis's order. */
function restore(ctx: CommandContext, argv: Buffer[]): void {
  let replace = false;
  let absTtl = false;
  let idle = -1n;
  let freq = -1n;
  for (let j = 4; j < argv.length; j++) {
    const more = argv.length - j - 1;
    const a = lower(argv[j]!);
    if (a === 'replace') replace = true;
    else if (a === 'absttl') absTtl = true;
    else if (a === 'idletime' && more >= 1 && freq === -1n) {
      idle = int64Arg(argv[++j]!);
      if (idle < 0n) throw new ReplyError('ERR Invalid IDLETIME value, must be >= 0');
    } else if (a === 'freq' && more >= 1 && idle === -1n) {
      freq = int64Arg(argv[++j]!);
      if (freq < 0n || freq > 255n) throw new ReplyError('ERR Invalid FREQ value, must be >= 0 and <= 255');
    } else throw new ReplyError(ERR.syntax);
  }
  const key = argv[1]!;
  if (!replace && ctx.ks.get(key) !== undefined) throw new ReplyError('BUSYKEY Target key name already exists.');
  const ttl = int64Arg(argv[2]!);
  if (ttl < 0n) throw new ReplyError('ERR Invalid TTL value, must be >= 0');
  const payload = argv[3]!;
  if (!verifyDumpPayload(payload)) throw new ReplyError('ERR DUMP payload version or checksum are wrong');
  let value: DumpValue;
  try {
    value = readDumpPayload(payload);
  } catch (err) {
    if (err instanceof RdbFormatError) throw new ReplyError('ERR Bad data format');
    throw err;
  }
  if (replace) ctx.ks.del(key);
  let expiresAt = 0;
  if (ttl > 0n) {
    const at = absTtl ? ttl : ttl + BigInt(ctx.ks.now);
    expiresAt = at > BigInt(EXPIRES_AT_MAX) ? EXPIRES_AT_MAX : Number(at);
    // Already expired: nothing is created (a replaced key stays deleted), and the answer is OK.
    if (expiresAt <= ctx.ks.now) return ctx.out.ok();
  }
  writeValue(ctx, key, value, expiresAt);
  ctx.node.eviction?.restoreAccess(key, ctx.ks.now, Number(idle), Number(freq));
  ctx.out.ok();
}

export const dumpRestoreCommands: CommandSpec[] = [
  command({ name: 'dump', arity: 2, flags: ['readonly'], firstKey: 1, lastKey: 1, step: 1, categories: ['keyspace', 'read', 'slow'], run: dump }),
  command({ name: 'restore', arity: -4, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, step: 1, categories: ['keyspace', 'write', 'slow', 'dangerous'], run: restore }),
  // What a Redis Cluster node's MIGRATE sends its target: RESTORE as if after ASKING. No slot is
  // ever importing here (slots move by ring placement, not key by key), so it is RESTORE.
  command({ name: 'restore-asking', arity: -4, flags: ['write', 'denyoom', 'asking'], firstKey: 1, lastKey: 1, step: 1, categories: ['keyspace', 'write', 'slow', 'dangerous'], run: restore }),
];
