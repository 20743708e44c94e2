import { denseRaise, denseSet, HLL_DENSE_SIZE, HLL_HDR_SIZE, HLL_REGISTERS } from './hll-dense.js';

/**
 * The sparse HyperLogLog encoding, byte for byte as Redis's hyperloglog.c. After the 16-byte
 * header, a run-length sequence of opcodes covering the 16384 registers in order:
 *
 *   ZERO   00xxxxxx           1-64 registers set to 0 (length - 1 in x)
 *   XZERO  01xxxxxx yyyyyyyy  1-16384 registers set to 0 (14-bit length - 1)
 *   VAL    1vvvvvxx           1-4 registers (xx + 1) set to vvvvv + 1 (1-32)
 *
 * Setting a register splits the opcode that covers it (at most XZERO-VAL-XZERO, 5 bytes) and then
 * merges equal neighbouring VALs, exactly as Redis does, so the same PFADDs give the same bytes. A
 * value above 32, or a sequence that would grow past hll-sparse-max-bytes, promotes the value to
 * the dense encoding.
 */

const XZERO_BIT = 0x40;
const VAL_BIT = 0x80;
const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
export const HLL_SPARSE = 1;
export const HLL_DENSE = 0;

const isZero = (b: number): boolean => (b & 0xc0) === 0;
const isXzero = (b: number): boolean => (b & 0xc0) === XZERO_BIT;
const isVal = (b: number): boolean => (b & VAL_BIT) !== 0;
const zeroLen = (b: number): number => (b & 0x3f) + 1;
const xzeroLen = (b: number, b1: number): number => (((b & 0x3f) << 8) | b1) + 1;
const valValue = (b: number): number => ((b >>> 2) & 0x1f) + 1;
const valLen = (b: number): number => (b & 0x3) + 1;
const valByte = (val: number, len: number): number => (((val - 1) << 2) | (len - 1) | VAL_BIT) & 0xff;

/** A new, empty HLL: sparse, one XZERO covering every register, cache valid at 0. */
export function createSparse(): Buffer {
  const v = Buffer.alloc(HLL_HDR_SIZE + 2);
  v.write('HYLL', 0, 'latin1');
  v[4] = HLL_SPARSE;
  const l = XZERO_MAX_LEN - 1;
  v[HLL_HDR_SIZE] = (l >>> 8) | XZERO_BIT;
  v[HLL_HDR_SIZE + 1] = l & 0xff;
  return v;
}

/** Calls `run(first, length, value)` for each opcode; false when the sequence does not cover the registers exactly. */
function walk(v: Uint8Array, run: (first: number, len: number, value: number) => boolean): boolean {
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < v.length) {
    const b = v[p]!;
    if (isZero(b)) {
      idx += zeroLen(b);
      p++;
    } else if (isXzero(b)) {
      idx += xzeroLen(b, p + 1 < v.length ? v[p + 1]! : 0);
      p += 2;
    } else {
      const len = valLen(b);
      if (!run(idx, len, valValue(b))) return false;
      idx += len;
      p++;
    }
  }
  return idx === HLL_REGISTERS;
}

/** The dense form of a sparse value (header and cached cardinality kept); undefined when corrupt. */
export function sparseToDense(v: Uint8Array): Buffer | undefined {
  const dense = Buffer.alloc(HLL_DENSE_SIZE);
  dense.set(v.subarray(0, HLL_HDR_SIZE));
  dense[4] = HLL_DENSE;
  const ok = walk(v, (first, len, value) => {
    if (first + len > HLL_REGISTERS) return false;
    for (let i = 0; i < len; i++) denseSet(dense, first + i, value);
    return true;
  });
  return ok ? dense : undefined;
}

/** Adds the registers to the histogram; false when the sequence is corrupt. */
export function sparseHistogram(v: Uint8Array, histo: number[]): boolean {
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < v.length) {
    const b = v[p]!;
    if (isZero(b)) {
      const n = zeroLen(b);
      idx += n;
      histo[0]! += n;
      p++;
    } else if (isXzero(b)) {
      const n = xzeroLen(b, p + 1 < v.length ? v[p + 1]! : 0);
      idx += n;
      histo[0]! += n;
      p += 2;
    } else {
      const n = valLen(b);
      idx += n;
      histo[valValue(b)]! += n;
      p++;
    }
  }
  return idx === HLL_REGISTERS;
}

/** max[i] = MAX(max[i], register i); false when corrupt. */
export function sparseMergeInto(v: Uint8Array, max: Uint8Array): boolean {
  return walk(v, (first, len, value) => {
    if (first + len > HLL_REGISTERS) return false;
    for (let i = first; i < first + len; i++) if (value > max[i]!) max[i] = value;
    return true;
  });
}

