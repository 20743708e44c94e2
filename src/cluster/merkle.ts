// xxhash-addon is CommonJS behind node-gyp-build, so Node's ESM loader cannot see named exports.
import xxhash from 'xxhash-addon';
import { assertVersion } from '../core/version.js';
import { DeepDigests, positionOf, type DeepOptions } from './merkle-deep.js';
import { spreadHash32 } from './spread-hash.js';
import { SLOT_COUNT } from './slot.js';
import { XXH64_OUT, xxh64Any } from './xxh64.js';

const { XXHash64 } = xxhash;

/**
 * Per-slot Merkle digests for anti-entropy, in two levels: slot → B buckets → entries. An entry
 * contributes a 64-bit hash of (key, version); a bucket is the XOR of its entries' hashes, so it
 * is independent of insertion order and updated in O(1) per write (XOR the old version's hash
 * out, the new one's in) instead of rescanning storage. Replicas compare slot digests first and
 * exchange only the keys of buckets whose digests differ.
 *
 * XOR alone would let two different sets collide when entries pair up, but entries are hashed
 * over key and version together, so that needs a 64-bit hash collision.
 */

export const DEFAULT_BUCKETS = 64;
/** Bounds one slot's bucket array (8 bytes per bucket) at 32 KB. */
export const BUCKETS_MAX = 4096;

/** Entries up to this size are hashed in JS from a reused buffer; longer ones stream natively. */
const ENTRY_SCRATCH_BYTES = 1024;

/**
 * Which bucket of its slot a key falls in; stable across nodes and releases. FNV-1a with a murmur3
 * finaliser in plain JS: a native hash call costs more than hashing a short key here, and only
 * spread matters for bucketing (the entry hash carries the collision resistance).
 */
export function bucketOf(key: Uint8Array, buckets: number = DEFAULT_BUCKETS): number {
  return spreadHash32(key, 0x811c9dc5) % buckets;
}


interface SlotState {
  /**
   * Bucket digests as 64-bit big-endian words, updated in 32-bit halves so a write creates no
   * bigints; kept in wire order so the slot digest hashes this buffer as it is.
   */
  bytes: Buffer;
  entries: number;
  /** Cached slot digest; undefined after a change. */
  digest: bigint | undefined;
}

export interface MerkleOptions {
  buckets?: number;
  /** The deeper digests of large slots (merkle-deep.ts). */
  deep?: DeepOptions;
}

export class MerkleIndex {
  readonly buckets: number;
  /** Indexed by slot; only slots holding entries have state, so an empty node costs ~128 KB. */
  private readonly slots: (SlotState | undefined)[] = new Array<SlotState | undefined>(SLOT_COUNT);
  /** Seed 0, so streaming a long key gives the same hash as the one-shot path. */
  private readonly entryScratch = Buffer.alloc(ENTRY_SCRATCH_BYTES);
  /** Deeper digests of the slots holding many records, beside the buckets (merkle-deep.ts). */
  readonly deep: DeepDigests;

  constructor(options: MerkleOptions = {}) {
    this.buckets = options.buckets ?? DEFAULT_BUCKETS;
    this.deep = new DeepDigests(options.deep);
    if (!Number.isInteger(this.buckets) || this.buckets < 1 || this.buckets > BUCKETS_MAX) {
      throw new RangeError(`merkle buckets must be an integer in [1, ${BUCKETS_MAX}]: ${this.buckets}`);
    }
  }

  /**
   * Records that `key` in `slot` went from `oldVersion` to `newVersion` (undefined = absent).
   * Tombstones are entries like any other; only purging one passes `newVersion` undefined.
   */
  update(
    slot: number, key: Uint8Array, oldVersion: Buffer | undefined, newVersion: Buffer | undefined,
    /** False while the slot's split scan has not read this key yet (merkle-tracker.ts). */
    splitScanPassed = true,
  ): void {
    assertSlot(slot);
    if (oldVersion !== undefined) assertVersion(oldVersion);
    if (newVersion !== undefined) assertVersion(newVersion);
    if (oldVersion === undefined && newVersion === undefined) return;

    const existing = this.slots[slot];
    if (oldVersion !== undefined && existing === undefined) {
      throw new Error(`merkle slot ${slot}: replacing an entry in a slot that has none`);
    }
    const state = existing ?? this.allocate(slot);
    const bucket = bucketOf(key, this.buckets);
    let hi = 0;
    let lo = 0;
    if (oldVersion !== undefined) {
      this.entryHash(key, oldVersion);
      hi ^= XXH64_OUT[0]!;
      lo ^= XXH64_OUT[1]!;
    }
    if (newVersion !== undefined) {
      this.entryHash(key, newVersion);
      hi ^= XXH64_OUT[0]!;
      lo ^= XXH64_OUT[1]!;
    }
    this.toggle(state, bucket, hi >>> 0, lo >>> 0);
    const delta = (newVersion === undefined ? 0 : 1) - (oldVersion === undefined ? 0 : 1);
    state.entries += delta;
    state.digest = undefined;
    // A slot's last entry gone: drop its arrays rather than keep 64 zero buckets per emptied slot.
    if (state.entries === 0) {
      this.slots[slot] = undefined;
      this.deep.drop(slot);
      return;
    }
    if (this.deep.tracks(slot, state.entries)) this.deep.apply(slot, positionOf(key), hi >>> 0, lo >>> 0, delta, state.entries, splitScanPassed);
  }

