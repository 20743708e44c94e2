import { idleMs, lruClock } from './lru-clock.js';
import { decayedCounter, type LfuSettings } from './lfu-counter.js';

/** Redis 7.0's maxmemory-policy values. */
export type EvictionPolicy =
  | 'noeviction' | 'allkeys-lru' | 'allkeys-lfu' | 'allkeys-random'
  | 'volatile-lru' | 'volatile-lfu' | 'volatile-random' | 'volatile-ttl';

/** Only keys with a TTL are candidates. */
export function isVolatile(p: EvictionPolicy): boolean {
  return p.startsWith('volatile-');
}

export function usesLfu(p: EvictionPolicy): boolean {
  return p.endsWith('-lfu');
}

export function isRandom(p: EvictionPolicy): boolean {
  return p.endsWith('-random');
}

/** What the score of a sampled candidate is computed from. */
export interface Candidate {
  /** The key's 24-bit access field: LRU clock, or LFU minutes ‖ counter (access-sketch.ts). */
  access: number;
  /** Absolute expiry in Unix ms; 0 = none. */
  expiresAt: number;
}

/**
 * evictionPoolPopulate's "idle" score: the higher, the better a victim. LRU: ms since the last
 * access; LFU: 255 minus the decayed counter; volatile-ttl: the sooner the expiry, the higher.
 * Random policies do not use the pool.
 */
export function evictionScore(p: EvictionPolicy, c: Candidate, nowMs: number, lfu: LfuSettings): number {
  if (usesLfu(p)) return 255 - decayedCounter(c.access, nowMs, lfu);
  if (p === 'volatile-ttl') return Number.MAX_SAFE_INTEGER - c.expiresAt;
  return idleMs(lruClock(nowMs), c.access);
}
