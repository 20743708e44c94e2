import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import { recordKey, userKeyOf } from '../../collections/record-keys.js';
import { SLOT_COUNT } from '../../storage/key-layout.js';
import type { Store } from '../../storage/store.js';
import { ValueType, type StoredRecord } from '../../storage/types.js';
import { isCollectionType } from '../../collections/collection.js';
import { AccessSketch, accessId, type Access } from './access-sketch.js';
import { EvictionPool } from './eviction-pool.js';
import { evictionScore, isRandom, isVolatile, usesLfu, type EvictionPolicy } from './eviction-policy.js';
import { accessLfu, decayedCounter, lfuMinutes, newLfu, packLfu, type LfuSettings } from './lfu-counter.js';
import { idleMs, LRU_CLOCK_MAX, LRU_TICKS_PER_SECOND, lruClock } from './lru-clock.js';

/** Where evictions go: the node's own store (standalone) or a replicated delete (cluster). */
export interface EvictionHost {
  /** Slots whose keys this node decides evictions for: all of them standalone, its primary slots in a cluster. */
  mayEvict(slot: number): boolean;
  /** Removes the key (record key `rk`, holding `record`) wherever it is stored. */
  evict(slot: number, rk: Buffer, record: StoredRecord, now: number): void;
}

/** Random slot picks before falling back to a walk over every slot. */
const RANDOM_SLOT_TRIES = 32;
/** Records one scan of a slot may return while sampling. */
const SLOT_SCAN_RECORDS_MAX = 64;
/** Redis checks its time limit every 16 evictions. */
const EVICTIONS_PER_TIME_CHECK = 16;
/** Pool refills without finding a live victim before giving up for this call. */
const EMPTY_ROUNDS_MAX = 8;
/** At most one "evicting" log line per this many ms. */
const LOG_INTERVAL_MS = 60_000;

export type EvictionOutcome = 'ok' | 'running' | 'fail';

/**
 * maxmemory for one node (docs/decisions.md, "Eviction: what memory means"): used memory is the
 * store's logical data size (Store.dataBytes); above `maxmemory` keys go by `maxmemory-policy` as
 * Redis 7.0 chooses them (evict.c): sample `maxmemory-samples` keys, keep the best victims in a
 * pool of 16, evict the best. Keys are sampled from random non-empty slots, a few consecutive keys
 * per slot (as Redis takes a few keys from a random hash-table bucket); each slot keeps a cursor
 * so repeated samples of a slot move through it.
 *
 * Access times and frequencies live in a bounded AccessSketch, not in the records: the store is
 * on disk and records are replicated byte for byte, while access information is this node's own.
 */
export class Evictor {
  evictedKeys = 0;
  /**
   * Told each evicted key (its user key), after the eviction: where Redis sends the `evicted`
   * keyspace event. There are no keyspace notifications in this tree yet; they subscribe here.
   */
  onEvicted: ((key: Buffer) => void) | undefined = undefined;
  /** Frees an evicted collection's elements (set by the node: the element reclaimer). */
  afterCollectionEvicted: (now: number) => void = () => undefined;
  readonly sketch: AccessSketch;
  private readonly pool = new EvictionPool();
  private readonly cursors = new Map<number, Buffer>();
  private lastLogAt = 0;
  private lastPolicy = '';

