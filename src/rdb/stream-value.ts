/**
 * Streams in Redis 7.0's RDB value format (type 19, RDB_TYPE_STREAM_LISTPACKS_2; type 15, the
 * 6.x form without first id, max deleted id and entries added, is read too). Entries travel in
 * listpack nodes keyed by their master id: a master entry (count, deleted, the master fields, 0)
 * then per entry flags, ms and seq deltas, the fields unless they are the master's (SAMEFIELDS),
 * the values and lp-count; deleted entries are flagged and skipped on reading. Then the
 * stream's counters and its consumer groups with their pending lists and consumers. Pure.
 */
import { check } from './rdb-errors.js';
import type { RdbReader } from './rdb-reader.js';
import type { RdbWriter } from './rdb-writer.js';
import { buildListpack, parseListpack } from './listpack.js';
import type { StreamId } from '../collections/stream-id.js';

export const RDB_TYPE_STREAM_LISTPACKS = 15;
export const RDB_TYPE_STREAM_LISTPACKS_2 = 19;

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
/** Entries per listpack node written (Redis's stream-node-max-entries default). */
const NODE_ENTRIES = 100;
const U64_MAX = 2n ** 64n - 1n;

export interface StreamDumpGroup {
  name: Buffer;
  lastId: StreamId;
  /**
   * -1 when unknown (Redis's SCG_INVALID_ENTRIES_READ); undefined when the payload predates the
   * counter (type 15), for the reader to estimate as Redis does when it loads one.
   */
  entriesRead: bigint | undefined;
  pending: Array<{ id: StreamId; deliveryTime: number; deliveries: bigint }>;
  consumers: Array<{ name: Buffer; seenTime: number; pending: StreamId[] }>;
}

export interface StreamDump {
  kind: 'stream';
  /** Fields and values alternating. */
  entries: Array<{ id: StreamId; fields: Buffer[] }>;
  lastId: StreamId;
  firstId: StreamId;
  maxDeletedId: StreamId;
  entriesAdded: bigint;
  groups: StreamDumpGroup[];
}

const rawId = (id: StreamId): Buffer => {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(id.ms, 0);
  b.writeBigUInt64BE(id.seq, 8);
  return b;
};
const idOf = (b: Buffer): StreamId => ({ ms: b.readBigUInt64BE(0), seq: b.readBigUInt64BE(8) });
const num = (n: number | bigint): Buffer => Buffer.from(String(n));

function int(b: Buffer | undefined): bigint {
  check(b !== undefined && /^-?\d+$/.test(b.toString('latin1')), 'stream listpack entry is not an integer');
  return BigInt(b.toString('latin1'));
}

/**
 * The stream's RDB value after its type byte: type 19's layout, or with `legacy` type 15's (Redis
 * before 7.0: no first id, max deleted id, entries added or per-group entries read), which the
 * DUMP/RESTORE tests use to stand for a payload from an older Redis.
 */
export function writeStream(w: RdbWriter, v: StreamDump, legacy = false): void {
  w.length(streamNodeCount(v.entries.length));
  for (let i = 0; i < v.entries.length; i += NODE_ENTRIES) writeStreamNode(w, v.entries.slice(i, i + NODE_ENTRIES));
  writeStreamTail(w, v, v.entries.length, legacy);
}

/** Entries per listpack node of a written stream. */
export const STREAM_NODE_ENTRIES = NODE_ENTRIES;

/** How many listpack nodes a stream of `length` entries is written as. */
export function streamNodeCount(length: number): number {
  return Math.ceil(length / NODE_ENTRIES);
}

