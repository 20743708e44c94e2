/**
 * Redis 7.0's LFU counter, in the same 24 bits an LRU clock would use: 16 bits of minutes (the
 * last decrement time) and an 8-bit logarithmic access counter (evict.c). A new key starts at
 * LFU_INIT_VAL so it is not evicted before it had a chance to be used again.
 */
export const LFU_INIT_VAL = 5;
const COUNTER_MAX = 255;
const MINUTES_MASK = 0xffff;

export interface LfuSettings {
  /** lfu-log-factor: how many hits it takes to raise the counter as it grows. */
  logFactor: number;
  /** lfu-decay-time: minutes per decrement of an idle counter; 0 = never. */
  decayMinutes: number;
}

export function lfuMinutes(nowMs: number): number {
  return Math.floor(nowMs / 60_000) & MINUTES_MASK;
}

export function packLfu(minutes: number, counter: number): number {
  return ((minutes & MINUTES_MASK) << 8) | (counter & COUNTER_MAX);
}

/** The field of a key just created. */
export function newLfu(nowMs: number): number {
  return packLfu(lfuMinutes(nowMs), LFU_INIT_VAL);
}

function elapsedMinutes(nowMinutes: number, ldt: number): number {
  return nowMinutes >= ldt ? nowMinutes - ldt : MINUTES_MASK - ldt + nowMinutes;
}

/** The counter after decay for the time elapsed (LFUDecrAndReturn); OBJECT FREQ reports it. */
export function decayedCounter(field: number, nowMs: number, s: LfuSettings): number {
  const ldt = field >>> 8;
  const counter = field & COUNTER_MAX;
  const periods = s.decayMinutes > 0 ? Math.floor(elapsedMinutes(lfuMinutes(nowMs), ldt) / s.decayMinutes) : 0;
  return periods > counter ? 0 : counter - periods;
}

/** Logarithmic increment (LFULogIncr): the higher the counter, the less likely a hit raises it. */
export function logIncrement(counter: number, s: LfuSettings, random: number): number {
  if (counter === COUNTER_MAX) return COUNTER_MAX;
  const base = Math.max(0, counter - LFU_INIT_VAL);
  const p = 1 / (base * s.logFactor + 1);
  return random < p ? counter + 1 : counter;
}

/** The field after one access (updateLFU): decay first, then the increment, stamped now. */
export function accessLfu(field: number, nowMs: number, s: LfuSettings, random: number): number {
  return packLfu(lfuMinutes(nowMs), logIncrement(decayedCounter(field, nowMs, s), s, random));
}
