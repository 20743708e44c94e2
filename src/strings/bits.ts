/**
 * Bit counting and searching over a string given as ordered chunks (fragmented-string.ts
 * StringValue.chunks): a chunk is either bytes or a run of zero bytes that was never written, so
 * BITCOUNT and BITPOS over a large sparse bitmap cost what is stored, not its length. Bit 0 is the
 * most significant bit of byte 0, as in Redis.
 */

/** Visits [startByte, endByte) in order; `bytes` undefined = `length` zero bytes. */
export type ChunkSource = (startByte: number, endByte: number, visit: (at: number, bytes: Buffer | undefined, length: number) => boolean) => void;

const POP = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP[i] = (i & 1) + POP[i >>> 1]!;

/** Bits of `byte` that lie within bit positions [lo, hi] of the string, for the byte at index `at`. */
function maskFor(at: number, lo: number, hi: number): number {
  const first = at * 8;
  let mask = 0xff;
  if (lo > first) mask &= 0xff >>> (lo - first);
  if (hi < first + 7) mask &= (0xff << (first + 7 - hi)) & 0xff;
  return mask;
}

/** Set bits in bit positions [lo, hi] (inclusive, lo <= hi, within the string). */
export function countBits(source: ChunkSource, lo: number, hi: number): number {
  let count = 0;
  const startByte = Math.floor(lo / 8);
  const endByte = Math.floor(hi / 8);
  source(startByte, endByte + 1, (at, bytes, length) => {
    if (bytes === undefined) return true;
    for (let i = 0; i < length; i++) {
      const index = at + i;
      let b = bytes[i]!;
      if (index === startByte || index === endByte) b &= maskFor(index, lo, hi);
      count += POP[b]!;
    }
    return true;
  });
  return count;
}

/**
 * The first bit position in [lo, hi] holding `bit`; -1 when there is none. A zero run counts as
 * holding zeros at every position.
 */
export function findBit(source: ChunkSource, bit: 0 | 1, lo: number, hi: number): number {
  let found = -1;
  const startByte = Math.floor(lo / 8);
  const endByte = Math.floor(hi / 8);
  source(startByte, endByte + 1, (at, bytes, length) => {
    if (bytes === undefined) {
      if (bit === 1) return true;
      found = Math.max(at * 8, lo);
      return false;
    }
    for (let i = 0; i < length; i++) {
      const index = at + i;
      const mask = index === startByte || index === endByte ? maskFor(index, lo, hi) : 0xff;
      const b = (bit === 1 ? bytes[i]! : ~bytes[i]! & 0xff) & mask;
      if (b !== 0) {
        found = index * 8 + Math.clz32(b) - 24;
        return false;
      }
    }
    return true;
  });
  return found;
}
