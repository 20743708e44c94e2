/**
 * MurmurHash64A (MurmurHash2, 64-bit), endian-neutral as Redis's copy in hyperloglog.c: input words
 * are read little-endian whatever the host. HyperLogLog hashes every element with it (seed
 * 0xadc83b19), so the register an element lands in, and with it the bytes of the stored value,
 * are Redis's own.
 *
 * 64-bit arithmetic on two 32-bit halves: BigInt would be simpler but costs an allocation per step
 * on a path PFADD runs once per element.
 */

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const R = 47;

/** A 64-bit value as two unsigned 32-bit halves. */
export interface U64 {
  hi: number;
  lo: number;
}

/** Low 64 bits of a * b, both given as halves; result written into `out`. */
function mul(ahi: number, alo: number, bhi: number, blo: number, out: U64): void {
  // alo * blo exactly, from 16-bit limbs (every partial sum stays below 2^53).
  const a0 = alo & 0xffff, a1 = alo >>> 16;
  const b0 = blo & 0xffff, b1 = blo >>> 16;
  const mid = a0 * b1 + a1 * b0;
  const low = a0 * b0 + (mid % 65536) * 65536;
  const lo = low % 4294967296;
  const carry = Math.floor(low / 4294967296);
  const hi = a1 * b1 + Math.floor(mid / 65536) + carry;
  out.lo = lo >>> 0;
  out.hi = (hi + Math.imul(ahi, blo) + Math.imul(alo, bhi)) >>> 0;
}

/** x ^= x >>> 47, on halves. */
function xorShift47(x: U64): void {
  // Shifting right by 47 moves hi bits 15..31 into lo bits 0..16; hi becomes 0.
  x.lo = (x.lo ^ (x.hi >>> (R - 32))) >>> 0;
}

export function murmurHash64A(data: Uint8Array, seed: number): U64 {
  const len = data.length;
  const h: U64 = { hi: 0, lo: 0 };
  // h = seed ^ (len * m)
  mul(0, len >>> 0, M_HI, M_LO, h);
  h.lo = (h.lo ^ (seed >>> 0)) >>> 0;
  const k: U64 = { hi: 0, lo: 0 };
  const words = len - (len & 7);
  for (let i = 0; i < words; i += 8) {
    const klo = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    const khi = (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)) >>> 0;
    mul(khi, klo, M_HI, M_LO, k);
    xorShift47(k);
    mul(k.hi, k.lo, M_HI, M_LO, k);
    h.hi = (h.hi ^ k.hi) >>> 0;
    h.lo = (h.lo ^ k.lo) >>> 0;
    mul(h.hi, h.lo, M_HI, M_LO, h);
  }
  const rest = len & 7;
  if (rest > 0) {
    // The tail bytes are xored in at their little-endian places, then h is multiplied once.
    for (let j = rest - 1; j >= 0; j--) {
      const byte = data[words + j]!;
      if (j >= 4) h.hi = (h.hi ^ (byte << ((j - 4) * 8))) >>> 0;
      else h.lo = (h.lo ^ (byte << (j * 8))) >>> 0;
    }
    mul(h.hi, h.lo, M_HI, M_LO, h);
  }
  xorShift47(h);
  mul(h.hi, h.lo, M_HI, M_LO, h);
  xorShift47(h);
  return h;
}
