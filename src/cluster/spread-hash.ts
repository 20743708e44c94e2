/**
 * FNV-1a from `basis` with a murmur3 finaliser, unsigned: for spreading keys over buckets and
 * digest positions, not for identity. Plain JS: a native hash call costs more than a short key.
 */
export function spreadHash32(key: Uint8Array, basis: number): number {
  let h = basis;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
