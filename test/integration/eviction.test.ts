/**
 * Goal: maxmemory works as in Redis 7.0: above the limit keys are evicted by maxmemory-policy and
 * used_memory stays near the limit; volatile-* policies touch only keys with a TTL and answer -OOM
 * once none is left; noeviction answers -OOM to denyoom commands (also in MULTI and scripts) while
 * reads and DEL go on; allkeys-lru keeps a hot set; CONFIG, OBJECT IDLETIME/FREQ and MEMORY answer
 * as Redis does. In a 3-node cluster the primaries evict and replicate the deletes, so an evicted key
 * is gone on every replica once anti-entropy has compared them, and stays gone.
 * Method: real ringkv processes (one node; a 3-node cluster with N=3) and ioredis; the texts Redis
 * defines are compared with a real redis-server in the same test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { startRedisServer, type RedisReference } from '../helpers/redis-reference.js';

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";
const VALUE = 'v'.repeat(100);
/** used_memory may pass maxmemory by at most this share (one command's writes before the next evicts). */
const OVERSHOOT = 0.1;

function infoNumber(info: string, field: string): number {
  const m = new RegExp(`\\r\\n${field}:(\\d+)\\r\\n`).exec(`\r\n${info}`);
  if (!m) throw new Error(`INFO has no ${field}`);
  return Number(m[1]);
}

async function usedMemory(r: Redis): Promise<number> {
  return infoNumber(await r.info('memory'), 'used_memory');
}

async function evictedKeys(r: Redis): Promise<number> {
  return infoNumber(await r.info('stats'), 'evicted_keys');
}

async function fill(r: Redis, prefix: string, count: number, ttlSeconds = 0): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(count, i + 500); j++) {
      if (ttlSeconds > 0) p.set(`${prefix}${j}`, VALUE, 'EX', ttlSeconds);
      else p.set(`${prefix}${j}`, VALUE);
    }
    await p.exec();
  }
}

