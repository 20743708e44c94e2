/**
 * Goal: SORT and SORT_RO answer exactly as redis-server 7.0 does, on one node and on a 3-node
 * cluster, in RESP2 and RESP3, pipelined and inside MULTI: numeric and ALPHA order, LIMIT windows,
 * BY and GET patterns (strings, hash fields, missing keys), STORE into lists, and the errors
 * (syntax, integers, "can't be converted into double", WRONGTYPE). On a cluster, BY and GET
 * patterns are refused with Redis 7.0's texts, compared against a real Redis Cluster; inside a
 * script, a set sorted BY nosort comes back sorted, as Redis does for scripts.
 * Method: seeded scenarios weighted towards SORT (gen-sort.ts) run in lockstep on redis-server
 * and ringkv, every reply compared byte for byte (what Redis leaves unordered, as multisets); the
 * cluster refusals through ioredis Cluster clients on both clusters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import type { Mix } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';
import { haveRedisServer, startRedisCluster, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

const SORT_MIX: Mix = { strings: 6, keys: 8, hashes: 4, connection: 2, errors: 2, transactions: 8, sort: 70 };

differentialSuite({
  title: 'differential SORT: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([301]),
  protocols: [2, 3],
  mix: SORT_MIX,
  label: 'sort1',
});

differentialSuite({
  title: 'differential SORT: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([303]),
  protocols: [2],
  mix: SORT_MIX,
  label: 'sortc',
});

describe.skipIf(!haveRedisServer)('SORT patterns in cluster mode: ringkv vs Redis Cluster 7.0', () => {
  let ref: RedisReference | undefined;
  let ours: TestCluster | undefined;
  beforeAll(async () => {
    const [r, o] = await Promise.allSettled([startRedisCluster(), startCluster(3, ['--cluster-node-timeout', '15000'])]);
    if (r.status === 'fulfilled') ref = r.value;
    if (o.status === 'fulfilled') ours = o.value;
    if (r.status === 'rejected') throw r.reason;
    if (o.status === 'rejected') throw o.reason;
  }, 60000);
  afterAll(async () => {
    await Promise.all([ref?.stop(), ours?.stop()]);
  });

  const commands: string[][] = [
    ['RPUSH', '{t}l', '3', '1', '2'],
    ['SET', '{t}w_1', '30'],
    ['SORT', '{t}l'],
    ['SORT', '{t}l', 'BY', '{t}w_*'],
    ['SORT', '{t}l', 'BY', 'w_*'],
    ['SORT', '{t}l', 'GET', '#'],
    ['SORT', '{t}l', 'GET', '{t}w_*'],
    ['SORT', '{t}l', 'BY', 'nosort', 'DESC'],
    ['SORT', '{t}l', 'BY', '{t}w_*', 'bogus'],
    ['SORT', '{t}l', 'bogus', 'BY', '{t}w_*'],
    ['SORT_RO', '{t}l', 'LIMIT', '0', '2', 'GET', '#'],
    ['SORT', '{t}l', 'ALPHA', 'STORE', '{t}dst'],
    ['LRANGE', '{t}dst', '0', '-1'],
  ];

  async function run(ports: number[]): Promise<string[]> {
    const c = new Cluster([{ host: '127.0.0.1', port: ports[0]! }], { enableReadyCheck: true, redisOptions: { maxRetriesPerRequest: 1 } });
    try {
      const out: string[] = [];
      for (const argv of commands) {
        try {
          out.push(JSON.stringify(await c.call(argv[0]!, ...argv.slice(1))));
        } catch (err) {
          out.push(`error: ${(err as Error).message}`);
        }
      }
      return out;
    } finally {
      c.disconnect();
    }
  }

  it('refuses BY and GET patterns with the same texts', async () => {
    const want = await run(ref!.ports);
    const got = await run(ours!.ports);
    expect(want.some((r) => r.includes('BY option of SORT denied in Cluster mode.'))).toBe(true);
    expect(got).toEqual(want);
  });
});

describe.skipIf(!haveRedisServer)('SORT inside scripts: ringkv vs redis-server', () => {
  let ref: RedisReference | undefined;
  let node: NodeProcess | undefined;
  beforeAll(async () => {
    const [r, n] = await Promise.allSettled([startRedisServer(), startNode({ args: ['--appendfsync', 'no'] })]);
    if (r.status === 'fulfilled') ref = r.value;
    if (n.status === 'fulfilled') node = n.value;
    if (r.status === 'rejected') throw r.reason;
    if (n.status === 'rejected') throw n.reason;
  }, 60000);
  afterAll(async () => {
    await Promise.all([ref?.stop(), node?.stop()]);
  });

  it('a set sorted BY nosort from a script comes back sorted ALPHA, as Redis replicates it', async () => {
    const run = async (port: number): Promise<unknown[]> => {
      const c = new Redis({ port });
      try {
        await c.sadd('s', 'c', 'a', 'b', '10', '2', '');
        const out: unknown[] = [];
        for (const extra of [[], ['DESC'], ['LIMIT', '1', '2'], ['GET', '#']]) {
          out.push(await c.eval(`return redis.call('sort', KEYS[1], 'BY', 'nosort', ${extra.map((e) => `'${e}'`).join(', ')}${extra.length ? '' : "'ASC'"})`, 1, 's'));
        }
        return out;
      } finally {
        c.disconnect();
      }
    };
    const want = await run(ref!.ports[0]!);
    expect(want[0]).toEqual(['', '10', '2', 'a', 'b', 'c']);
    expect(await run(node!.port)).toEqual(want);
  });
});
