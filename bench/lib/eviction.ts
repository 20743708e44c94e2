/**
 * The eviction scenario: a cache-aside workload (GET; on a miss, SET) whose keys follow a Zipf
 * distribution over a key space five times the size of maxmemory, under allkeys-lru and
 * allkeys-lfu, on redis-server and a ringkv node with the same maxmemory in the same run. What it
 * reports: the hit rate after warm-up, and used_memory (INFO, sampled while the load runs) against
 * the limit.
 */
import { Redis } from 'ioredis';

export const EVICTION_POLICIES = ['allkeys-lru', 'allkeys-lfu'] as const;

export interface EvictionOptions {
  /** maxmemory given to both servers, bytes. */
  maxmemoryBytes: number;
  valueBytes: number;
  /** The key space's data is this many times maxmemory. */
  keySpaceFactor: number;
  /** Zipf exponent: 1 is the classic web-cache skew. */
  zipfExponent: number;
  warmupOps: number;
  measuredOps: number;
  /** GETs per pipelined batch (the misses' SETs follow as one more batch). */
  batch: number;
  seed: number;
}

export const DEFAULT_EVICTION_OPTIONS: EvictionOptions = {
  maxmemoryBytes: 16 * 1024 * 1024,
  valueBytes: 512,
  keySpaceFactor: 5,
  zipfExponent: 1,
  warmupOps: 300_000,
  measuredOps: 300_000,
  batch: 200,
  seed: 42,
};

export interface EvictionRow {
  server: string;
  policy: string;
  maxmemory: number;
  keySpace: number;
  hitRate: number;
  usedMemoryMax: number;
  usedMemoryEnd: number;
  /** INFO used_memory_rss at the end: Redis's resident set; ringkv's anonymous memory (LMDB's file pages excluded). */
  rssEnd: number;
  evictedKeys: number;
  opsPerSecond: number;
}

/** xorshift32: the same key sequence for both servers. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** Draws ranks 0..n-1 with P(rank k) ∝ 1/(k+1)^s, by binary search over the cumulative weights. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / Math.pow(k + 1, s);
    cdf[k] = total;
  }
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Keys are named by rank through a fixed permutation, so hot keys spread over every slot. */
function keyName(rank: number): string {
  return `key:${Math.imul(rank + 1, 2654435761) >>> 0}`;
}

function usedMemory(info: string): number {
  return Number(/\r\nused_memory:(\d+)\r\n/.exec(`\r\n${info}`)?.[1] ?? NaN);
}

/** Runs the workload against a server already listening on host:port; sets maxmemory and the policy first. */
export async function runEvictionWorkload(server: string, host: string, port: number, policy: string, o: EvictionOptions): Promise<EvictionRow> {
  const r = new Redis({ host, port, maxRetriesPerRequest: 0 });
  try {
    await r.config('SET', 'maxmemory-policy', policy);
    await r.config('SET', 'maxmemory', String(o.maxmemoryBytes));
    const value = 'v'.repeat(o.valueBytes);
    const keySpace = Math.ceil((o.keySpaceFactor * o.maxmemoryBytes) / (o.valueBytes + 16));
    const next = zipfSampler(keySpace, o.zipfExponent, seededRandom(o.seed));
    let hits = 0;
    let gets = 0;
    let usedMax = 0;
    let started = 0;
    const total = o.warmupOps + o.measuredOps;
    for (let done = 0; done < total; done += o.batch) {
      if (done >= o.warmupOps && started === 0) started = performance.now();
      const keys = Array.from({ length: o.batch }, () => keyName(next()));
      const p = r.pipeline();
      for (const k of keys) p.get(k);
      const got = (await p.exec())!;
      const misses = keys.filter((_, i) => got[i]![1] === null);
      if (misses.length > 0) {
        const w = r.pipeline();
        for (const k of misses) w.set(k, value);
        await w.exec();
      }
      if (done >= o.warmupOps) {
        gets += keys.length;
        hits += keys.length - misses.length;
        if ((done / o.batch) % 20 === 0) usedMax = Math.max(usedMax, usedMemory(await r.info('memory')));
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const memInfo = await r.info('memory');
    const stats = await r.info('stats');
    const end = usedMemory(memInfo);
    return {
      server, policy, maxmemory: o.maxmemoryBytes, keySpace,
      hitRate: hits / gets,
      usedMemoryMax: Math.max(usedMax, end),
      usedMemoryEnd: end,
      rssEnd: Number(/\r\nused_memory_rss:(\d+)\r\n/.exec(`\r\n${memInfo}`)?.[1] ?? NaN),
      evictedKeys: Number(/evicted_keys:(\d+)/.exec(stats)?.[1] ?? NaN),
      opsPerSecond: Math.round(o.measuredOps / seconds),
    };
  } finally {
    r.disconnect();
  }
}

export function renderEvictionTable(rows: readonly EvictionRow[]): string {
  const mb = (b: number): string => (b / 1048576).toFixed(2);
  const lines = [
    '| server | policy | maxmemory MiB | key space (keys) | hit rate | used_memory max MiB (% of limit) | used_memory end MiB | used_memory_rss end MiB | evicted keys | GET+SET ops/s |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.server} | ${r.policy} | ${mb(r.maxmemory)} | ${r.keySpace.toLocaleString('en-US')} | ${(r.hitRate * 100).toFixed(1)}% | ${mb(r.usedMemoryMax)} (${((r.usedMemoryMax / r.maxmemory) * 100).toFixed(1)}%) | ${mb(r.usedMemoryEnd)} | ${mb(r.rssEnd)} | ${r.evictedKeys.toLocaleString('en-US')} | ${r.opsPerSecond.toLocaleString('en-US')} |`);
  }
  return lines.join('\n');
}