async function existing(r: Redis, prefix: string, count: number): Promise<number> {
  const p = r.pipeline();
  for (let i = 0; i < count; i++) p.exists(`${prefix}${i}`);
  const res = (await p.exec())!;
  return res.reduce((n, [, v]) => n + Number(v), 0);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('maxmemory on one node', () => {
  let node: NodeProcess;
  let r: Redis;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
    r = new Redis({ port: node.port });
  });
  afterAll(async () => {
    r?.disconnect();
    await node?.stop();
  });

  async function reset(policy: string, maxmemory: string): Promise<void> {
    await r.config('SET', 'maxmemory', '0');
    await r.flushall();
    await r.config('SET', 'maxmemory-policy', policy);
    await r.config('SET', 'maxmemory', maxmemory);
  }

  it('CONFIG SET/GET of the eviction settings behave as Redis', async () => {
    expect(await r.config('GET', 'maxmemory-*')).toEqual(expect.arrayContaining(['maxmemory-policy', 'noeviction', 'maxmemory-samples', '5', 'maxmemory-eviction-tenacity', '10']));
    expect(await r.config('GET', 'lfu-*')).toEqual(expect.arrayContaining(['lfu-log-factor', '10', 'lfu-decay-time', '1']));
    expect(await r.config('SET', 'maxmemory', '100mb')).toBe('OK');
    expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '104857600']);
    expect(infoNumber(await r.info('memory'), 'maxmemory')).toBe(104857600);
    expect(await r.info('memory')).toContain('\r\nmaxmemory_human:100.00M\r\n');
    await expect(r.config('SET', 'maxmemory', 'lots')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value");
    await expect(r.config('SET', 'maxmemory', '-1')).rejects.toThrow('argument must be a memory value');
    await expect(r.config('SET', 'maxmemory-policy', 'lru')).rejects.toThrow('argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction');
    await expect(r.config('SET', 'maxmemory-samples', '0')).rejects.toThrow('argument must be between 1 and 2147483647 inclusive');
    expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '104857600']);
    await r.config('SET', 'maxmemory', '0');
    expect(await r.ping()).toBe('PONG');
  });

  it('used_memory counts keys, values and elements, and goes down when they go', async () => {
    await reset('noeviction', '0');
    const empty = await usedMemory(r);
    await fill(r, 'm:', 1000);
    const strings = await usedMemory(r);
    expect(strings - empty).toBeGreaterThanOrEqual(1000 * (100 + 3));
    expect(strings - empty).toBeLessThan(1000 * 400);
    await r.hset('m:hash', Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, VALUE])));
    const hashBytes = (await usedMemory(r)) - strings;
    expect(hashBytes).toBeGreaterThanOrEqual(200 * 100);
    // MEMORY USAGE of the hash samples its elements; with SAMPLES 0 it reads all and gives its share.
    const all = Number(await r.call('memory', 'usage', 'm:hash', 'samples', '0'));
    expect(Math.abs(all - hashBytes) / hashBytes).toBeLessThan(0.05);
    expect(Number(await r.call('memory', 'usage', 'm:hash'))).toBeGreaterThan(200 * 100);
    await expect(r.call('memory', 'usage', 'm:hash', 'samples', '-1')).rejects.toThrow('ERR syntax error');
    const usage = Number(await r.call('memory', 'usage', 'm:1'));
    expect(usage).toBeGreaterThan(100);
    expect(await r.call('memory', 'usage', 'm:1', 'samples', '0')).toBe(usage);
    await expect(r.call('memory', 'usage', 'm:1', 'samples')).rejects.toThrow('ERR syntax error');
    expect(await r.call('memory', 'usage', 'nokey')).toBeNull();
    const del = r.pipeline();
    for (let i = 0; i < 1000; i++) del.del(`m:${i}`);
    await del.exec();
    expect(await usedMemory(r)).toBeLessThan(strings);
  });

  for (const policy of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random']) {
    it(`${policy}: filling past maxmemory evicts and used_memory stays within ${OVERSHOOT * 100}% of it`, async () => {
      const limit = 200 * 1024;
      await reset(policy, String(limit));
      for (let round = 0; round < 5; round++) {
        await fill(r, `${policy}:${round}:`, 1000);
        expect(await usedMemory(r)).toBeLessThanOrEqual(limit * (1 + OVERSHOOT));
      }
      expect(await evictedKeys(r)).toBeGreaterThan(0);
      expect(await r.dbsize()).toBeLessThan(5000);
      expect(await r.dbsize()).toBeGreaterThan(500);
      // Writes keep working: the policy makes room.
      expect(await r.set(`${policy}:last`, VALUE)).toBe('OK');
    });
  }

  it('an eviction publishes the evicted keyspace event', async () => {
    await reset('allkeys-random', String(100 * 1024));
    await r.config('SET', 'notify-keyspace-events', 'Ee');
    const sub = new Redis({ port: node.port });
    try {
      const evicted: string[] = [];
      sub.on('message', (_channel: string, key: string) => evicted.push(key));
      await sub.subscribe('__keyevent@0__:evicted');
      // evicted_keys counts since start-up: the earlier tests' evictions are not this one's.
      const before = await evictedKeys(r);
      await fill(r, 'ev:', 1000);
      const n = (await evictedKeys(r)) - before;
      expect(n).toBeGreaterThan(0);
      // Evictions may go on in the background after the count was read: one event for each.
      await expect.poll(() => evicted.length, { timeout: 5000 }).toBeGreaterThanOrEqual(n);
      expect(evicted.length).toBeLessThanOrEqual((await evictedKeys(r)) - before);
      expect(new Set(evicted).size).toBe(evicted.length);
      expect(evicted.every((k) => k.startsWith('ev:'))).toBe(true);
    } finally {
      sub.disconnect();
      await r.config('SET', 'notify-keyspace-events', '');
    }
  });

  it('allkeys-lru evicts whole collections and frees their elements at once', async () => {
    const limit = 400 * 1024;
    await reset('allkeys-lru', String(limit));
    const fields = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, VALUE]));
    for (let i = 0; i < 200; i += 20) {
      const p = r.pipeline();
      for (let j = i; j < i + 20; j++) p.hset(`h:${j}`, fields);
      await p.exec();
      expect(await usedMemory(r)).toBeLessThanOrEqual(limit * (1 + OVERSHOOT));
    }
    // A hash is ~10 KB: about 40 fit. Freeing the elements at once keeps eviction from taking
    // far more hashes than needed.
    const left = await existing(r, 'h:', 200);
    expect(left).toBeGreaterThan(25);
    expect(left).toBeLessThan(60);
    expect(await r.hlen(`h:199`)).toBe(50);
  });

  for (const policy of ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
    it(`${policy}: evicts only keys with a TTL, then answers OOM`, async () => {
      await reset(policy, '0');
      await fill(r, 'keep:', 1000);
      await fill(r, 'ttl:', 1000, 3600);
      const before = await evictedKeys(r);
      // Room for the keys without a TTL and a few hundred others.
      await r.config('SET', 'maxmemory', String(Math.floor((await usedMemory(r)) * 0.75)));
      let refused = '';
      for (let i = 0; i < 3000 && refused === ''; i++) {
        await r.set(`new:${i}`, VALUE).catch((e: Error) => (refused = e.message));
      }
      expect(refused).toBe(OOM);
      expect(await existing(r, 'keep:', 1000)).toBe(1000);
      expect(await existing(r, 'ttl:', 1000)).toBe(0);
      expect((await evictedKeys(r)) - before).toBeGreaterThanOrEqual(1000);
      expect(await r.get('keep:1')).toBe(VALUE);
    });
  }

  it('volatile-ttl evicts the keys closest to expiry first', async () => {
    await reset('volatile-ttl', '0');
    await fill(r, 'soon:', 500, 600);
    await fill(r, 'late:', 500, 7200);
    await r.config('SET', 'maxmemory', String(Math.floor((await usedMemory(r)) * 0.75)));
    await fill(r, 'x:', 200);
    const soon = await existing(r, 'soon:', 500);
    const late = await existing(r, 'late:', 500);
    expect(late).toBeGreaterThan(soon);
    expect(late).toBeGreaterThan(450);
  });

  it('noeviction: denyoom commands get the exact OOM error; reads and DEL go on', async () => {
    await reset('noeviction', '0');
    const evictedBefore = await evictedKeys(r);
    await fill(r, 'n:', 200);
    await r.config('SET', 'maxmemory', '1kb');
    await expect(r.set('n:new', 'x')).rejects.toThrow(OOM);
    await expect(r.rpush('n:list', 'x')).rejects.toThrow(OOM);
    await expect(r.hset('n:hash', 'f', 'v')).rejects.toThrow(OOM);
    expect(await r.get('n:1')).toBe(VALUE);
    expect(await r.del('n:1')).toBe(1);
    expect(await r.expire('n:2', 100)).toBe(1);
    // In MULTI every command but EXEC/DISCARD/… is refused, and EXEC then aborts.
    const tx = r.multi();
    tx.set('n:tx', 'x');
    await expect(tx.exec()).rejects.toThrow('EXECABORT Transaction discarded because of previous errors.');
    // A script without flags may read, but not start writing.
    expect(await r.eval("return redis.call('get', KEYS[1])", 1, 'n:3')).toBe(VALUE);
    await expect(r.eval("return redis.call('set', KEYS[1], 'x')", 1, 'n:3')).rejects.toThrow(OOM);
    // A script with a shebang and no allow-oom is refused before it runs; no-writes runs.
    await expect(r.eval("#!lua\nreturn redis.call('get', KEYS[1])", 1, 'n:3')).rejects.toThrow(OOM);
    expect(await r.eval("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 1, 'n:3')).toBe(VALUE);
    expect(await r.eval("#!lua flags=allow-oom\nreturn redis.call('get', KEYS[1])", 1, 'n:3')).toBe(VALUE);
    expect(await evictedKeys(r)).toBe(evictedBefore);
    await r.config('SET', 'maxmemory', '0');
    expect(await r.set('n:new', 'x')).toBe('OK');
  });

  it('allkeys-lru keeps the keys used recently', async () => {
    await reset('allkeys-lru', '0');
    await r.config('SET', 'maxmemory-samples', '10');
    const hot = 300;
    await fill(r, 'hot:', hot);
    // Room for the hot keys and two rounds of cold ones: there are always older keys to evict
    // than the hot ones (with one round, the last evictions of a round find only equals).
    await fill(r, 'cold:0:', 600);
    await r.config('SET', 'maxmemory', String(await usedMemory(r)));
    // The LRU clock ticks once a second (as Redis's): each round uses the hot keys in a new second,
    // then writes cold keys that push the oldest out.
    const rounds = 5;
    for (let round = 1; round <= rounds; round++) {
      await sleep(1100);
      const p = r.pipeline();
      for (let i = 0; i < hot; i++) p.get(`hot:${i}`);
      await p.exec();
      await fill(r, `cold:${round}:`, 300);
    }
    const hotLeft = await existing(r, 'hot:', hot);
    let coldLeft = 0;
    for (let round = 0; round <= rounds; round++) coldLeft += await existing(r, `cold:${round}:`, round === 0 ? 600 : 300);
    const hotShare = hotLeft / hot;
    const coldShare = coldLeft / (600 + 300 * rounds);
    expect(hotShare).toBeGreaterThan(0.95);
    expect(coldShare).toBeLessThan(0.4);
    await r.config('SET', 'maxmemory-samples', '5');
  });

  it('used_memory after a restart is what it was before (counted again from LMDB and the log)', async () => {
    await reset('noeviction', '0');
    await fill(r, 'rs:', 2000);
    await r.hset('rs:hash', Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, VALUE])));
    await r.del('rs:5');
    const before = await usedMemory(r);
    r.disconnect();
    await node.stop();
    await node.restart();
    r = new Redis({ port: node.port });
    expect(await usedMemory(r)).toBe(before);
  });

  it('OBJECT IDLETIME and OBJECT FREQ follow the policy, with Redis\'s errors', async () => {
    await reset('allkeys-lru', '0');
    await r.set('o:k', 'v');
    expect(await r.object('IDLETIME', 'o:k')).toBe(0);
    await expect(r.object('FREQ', 'o:k')).rejects.toThrow('ERR An LFU maxmemory policy is not selected, access frequency not tracked.');
    await sleep(2100);
    expect(await r.object('IDLETIME', 'o:k')).toBeGreaterThanOrEqual(2);
    await r.get('o:k');
    expect(await r.object('IDLETIME', 'o:k')).toBe(0);
    await r.config('SET', 'maxmemory-policy', 'allkeys-lfu');
    await r.set('o:f', 'v');
    expect(await r.object('FREQ', 'o:f')).toBe(5);
    const p = r.pipeline();
    for (let i = 0; i < 2000; i++) p.get('o:f');
    await p.exec();
    expect(Number(await r.object('FREQ', 'o:f'))).toBeGreaterThan(5);
    await expect(r.object('IDLETIME', 'o:f')).rejects.toThrow('ERR An LFU maxmemory policy is selected, idle time not tracked.');
    expect(await r.object('FREQ', 'o:none')).toBeNull();
    await r.config('SET', 'maxmemory-policy', 'noeviction');
  });
});

