/**
 * Goal: unmodified Redis cluster clients and tools work against a ringkv cluster, and every node
 * serves the same topology. Method: a real 3-node cluster (and a 5-node one); ioredis Cluster writes,
 * node-redis createCluster (RESP2 and RESP3) reads; redis-cli -c, --cluster check, redis-benchmark --cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { hasBinary, run } from '../helpers/server.js';
import { nodeIds } from '../helpers/node-facts.js';

const haveTools = hasBinary('redis-cli') && hasBinary('redis-benchmark');

describe('3-node cluster with real clients', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('every node serves the same CLUSTER SLOTS, covering all 16384 slots with ids from CLUSTER NODES', async () => {
    const read = (): Promise<Array<{ slots: Array<[number, number, [string, number, string]]>; nodes: string }>> => Promise.all(c.ports.map(async (port) => {
      const r = new Redis({ port });
      const slots = (await r.call('cluster', 'slots')) as Array<[number, number, [string, number, string]]>;
      const nodes = (await r.call('cluster', 'nodes')) as string;
      r.disconnect();
      return { slots, nodes };
    }));
    // The views converge: a node that stalled on a loaded machine may briefly route around a peer.
    let replies = await read();
    for (let i = 0; i < 30 && !replies.every((x) => JSON.stringify(x.slots) === JSON.stringify(replies[0]!.slots)); i++) {
      await new Promise((r) => setTimeout(r, 500));
      replies = await read();
    }
    expect(replies[1]!.slots).toEqual(replies[0]!.slots);
    expect(replies[2]!.slots).toEqual(replies[0]!.slots);
    let covered = 0;
    let expectedStart = 0;
    for (const [start, end, master] of replies[0]!.slots) {
      expect(start).toBe(expectedStart);
      covered += end - start + 1;
      expectedStart = end + 1;
      expect(master[0]).toBe('127.0.0.1');
      expect(c.ports).toContain(master[1]);
      expect(replies[0]!.nodes).toContain(master[2]);
    }
    expect(covered).toBe(16384);
    for (const { nodes } of replies) {
      const lines = nodes.split('\n').filter(Boolean);
      expect(nodes.endsWith('\n')).toBe(true);
      expect(lines).toHaveLength(3);
      expect(lines.filter((l) => l.includes('myself'))).toHaveLength(1);
    }
  });

  it('CLUSTER LINKS lists a link to and a link from each other node, with Redis 7.0\'s fields', async () => {
    const ids = await nodeIds(c.ports);
    const r = new Redis({ port: c.ports[0] });
    try {
      // Links open on first use and the other nodes dial in on theirs: wait for all four.
      let links: string[][] = [];
      for (let i = 0; i < 50; i++) {
        links = (await r.call('cluster', 'links')) as string[][];
        if (links.length === 4) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(links.map((l) => l.filter((_, i) => i % 2 === 0))).toEqual(links.map(() => ['direction', 'node', 'create-time', 'events', 'send-buffer-allocated', 'send-buffer-used']));
      const seen = links.map((l) => `${l[1]} ${l[3]}`).sort();
      expect(seen).toEqual([`from ${ids[1]}`, `from ${ids[2]}`, `to ${ids[1]}`, `to ${ids[2]}`].sort());
      for (const l of links) {
        expect(Number(l[5])).toBeGreaterThan(Date.now() - 120_000);
        expect(Number(l[5])).toBeLessThanOrEqual(Date.now());
        expect(['r', 'rw']).toContain(l[7]);
      }
    } finally {
      r.disconnect();
    }
  });

  it('MOVED points at the slot owner that CLUSTER SLOTS names; CROSSSLOT and SELECT as Redis Cluster', async () => {
    const r = new Redis({ port: c.ports[0] });
    const slots = (await r.call('cluster', 'slots')) as Array<[number, number, [string, number, string]]>;
    const slot = Number(await r.call('cluster', 'keyslot', 'somekey'));
    expect(slot).toBe(11058);
    const owner = slots.find(([s, e]) => s <= slot && slot <= e)![2];
    const other = c.ports.find((p) => p !== owner[1])!;
    const o = new Redis({ port: other });
    await expect(o.get('somekey')).rejects.toThrow(`MOVED 11058 127.0.0.1:${owner[1]}`);
    await expect(o.call('mget', 'a', 'b')).rejects.toThrow("CROSSSLOT Keys in request don't hash to the same slot");
    await expect(o.select(1)).rejects.toThrow('ERR SELECT is not allowed in cluster mode');
    expect(await o.info('cluster')).toContain('cluster_enabled:1');
    o.disconnect();
    r.disconnect();
  });

  it('ioredis Cluster writes 10,000 keys; node-redis createCluster (RESP2 and RESP3) reads them all back', async () => {
    const writer = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }]);
    const keys = Array.from({ length: 10000 }, (_, i) => `user:${i}`);
    for (let i = 0; i < keys.length; i += 500) {
      await Promise.all(keys.slice(i, i + 500).map((k) => writer.set(k, `v-${k}`)));
    }
    await writer.quit();
    for (const RESP of [2, 3] as const) {
      const reader = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${c.ports[1]}` }], RESP });
      reader.on('error', () => undefined);
      await reader.connect();
      for (let i = 0; i < keys.length; i += 500) {
        const values = await Promise.all(keys.slice(i, i + 500).map((k) => reader.get(k)));
        values.forEach((v, j) => expect(v).toBe(`v-${keys[i + j]}`));
      }
      await reader.close();
    }
  });

  it('hash tags, MULTI/EXEC in one slot, INCR atomic under concurrency, hashes and TTLs', async () => {
    const cl = new Cluster([{ host: '127.0.0.1', port: c.ports[2]! }]);
    await cl.mset('{u1}a', '1', '{u1}b', '2');
    expect(await cl.mget('{u1}a', '{u1}b')).toEqual(['1', '2']);
    const res = await cl.multi().incr('{u1}n').incr('{u1}n').exec();
    expect(res).toEqual([[null, 1], [null, 2]]);
    await Promise.all(Array.from({ length: 200 }, () => cl.incr('counter')));
    expect(await cl.get('counter')).toBe('200');
    await cl.hset('h', 'f', 'v', 'g', 'w');
    expect(await cl.hgetall('h')).toEqual({ f: 'v', g: 'w' });
    await cl.set('t', 'v', 'EX', 100);
    expect(await cl.ttl('t')).toBeGreaterThan(90);
    expect(await cl.del('t', )).toBe(1);
    expect(await cl.get('t')).toBeNull();
    await cl.quit();
  });

  it.skipIf(!haveTools)('redis-cli -c follows redirects; --cluster check passes', async () => {
    const set = await run('redis-cli', ['-c', '-p', String(c.ports[0]), 'set', 'cli-key', 'cli-value']);
    expect(set.stdout.trim()).toBe('OK');
    for (const port of c.ports) {
      const got = await run('redis-cli', ['-c', '-p', String(port), 'get', 'cli-key']);
      expect(got.stdout.trim()).toBe('cli-value');
    }
    const check = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${c.ports[0]}`]);
    expect(check.stdout).toContain('[OK] All nodes agree about slots configuration.');
    expect(check.stdout).toContain('[OK] All 16384 slots covered.');
    expect(check.code).toBe(0);
  });

  it.skipIf(!haveTools)('redis-benchmark --cluster runs SET and GET without errors', async () => {
    const r = await run('redis-benchmark', ['-p', String(c.ports[0]), '--cluster', '-n', '3000', '-c', '10', '-r', '1000', '-t', 'set,get', '-q'], undefined, 120000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SET: [\d.]+ requests per second/);
    expect(r.stdout).toMatch(/GET: [\d.]+ requests per second/);
  });
});

describe('cluster-proxy: plain clients on any node', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3, ['--cluster-proxy', 'yes']);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('a non-cluster ioredis client reads and writes every key through one node', async () => {
    const a = new Redis({ port: c.ports[0] });
    const b = new Redis({ port: c.ports[2] });
    for (let i = 0; i < 300; i++) await a.set(`p:${i}`, String(i));
    for (let i = 0; i < 300; i++) expect(await b.get(`p:${i}`)).toBe(String(i));
    expect(await b.incr('p:counter')).toBe(1);
    expect(await a.incr('p:counter')).toBe(2);
    const tx = await a.multi().set('{t}x', '1').incr('{t}x').exec();
    expect(tx).toEqual([[null, 'OK'], [null, 2]]);
    a.disconnect();
    b.disconnect();
  });
});

describe('5-node cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(5);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('spreads slots over five primaries and serves 2,000 keys', async () => {
    const cl = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }]);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => cl.set(`k${i}`, String(i))));
    const values = await Promise.all(Array.from({ length: 2000 }, (_, i) => cl.get(`k${i}`)));
    values.forEach((v, i) => expect(v).toBe(String(i)));
    const info = (await cl.call('cluster', 'info')) as string;
    expect(info).toContain('cluster_size:5');
    // Like Redis Cluster masters, each node lists only the slots it is primary for.
    let total = 0;
    const scanned: string[] = [];
    for (const port of c.ports) {
      const r = new Redis({ port });
      total += await r.dbsize();
      let cursor = '0';
      do {
        const [next, batch] = await r.scan(cursor, 'COUNT', 500);
        scanned.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      r.disconnect();
    }
    expect(total).toBe(2000);
    expect(scanned.length).toBe(2000);
    expect(new Set(scanned).size).toBe(2000);
    await cl.quit();
  });

  it.skipIf(!haveTools)('redis-cli --cluster check agrees on five nodes', async () => {
    const check = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${c.ports[3]}`]);
    expect(check.stdout).toContain('[OK] All nodes agree about slots configuration.');
    expect(check.stdout).toContain('[OK] All 16384 slots covered.');
  });
});