/** One listpack node: up to NODE_ENTRIES entries, in id order. */
export function writeStreamNode(w: RdbWriter, node: StreamDump['entries']): void {
  const master = node[0]!.id;
  const masterFields = node[0]!.fields.filter((_, i) => i % 2 === 0);
  const items: Buffer[] = [num(node.length), num(0), num(masterFields.length), ...masterFields, num(0)];
  for (const e of node) {
    const fields = e.fields.filter((_, i) => i % 2 === 0);
    const values = e.fields.filter((_, i) => i % 2 === 1);
    const same = fields.length === masterFields.length && fields.every((f, i) => f.equals(masterFields[i]!));
    items.push(num(same ? FLAG_SAMEFIELDS : 0), num(e.id.ms - master.ms), num(e.id.seq - master.seq));
    if (same) items.push(...values);
    else {
      items.push(num(fields.length));
      for (let i = 0; i < fields.length; i++) items.push(fields[i]!, values[i]!);
    }
    items.push(num(fields.length + 3 + (same ? 0 : fields.length + 1)));
  }
  w.string(rawId(master));
  w.string(buildListpack(items));
}

/** What follows the nodes: the entry count, the ids and counters, and the consumer groups. */
export function writeStreamTail(w: RdbWriter, v: Omit<StreamDump, 'entries' | 'kind'>, length: number, legacy = false): void {
  writeStreamCounters(w, v, length, legacy);
  w.length(v.groups.length);
  for (const g of v.groups) {
    writeGroupHead(w, g, legacy);
    w.length(g.pending.length);
    for (const p of g.pending) writePendingEntry(w, p);
    w.length(g.consumers.length);
    for (const c of g.consumers) {
      writeConsumerHead(w, c);
      w.length(c.pending.length);
      for (const id of c.pending) writeConsumerPendingId(w, id);
    }
  }
}

/*
 * The parts of a stream's tail, for writers that state each count first and then write its items
 * a page at a time (commands/rdb-large-stream.ts).
 */

/** The entry count, then the ids and counter a stream keeps beside its entries. */
export function writeStreamCounters(w: RdbWriter, v: Pick<StreamDump, 'lastId' | 'firstId' | 'maxDeletedId' | 'entriesAdded'>, length: number, legacy = false): void {
  w.length(length);
  for (const id of legacy ? [v.lastId] : [v.lastId, v.firstId, v.maxDeletedId]) {
    w.bigLength(id.ms);
    w.bigLength(id.seq);
  }
  if (!legacy) w.bigLength(v.entriesAdded);
}

/** A group's name, last delivered id and entries read; its pending count follows. */
export function writeGroupHead(w: RdbWriter, g: Pick<StreamDumpGroup, 'name' | 'lastId' | 'entriesRead'>, legacy = false): void {
  w.string(g.name);
  w.bigLength(g.lastId.ms);
  w.bigLength(g.lastId.seq);
  if (!legacy) w.bigLength(g.entriesRead === undefined || g.entriesRead < 0n ? U64_MAX : g.entriesRead);
}

export function writePendingEntry(w: RdbWriter, p: StreamDumpGroup['pending'][number]): void {
  w.raw(rawId(p.id));
  w.raw(msTimeBytes(p.deliveryTime));
  w.bigLength(p.deliveries);
}

/** A consumer's name and seen time; its pending count follows. */
export function writeConsumerHead(w: RdbWriter, c: Pick<StreamDumpGroup['consumers'][number], 'name' | 'seenTime'>): void {
  w.string(c.name);
  w.raw(msTimeBytes(c.seenTime));
}

export function writeConsumerPendingId(w: RdbWriter, id: StreamId): void {
  w.raw(rawId(id));
}

function msTimeBytes(ms: number): Buffer {
  const t = Buffer.allocUnsafe(8);
  t.writeBigInt64LE(BigInt(ms));
  return t;
}

/** A millisecond Unix time as rdbLoadMillisecondTime reads it, within what the store keeps. */
function msTime(r: RdbReader): number {
  const t = r.bytes(8).readBigInt64LE(0);
  check(t >= 0n && t <= BigInt(Number.MAX_SAFE_INTEGER), 'time out of range');
  return Number(t);
}

