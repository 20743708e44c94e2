/**
 * The LRU clock: 1/32 s ticks since the epoch in 29 bits, wrapping every ~194 days as Redis's
 * 24-bit seconds clock does (server.h LRU_BITS, LRU_CLOCK_RESOLUTION). Finer than Redis because a
 * whole second of ties let eviction pick a key written a moment ago (the last of a pipeline) over
 * ones written a second before it; 29 + 24 LFU bits still fit a double exactly (access-sketch.ts).
 */
export const LRU_CLOCK_BITS = 29;
export const LRU_CLOCK_MAX = 2 ** LRU_CLOCK_BITS - 1;
export const LRU_TICKS_PER_SECOND = 32;

export function lruClock(nowMs: number): number {
  return Math.floor((nowMs * LRU_TICKS_PER_SECOND) / 1000) % (LRU_CLOCK_MAX + 1);
}

/** ms since `lru` at clock `now`, allowing for one wrap-around (evict.c estimateObjectIdleTime). */
export function idleMs(now: number, lru: number): number {
  const ticks = now >= lru ? now - lru : now + (LRU_CLOCK_MAX - lru);
  return (ticks * 1000) / LRU_TICKS_PER_SECOND;
}
