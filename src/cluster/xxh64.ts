/**
 * XXH64 (seed 0) in plain JS, bit for bit the digest xxhash-addon's native XXHash64 gives.
 *
 * Why: every write on every replica hashes (key, version) into its Merkle bucket, twice when it
 * replaces a version. The native call costs an N-API crossing, a subarray and a result Buffer each
 * time (about 1.2 µs here, 5% of a replica's CPU under pipelined SETs); the entries are short (a
 * key and a 12-byte version). The digest must not change: replicas of different releases compare
 * bucket digests during a rolling upgrade.
 *
 * 64-bit words live in registers of one Uint32Array (hi, lo per register) and the helpers take
 * register numbers, never 64-bit halves: a number above 2^30 passed to a call that is not inlined,
 * or kept in a module variable, is a heap object, and allocating two per step made the hash slower
 * than the native call it replaces.
 */

// xxhash-addon is CommonJS behind node-gyp-build, so Node's ESM loader cannot see named exports.
import xxhash from 'xxhash-addon';

const { XXHash64 } = xxhash;

/** Inputs up to this long are hashed in JS; longer ones natively, where the call's cost is paid back. */
const JS_MAX_BYTES = 256;

// The five primes of XXH64, as 32-bit halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

/** Registers 0–3: the four stripe accumulators; 4: the hash; 5: the input word. */
const T = new Uint32Array(12);
const H = 4;
const K = 5;

/** The last digest's high and low 32 bits (the native digest Buffer's words 0 and 1, big-endian). */
export const XXH64_OUT = new Uint32Array(2);

/** register r *= (bh, bl) mod 2^64 */
function mulC(r: number, bh: number, bl: number): void {
  const ah = T[2 * r]!;
  const al = T[2 * r + 1]!;
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const lo0 = a0 * b0;
  const mid1 = a1 * b0;
  const mid2 = a0 * b1;
  const t = (lo0 >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff);
  T[2 * r + 1] = ((t & 0xffff) << 16) | (lo0 & 0xffff);
  const high = a1 * b1 + (mid1 >>> 16) + (mid2 >>> 16) + (t >>> 16);
  T[2 * r] = high + Math.imul(ah, bl) + Math.imul(al, bh);
}

/** register r += (bh, bl) mod 2^64 */
function addC(r: number, bh: number, bl: number): void {
  const lo = T[2 * r + 1]! + bl;
  T[2 * r + 1] = lo;
  T[2 * r] = T[2 * r]! + bh + (lo > 0xffffffff ? 1 : 0);
}

/** register r += register s */
function addR(r: number, s: number): void {
  addC(r, T[2 * s]!, T[2 * s + 1]!);
}

/** register r ^= register s */
function xorR(r: number, s: number): void {
  T[2 * r] = T[2 * r]! ^ T[2 * s]!;
  T[2 * r + 1] = T[2 * r + 1]! ^ T[2 * s + 1]!;
}

/** register r rotated left by n, 0 < n < 32 */
function rotl(r: number, n: number): void {
  const h = T[2 * r]!;
  const l = T[2 * r + 1]!;
  T[2 * r] = (h << n) | (l >>> (32 - n));
  T[2 * r + 1] = (l << n) | (h >>> (32 - n));
}

/** register r = the little-endian 64-bit word at bytes[p] */
function load64(r: number, b: Uint8Array, p: number): void {
  T[2 * r + 1] = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
  T[2 * r] = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
}

/** register r = round(r, register K) = rotl(r + K * P2, 31) * P1; K is consumed. */
function round(r: number): void {
  mulC(K, P2H, P2L);
  addR(r, K);
  rotl(r, 31);
  mulC(r, P1H, P1L);
}

/** K = round(0, K) = rotl(K * P2, 31) * P1 */
function roundK(): void {
  mulC(K, P2H, P2L);
  rotl(K, 31);
  mulC(K, P1H, P1L);
}

