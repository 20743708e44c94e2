/**
 * The dense HyperLogLog encoding, byte for byte as Redis's hyperloglog.c: after the 16-byte header,
 * 16384 registers of 6 bits each, packed from the least significant bit of each byte upwards
 * (register i starts at bit 6·i; 12288 bytes). Functions take the whole value and address the
 * registers past the header.
 */

export const HLL_P = 14;
export const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
export const HLL_BITS = 6;
export const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + Math.floor((HLL_REGISTERS * HLL_BITS + 7) / 8);

/** Register `i` of a dense value. The byte after the last register reads as 0 (Redis reads the sds terminator). */
export function denseGet(v: Uint8Array, i: number): number {
  const bit = i * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const fb = bit & 7;
  const b0 = v[at]!;
  const b1 = at + 1 < v.length ? v[at + 1]! : 0;
  return ((b0 >>> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX;
}

export function denseSet(v: Uint8Array, i: number, val: number): void {
  const bit = i * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const fb = bit & 7;
  v[at] = (v[at]! & ~(HLL_REGISTER_MAX << fb)) | ((val << fb) & 0xff);
  // The last register never reaches the next byte (fb = 2), so the bound check costs nothing real.
  if (at + 1 < v.length) v[at + 1] = (v[at + 1]! & ~(HLL_REGISTER_MAX >>> (8 - fb))) | (val >>> (8 - fb));
}

/** Raises register `i` to `count` if that is larger; 1 when it changed, as hllDenseSet. */
export function denseRaise(v: Uint8Array, i: number, count: number): 0 | 1 {
  if (count <= denseGet(v, i)) return 0;
  denseSet(v, i, count);
  return 1;
}

/** Adds each register's value to the histogram. */
export function denseHistogram(v: Uint8Array, histo: number[]): void {
  for (let i = 0; i < HLL_REGISTERS; i++) histo[denseGet(v, i)]!++;
}

/** max[i] = MAX(max[i], register i). */
export function denseMergeInto(v: Uint8Array, max: Uint8Array): void {
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const r = denseGet(v, i);
    if (r > max[i]!) max[i] = r;
  }
}
