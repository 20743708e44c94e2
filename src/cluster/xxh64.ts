/**
 * XXH64 (seed 0) in plain JS, bit for bit the digest xxhash-addon's native XXHash64 gives.
 *
 * Why: every write on every replica hashes (key, version) into its Merkle bucket, twice when it
 * replaces a version. The native call costs a N-API crossing, a subarray and a result Buffer each
 * time (about 0.7 µs, 5% of a replica's CPU under pipelined SETs); the entries are short (a key and
 * a 12-byte version), which JS hashes in a fraction of that. The digest must not change: replicas
 * of different releases compare bucket digests during a rolling upgrade.
 *
 * 64-bit words are (hi, lo) pairs of unsigned 32-bit halves; results go to module-level slots so
 * the hot path allocates nothing.
 */

// The five primes of XXH64, as 32-bit halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

let rh = 0;
let rl = 0;

/** (ah, al) * (bh, bl) mod 2^64 into (rh, rl). */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const lo0 = a0 * b0;
  const mid1 = a1 * b0;
  const mid2 = a0 * b1;
  const t = (lo0 >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff);
  rl = (((t & 0xffff) << 16) | (lo0 & 0xffff)) >>> 0;
  const high = a1 * b1 + (mid1 >>> 16) + (mid2 >>> 16) + (t >>> 16);
  rh = (high + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** (ah, al) + (bh, bl) mod 2^64 into (rh, rl). */
function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  rl = lo >>> 0;
  rh = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Rotate (h, l) left by n (0 < n < 64) into (rh, rl). */
function rotl(h: number, l: number, n: number): void {
  if (n === 32) {
    rh = l;
    rl = h;
    return;
  }
  if (n > 32) {
    const t = h;
    h = l;
    l = t;
    n -= 32;
  }
  rh = ((h << n) | (l >>> (32 - n))) >>> 0;
  rl = ((l << n) | (h >>> (32 - n))) >>> 0;
}

function read32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** round(acc, input) = rotl(acc + input * P2, 31) * P1, into (rh, rl). */
function round(ah: number, al: number, ih: number, il: number): void {
  mul(ih, il, P2H, P2L);
  add(ah, al, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

/** mergeRound(acc, v) = (acc ^ round(0, v)) * P1 + P4, into (rh, rl). */
function mergeRound(ah: number, al: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((ah ^ rh) >>> 0, (al ^ rl) >>> 0, P1H, P1L);
  add(rh, rl, P4H, P4L);
}

/** XXH64 with seed 0 of bytes[0, length); the digest is left in `xxh64Hi` and `xxh64Lo`. */
export function xxh64(bytes: Uint8Array, length: number): void {
  let p = 0;
  let hh: number;
  let hl: number;
  if (length >= 32) {
    // v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1 (seed 0)
    add(P1H, P1L, P2H, P2L);
    let v1h = rh, v1l = rl;
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    add(~P1H >>> 0, ~P1L >>> 0, 0, 1);
    let v4h = rh, v4l = rl;
    const limit = length - 32;
    while (p <= limit) {
      round(v1h, v1l, read32(bytes, p + 4), read32(bytes, p));
      v1h = rh; v1l = rl;
      round(v2h, v2l, read32(bytes, p + 12), read32(bytes, p + 8));
      v2h = rh; v2l = rl;
      round(v3h, v3l, read32(bytes, p + 20), read32(bytes, p + 16));
      v3h = rh; v3l = rl;
      round(v4h, v4l, read32(bytes, p + 28), read32(bytes, p + 24));
      v4h = rh; v4l = rl;
      p += 32;
    }
    rotl(v1h, v1l, 1);
    let ah = rh, al = rl;
    rotl(v2h, v2l, 7);
    add(ah, al, rh, rl);
    ah = rh; al = rl;
    rotl(v3h, v3l, 12);
    add(ah, al, rh, rl);
    ah = rh; al = rl;
    rotl(v4h, v4l, 18);
    add(ah, al, rh, rl);
    mergeRound(rh, rl, v1h, v1l);
    mergeRound(rh, rl, v2h, v2l);
    mergeRound(rh, rl, v3h, v3l);
    mergeRound(rh, rl, v4h, v4l);
    hh = rh;
    hl = rl;
  } else {
    hh = P5H;
    hl = P5L;
  }
  add(hh, hl, 0, length >>> 0);
  hh = rh;
  hl = rl;
  while (p + 8 <= length) {
    round(0, 0, read32(bytes, p + 4), read32(bytes, p));
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 27);
    mul(rh, rl, P1H, P1L);
    add(rh, rl, P4H, P4L);
    hh = rh;
    hl = rl;
    p += 8;
  }
  if (p + 4 <= length) {
    mul(0, read32(bytes, p), P1H, P1L);
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 23);
    mul(rh, rl, P2H, P2L);
    add(rh, rl, P3H, P3L);
    hh = rh;
    hl = rl;
    p += 4;
  }
  while (p < length) {
    mul(0, bytes[p]!, P5H, P5L);
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 11);
    mul(rh, rl, P1H, P1L);
    hh = rh;
    hl = rl;
    p++;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L);
  hl = (rl ^ (((rl >>> 29) | (rh << 3)) >>> 0)) >>> 0;
  hh = (rh ^ (rh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  xxh64Hi = rh;
  xxh64Lo = (rl ^ rh) >>> 0;
}

/** The last digest's high and low 32 bits (the native digest Buffer's words 0 and 1, big-endian). */
export let xxh64Hi = 0;
export let xxh64Lo = 0;

/** Sets the digest slots (for a digest the native hasher computed). */
export function setXxh64(hi: number, lo: number): void {
  xxh64Hi = hi;
  xxh64Lo = lo;
}
