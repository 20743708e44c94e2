/**
 * Goal: in a 3-node cluster a script runs at its slot's coordinator, atomically per slot, its writes
 * replicated like any write, and keys it did not declare are refused with Redis's texts instead of
 * an internal error. Method: a real 3-node cluster; ioredis Cluster defineCommand and EVAL; parallel
 * read-modify-write scripts; reads of the written key through every node with READONLY replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

describe('scripting in a 3-node cluster', () => {
  let c: TestCluster;
  let cluster: Cluster;
  beforeAll(async () => {
    c = await startCluster(3);
    cluster = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }]);
  }, 60000);
  afterAll(async () => {
    cluster?.disconnect();
    await c?.stop();
  });

  it('ioredis Cluster defineCommand runs on the slot coordinator, and the write is on a quorum of replicas', async () => {
    cluster.defineCommand('setGet', { numberOfKeys: 1, lua: "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])" });
    const cc = cluster as Cluster & { setGet(key: string, v: string): Promise<string> };
    for (let i = 0; i < 20; i++) expect(await cc.setGet(`script:key:${i}`, `v${i}`)).toBe(`v${i}`);
    for (let i = 0; i < 20; i++) expect(await cluster.get(`script:key:${i}`)).toBe(`v${i}`);
    // Each replica holds the record: count nodes that have it locally through RINGKV.DIGEST-free READONLY reads.
    let holders = 0;
    for (const port of c.ports) {
      const r = new Redis({ port });
      await r.call('readonly');
      const v = await r.get('script:key:0').catch(() => undefined);
      if (v === 'v0') holders++;
      r.disconnect();
    }
    expect(holders).toBeGreaterThanOrEqual(2);
  });

  it('read-modify-write scripts on one key from many clients lose no update', async () => {
    const script = `local v = tonumber(redis.call('get', KEYS[1]) or '0') redis.call('set', KEYS[1], v + 1) return v + 1`;
    await Promise.all(Array.from({ length: 120 }, () => cluster.eval(script, 1, '{rmw}counter')));
    expect(await cluster.get('{rmw}counter')).toBe('120');
  }, 30000);

  it('keys of another slot get Redis-style errors, declared keys of two slots CROSSSLOT', async () => {
    await expect(cluster.eval("return redis.call('get', 'other-key')", 1, '{t}a')).rejects.toThrow(/^ERR Script attempted to access keys that do not hash to the same slot script: [0-9a-f]{40}, on @user_script:1\.$/);
    const direct = new Redis({ port: c.ports[0]! });
    try {
      await expect(direct.eval("return redis.call('set', 'k', 1)", 0)).rejects.toThrow(/^ERR Script attempted to access a non local key in a cluster node script: /);
      expect(await direct.eval('return 1 + 1', 0)).toBe(2);
      await expect(direct.eval('return 1', 2, 'a', 'b')).rejects.toThrow("CROSSSLOT Keys in request don't hash to the same slot");
      await expect(direct.eval('#!lua flags=no-cluster\nreturn 1', 0)).rejects.toThrow("ERR Can not run script on cluster, 'no-cluster' flag is set.");
    } finally {
      direct.disconnect();
    }
  });

  it('a script may use keys it did not declare in its slot, built from what it read, atomically', async () => {
    // As BullMQ does: ids come from a declared counter or list, job keys are prefix .. id.
    await cluster.set('{u}b', 'undeclared');
    expect(await cluster.eval("return redis.call('get', '{u}b')", 1, '{u}a')).toBe('undeclared');
    // Each call takes the next id from a declared counter, writes a hash under it, and links it
    // from the previous one: a chain of keys only the data names. Many clients at once.
    const add = `local id = redis.call('incr', KEYS[1])
      redis.call('hset', '{u}job:' .. id, 'n', id)
      if id > 1 then redis.call('hset', '{u}job:' .. (id - 1), 'next', id) end
      redis.call('incrby', '{u}total', id)
      return id`;
    const ids = await Promise.all(Array.from({ length: 60 }, () => cluster.eval(add, 1, '{u}seq')));
    expect([...ids as number[]].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(await cluster.get('{u}total')).toBe(String((60 * 61) / 2));
    // Walk the chain from the first job: a script that follows links it reads, one key at a time.
    const walk = `local n, id = 0, 1
      while id do n = n + 1 id = redis.call('hget', '{u}job:' .. id, 'next') end
      return n`;
    expect(await cluster.eval(walk, 1, '{u}seq')).toBe(60);
    const direct = new Redis({ port: c.ports[0]! });
    try {
      const info = await direct.info('ringkv');
      expect(info).toMatch(/ringkv_fetch_rounds:\d+/);
    } finally {
      direct.disconnect();
    }
  }, 30000);

  it('EVAL inside MULTI runs with the transaction at the slot coordinator; EVAL_RO is served by a READONLY replica', async () => {
    const results = await cluster.multi().set('{tx}a', '5').eval("return redis.call('incrby', KEYS[1], ARGV[1])", 1, '{tx}a', 10).get('{tx}a').exec();
    expect(results).toEqual([[null, 'OK'], [null, 15], [null, '15']]);
    // With N = 3 on 3 nodes every node replicates every slot: read with EVAL_RO at one that is not the primary.
    const slot = Number(await cluster.call('cluster', 'keyslot', '{tx}a'));
    const ranges = (await cluster.call('cluster', 'slots')) as Array<[number, number, [string, number]]>;
    const primaryPort = ranges.find(([start, end]) => start <= slot && slot <= end)![2][1];
    const replicaPort = c.ports.find((p) => p !== primaryPort);
    expect(replicaPort).toBeDefined();
    const replica = new Redis({ port: replicaPort! });
    try {
      await replica.call('readonly');
      expect(await replica.call('eval_ro', "return redis.call('get', KEYS[1])", '1', '{tx}a')).toBe('15');
      await expect(replica.eval("return redis.call('get', KEYS[1])", 1, '{tx}a')).rejects.toThrow(/^MOVED /);
    } finally {
      replica.disconnect();
    }
  });

  it('FCALL works on every node once the library is loaded everywhere; loading it again is not an error', async () => {
    const code = "#!lua name=clib\nredis.register_function('cincr', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)";
    for (const port of c.ports) {
      const r = new Redis({ port });
      expect(await r.call('function', 'load', code)).toBe('clib');
      expect(await r.call('function', 'load', code)).toBe('clib');
      r.disconnect();
    }
    for (let i = 0; i < 10; i++) expect(await cluster.fcall('cincr', 1, `fn:${i}`, 3)).toBe(3);
    expect(await cluster.fcall('cincr', 1, 'fn:0', 4)).toBe(7);
  });
});

describe('scripting through cluster-proxy relays', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3, ['--cluster-proxy', 'yes']);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('a plain client on one node runs scripts for keys of every slot: EVALSHA relayed, NOSCRIPT answered, EVAL fallback relayed', async () => {
    const r = new Redis({ port: c.ports[0]! });
    try {
      r.defineCommand('bump', { numberOfKeys: 1, lua: "return redis.call('incrby', KEYS[1], ARGV[1])" });
      const bump = r as Redis & { bump(key: string, by: number): Promise<number> };
      for (let i = 0; i < 30; i++) expect(await bump.bump(`proxy:${i}`, 2)).toBe(2);
      for (let i = 0; i < 30; i++) expect(await bump.bump(`proxy:${i}`, 3)).toBe(5);
    } finally {
      r.disconnect();
    }
  });

  it('a script loaded on the node the client uses runs by EVALSHA for keys of every slot: the relay carries its body', async () => {
    const r = new Redis({ port: c.ports[1]! });
    try {
      const sha = (await r.script('LOAD', "return redis.call('incrby', KEYS[1], ARGV[1])")) as string;
      // Straight EVALSHA, no EVAL fallback: a NOSCRIPT from the slot's primary would fail here.
      for (let i = 0; i < 30; i++) expect(await r.evalsha(sha, 1, `relayed:${i}`, 4)).toBe(4);
      for (let i = 0; i < 30; i++) expect(await r.call('EVALSHA_RO', sha.toUpperCase(), 1, `relayed:${i}`, 0).catch((e: Error) => e.message)).toMatch(/^ERR Write commands are not allowed from read-only scripts/);
    } finally {
      r.disconnect();
    }
  });
});
