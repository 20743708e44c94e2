import { readU64, writeU64 } from './meta-codec.js';
import { decodeId, encodeId, ID_BYTES, MIN_ID, type StreamId } from './stream-id.js';

/**
 * The bytes of a stream's records. A stream is a collection (meta-codec.ts, format EXTRA) whose
 * element records are of the Stream* kinds (record-keys.ts). Every layout is big-endian and on
 * disk: fields are only ever added at the end.
 *
 * Stream metadata, after the common collection part (whose size is the stream's length):
 *   16  last id            the greatest id ever added (or set by XSETID)
 *   16  first id           the first live entry's id, 0-0 when empty
 *   16  max deleted id     the greatest id XDEL removed (XSETID may set it)
 *   u64 entries added      entries ever added (XSETID may set it)
 *   u64 next node          the number the next storage node gets
 *   u64 tail fill          entries added to the last node; TAIL_CLOSED once it is gone (older data: NODE_ENTRIES_MAX)
 *   u64 nodes              storage nodes (one emptied by an exact trim stays, as Redis keeps its listpack)
 *   u64 groups             consumer groups
 *   u64 head node          the first storage node's number (meaningless while there are none)
 *
 * Entry (StreamEntry, sub-key = 16-byte id):       u64 node ‖ u32 pairs ‖ (u32 length ‖ bytes) × 2·pairs
 * Node (StreamNode, sub-key = u64 node):           u64 live entries ‖ 16 last id added to it
 * Group (StreamGroup, sub-key = name):             16 last delivered id ‖ i64 entries read (-1 unknown) ‖ u64 pending ‖ u64 consumers
 * Pending (StreamPending, sub-key = group ‖ id):   u64 delivery time ms ‖ u64 deliveries ‖ consumer name
 * Consumer (StreamConsumer, sub-key = group ‖ consumer): u64 seen time ms ‖ u64 pending
 * Consumer pending (StreamConsumerPending, sub-key = group ‖ consumer ‖ id): empty
 * (`group` and `consumer` in sub-keys are u32 length ‖ bytes, so one group's records are one range.)
 */

/**
 * Entries per storage node by default, as Redis's stream-node-max-entries: `~` trims whole nodes.
 * XADD fills nodes to the setting in force (streams.ts); this is also the fill a new stream's
 * metadata starts with, so its first entry opens a node.
 */
export const NODE_ENTRIES_MAX = 100;
/** Tail fill of a stream whose last node is gone: above any node size, so the next entry opens one. */
export const TAIL_CLOSED = 2 ** 40;

export interface StreamMeta {
  lastId: StreamId;
  firstId: StreamId;
  maxDeletedId: StreamId;
  entriesAdded: bigint;
  nextNode: number;
  tailFill: number;
  nodes: number;
  groups: number;
  headNode: number;
}

const META_BYTES = 3 * ID_BYTES + 6 * 8;

export function emptyStreamMeta(): StreamMeta {
  return { lastId: MIN_ID, firstId: MIN_ID, maxDeletedId: MIN_ID, entriesAdded: 0n, nextNode: 0, tailFill: NODE_ENTRIES_MAX, nodes: 0, groups: 0, headNode: 0 };
}

export function encodeStreamMeta(m: StreamMeta): Buffer {
  const b = Buffer.allocUnsafe(META_BYTES);
  encodeId(m.lastId).copy(b, 0);
  encodeId(m.firstId).copy(b, 16);
  encodeId(m.maxDeletedId).copy(b, 32);
  b.writeBigUInt64BE(m.entriesAdded, 48);
  writeU64(b, 56, m.nextNode);
  writeU64(b, 64, m.tailFill);
  writeU64(b, 72, m.nodes);
  writeU64(b, 80, m.groups);
  writeU64(b, 88, m.headNode);
  return b;
}

export function decodeStreamMeta(b: Buffer): StreamMeta {
  if (b.length < META_BYTES) throw new Error(`corrupt stream metadata (${b.length} bytes)`);
  return {
    lastId: decodeId(b, 0),
    firstId: decodeId(b, 16),
    maxDeletedId: decodeId(b, 32),
    entriesAdded: b.readBigUInt64BE(48),
    nextNode: readU64(b, 56),
    tailFill: readU64(b, 64),
    nodes: readU64(b, 72),
    groups: readU64(b, 80),
    headNode: readU64(b, 88),
  };
}

/**
 * What WATCH compares for a stream: its generation, length, first entry id, entries-added counter
 * and expiry, not the record's version. Consumer-group commands (XREADGROUP, XACK, XCLAIM, XGROUP …)
 * write the stream's metadata too (every collection write carries it, for its lineage), but Redis
 * 7.0 does not count them as modifying the key, nor XSETID; a transaction watching a stream must
 * survive them. Every entry change moves one of these: XADD the counter and length, XDEL and
 * trimming the length; DEL and a new stream the generation. (XSETID ENTRIESADDED moves the counter,
 * where Redis would leave the watch alone.)
 */
