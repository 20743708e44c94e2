import { GENERATION_BYTES } from './record-keys.js';

/**
 * The value of a collection's metadata record (the record under the user key, of type Hash, List,
 * Set or ZSet). Layout (big-endian):
 *
 *   u8  format (META_FORMAT_V1)
 *   u8  flags: bit 0 = the collection has left its compact encoding (OBJECT ENCODING reports
 *       hashtable/skiplist instead of listpack/intset; as in Redis, it never goes back)
 *   8   generation: the life of the key its element records belong to
 *   u64 size: live elements, exact (kept by the slot's single fenced coordinator)
 *   lists only: u64 head, u64 tail: elements sit at positions head … tail-1
 *   flag bit 1 only: 16-byte base, the version of the metadata record of the same generation this
 *       one was computed from (set by a cluster coordinator: docs/decisions.md, "Collection lineage")
 *
 * Flag bit 2 ("suspect") is local to one replica and never set by a coordinator: this replica
 * applied a write whose base was not the version it held, so its element records may belong to
 * another branch of the collection's history or miss some; it is healed from a replica that
 * holds the collection completely (cluster/collection-healer.ts).
 *
 * Format META_FORMAT_EXTRA has the same first part and then bytes of the type's own (streams:
 * stream-codec.ts; hashes: the next insertion stamp, hash-order.ts), which this module carries
 * without reading them; the base, when flagged, follows them as the last 16 bytes.
 *
 * The size lives here so HLEN/SCARD/ZCARD/LLEN cost O(1). It stays exact because every write of a
 * collection is coordinated by the one node holding the slot's lease, from a view of the
 * collection that is complete (docs/decisions.md, "Collections").
 */

export const META_FORMAT_V1 = 0x01;
export const META_FORMAT_EXTRA = 0x02;
const TWO_POW_32 = 2 ** 32;
const BASE_BYTES = 2 + GENERATION_BYTES + 8;
const FLAG_LARGE = 0x01;
const FLAG_BASE = 0x02;
const FLAG_SUSPECT = 0x04;
const LIST_BYTES = BASE_BYTES + 16;
const LINEAGE_BYTES = 16;
/** Where a new list's first element goes: room for 2^52 pushes at either end. */
export const LIST_ORIGIN = 2 ** 52;

export interface CollectionMeta {
  generation: Buffer;
  size: number;
  /** Lists: first position in use; other types 0. */
  head: number;
  /** Lists: one past the last position in use; other types 0. */
  tail: number;
  /** Left the compact encoding (see the layout above). */
  large: boolean;
  /** The type's own metadata after the common part (format META_FORMAT_EXTRA), if it has any. */
  extra?: Buffer | undefined;
}

export function encodeMeta(meta: CollectionMeta, withPositions: boolean): Buffer {
  if (meta.extra !== undefined) {
    const b = Buffer.allocUnsafe(BASE_BYTES + meta.extra.length);
    b[0] = META_FORMAT_EXTRA;
    b[1] = meta.large ? FLAG_LARGE : 0;
    meta.generation.copy(b, 2);
    writeU64(b, 2 + GENERATION_BYTES, meta.size);
    meta.extra.copy(b, BASE_BYTES);
    return b;
  }
  const b = Buffer.allocUnsafe(withPositions ? LIST_BYTES : BASE_BYTES);
  b[0] = META_FORMAT_V1;
  b[1] = meta.large ? FLAG_LARGE : 0;
  meta.generation.copy(b, 2);
  writeU64(b, 2 + GENERATION_BYTES, meta.size);
  if (withPositions) {
    writeU64(b, BASE_BYTES, meta.head);
    writeU64(b, BASE_BYTES + 8, meta.tail);
  }
  return b;
}

/** Length of the layout without the optional base; throws on a value no layout fits. */
function layoutBytes(b: Buffer): number {
  const n = b.length > 1 && (b[1]! & FLAG_BASE) !== 0 ? b.length - LINEAGE_BYTES : b.length;
  if (b[0] === META_FORMAT_EXTRA && n >= BASE_BYTES) return n;
  if ((n !== BASE_BYTES && n !== LIST_BYTES) || b[0] !== META_FORMAT_V1) {
    throw new Error(`corrupt collection metadata (${b.length} bytes, format ${b[0]})`);
  }
  return n;
}

/**
 * The generation of encoded metadata, as a view into it, without decoding the rest: the version
 * listeners compare it on every write of a collection.
 */
export function metaGeneration(b: Buffer): Buffer {
  layoutBytes(b);
  return b.subarray(2, 2 + GENERATION_BYTES);
}

export function decodeMeta(b: Buffer): CollectionMeta {
  const n = layoutBytes(b);
  const generation = Buffer.from(b.subarray(2, 2 + GENERATION_BYTES));
  const size = readU64(b, 2 + GENERATION_BYTES);
  const large = (b[1]! & FLAG_LARGE) !== 0;
  // Object literals, not a spread of a common part: on Node 20 a spread followed by more
  // properties takes V8's slow path, about 1 µs, which was 7% of LRANGE's CPU.
  if (b[0] === META_FORMAT_EXTRA) return { generation, size, head: 0, tail: 0, large, extra: Buffer.from(b.subarray(BASE_BYTES, n)) };
  const withPositions = n === LIST_BYTES;
  return { generation, size, head: withPositions ? readU64(b, BASE_BYTES) : 0, tail: withPositions ? readU64(b, BASE_BYTES + 8) : 0, large, extra: undefined };
}

export function writeU64(b: Buffer, at: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a u64 in range: ${n}`);
  b.writeUInt32BE(Math.floor(n / TWO_POW_32), at);
  b.writeUInt32BE(n >>> 0, at + 4);
}

export function readU64(b: Buffer, at: number): number {
  return b.readUInt32BE(at) * TWO_POW_32 + b.readUInt32BE(at + 4);
}

/** The version this metadata was computed from (same generation); undefined when it started the generation or predates lineage. */
export function metaBase(b: Buffer): Buffer | undefined {
  const n = layoutBytes(b);
  return n === b.length ? undefined : b.subarray(n, n + LINEAGE_BYTES);
}

/** The value with its base set to `base` (or removed when undefined); other fields unchanged. */
export function withMetaBase(b: Buffer, base: Buffer | undefined): Buffer {
  const n = layoutBytes(b);
  const out = Buffer.allocUnsafe(n + (base === undefined ? 0 : LINEAGE_BYTES));
  b.copy(out, 0, 0, n);
  if (base === undefined) out[1] = out[1]! & ~FLAG_BASE;
  else {
    out[1] = out[1]! | FLAG_BASE;
    base.copy(out, n, 0, LINEAGE_BYTES);
  }
  return out;
}

/** True when this replica marked the collection's elements as possibly not matching this metadata. */
export function isSuspectMeta(b: Buffer): boolean {
  layoutBytes(b);
  return (b[1]! & FLAG_SUSPECT) !== 0;
}

/** The value with its element count replaced, everything else kept (a recount after a per-element merge). */
export function withMetaSize(b: Buffer, size: number): Buffer {
  layoutBytes(b);
  const out = Buffer.from(b);
  writeU64(out, 2 + GENERATION_BYTES, size);
  return out;
}

/** The value with the local suspect mark set or cleared. */
export function withSuspect(b: Buffer, suspect: boolean): Buffer {
  layoutBytes(b);
  const out = Buffer.from(b);
  out[1] = suspect ? out[1]! | FLAG_SUSPECT : out[1]! & ~FLAG_SUSPECT;
  return out;
}