describe('the deterministic parts against redis-server', () => {
  let node: NodeProcess;
  let ref: RedisReference;
  beforeAll(async () => {
    [node, ref] = await Promise.all([startNode({ args: ['--appendfsync', 'no'] }), startRedisServer()]);
  });
  afterAll(async () => {
    await Promise.all([node?.stop(), ref?.stop()]);
  });

  /** Each command's reply or error text, in order, on a fresh connection. */
  async function transcript(port: number, commands: string[][]): Promise<string[]> {
    const c = new Redis({ port });
    const out: string[] = [];
    try {
      for (const argv of commands) {
        out.push(await c.call(argv[0]!, ...argv.slice(1)).then((v) => JSON.stringify(v), (e: Error) => `ERR:${e.message}`));
      }
    } finally {
      c.disconnect();
    }
    return out;
  }

  it('CONFIG replies, OBJECT FREQ/IDLETIME errors, OOM, MULTI under OOM and MEMORY USAGE syntax match', async () => {
    const commands = [
      ['config', 'set', 'maxmemory', '100mb'], ['config', 'get', 'maxmemory'],
      ['config', 'set', 'maxmemory', 'foo'], ['config', 'set', 'maxmemory', '-5'],
      ['config', 'set', 'maxmemory-policy', 'foo'], ['config', 'set', 'maxmemory-policy', 'ALLKEYS-LRU'], ['config', 'get', 'maxmemory-policy'],
      ['config', 'set', 'maxmemory-samples', '0'], ['config', 'set', 'lfu-log-factor', '-1'], ['config', 'set', 'lfu-decay-time', 'x'],
      ['config', 'set', 'maxmemory-eviction-tenacity', '101'],
      ['config', 'get', 'lfu-log-factor'], ['config', 'get', 'lfu-decay-time'],
      ['config', 'set', 'maxmemory-policy', 'noeviction'],
      ['set', 'k', 'v'], ['object', 'freq', 'k'], ['object', 'freq', 'missing'], ['object', 'idletime', 'missing'],
      ['config', 'set', 'maxmemory-policy', 'volatile-lfu'], ['object', 'idletime', 'k'], ['set', 'k4', 'v'], ['object', 'freq', 'k4'],
      ['memory', 'usage', 'k', 'samples'], ['memory', 'usage', 'k', 'samples', 'x'], ['memory', 'usage', 'k', 'samples', '-1'], ['memory', 'usage', 'k', 'foo', '1'], ['memory', 'usage', 'missing'],
      ['config', 'set', 'maxmemory-policy', 'noeviction'], ['config', 'set', 'maxmemory', '1'],
      ['set', 'k2', 'v'], ['lpush', 'l', 'a'], ['get', 'k'], ['del', 'missing'], ['exists', 'k'],
      ['multi'], ['get', 'k'], ['exec'],
      ['eval', "return redis.call('set', 'k3', 'v')", '0'],
      ['eval', "#!lua\nreturn 1", '0'],
      ['eval', "#!lua flags=no-writes\nreturn 1", '0'],
      ['config', 'set', 'maxmemory', '0'], ['set', 'k2', 'v'],
    ];
    const [mine, theirs] = await Promise.all([transcript(node.port, commands), transcript(ref.ports[0]!, commands)]);
    // Redis adds where a script error came from; the error itself must match.
    const strip = (s: string): string => s.replace(/ script: .*$/s, '');
    expect(mine.map(strip)).toEqual(theirs.map(strip));
  });
});