/** PFDEBUG DECODE's text: "Z:16384", "z:3 v:2,1 …". */
export function sparseDecode(v: Uint8Array): string {
  const parts: string[] = [];
  let p = HLL_HDR_SIZE;
  while (p < v.length) {
    const b = v[p]!;
    if (isZero(b)) {
      parts.push(`z:${zeroLen(b)}`);
      p++;
    } else if (isXzero(b)) {
      parts.push(`Z:${xzeroLen(b, p + 1 < v.length ? v[p + 1]! : 0)}`);
      p += 2;
    } else {
      parts.push(`v:${valValue(b)},${valLen(b)}`);
      p++;
    }
  }
  return parts.join(' ');
}

export interface SetOutcome {
  /** The value after the change (a new buffer when it changed size or encoding). */
  value: Buffer;
  /** 1 when a register was raised, 0 when not, -1 when the value is corrupt. */
  result: 0 | 1 | -1;
}

/**
 * Raises register `index` to `count` if that is larger, as hllSparseSet: in place where the
 * opcode allows it, by splitting it otherwise, promoting to dense when needed. Invalidates the
 * cached cardinality when a register changed.
 */
export function sparseSet(value: Buffer, index: number, count: number, maxBytes: number): SetOutcome {
  if (count > VAL_MAX_VALUE) return promote(value, index, count);
  let v = value;
  const start = HLL_HDR_SIZE;
  let end = v.length;
  let p = start;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const b = v[p]!;
    let oplen = 1;
    if (isZero(b)) span = zeroLen(b);
    else if (isVal(b)) span = valLen(b);
    else {
      span = xzeroLen(b, p + 1 < end ? v[p + 1]! : 0);
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return { value, result: -1 };
  const b = v[p]!;
  const zero = isZero(b);
  const xzero = isXzero(b);
  const runlen = zero ? zeroLen(b) : xzero ? xzeroLen(b, v[p + 1] ?? 0) : valLen(b);

  let updated = false;
  if (!zero && !xzero) {
    if (valValue(b) >= count) return { value, result: 0 };
    if (runlen === 1) {
      v = Buffer.from(v);
      v[p] = valByte(count, 1);
      updated = true;
    }
  }
  if (!updated && zero && runlen === 1) {
    v = Buffer.from(v);
    v[p] = valByte(count, 1);
    updated = true;
  }
  if (!updated) {
    // General case: split the opcode into up to three (XZERO-VAL-XZERO is the largest, 5 bytes).
    const seq: number[] = [];
    const last = first + span - 1;
    const zeros = (len: number): void => {
      if (len > ZERO_MAX_LEN) seq.push(((len - 1) >>> 8) | XZERO_BIT, (len - 1) & 0xff);
      else seq.push(len - 1);
    };
    if (zero || xzero) {
      if (index !== first) zeros(index - first);
      seq.push(valByte(count, 1));
      if (index !== last) zeros(last - index);
    } else {
      const cur = valValue(b);
      if (index !== first) seq.push(valByte(cur, index - first));
      seq.push(valByte(count, 1));
      if (index !== last) seq.push(valByte(cur, last - index));
    }
    const oldlen = xzero ? 2 : 1;
    const delta = seq.length - oldlen;
    if (delta > 0 && v.length + delta > maxBytes) return promote(value, index, count);
    v = Buffer.concat([v.subarray(0, p), Buffer.from(seq), v.subarray(p + oldlen)]);
    end = v.length;
  }

  // Merge adjacent VALs of equal value, scanning up to 5 opcodes from the one before the change.
  // `v` is this call's own copy here, so it is edited in place.
  end = v.length;
  p = prev >= 0 ? prev : start;
  let scan = 5;
  while (p < end) {
    if (scan === 0) break;
    scan--;
    const c = v[p]!;
    if (isXzero(c)) {
      p += 2;
      continue;
    }
    if (isZero(c)) {
      p++;
      continue;
    }
    if (p + 1 < end && isVal(v[p + 1]!)) {
      const v1 = valValue(c);
      const v2 = valValue(v[p + 1]!);
      if (v1 === v2) {
        const len = valLen(c) + valLen(v[p + 1]!);
        if (len <= VAL_MAX_LEN) {
          v[p + 1] = valByte(v1, len);
          v.copyWithin(p, p + 1, end);
          end--;
          continue;
        }
      }
    }
    p++;
  }
  const out = end === v.length ? v : Buffer.from(v.subarray(0, end));
  invalidateCache(out);
  return { value: out, result: 1 };
}

function promote(value: Buffer, index: number, count: number): SetOutcome {
  const dense = sparseToDense(value);
  if (dense === undefined) return { value, result: -1 };
  denseRaise(dense, index, count);
  return { value: dense, result: 1 };
}

/** Marks the cached cardinality stale: the top bit of its last (most significant) byte. */
export function invalidateCache(v: Uint8Array): void {
  v[15] = v[15]! | 0x80;
}
