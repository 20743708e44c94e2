/**
 * Goal: the pure parts of eviction decide as Redis 7.0's evict.c does (LRU idle time across the
 * 24-bit clock's wrap, LFU logarithmic increment and decay, the 16-entry pool keeping the best
 * victims), the access sketch stays within its bound and ages untracked keys correctly, and an
 * eviction's tombstone is stamped just above the evicted version and dated for a short grace.
 * Method: the modules called directly with chosen times and random numbers.
 */
import { describe, expect, it } from 'vitest';
import { idleMs, lruClock, LRU_CLOCK_MAX } from '../../src/server/eviction/lru-clock.js';
import { accessLfu, decayedCounter, logIncrement, LFU_INIT_VAL, newLfu, packLfu, lfuMinutes } from '../../src/server/eviction/lfu-counter.js';
import { EvictionPool, EVPOOL_SIZE } from '../../src/server/eviction/eviction-pool.js';
import { AccessSketch, accessId } from '../../src/server/eviction/access-sketch.js';
import { evictionScore } from '../../src/server/eviction/eviction-policy.js';
import { timeBudgetUs } from '../../src/server/eviction/evictor.js';
import { evictionTombstone, successorVersion, EVICTION_TOMBSTONE_GRACE_MS } from '../../src/cluster/eviction-delete.js';
import { tombstoneMs } from '../../src/storage/tombstone-time.js';
import { compareVersions, encodeVersion } from '../../src/core/version.js';
import { ValueType } from '../../src/storage/types.js';

const LFU = { logFactor: 10, decayMinutes: 1 };

describe('LRU clock', () => {
  it('counts idle time in seconds and across the wrap of the 24-bit clock', () => {
    expect(idleMs(lruClock(10_000), lruClock(7_000))).toBe(3000);
    expect(idleMs(2, LRU_CLOCK_MAX - 1)).toBe(3000 / 32);
  });
});

describe('LFU counter', () => {
  it('starts new keys at 5 and raises the counter less often as it grows', () => {
    const now = 1_700_000_000_000;
    expect(decayedCounter(newLfu(now), now, LFU)).toBe(LFU_INIT_VAL);
    // At or below LFU_INIT_VAL every hit counts; above it, with probability 1/((c-5)*factor+1).
    expect(logIncrement(5, LFU, 0.99)).toBe(6);
    expect(logIncrement(6, LFU, 0.5)).toBe(6);
    expect(logIncrement(6, LFU, 0.05)).toBe(7);
    expect(logIncrement(255, LFU, 0)).toBe(255);
  });

  it('decays by one per lfu-decay-time minutes idle, never below 0, and not at all with 0', () => {
    const t0 = 1_700_000_000_000;
    const field = packLfu(lfuMinutes(t0), 20);
    expect(decayedCounter(field, t0 + 3 * 60_000, LFU)).toBe(17);
    expect(decayedCounter(field, t0 + 100 * 60_000, LFU)).toBe(0);
    expect(decayedCounter(field, t0 + 100 * 60_000, { logFactor: 10, decayMinutes: 0 })).toBe(20);
    expect(decayedCounter(accessLfu(field, t0 + 3 * 60_000, LFU, 0), t0 + 3 * 60_000, LFU)).toBe(18);
  });

  it('scores colder keys higher under LFU and idler keys higher under LRU; volatile-ttl the nearest expiry', () => {
    const now = 1_700_000_000_000;
    const hot = packLfu(lfuMinutes(now), 100);
    const cold = packLfu(lfuMinutes(now), 3);
    expect(evictionScore('allkeys-lfu', { access: cold, expiresAt: 0 }, now, LFU)).toBeGreaterThan(evictionScore('allkeys-lfu', { access: hot, expiresAt: 0 }, now, LFU));
    expect(evictionScore('allkeys-lru', { access: lruClock(now - 5000), expiresAt: 0 }, now, LFU)).toBeGreaterThan(evictionScore('allkeys-lru', { access: lruClock(now), expiresAt: 0 }, now, LFU));
    expect(evictionScore('volatile-ttl', { access: 0, expiresAt: now + 10 }, now, LFU)).toBeGreaterThan(evictionScore('volatile-ttl', { access: 0, expiresAt: now + 1000 }, now, LFU));
  });
});

describe('eviction pool', () => {
  it('keeps the 16 best candidates and gives the best first', () => {
    const pool = new EvictionPool();
    for (let i = 0; i < 40; i++) pool.offer({ score: (i * 7) % 40, slot: 0, rk: Buffer.from(`k${i}`), id: `k${i}` });
    expect(pool.size).toBe(EVPOOL_SIZE);
    const order: number[] = [];
    for (let e = pool.takeBest(); e !== undefined; e = pool.takeBest()) order.push(e.score);
    expect(order).toEqual(Array.from({ length: EVPOOL_SIZE }, (_, i) => 39 - i));
  });

  it('rescoring a key replaces its entry', () => {
    const pool = new EvictionPool();
    pool.offer({ score: 10, slot: 0, rk: Buffer.from('a'), id: 'a' });
    pool.offer({ score: 5, slot: 0, rk: Buffer.from('b'), id: 'b' });
    pool.offer({ score: 1, slot: 0, rk: Buffer.from('a'), id: 'a' });
    expect(pool.size).toBe(2);
    expect(pool.takeBest()!.id).toBe('b');
  });
});

