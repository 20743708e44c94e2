/**
 * Goal: Redis 7.0's own cluster tooling does what operators use it for. A team moving off Redis can
 * pour a running redis-server's keys into a ringkv cluster with `redis-cli --cluster import`: every
 * key of every type arrives whole, with its expiry, on the node that serves its slot;
 * `--cluster-copy` leaves the source as it was and `--cluster-replace` overwrites keys the cluster
 * already holds, as the tool promises. `redis-cli --cluster add-node` scales a cluster out: the new
 * node joins, takes a share of the slots (the ring places them; no reshard step), and every key
 * stays readable with its value. A Redis Cluster node's MIGRATE (which sends RESTORE-ASKING) moves
 * keys straight into the ringkv node that serves their slot.
 * Method: a real redis-server filled with every kind of key (key-contents.ts), 3-node ringkv
 * clusters, the tools run as users run them, then each key read back through ioredis's Cluster
 * client and compared with the source's copy, byte for byte, expiry included.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterForBlock } from '../helpers/cluster.js';
import { keySnapshot, queueFullKeyspace } from '../helpers/key-contents.js';
import { haveRedisServer, startRedisCluster, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { primaryPort } from '../helpers/node-facts.js';
import { freePort, hasBinary, run, startNode, type NodeProcess } from '../helpers/server.js';

const haveTools = haveRedisServer && hasBinary('redis-cli');

/**
 * The key as the target holds it equals the source's copy; an expiry may differ by the ms MIGRATE
 * took (it sends the time left, not the instant).
 */
async function expectMoved(source: Redis, target: Cluster, key: string): Promise<void> {
  const [want, wantExpiry] = (await keySnapshot(source, key)) as [unknown, number];
  const [got, gotExpiry] = (await keySnapshot(target as unknown as Redis, key)) as [unknown, number];
  expect(got, key).toEqual(want);
  if (wantExpiry < 0) expect(gotExpiry, key).toBe(wantExpiry);
  else expect(Math.abs(gotExpiry - wantExpiry), `${key} expiry ${gotExpiry} against ${wantExpiry}`).toBeLessThanOrEqual(50);
}

describe.skipIf(!haveTools)('redis-cli --cluster import from redis-server into a 3-node cluster', () => {
  const cluster = clusterForBlock(3);
  let source: RedisReference | undefined;
  let src: Redis;
  let c: Cluster;

  beforeAll(async () => {
    source = await startRedisServer();
    src = new Redis({ port: source.ports[0] });
    const p = src.pipeline();
    queueFullKeyspace(p);
    for (let i = 0; i < 300; i++) p.set(`plain:${i}`, `value-${i}`);
    p.set('clash', 'from-redis');
    await p.exec();
    c = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
  }, 60_000);

  afterAll(async () => {
    c?.disconnect();
    src?.disconnect();
    await source?.stop();
  });

  const importFrom = async (...flags: string[]): Promise<{ code: number | null; out: string }> => {
    const r = await run('redis-cli', ['--cluster', 'import', `127.0.0.1:${cluster.ports[0]}`, '--cluster-from', `127.0.0.1:${source!.ports[0]}`, ...flags], undefined, 120_000);
    return { code: r.code, out: r.stdout + r.stderr };
  };

  const expectSameKey = (key: string): Promise<void> => expectMoved(src, c, key);

  it('copies every key whole, with its expiry, to the node of its slot, and leaves the source as it was', async () => {
    const keys = (await src.keys('*')).sort();
    expect(keys.length).toBeGreaterThan(300);
    const { code, out } = await importFrom('--cluster-copy');
    expect(code, out).toBe(0);
    for (const key of keys) await expectSameKey(key);
    let held = 0;
    for (const port of cluster.ports) {
      const node = new Redis({ port });
      held += await node.dbsize();
      node.disconnect();
    }
    expect(held).toBe(keys.length);
    expect((await src.keys('*')).sort()).toEqual(keys);
  }, 180_000);

  it('stops at a key the cluster holds (BUSYKEY), and --cluster-replace overwrites it', async () => {
    await c.set('clash', 'already-here');
    const refused = await importFrom('--cluster-copy');
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('BUSYKEY Target key name already exists.');
    expect(await c.get('clash')).toBe('already-here');
    const replaced = await importFrom('--cluster-copy', '--cluster-replace');
    expect(replaced.code, replaced.out).toBe(0);
    expect(await c.get('clash')).toBe('from-redis');
    await expectSameKey('bighash');
  }, 180_000);
});

