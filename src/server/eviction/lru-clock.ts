/**
 * Redis's LRU clock: seconds since the epoch in 24 bits (wraps every ~194 days), the resolution
 * and width Redis 7.0 keeps in every object (server.h LRU_BITS, LRU_CLOCK_RESOLUTION).
 */
export const LRU_CLOCK_MAX = (1 << 24) - 1;
export const LRU_CLOCK_RESOLUTION_MS = 1000;

export function lruClock(nowMs: number): number {
  return Math.floor(nowMs / LRU_CLOCK_RESOLUTION_MS) & LRU_CLOCK_MAX;
}

/** ms since `lru` at clock `now`, allowing for one wrap-around (evict.c estimateObjectIdleTime). */
export function idleMs(now: number, lru: number): number {
  const ticks = now >= lru ? now - lru : now + (LRU_CLOCK_MAX - lru);
  return ticks * LRU_CLOCK_RESOLUTION_MS;
}
