import { murmurHash64A } from './murmur64a.js';
import { denseHistogram, denseMergeInto, denseRaise, HLL_DENSE_SIZE, HLL_HDR_SIZE, HLL_P, HLL_Q, HLL_REGISTERS } from './hll-dense.js';
import { HLL_DENSE, HLL_SPARSE, invalidateCache, sparseHistogram, sparseMergeInto, sparseSet, sparseToDense } from './hll-sparse.js';

/**
 * HyperLogLog values as Redis 7.0 stores them: an ordinary string whose first 16 bytes are the
 * header
 *
 *   "HYLL"  u8 encoding (0 dense, 1 sparse)  3 bytes unused  u64 LE cached cardinality
 *
 * (the top bit of the cached cardinality set = stale), followed by the registers in the dense
 * (hll-dense.ts) or sparse (hll-sparse.ts) encoding. Everything here is pure: commands read the
 * string, call these, and write the result back.
 */

const HLL_SEED = 0xadc83b19;
const ALPHA_INF = 0.721347520444481703680;

export const INVALID_HLL = 'INVALIDOBJ Corrupted HLL object detected';
export const NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';

/** isHLLObjectOrReply's checks: header, magic, a known encoding, the dense size exact. */
export function isHll(v: Uint8Array): boolean {
  if (v.length < HLL_HDR_SIZE) return false;
  if (v[0] !== 0x48 || v[1] !== 0x59 || v[2] !== 0x4c || v[3] !== 0x4c) return false;
  if (v[4]! > HLL_SPARSE) return false;
  return !(v[4] === HLL_DENSE && v.length !== HLL_DENSE_SIZE);
}

export function isSparse(v: Uint8Array): boolean {
  return v[4] === HLL_SPARSE;
}

/** The register an element goes to and the value it proposes (hllPatLen). */
export function patternOf(element: Uint8Array): { index: number; count: number } {
  const h = murmurHash64A(element, HLL_SEED);
  const index = h.lo & (HLL_REGISTERS - 1);
  // The 50 bits above the index, then a 1 at bit 50 so the count stops at Q + 1.
  let count = 1;
  let bits = h.lo >>> HLL_P;
  let width = 32 - HLL_P;
  while (width > 0 && (bits & 1) === 0) {
    count++;
    bits >>>= 1;
    width--;
  }
  if (width > 0) return { index, count };
  bits = h.hi;
  width = HLL_Q - (32 - HLL_P);
  while (width > 0 && (bits & 1) === 0) {
    count++;
    bits >>>= 1;
    width--;
  }
  return { index, count };
}

export interface AddOutcome {
  value: Buffer;
  /** Registers raised (PFADD answers 1 if any, or if it created the key). */
  changed: number;
  corrupt: boolean;
}

/** Adds elements to a valid HLL value (hllAdd for each). */
export function addElements(value: Buffer, elements: readonly Uint8Array[], sparseMaxBytes: number): AddOutcome {
  let v = value;
  let changed = 0;
  for (const el of elements) {
    const { index, count } = patternOf(el);
    if (v[4] === HLL_DENSE) {
      if (v === value) v = Buffer.from(value);
      changed += denseRaise(v, index, count);
    } else {
      const r = sparseSet(v, index, count, sparseMaxBytes);
      if (r.result === -1) {
        // Redis changes the value in place element by element: what the elements before the
        // corrupt spot did stays (with the cache marked stale), although PFADD answers an error.
        if (changed > 0) {
          if (v === value) v = Buffer.from(value);
          invalidateCache(v);
        }
        return { value: v, changed, corrupt: true };
      }
      v = r.value;
      changed += r.result;
    }
  }
  if (changed > 0) {
    if (v === value) v = Buffer.from(value);
    invalidateCache(v);
  }
  return { value: v, changed, corrupt: false };
}

/** The cached cardinality, or undefined when stale (a u64, as Redis answers it). */
export function cachedCount(v: Buffer): bigint | undefined {
  if ((v[15]! & 0x80) !== 0) return undefined;
  return v.readBigUInt64LE(8);
}

/** The value with `card` written into the cache (valid). */
export function withCachedCount(v: Buffer, card: number): Buffer {
  const out = Buffer.from(v);
  out.writeBigUInt64LE(BigInt(card), 8);
  return out;
}

/** The register histogram of a valid value; undefined when its sparse sequence is corrupt. */
export function histogramOf(v: Uint8Array): number[] | undefined {
  const histo = new Array<number>(64).fill(0);
  if (v[4] === HLL_DENSE) denseHistogram(v, histo);
  else if (!sparseHistogram(v, histo)) return undefined;
  return histo;
}

/** The histogram of raw registers (one byte each): the union PFCOUNT builds over several keys. */
export function rawHistogram(max: Uint8Array): number[] {
  const histo = new Array<number>(64).fill(0);
  for (let i = 0; i < HLL_REGISTERS; i++) histo[max[i]!]!++;
  return histo;
}

/** max[i] = MAX(max[i], register i) for a valid value; false when corrupt. */
export function mergeInto(v: Uint8Array, max: Uint8Array): boolean {
  if (v[4] === HLL_DENSE) {
    denseMergeInto(v, max);
    return true;
  }
  return sparseMergeInto(v, max);
}

/** Ertl's sigma (arXiv:1702.01284), as hllSigma. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

/** Ertl's tau, as hllTau. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrime !== z);
  return z / 3;
}

/** The cardinality estimate from a register histogram: Redis 7.0's hllCount (Ertl's improved estimator). */
export function estimate(histo: readonly number[]): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - histo[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += histo[j]!;
    z *= 0.5;
  }
  z += m * sigma(histo[0]! / m);
  return Math.round((ALPHA_INF * m * m) / z);
}

/** The dense form (PFMERGE's destination when a source is dense, PFDEBUG TODENSE). */
export function toDense(v: Buffer): Buffer | undefined {
  return v[4] === HLL_DENSE ? v : sparseToDense(v);
}

/**
 * Writes merged registers into a destination value, as PFMERGE does register by register (so a
 * sparse destination gets exactly Redis's opcodes), and marks the cache stale.
 */
export function writeRegisters(dest: Buffer, max: Uint8Array, sparseMaxBytes: number): Buffer | undefined {
  let v: Buffer = Buffer.from(dest);
  for (let i = 0; i < HLL_REGISTERS; i++) {
    if (max[i] === 0) continue;
    if (v[4] === HLL_DENSE) denseRaise(v, i, max[i]!);
    else {
      const r = sparseSet(v, i, max[i]!, sparseMaxBytes);
      if (r.result === -1) return undefined;
      v = r.value;
    }
  }
  invalidateCache(v);
  return v;
}

export { HLL_REGISTERS };