export function readStream(type: number, r: RdbReader): StreamDump {
  const entries: StreamDump['entries'] = [];
  const nodes = r.length();
  for (let n = 0; n < nodes; n++) {
    const key = r.string();
    check(key.length === 16, 'stream node key is not an id');
    const master = idOf(key);
    const lp = parseListpack(r.string());
    let i = 0;
    const next = (): Buffer => {
      check(i < lp.length, 'stream listpack ends inside an entry');
      return lp[i++]!;
    };
    int(next()); // live entries
    int(next()); // deleted entries
    const masterCount = Number(int(next()));
    const masterFields: Buffer[] = [];
    for (let f = 0; f < masterCount; f++) masterFields.push(next());
    check(int(next()) === 0n, 'stream master entry not terminated');
    while (i < lp.length) {
      const flags = Number(int(next()));
      const id = { ms: master.ms + int(next()), seq: master.seq + int(next()) };
      const fields: Buffer[] = [];
      if (flags & FLAG_SAMEFIELDS) for (const f of masterFields) fields.push(f, next());
      else {
        const count = Number(int(next()));
        for (let f = 0; f < count; f++) fields.push(next(), next());
      }
      int(next()); // lp-count
      check(id.ms >= 0n && id.ms <= U64_MAX && id.seq >= 0n && id.seq <= U64_MAX, 'stream entry id out of range');
      const prev = entries[entries.length - 1]?.id;
      check(prev === undefined || id.ms > prev.ms || (id.ms === prev.ms && id.seq > prev.seq), 'stream entries out of order');
      if (!(flags & FLAG_DELETED)) entries.push({ id, fields });
    }
  }
  const length = r.length();
  check(length === entries.length, 'stream length differs from its entries');
  const readId = (): StreamId => ({ ms: r.bigLength(), seq: r.bigLength() });
  const lastId = readId();
  const tail = entries[entries.length - 1]?.id;
  check(tail === undefined || lastId.ms > tail.ms || (lastId.ms === tail.ms && lastId.seq >= tail.seq), 'stream last id before its last entry');
  let firstId = entries[0]?.id ?? { ms: 0n, seq: 0n };
  let maxDeletedId = { ms: 0n, seq: 0n };
  let entriesAdded = BigInt(entries.length);
  if (type === RDB_TYPE_STREAM_LISTPACKS_2) {
    firstId = readId();
    maxDeletedId = readId();
    entriesAdded = r.bigLength();
  }
  const groups: StreamDumpGroup[] = [];
  const groupCount = r.length();
  for (let g = 0; g < groupCount; g++) {
    const name = r.string();
    const groupLast = readId();
    let entriesRead: bigint | undefined;
    if (type === RDB_TYPE_STREAM_LISTPACKS_2) {
      const e = r.bigLength();
      check(e === U64_MAX || e < 2n ** 63n, 'entries read beyond a signed 64-bit count');
      entriesRead = e === U64_MAX ? -1n : e;
    }
    const pending: StreamDumpGroup['pending'] = [];
    const pendingCount = r.length();
    for (let p = 0; p < pendingCount; p++) {
      const id = idOf(r.bytes(16));
      const deliveryTime = msTime(r);
      pending.push({ id, deliveryTime, deliveries: r.bigLength() });
    }
    const consumers: StreamDumpGroup['consumers'] = [];
    const consumerCount = r.length();
    for (let c = 0; c < consumerCount; c++) {
      const cname = r.string();
      const seenTime = msTime(r);
      const ids: StreamId[] = [];
      const n = r.length();
      for (let k = 0; k < n; k++) ids.push(idOf(r.bytes(16)));
      consumers.push({ name: cname, seenTime, pending: ids });
    }
    groups.push({ name, lastId: groupLast, entriesRead, pending, consumers });
  }
  return { kind: 'stream', entries, lastId, firstId, maxDeletedId, entriesAdded, groups };
}