describe('access sketch', () => {
  it('never holds more than its capacity, and untracked keys take the newest clock of the keys that left', () => {
    // Capacity 4: one set of four entries, so the least recently touched of all leaves first.
    const sketch = new AccessSketch(4, 100);
    for (let i = 0; i < 10; i++) sketch.set(i, { lru: 200 + i, lfu: i });
    expect(sketch.size).toBe(4);
    expect(sketch.get(0)).toBeUndefined();
    expect(sketch.get(5)).toBeUndefined();
    expect(sketch.get(9)).toEqual({ lru: 209, lfu: 9 });
    expect(sketch.floorLru).toBe(205);
    // Touching a key makes it the most recent: it outlives keys touched before it.
    sketch.touch(6, 300, () => 1);
    sketch.set(10, { lru: 301, lfu: 1 });
    expect(sketch.get(6)).toEqual({ lru: 300, lfu: 1 });
    expect(sketch.get(7)).toBeUndefined();
    expect(sketch.floorLru).toBe(207);
    sketch.delete(6);
    expect(sketch.size).toBe(3);
    // Lowering the capacity keeps the newest.
    sketch.capacity = 1;
    expect(sketch.size).toBe(1);
    expect(sketch.get(10)).toEqual({ lru: 301, lfu: 1 });
    expect(sketch.floorLru).toBe(209);
  });

  it('keeps a key in its set of four, whatever other sets hold', () => {
    const sketch = new AccessSketch(8, 100);
    // Ids 0, 2, 4, … share set 0 of two sets; 1 stays in set 1 while set 0 turns over.
    sketch.set(1, { lru: 150, lfu: 0 });
    for (let i = 0; i < 20; i += 2) sketch.set(i, { lru: 200 + i, lfu: 0 });
    expect(sketch.get(1)).toEqual({ lru: 150, lfu: 0 });
    expect(sketch.size).toBe(5);
  });

  it('tells keys apart by a hash of the record key, a small integer', () => {
    const ids = new Set(Array.from({ length: 100_000 }, (_, i) => accessId(Buffer.from(`key:${i}`))));
    // A 30-bit hash under a seed drawn per process: about 5 collisions expected, 25 seen once in CI
    // (a seed that suits FNV badly); a broken hash would give thousands.
    expect(ids.size).toBeGreaterThan(99_900);
    expect(accessId(Buffer.from('a'))).toBe(accessId(Buffer.from('a')));
    expect(Number.isSafeInteger(accessId(Buffer.from('a'.repeat(1000))))).toBe(true);
  });

  it('keeps the floor across the wrap of the clock', () => {
    const sketch = new AccessSketch(2, LRU_CLOCK_MAX - 5);
    sketch.set(1, { lru: LRU_CLOCK_MAX - 1, lfu: 0 });
    sketch.touch(2, 3, () => 0);
    sketch.touch(3, 4, () => 0);
    // 1 (touched before the wrap) is the least recent and leaves; the floor takes its clock,
    // newer than the start's.
    expect(sketch.get(1)).toBeUndefined();
    expect(sketch.get(2)).toBeDefined();
    expect(sketch.floorLru).toBe(LRU_CLOCK_MAX - 1);
    sketch.touch(4, 5, () => 0);
    expect(sketch.get(2)).toBeUndefined();
    expect(sketch.floorLru).toBe(3);
  });
});

describe('eviction tombstones', () => {
  const tag = Buffer.from('0123456789abcdef', 'hex');

  it('are stamped just above the evicted version, so any later write wins', () => {
    const evicted = encodeVersion(1_700_000_000_000, 7, tag);
    const tomb = successorVersion(evicted);
    expect(compareVersions(tomb, evicted)).toBe(1);
    const later = encodeVersion(1_700_000_000_000, 8, Buffer.alloc(8));
    expect(compareVersions(later, tomb)).toBe(1);
    expect(successorVersion(Buffer.from('00000000000000000000ffffffffffff', 'hex')).toString('hex')).toBe('00000000000000000001000000000000');
  });

  it('count their grace from shortly before the eviction, not from the evicted write', () => {
    const now = 1_700_000_000_000;
    const grace = 86_400_000;
    const evicted = { version: encodeVersion(now - 1000, 0, tag), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from('v') };
    const tomb = evictionTombstone(evicted, now, grace);
    expect(tomb.type).toBe(ValueType.Tombstone);
    // Purged once now - grace passes tombstoneMs: EVICTION_TOMBSTONE_GRACE_MS after the eviction.
    expect(tombstoneMs(tomb) + grace).toBe(now + EVICTION_TOMBSTONE_GRACE_MS);
    // With a replica down at the eviction it keeps the whole delete grace, like a DEL's.
    expect(tombstoneMs(evictionTombstone(evicted, now, grace, false))).toBe(now - 1000);
    // A plain tombstone counts from its version.
    expect(tombstoneMs({ version: evicted.version, expiresAt: 0 })).toBe(now - 1000);
  });
});

describe('eviction time budget', () => {
  it('follows evict.c: 50 µs per step up to 10, +15% a step after, none at 100', () => {
    expect(timeBudgetUs(10)).toBe(500);
    expect(timeBudgetUs(11)).toBe(575);
    expect(timeBudgetUs(100)).toBe(Number.POSITIVE_INFINITY);
  });
});