  constructor(
    private readonly store: Store,
    private readonly config: Config,
    public host: EvictionHost,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {
    this.sketch = new AccessSketch(config.int('maxmemory-tracked-keys'), lruClock(Date.now()));
    this.lfu = this.readLfuSettings();
    this.maxmemory = config.int('maxmemory');
    // Every command touches its keys: read the settings it needs once per change, not per command.
    config.onChange((name) => {
      if (name === 'maxmemory') this.maxmemory = config.int('maxmemory');
      if (name === 'lfu-log-factor' || name === 'lfu-decay-time') this.lfu = this.readLfuSettings();
      if (name === 'maxmemory-tracked-keys') {
        this.sketch.capacity = config.int('maxmemory-tracked-keys');
      }
    });
  }

  private lfu: LfuSettings;
  /** The maxmemory setting in bytes; 0 = no limit. */
  maxmemory: number;

  private readLfuSettings(): LfuSettings {
    return { logFactor: this.config.int('lfu-log-factor'), decayMinutes: this.config.int('lfu-decay-time') };
  }

  policy(): EvictionPolicy {
    return this.config.str('maxmemory-policy') as EvictionPolicy;
  }

  /** Highest used memory seen (INFO used_memory_peak). */
  peakMemory = 0;

  usedMemory(): number {
    const used = this.store.dataBytes();
    if (used > this.peakMemory) this.peakMemory = used;
    return used;
  }

  lfuSettings(): LfuSettings {
    return this.lfu;
  }

  /** A command used `key` (Redis updates the object's LRU/LFU field on lookup). */
  touch(key: Buffer, now: number): void {
    this.touchNow = now;
    this.sketch.touch(accessId(recordKey(key)), lruClock(now), this.nextLfu);
  }

  /** The `now` of the touch in progress, for nextLfu (a bound function, so touch allocates no closure). */
  private touchNow = 0;
  // A key seen for the first time starts at LFU_INIT_VAL, as a new object does in Redis.
  private readonly nextLfu = (lfu: number | undefined): number =>
    lfu === undefined ? newLfu(this.touchNow) : accessLfu(lfu, this.touchNow, this.lfuSettings(), this.random());

  /** The key is gone (deleted, expired, evicted): its access information goes too. */
  forget(rk: Buffer): void {
    if (this.sketch.size > 0) this.sketch.delete(accessId(rk));
  }

  access(rk: Buffer): Access {
    return this.sketch.get(accessId(rk)) ?? { lru: this.sketch.floorLru, lfu: 0 };
  }

  /**
   * A key RESTORE created: a new object's access information (used now, LFU_INIT_VAL), then
   * IDLETIME or FREQ as Redis's objectSetLRUOrLFU applies them: FREQ sets the counter under an LFU
   * policy, IDLETIME the last access that many seconds back under any other; -1 = not given.
   */
  restoreAccess(key: Buffer, now: number, idleSeconds: number, freq: number): void {
    const access = { lru: lruClock(now), lfu: newLfu(now) };
    if (usesLfu(this.policy())) {
      if (freq >= 0) access.lfu = packLfu(lfuMinutes(now), freq);
    } else if (idleSeconds >= 0) {
      const ticks = LRU_CLOCK_MAX + 1;
      const back = Math.min(idleSeconds, Math.floor(Number.MAX_SAFE_INTEGER / 1000 / LRU_TICKS_PER_SECOND)) * LRU_TICKS_PER_SECOND;
      access.lru = (((access.lru - back) % ticks) + ticks) % ticks;
    }
    this.sketch.set(accessId(recordKey(key)), access);
  }

  /** OBJECT IDLETIME: seconds since the last access. */
  idleSeconds(key: Buffer, now: number): number {
    return Math.floor(idleMs(lruClock(now), this.access(recordKey(key)).lru) / 1000);
  }

  /** OBJECT FREQ: the decayed LFU counter. */
  frequency(key: Buffer, now: number): number {
    return decayedCounter(this.access(recordKey(key)).lfu, now, this.lfuSettings());
  }

  /**
   * Redis's performEvictions: while used memory is above maxmemory, evict by the policy. Stops
   * after a time budget set by maxmemory-eviction-tenacity ('running': the background tick goes on
   * later, the command may run). 'fail': over the limit with nothing this node may evict (or
   * noeviction): denyoom commands get -OOM.
   */
  performEvictions(now: number): EvictionOutcome {
    const max = this.maxmemory;
    if (max === 0 || this.usedMemory() <= max) return 'ok';
    const policy = this.policy();
    if (policy === 'noeviction') return 'fail';
    if (policy !== this.lastPolicy) {
      this.pool.clear();
      this.lastPolicy = policy;
    }
    const budgetUs = timeBudgetUs(this.config.int('maxmemory-eviction-tenacity'));
    const started = performance.now();
    const freedFrom = this.usedMemory();
    let evicted = 0;
    while (this.usedMemory() > max) {
      const victim = this.pickVictim(policy, now);
      if (victim === undefined) {
        this.noteEvictions(evicted, freedFrom, now);
        return 'fail';
      }
      this.host.evict(victim.slot, victim.rk, victim.record, now);
      if (isCollectionType(victim.record.type)) this.afterCollectionEvicted(now);
      this.forget(victim.rk);
      this.evictedKeys++;
      if (this.onEvicted !== undefined) {
        const key = userKeyOf(victim.rk);
        if (key !== undefined) this.onEvicted(key);
      }
      evicted++;
      if (evicted % EVICTIONS_PER_TIME_CHECK === 0 && (performance.now() - started) * 1000 > budgetUs) {
        this.noteEvictions(evicted, freedFrom, now);
        return 'running';
      }
    }
    this.noteEvictions(evicted, freedFrom, now);
    return 'ok';
  }

  private noteEvictions(evicted: number, from: number, now: number): void {
    if (evicted === 0 || now - this.lastLogAt < LOG_INTERVAL_MS) return;
    this.lastLogAt = now;
    this.logger.info({ evicted, usedMemory: this.usedMemory(), freedBytes: from - this.usedMemory(), maxmemory: this.maxmemory, policy: this.policy() }, 'maxmemory reached: evicting keys');
  }

  private pickVictim(policy: EvictionPolicy, now: number): { slot: number; rk: Buffer; record: StoredRecord } | undefined {
    const volatile = isVolatile(policy);
    if (isRandom(policy)) {
      let found: { slot: number; rk: Buffer; record: StoredRecord } | undefined;
      this.sample(volatile, 1, (slot, rk, record) => (found = { slot, rk, record }));
      return found;
    }
    const lfu = this.lfuSettings();
    const samples = this.config.int('maxmemory-samples');
    const score = (rk: Buffer, record: StoredRecord): number =>
      evictionScore(policy, { access: usesLfu(policy) ? this.access(rk).lfu : this.access(rk).lru, expiresAt: record.expiresAt }, now, lfu);
    for (let round = 0; round < EMPTY_ROUNDS_MAX; round++) {
      const seen = this.sample(volatile, samples, (slot, rk, record) => {
        this.pool.offer({ score: score(rk, record), slot, rk: Buffer.from(rk), id: rk.toString('latin1') });
      });
      // The pool keeps candidates from earlier rounds; they may be gone, moved or used since.
      // A key used since it was scored goes back in with its new score (Redis would evict it
      // on the old one: a hot key sampled a second ago is not a victim now).
      for (let e = this.pool.takeBest(); e !== undefined; e = this.pool.takeBest()) {
        const record = this.store.get(e.slot, e.rk);
        if (record === undefined || !this.isCandidate(e.slot, record, volatile)) continue;
        const current = score(e.rk, record);
        if (current < e.score) {
          this.pool.offer({ ...e, score: current });
          continue;
        }
        return { slot: e.slot, rk: e.rk, record };
      }
      if (seen === 0) return undefined;
    }
    return undefined;
  }

  private isCandidate(slot: number, record: StoredRecord, volatile: boolean): boolean {
    if (record.type === ValueType.Tombstone || record.type === ValueType.Element) return false;
    if (volatile && record.expiresAt === 0) return false;
    return this.host.mayEvict(slot);
  }

  /** Visits up to `want` live keys (with a TTL when `volatile`) from random eligible slots. */
  private sample(volatile: boolean, want: number, visit: (slot: number, rk: Buffer, record: StoredRecord) => void): number {
    let got = 0;
    for (let tries = 0; got < want && tries < want + 4; tries++) {
      const slot = this.randomSlot(volatile);
      if (slot < 0) break;
      got += this.sampleSlot(slot, volatile, want - got, visit);
    }
    return got;
  }

  private eligible(slot: number, volatile: boolean): boolean {
    const n = volatile ? this.store.slotExpiresCount(slot) : this.store.slotKeyCount(slot);
    return n > 0 && this.host.mayEvict(slot);
  }

  private randomSlot(volatile: boolean): number {
    for (let i = 0; i < RANDOM_SLOT_TRIES; i++) {
      const s = Math.floor(this.random() * SLOT_COUNT);
      if (this.eligible(s, volatile)) return s;
    }
    const start = Math.floor(this.random() * SLOT_COUNT);
    for (let i = 0; i < SLOT_COUNT; i++) {
      const s = (start + i) % SLOT_COUNT;
      if (this.eligible(s, volatile)) return s;
    }
    return -1;
  }

  /** Consecutive keys of one slot from its cursor, wrapping to the slot's start once. */
  private sampleSlot(slot: number, volatile: boolean, want: number, visit: (slot: number, rk: Buffer, record: StoredRecord) => void): number {
    let got = 0;
    // A scan that started inside the slot and reached its end goes once more from the start.
    const passes = this.cursors.has(slot) ? 2 : 1;
    for (let pass = 0; pass < passes && got < want; pass++) {
      const after = this.cursors.get(slot);
      const { entries, next } = this.store.scanSlotRaw(slot, after, Math.min(SLOT_SCAN_RECORDS_MAX, want * 4));
      let wrapped = next === null;
      let last: Buffer | undefined;
      for (const { key, record } of entries) {
        // Element records sort after every user key of the slot: the slot's keys are done.
        if (record.type === ValueType.Element || userKeyOf(key) === undefined) {
          wrapped = true;
          break;
        }
        last = key;
        if (record.type === ValueType.Tombstone || (volatile && record.expiresAt === 0)) continue;
        if (got < want) {
          visit(slot, key, record);
          got++;
        }
        if (got >= want) break;
      }
      if (wrapped) this.cursors.delete(slot);
      else if (last !== undefined) this.cursors.set(slot, Buffer.from(last));
      if (!wrapped) break;
    }
    return got;
  }
}

/** evictionTimeLimitUs in evict.c: 50 µs per tenacity step up to 10, then growing 15% a step; 100 = none. */
export function timeBudgetUs(tenacity: number): number {
  if (tenacity <= 10) return 50 * tenacity;
  if (tenacity < 100) return Math.round(500 * Math.pow(1.15, tenacity - 10));
  return Number.POSITIVE_INFINITY;
}