describe('maxmemory in a 3-node cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(3, ['--anti-entropy-interval-ms', '300', '--replication-factor', '3']);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  async function onEach<T>(fn: (r: Redis) => Promise<T>): Promise<T[]> {
    return Promise.all(cluster.ports.map(async (port) => {
      const r = new Redis({ port });
      try {
        return await fn(r);
      } finally {
        r.disconnect();
      }
    }));
  }

  async function digests(): Promise<string[]> {
    return onEach(async (r) => String(await r.call('ringkv.digest')));
  }

  it('primaries evict, replicas follow, and an evicted key stays gone everywhere after anti-entropy', async () => {
    // Values well above the ~80 bytes an eviction's tombstone holds until it is purged.
    const big = 'b'.repeat(1000);
    const limit = 1024 * 1024;
    await onEach((r) => r.config('SET', 'maxmemory-policy', 'allkeys-lru'));
    await onEach((r) => r.config('SET', 'maxmemory', String(limit)));
    const c = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    const keys = 4000;
    try {
      for (let i = 0; i < keys; i += 200) {
        await Promise.all(Array.from({ length: Math.min(200, keys - i) }, (_, j) => c.set(`ck:${i + j}`, big)));
      }
    } finally {
      c.disconnect();
    }
    // Background eviction runs ten times a second; give every node a moment to settle under the limit.
    let used: number[] = [];
    for (let t = 0; t < 50; t++) {
      used = await onEach(usedMemory);
      if (used.every((u) => u <= limit * (1 + OVERSHOOT))) break;
      await sleep(200);
    }
    expect(used.every((u) => u <= limit * (1 + OVERSHOOT))).toBe(true);
    const evicted = await onEach(evictedKeys);
    expect(evicted.reduce((a, b) => a + b, 0)).toBeGreaterThan(keys / 3);
    // Every node is a primary for some slots, so every one evicted some keys itself.
    expect(evicted.every((n) => n > 0)).toBe(true);

    // Replicas agree with their primaries once anti-entropy has compared the slots.
    let d: string[] = [];
    for (let t = 0; t < 100; t++) {
      d = await digests();
      if (d.every((x) => x === d[0])) break;
      await sleep(300);
    }
    expect(d.every((x) => x === d[0])).toBe(true);

    // Each node's own copy, read without a quorum: an evicted key is missing on all three.
    const present = await onEach(async (r) => {
      await r.call('readonly');
      await r.call('ringkv.consistency', 'R', '1');
      const got = new Set<number>();
      for (let i = 0; i < keys; i += 500) {
        const p = r.pipeline();
        for (let j = i; j < Math.min(keys, i + 500); j++) p.exists(`ck:${j}`);
        const res = (await p.exec())!;
        res.forEach(([, v], j) => {
          if (Number(v) === 1) got.add(i + j);
        });
      }
      return got;
    });
    const evictedKeysSeen = Array.from({ length: keys }, (_, i) => i).filter((i) => !present[0]!.has(i));
    expect(evictedKeysSeen.length).toBeGreaterThan(keys / 3);
    for (const copy of present.slice(1)) expect([...copy].sort((a, b) => a - b)).toEqual([...present[0]!].sort((a, b) => a - b));

    // More anti-entropy rounds bring nothing back.
    await sleep(1500);
    const again = await onEach(async (r) => {
      await r.call('readonly');
      await r.call('ringkv.consistency', 'R', '1');
      const p = r.pipeline();
      for (const i of evictedKeysSeen.slice(0, 500)) p.exists(`ck:${i}`);
      return ((await p.exec())!).reduce((n, [, v]) => n + Number(v), 0);
    });
    expect(again).toEqual([0, 0, 0]);
  }, 120_000);

  it('noeviction: the slot\'s coordinator answers OOM to writes; reads and DEL go on', async () => {
    await onEach((r) => r.config('SET', 'maxmemory-policy', 'noeviction'));
    await onEach((r) => r.config('SET', 'maxmemory', '1kb'));
    const evictedBefore = await onEach(evictedKeys);
    const c = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    try {
      // Keys on every node's slots: each coordinator decides from its own used memory.
      for (let i = 0; i < 30; i++) await expect(c.set(`oom:${i}`, 'x')).rejects.toThrow(OOM);
      const kept = await onEach(async (r) => (await r.call('randomkey')) as string | null);
      const key = kept.find((k) => k !== null)!;
      expect(await c.get(key)).not.toBeNull();
      expect(await c.del(key)).toBe(1);
      expect(await onEach(evictedKeys)).toEqual(evictedBefore);
    } finally {
      c.disconnect();
      await onEach((r) => r.config('SET', 'maxmemory', '0'));
    }
  }, 60_000);
});