describe.skipIf(!hasBinary('redis-cli'))('redis-cli --cluster add-node', () => {
  const cluster = clusterForBlock(3);
  let added: NodeProcess | undefined;

  afterAll(async () => {
    await added?.stop();
  });

  it('adds an empty node: it takes a share of the slots and every key keeps its value', async () => {
    const c = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    try {
      const keys = Array.from({ length: 400 }, (_, i) => `grow:${i}`);
      await Promise.all(keys.map((k, i) => (i % 4 === 0 ? c.rpush(k, 'a', String(i)) : c.set(k, String(i)))));
      let port = await freePort();
      // Its bus port (port + 10000) must not be a member's client port, nor the other way round.
      while (cluster.ports.some((p) => p === port + 10000 || p + 10000 === port)) port = await freePort();
      added = await startNode({ port, args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', '--appendfsync', 'everysec'] });
      const r = await run('redis-cli', ['--cluster', 'add-node', `127.0.0.1:${port}`, `127.0.0.1:${cluster.ports[0]}`], undefined, 60_000);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('[OK] New node added correctly.');
      // The new node appears in the slot map with a share of the slots.
      const deadline = Date.now() + 30_000;
      let share = 0;
      while (share === 0 && Date.now() < deadline) {
        const slots = (await c.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
        share = slots.filter(([, , [, p]]) => p === port).reduce((n, [from, to]) => n + to - from + 1, 0);
        if (share === 0) await new Promise((res) => setTimeout(res, 200));
      }
      expect(share).toBeGreaterThan(16384 / 8);
      const check = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${port}`], undefined, 60_000);
      expect(check.stdout).toContain('[OK] All 16384 slots covered.');
      // Every key reads back with its value, also through the new node's redirects.
      const viaNew = new Cluster([{ host: '127.0.0.1', port }]);
      try {
        for (const [i, k] of keys.entries()) {
          const want = i % 4 === 0 ? ['a', String(i)] : String(i);
          expect(i % 4 === 0 ? await viaNew.lrange(k, 0, -1) : await viaNew.get(k), k).toEqual(want);
        }
      } finally {
        viaNew.disconnect();
      }
    } finally {
      c.disconnect();
    }
  }, 120_000);
});

describe.skipIf(!haveRedisServer)('MIGRATE from a Redis Cluster node into a ringkv cluster', () => {
  const cluster = clusterForBlock(3);
  let source: RedisReference | undefined;

  beforeAll(async () => {
    source = await startRedisCluster();
  }, 60_000);

  afterAll(async () => {
    await source?.stop();
  });

  it('moves keys of every kind with RESTORE-ASKING, expiry included; REPLACE overwrites, COPY keeps the source', async () => {
    const from = new Cluster([{ host: '127.0.0.1', port: source!.ports[0]! }]);
    const to = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    try {
      const keys = ['mig:str', 'mig:list', 'mig:hash', 'mig:zset', 'mig:ttl'];
      await from.set('mig:str', 'v');
      await from.rpush('mig:list', 'a', 'b', 'c');
      await from.hset('mig:hash', 'f', '1', 'g', '2');
      await from.zadd('mig:zset', '1.5', 'm', '-2', 'n');
      await from.set('mig:ttl', 'x', 'PX', 600_000);
      await to.set('mig:str', 'old');
      for (const key of keys) {
        const src = await primaryPort(source!.ports[0]!, key);
        const dst = await primaryPort(cluster.ports[0]!, key);
        const node = new Redis({ port: src });
        const reply = await node.call('MIGRATE', '127.0.0.1', String(dst), key, '0', '5000', 'COPY', 'REPLACE');
        expect(reply, key).toBe('OK');
        await expectMoved(node, to, key);
        expect(await node.exists(key), `${key} still at the source (COPY)`).toBe(1);
        node.disconnect();
      }
      // What a cluster node's MIGRATE sends is RESTORE-ASKING (a standalone source sends RESTORE).
      let asking = 0;
      for (const port of cluster.ports) {
        const node = new Redis({ port });
        asking += Number(/cmdstat_restore-asking:calls=(\d+)/.exec(await node.info('commandstats'))?.[1] ?? 0);
        node.disconnect();
      }
      expect(asking).toBe(keys.length);
      // Without REPLACE a key the target holds is refused, as a Redis target refuses it.
      const src = new Redis({ port: await primaryPort(source!.ports[0]!, 'mig:str') });
      await expect(src.call('MIGRATE', '127.0.0.1', String(await primaryPort(cluster.ports[0]!, 'mig:str')), 'mig:str', '0', '5000', 'COPY')).rejects.toThrow(/BUSYKEY Target key name already exists/);
      src.disconnect();
    } finally {
      from.disconnect();
      to.disconnect();
    }
  }, 120_000);
});

