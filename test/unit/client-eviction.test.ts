import { describe, expect, it } from 'vitest';
import { MIN_CLIENTS_LIMIT, clientsLimitBytes, clientsToEvict, normalizeClientsLimit } from '../../src/server/client-eviction.js';

describe('maxmemory-clients', () => {
  it('reads bytes and percentages as Redis 7.0 stores them', () => {
    expect(normalizeClientsLimit('1mb')).toBe('1048576');
    expect(normalizeClientsLimit('10%')).toBe('10%');
    expect(normalizeClientsLimit('0%')).toBe('0');
    expect(() => normalizeClientsLimit('101%')).toThrow('percentage argument must be less or equal to 100');
    for (const bad of ['-5%', '%', 'abc', '-1', '1.5mb']) expect(() => normalizeClientsLimit(bad)).toThrow('argument must be a memory or percent value');
  });

  it('a percentage is of maxmemory; a limit is never below the floor; 0 is off', () => {
    expect(clientsLimitBytes('0', 1 << 30)).toBe(0);
    expect(clientsLimitBytes('10%', 0)).toBe(0);
    expect(clientsLimitBytes('10%', 100 * 1024 * 1024)).toBe(10 * 1024 * 1024);
    expect(clientsLimitBytes('100', 0)).toBe(MIN_CLIENTS_LIMIT);
  });

  it('closes the biggest evictable clients until the total is below the limit', () => {
    const c = (client: string, memory: number, evictable = true) => ({ client, memory, evictable });
    expect(clientsToEvict([c('a', 100), c('b', 200)], 400)).toEqual([]);
    expect(clientsToEvict([c('a', 100), c('b', 300), c('c', 250)], 400)).toEqual(['b']);
    expect(clientsToEvict([c('a', 100), c('b', 300), c('c', 250)], 300)).toEqual(['b', 'c']);
    // A no-evict client counts towards the total but is never chosen.
    expect(clientsToEvict([c('keep', 500, false), c('a', 10), c('b', 20)], 400)).toEqual(['b', 'a']);
    expect(clientsToEvict([c('a', 100)], 0)).toEqual([]);
  });
});