export function streamWatchVersion(meta: { generation: Buffer; size: number; extra?: Buffer | undefined }, expiresAt: number): Buffer {
  const at = meta.generation.length;
  const out = Buffer.alloc(at + 16 + ID_BYTES + 8);
  meta.generation.copy(out, 0);
  out.writeDoubleBE(meta.size, at);
  out.writeDoubleBE(expiresAt, at + 8);
  // firstId at ID_BYTES, entriesAdded at 3 · ID_BYTES of the stream's metadata (encodeStreamMeta).
  meta.extra?.copy(out, at + 16, ID_BYTES, 2 * ID_BYTES);
  meta.extra?.copy(out, at + 16 + ID_BYTES, 3 * ID_BYTES, 3 * ID_BYTES + 8);
  return out;
}

export function nodeKey(node: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  writeU64(b, 0, node);
  return b;
}

export function encodeEntry(node: number, fields: readonly Buffer[]): Buffer {
  let size = 12;
  for (const f of fields) size += 4 + f.length;
  const b = Buffer.allocUnsafe(size);
  writeU64(b, 0, node);
  b.writeUInt32BE(fields.length / 2, 8);
  let at = 12;
  for (const f of fields) {
    b.writeUInt32BE(f.length, at);
    f.copy(b, at + 4);
    at += 4 + f.length;
  }
  return b;
}

export function entryNode(b: Buffer): number {
  return readU64(b, 0);
}

/** The field-value pairs of an entry, flat (views into `b`). */
export function entryFields(b: Buffer): Buffer[] {
  const n = b.readUInt32BE(8) * 2;
  const out: Buffer[] = [];
  let at = 12;
  for (let i = 0; i < n; i++) {
    const len = b.readUInt32BE(at);
    out.push(b.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

export interface NodeState {
  live: number;
  lastId: StreamId;
}

export function encodeNode(n: NodeState): Buffer {
  const b = Buffer.allocUnsafe(8 + ID_BYTES);
  writeU64(b, 0, n.live);
  encodeId(n.lastId).copy(b, 8);
  return b;
}

export function decodeNode(b: Buffer): NodeState {
  return { live: readU64(b, 0), lastId: decodeId(b, 8) };
}

/** A group's entries read when unknown (Redis's SCG_INVALID_ENTRIES_READ). */
export const ENTRIES_READ_UNKNOWN = -1n;

export interface GroupState {
  lastId: StreamId;
  entriesRead: bigint;
  pending: number;
  consumers: number;
}

export function encodeGroup(g: GroupState): Buffer {
  const b = Buffer.allocUnsafe(ID_BYTES + 24);
  encodeId(g.lastId).copy(b, 0);
  b.writeBigInt64BE(g.entriesRead, 16);
  writeU64(b, 24, g.pending);
  writeU64(b, 32, g.consumers);
  return b;
}

export function decodeGroup(b: Buffer): GroupState {
  return { lastId: decodeId(b, 0), entriesRead: b.readBigInt64BE(16), pending: readU64(b, 24), consumers: readU64(b, 32) };
}

export interface PendingState {
  deliveryTime: number;
  deliveries: bigint;
  consumer: Buffer;
}

export function encodePending(p: PendingState): Buffer {
  const b = Buffer.allocUnsafe(16 + p.consumer.length);
  writeU64(b, 0, p.deliveryTime);
  // Redis keeps the count in a uint64_t and replies it as a long long: XCLAIM RETRYCOUNT -1 is
  // stored as 2^64-1 and read back as -1, and one more delivery wraps it to 0.
  b.writeBigUInt64BE(BigInt.asUintN(64, p.deliveries), 8);
  p.consumer.copy(b, 16);
  return b;
}

export function decodePending(b: Buffer): PendingState {
  return { deliveryTime: readU64(b, 0), deliveries: b.readBigInt64BE(8), consumer: Buffer.from(b.subarray(16)) };
}

export interface ConsumerState {
  seenTime: number;
  pending: number;
}

export function encodeConsumer(c: ConsumerState): Buffer {
  const b = Buffer.allocUnsafe(16);
  writeU64(b, 0, c.seenTime);
  writeU64(b, 8, c.pending);
  return b;
}

export function decodeConsumer(b: Buffer): ConsumerState {
  return { seenTime: readU64(b, 0), pending: readU64(b, 8) };
}

/** u32 length ‖ bytes: a name inside a sub-key, so one name's records are one contiguous range. */
export function lengthPrefixed(name: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4 + name.length);
  b.writeUInt32BE(name.length, 0);
  name.copy(b, 4);
  return b;
}

/** The name at `at` of a sub-key written with lengthPrefixed, and where the rest starts. */
export function readLengthPrefixed(b: Buffer, at: number): { name: Buffer; next: number } {
  const len = b.readUInt32BE(at);
  return { name: b.subarray(at + 4, at + 4 + len), next: at + 4 + len };
}
