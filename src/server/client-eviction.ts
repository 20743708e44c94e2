/**
 * Client eviction (`maxmemory-clients`, Redis 7.0): when the memory all client connections hold
 * (query buffers, arguments, queued transactions, unsent replies) reaches the limit, the biggest
 * evictable clients are closed until it is below again. Pure: the node feeds it sizes and closes
 * the clients it names.
 */

import { parseMemory } from '../core/memory-units.js';

/** Redis never lets the limit fall below this, so a bad setting cannot cut every client off. */
export const MIN_CLIENTS_LIMIT = 128 * 1024;

/**
 * Checks a `maxmemory-clients` value (bytes in memory notation, or a percentage of maxmemory) and
 * returns its canonical form: bytes as a number, a percentage as "N%" ("0%" is "0"). Throws with
 * Redis 7.0's CONFIG SET reasons.
 */
export function normalizeClientsLimit(raw: string): string {
  // Not trimmed: Redis refuses blanks around the value (a config file's line is split before).
  const value = raw;
  if (value.length > 1 && value.endsWith('%')) {
    const pct = value.slice(0, -1);
    if (/^\d+$/.test(pct)) {
      const n = Number(pct);
      if (n > 100) throw new Error('percentage argument must be less or equal to 100');
      return n === 0 ? '0' : `${n}%`;
    }
  }
  const bytes = parseMemory(value);
  if (bytes === undefined) throw new Error('argument must be a memory or percent value');
  return String(bytes);
}

/** The limit in bytes a canonical setting gives under `maxmemory`; 0 = client eviction is off. */
export function clientsLimitBytes(setting: string, maxmemory: number): number {
  const bytes = setting.endsWith('%') ? Math.floor((maxmemory * Number(setting.slice(0, -1))) / 100) : Number(setting);
  return bytes > 0 ? Math.max(bytes, MIN_CLIENTS_LIMIT) : 0;
}

export interface ClientUsage<T> {
  client: T;
  /** Bytes it holds (CLIENT LIST tot-mem). */
  memory: number;
  /** Neither CLIENT NO-EVICT nor a kind Redis never evicts. */
  evictable: boolean;
}

/**
 * The clients to close, biggest first, so the total falls below `limit`; every client counts
 * towards the total, only evictable ones are chosen. Empty when the total is already below.
 */
export function clientsToEvict<T>(clients: readonly ClientUsage<T>[], limit: number): T[] {
  if (limit <= 0) return [];
  let total = 0;
  for (const c of clients) total += c.memory;
  if (total < limit) return [];
  const candidates = clients.filter((c) => c.evictable).sort((a, b) => b.memory - a.memory);
  const chosen: T[] = [];
  for (const c of candidates) {
    if (total < limit) break;
    chosen.push(c.client);
    total -= c.memory;
  }
  return chosen;
}