  /** A record the slot's split scan read: fills the building deeper digests (merkle-deep.ts). */
  addScanned(slot: number, key: Uint8Array, version: Buffer): void {
    this.entryHash(key, version);
    this.deep.addScanned(slot, positionOf(key), XXH64_OUT[0]!, XXH64_OUT[1]!);
  }

  /** XOR of every entry hash of the slot (of its bucket digests): what the deeper root must add up to. */
  slotXor(slot: number): Buffer {
    assertSlot(slot);
    const out = Buffer.alloc(8);
    const bytes = this.slots[slot]?.bytes;
    if (bytes === undefined) return out;
    for (let b = 0; b < this.buckets; b++) {
      out.writeUInt32BE((out.readUInt32BE(0) ^ bytes.readUInt32BE(b * 8)) >>> 0, 0);
      out.writeUInt32BE((out.readUInt32BE(4) ^ bytes.readUInt32BE(b * 8 + 4)) >>> 0, 4);
    }
    return out;
  }

  /** Number of keys recorded in the slot. */
  entryCount(slot: number): number {
    assertSlot(slot);
    return this.slots[slot]?.entries ?? 0;
  }

  /** Hash over the slot's bucket digests; 0n for a slot without entries. */
  slotDigest(slot: number): bigint {
    assertSlot(slot);
    const state = this.slots[slot];
    if (state === undefined) return 0n;
    state.digest ??= XXHash64.hash(state.bytes).readBigUInt64BE(0);
    return state.digest;
  }

  bucketDigests(slot: number): bigint[] {
    assertSlot(slot);
    const bytes = this.slots[slot]?.bytes;
    const result = new Array<bigint>(this.buckets);
    for (let b = 0; b < this.buckets; b++) result[b] = bytes === undefined ? 0n : bytes.readBigUInt64BE(b * 8);
    return result;
  }

  /**
   * One digest over the given slots (default: all), in ascending slot order whatever order they
   * come in; empty slots do not contribute, and no entries at all gives 0n.
   */
  rootDigest(slots?: Iterable<number>): bigint {
    const wanted = slots === undefined ? undefined : [...new Set(slots)].sort((a, b) => a - b);
    const present: number[] = [];
    for (const slot of wanted ?? this.occupiedSlots()) {
      assertSlot(slot);
      if (this.slots[slot] !== undefined) present.push(slot);
    }
    if (present.length === 0) return 0n;
    const buf = Buffer.allocUnsafe(present.length * 10);
    present.forEach((slot, i) => {
      buf.writeUInt16BE(slot, i * 10);
      buf.writeBigUInt64BE(this.slotDigest(slot), i * 10 + 2);
    });
    return XXHash64.hash(buf).readBigUInt64BE(0);
  }

  /** Indices of buckets whose digest differs from the peer's, ascending. */
  diffBuckets(slot: number, otherBuckets: readonly bigint[]): number[] {
    if (otherBuckets.length !== this.buckets) {
      throw new RangeError(`bucket count mismatch: ours ${this.buckets}, theirs ${otherBuckets.length}`);
    }
    const ours = this.bucketDigests(slot);
    const differing: number[] = [];
    for (let b = 0; b < ours.length; b++) if (ours[b] !== otherBuckets[b]) differing.push(b);
    return differing;
  }

  /** XORs an entry hash (or the XOR of two) into its bucket: the same call adds and removes. */
  private toggle(state: SlotState, bucket: number, hi: number, lo: number): void {
    const at = bucket * 8;
    state.bytes.writeUInt32BE((state.bytes.readUInt32BE(at) ^ hi) >>> 0, at);
    state.bytes.writeUInt32BE((state.bytes.readUInt32BE(at + 4) ^ lo) >>> 0, at + 4);
  }

  /**
   * xxh64 of key ‖ version into XXH64_OUT; unambiguous because the version has a fixed
   * length. Copied into a scratch buffer (a concatenation only for huge keys) and hashed by xxh64Any.
   */
  private entryHash(key: Uint8Array, version: Buffer): void {
    const length = key.length + version.length;
    if (length > ENTRY_SCRATCH_BYTES) {
      xxh64Any(Buffer.concat([key, version]));
      return;
    }
    this.entryScratch.set(key, 0);
    this.entryScratch.set(version, key.length);
    xxh64Any(this.entryScratch, length);
  }

  private allocate(slot: number): SlotState {
    const state: SlotState = { bytes: Buffer.alloc(this.buckets * 8), entries: 0, digest: undefined };
    this.slots[slot] = state;
    return state;
  }

  private *occupiedSlots(): Generator<number> {
    for (let slot = 0; slot < SLOT_COUNT; slot++) if (this.slots[slot] !== undefined) yield slot;
  }
}

function assertSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new RangeError(`slot out of range: ${slot}`);
  }
}
