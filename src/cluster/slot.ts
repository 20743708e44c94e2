import { crc16 } from './crc16.js';

/** Number of hash slots; fixed by the Redis Cluster protocol. */
export const SLOT_COUNT = 16384;

const OPEN_BRACE = 0x7b; // '{'
const CLOSE_BRACE = 0x7d; // '}'

/**
 * Hash slot of a key, exactly as Redis's `keyHashSlot`: if the key has a `{`, and a `}` follows it
 * with at least one byte in between, only the bytes between the first `{` and the first `}` after
 * it are hashed; otherwise the whole key is. Works on raw bytes and allocates nothing, because
 * every request calls it.
 */
export function keySlot(key: Uint8Array): number {
  const len = key.length;
  let open = 0;
  while (open < len && key[open] !== OPEN_BRACE) open++;
  if (open === len) return crc16(key, 0, len) & (SLOT_COUNT - 1);

  let close = open + 1;
  while (close < len && key[close] !== CLOSE_BRACE) close++;
  // No closing brace, or an empty tag `{}`: Redis hashes the whole key.
  if (close === len || close === open + 1) return crc16(key, 0, len) & (SLOT_COUNT - 1);

  return crc16(key, open + 1, close) & (SLOT_COUNT - 1);
}
