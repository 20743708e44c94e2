import { XXH64_OUT, xxh64Any } from '../cluster/xxh64.js';
import { prefixUpperBound } from '../storage/key-layout.js';

/**
 * Record keys: what the store, replication and anti-entropy key records by, inside a slot.
 *
 * A user key is its own record key, except that one starting with 0xFF is stored as 0xFF ‖ key
 * (so it starts 0xFF 0xFF). That leaves every record key starting with 0xFF and then a byte that
 * is not 0xFF to the internal namespace, where collection elements live:
 *
 *   0xFF ‖ kind (1 byte) ‖ u32 BE user-key length ‖ user key ‖ generation (8 bytes) ‖ sub-key
 *
 * The length makes one collection's elements a contiguous range that no other key's elements
 * share; the generation ties elements to one life of the key (DEL or an overwrite starts a new
 * one, leaving the old elements unreachable until they are reclaimed); byte order inside a range
 * is the order sorted sets and lists rely on. The kind codes are on disk: they can never change.
 */

export const enum ElementKind {
  /**
   * Hash field → insertion stamp ‖ value (hash-order.ts; the value alone in a hash written before
   * stamps); set member → empty; sorted-set member → score (8 order-preserving bytes).
   * Stored at memberPosition(member) = 8-byte hash of the member ‖ member: positions spread
   * uniformly, so a random position lands on a random member (SPOP, SRANDMEMBER, HRANDFIELD,
   * ZRANDMEMBER) whatever prefixes members share, and the member is still there in full.
   */
  Member = 0x01,
  /** Sorted-set score index: score (8 order-preserving bytes) ‖ member → empty. */
  Score = 0x02,
  /** List element: position (8 bytes, big-endian) → value. */
  Position = 0x03,
  /** Stream entry: id (16 bytes: ms, seq, big-endian) → fields (stream-codec.ts). */
  StreamEntry = 0x04,
  /** Stream consumer group: group name → group state (stream-codec.ts). */
  StreamGroup = 0x05,
  /** A group's pending entries list: u32 group length ‖ group ‖ id → consumer, delivery time and count. */
  StreamPending = 0x06,
  /** A consumer's view of its group's PEL: u32 group length ‖ group ‖ u32 consumer length ‖ consumer ‖ id → empty. */
  StreamConsumerPending = 0x07,
  /** A group's consumer: u32 group length ‖ group ‖ consumer → seen time and pending count. */
  StreamConsumer = 0x08,
  /** A stream's storage node (entries grouped as Redis's listpacks are, for `~` trimming): u64 node → counts. */
  StreamNode = 0x09,
}

/** Every element kind: what copies, reclaims and completes a collection walks. */
export const ELEMENT_KINDS: readonly ElementKind[] = [
  ElementKind.Member, ElementKind.Score, ElementKind.Position,
  ElementKind.StreamEntry, ElementKind.StreamGroup, ElementKind.StreamPending, ElementKind.StreamConsumerPending,
  ElementKind.StreamConsumer, ElementKind.StreamNode,
];

const INTERNAL = 0xff;
const POSITION_HASH_BYTES = 8;
export const GENERATION_BYTES = 8;

/** The record key of a user key (escapes a leading 0xFF). */
export function recordKey(userKey: Buffer): Buffer {
  if (userKey.length === 0 || userKey[0] !== INTERNAL) return userKey;
  const rk = Buffer.allocUnsafe(userKey.length + 1);
  rk[0] = INTERNAL;
  userKey.copy(rk, 1);
  return rk;
}

/** True for a record key of the internal namespace (an element), never for a user key's. */
export function isInternalRecordKey(rk: Buffer): boolean {
  return rk.length > 1 && rk[0] === INTERNAL && rk[1] !== INTERNAL;
}

/** The user key a record key stands for; undefined for an internal record. */
export function userKeyOf(rk: Buffer): Buffer | undefined {
  if (rk.length === 0 || rk[0] !== INTERNAL) return rk;
  if (isInternalRecordKey(rk)) return undefined;
  return rk.subarray(1);
}

/** The common start of every element record key of one kind of one life of a key. */
export function elementPrefix(kind: ElementKind, userKey: Buffer, generation: Buffer): Buffer {
  if (generation.length !== GENERATION_BYTES) throw new RangeError(`generation must be ${GENERATION_BYTES} bytes`);
  const p = Buffer.allocUnsafe(6 + userKey.length + GENERATION_BYTES);
  p[0] = INTERNAL;
  p[1] = kind;
  p.writeUInt32BE(userKey.length, 2);
  userKey.copy(p, 6);
  generation.copy(p, 6 + userKey.length);
  return p;
}

export function elementKey(prefix: Buffer, sub: Buffer): Buffer {
  return Buffer.concat([prefix, sub], prefix.length + sub.length);
}

/** The sub-key of an element record key under `prefix`. */
export function subKeyOf(prefix: Buffer, rk: Buffer): Buffer {
  return rk.subarray(prefix.length);
}

/** The smallest key above every key that starts with `prefix`: the end of the prefix's range. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = prefixUpperBound(prefix);
  if (end === undefined) throw new RangeError('a prefix of only 0xFF bytes has no end');
  return end;
}

/**
 * Where a member is stored: a 64-bit hash of it (xxhash64, seed 0: the same on every node and
 * release, since replicas address the same records) followed by the member.
 */
export function memberPosition(member: Buffer): Buffer {
  const p = Buffer.allocUnsafe(POSITION_HASH_BYTES + member.length);
  // The JS XXH64 gives the native digest bit for bit (stored positions depend on it) at a quarter
  // of the cost of the native call and its result buffer for a short member.
  xxh64Any(member);
  p.writeUInt32BE(XXH64_OUT[0]!, 0);
  p.writeUInt32BE(XXH64_OUT[1]!, 4);
  member.copy(p, POSITION_HASH_BYTES);
  return p;
}

/** The member stored at a position (memberPosition's inverse). */
export function memberOf(position: Buffer): Buffer {
  return position.subarray(POSITION_HASH_BYTES);
}

/** The element kind and user key of an internal record key (for reclaiming and diagnostics). */
export function parseElementKey(rk: Buffer): { kind: ElementKind; userKey: Buffer; generation: Buffer; sub: Buffer } | undefined {
  if (!isInternalRecordKey(rk) || rk.length < 6) return undefined;
  const len = rk.readUInt32BE(2);
  const genAt = 6 + len;
  if (genAt + GENERATION_BYTES > rk.length) return undefined;
  return {
    kind: rk[1] as ElementKind,
    userKey: rk.subarray(6, genAt),
    generation: rk.subarray(genAt, genAt + GENERATION_BYTES),
    sub: rk.subarray(genAt + GENERATION_BYTES),
  };
}