/** H = rotl(H ^ K, n) * (mh, ml) + (ah, al): how the tail words enter the hash. */
function absorb(n: number, mh: number, ml: number, ah: number, al: number): void {
  xorR(H, K);
  rotl(H, n);
  mulC(H, mh, ml);
  addC(H, ah, al);
}

/** H = (H ^ round(0, register r)) * P1 + P4 */
function mergeRound(r: number): void {
  set(K, T[2 * r]!, T[2 * r + 1]!);
  roundK();
  xorR(H, K);
  mulC(H, P1H, P1L);
  addC(H, P4H, P4L);
}

/** H += rotl(register r, n), r unchanged */
function addRotated(r: number, n: number): void {
  set(K, T[2 * r]!, T[2 * r + 1]!);
  rotl(K, n);
  addR(H, K);
}

function set(r: number, hi: number, lo: number): void {
  T[2 * r] = hi;
  T[2 * r + 1] = lo;
}

/** XXH64 with seed 0 of bytes[0, length); the digest's high and low words are left in XXH64_OUT. */
export function xxh64(bytes: Uint8Array, length: number): void {
  let p = 0;
  if (length >= 32) {
    // Seed 0: v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1.
    set(0, P1H, P1L);
    addC(0, P2H, P2L);
    set(1, P2H, P2L);
    set(2, 0, 0);
    set(3, ~P1H, ~P1L);
    addC(3, 0, 1);
    const limit = length - 32;
    while (p <= limit) {
      load64(K, bytes, p);
      round(0);
      load64(K, bytes, p + 8);
      round(1);
      load64(K, bytes, p + 16);
      round(2);
      load64(K, bytes, p + 24);
      round(3);
      p += 32;
    }
    // H = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18), with copies so v1..v4 survive.
    set(H, T[0]!, T[1]!);
    rotl(H, 1);
    addRotated(1, 7);
    addRotated(2, 12);
    addRotated(3, 18);
    mergeRound(0);
    mergeRound(1);
    mergeRound(2);
    mergeRound(3);
  } else {
    set(H, P5H, P5L);
  }
  addC(H, 0, length);
  while (p + 8 <= length) {
    load64(K, bytes, p);
    roundK();
    absorb(27, P1H, P1L, P4H, P4L);
    p += 8;
  }
  if (p + 4 <= length) {
    set(K, 0, bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24));
    mulC(K, P1H, P1L);
    absorb(23, P2H, P2L, P3H, P3L);
    p += 4;
  }
  while (p < length) {
    set(K, 0, bytes[p]!);
    mulC(K, P5H, P5L);
    xorR(H, K);
    rotl(H, 11);
    mulC(H, P1H, P1L);
    p++;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  T[2 * H + 1] = T[2 * H + 1]! ^ (T[2 * H]! >>> 1);
  mulC(H, P2H, P2L);
  const hi = T[2 * H]!;
  T[2 * H + 1] = T[2 * H + 1]! ^ ((T[2 * H + 1]! >>> 29) | (hi << 3));
  T[2 * H] = hi ^ (hi >>> 29);
  mulC(H, P3H, P3L);
  XXH64_OUT[0] = T[2 * H]!;
  XXH64_OUT[1] = T[2 * H + 1]! ^ T[2 * H]!;
}

/**
 * XXH64 with seed 0 of bytes[0, length), in JS for short inputs and natively for long ones (the
 * same digest either way); the digest's high and low words are left in XXH64_OUT.
 */
export function xxh64Any(bytes: Uint8Array, length: number = bytes.length): void {
  if (length <= JS_MAX_BYTES) {
    xxh64(bytes, length);
    return;
  }
  const d = XXHash64.hash(Buffer.from(bytes.buffer, bytes.byteOffset, length));
  XXH64_OUT[0] = d.readUInt32BE(0);
  XXH64_OUT[1] = d.readUInt32BE(4);
}
