/**
 * Goal: the rate limiter and the lock manager applications put in front of Redis work unchanged,
 * on one node and on a 3-node cluster: rate-limiter-flexible's RateLimiterRedis (a Lua script per
 * consume) admits exactly its points under concurrent callers, and redlock 5 (EVALSHA with an EVAL
 * fallback, several keys per lock) never lets two holders hold one resource.
 * Method: the packages themselves, over ioredis (a plain client, and ioredis Cluster), many calls
 * at once as an application under load makes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import Redlock from 'redlock';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { startNode, type NodeProcess } from '../helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function rateLimiterAdmitsExactly(client: Redis | Cluster, prefix: string): Promise<void> {
  const limiter = new RateLimiterRedis({ storeClient: client, keyPrefix: prefix, points: 7, duration: 30 });
  const outcomes = await Promise.allSettled(Array.from({ length: 40 }, () => limiter.consume('user-1')));
  expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(7);
  const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  expect(rejected).toHaveLength(33);
  // A rejection is the library's "no points left" answer, never a Redis error.
  for (const r of rejected) expect(r.reason).toMatchObject({ remainingPoints: 0 });
  const res = await limiter.get('user-1');
  expect(res?.consumedPoints).toBe(40);
  expect(res?.msBeforeNext).toBeGreaterThan(25_000);
  // Other keys are counted apart; penalty and reward adjust the same record.
  await limiter.consume('user-2', 3);
  await limiter.penalty('user-2', 2);
  await limiter.reward('user-2', 1);
  expect((await limiter.get('user-2'))?.consumedPoints).toBe(4);
}

async function locksExcludeEachOther(clients: Array<Redis | Cluster>, resource: string): Promise<void> {
  const redlock = new Redlock(clients, { retryCount: 200, retryDelay: 10, retryJitter: 10 });
  let holders = 0;
  let maxHolders = 0;
  let done = 0;
  await Promise.all(Array.from({ length: 12 }, async () => {
    await redlock.using([resource, `${resource}:second`], 3000, async () => {
      holders++;
      maxHolders = Math.max(maxHolders, holders);
      await sleep(15);
      holders--;
      done++;
    });
  }));
  expect(done).toBe(12);
  expect(maxHolders).toBe(1);
  // A lock held by one cannot be taken by another until released; extend keeps it.
  const lock = await redlock.acquire([resource], 2000);
  await expect(new Redlock(clients, { retryCount: 0 }).acquire([resource], 2000)).rejects.toThrow();
  const extended = await lock.extend(4000);
  expect(extended.expiration).toBeGreaterThan(lock.expiration);
  await extended.release();
  const again = await new Redlock(clients, { retryCount: 0 }).acquire([resource], 1000);
  await again.release();
}

describe('application libraries on one node', () => {
  let node: NodeProcess;
  let client: Redis;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'everysec'] });
    client = new Redis({ port: node.port });
  }, 30_000);
  afterAll(async () => {
    client?.disconnect();
    await node?.stop();
  });

  it('rate-limiter-flexible admits exactly its points under 40 concurrent consumes', async () => {
    await rateLimiterAdmitsExactly(client, 'rl-one');
  });

  it('redlock 5: twelve concurrent workers never hold one resource together', async () => {
    await locksExcludeEachOther([client], 'lock:one');
  }, 60_000);
});

describe('application libraries on a 3-node cluster', () => {
  let c: TestCluster;
  let cluster: Cluster;
  beforeAll(async () => {
    c = await startCluster(3);
    cluster = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }]);
  }, 60_000);
  afterAll(async () => {
    cluster?.disconnect();
    await c?.stop();
  });

  it('rate-limiter-flexible over ioredis Cluster admits exactly its points', async () => {
    await rateLimiterAdmitsExactly(cluster, 'rl-cluster');
  });

  it('redlock 5 over ioredis Cluster: one holder at a time (resources in one slot)', async () => {
    await locksExcludeEachOther([cluster], '{lock}cluster');
  }, 60_000);
});
