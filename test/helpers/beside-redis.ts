/**
 * A ringkv node beside a redis-server, for the describe block that calls it: both started together
 * before its tests and stopped after them, also when one of them failed to start. The differential
 * tests send each the same commands and compare the replies.
 */
import { afterAll, beforeAll } from 'vitest';
import { startCluster, type TestCluster } from './cluster.js';
import { startNode, type NodeProcess } from './server.js';
import { haveRedisServer, startRedisServer, type RedisReference } from './redis-reference.js';

export interface BesideRedis {
  readonly node: NodeProcess;
  /** The redis-server; throws when it is not installed (guard with `haveRedisServer`). */
  readonly ref: RedisReference;
  /** The redis-server when installed. */
  readonly refIfAny: RedisReference | undefined;
}

export function nodeBesideRedis(args: string[] = ['--appendfsync', 'no']): BesideRedis {
  let node: NodeProcess | undefined;
  let ref: RedisReference | undefined;
  beforeAll(async () => {
    const started = await Promise.allSettled([haveRedisServer ? startRedisServer() : Promise.resolve(undefined), startNode({ args })]);
    if (started[0].status === 'fulfilled') ref = started[0].value;
    if (started[1].status === 'fulfilled') node = started[1].value;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([ref?.stop(), node?.stop()]);
  });
  return {
    get node(): NodeProcess {
      if (node === undefined) throw new Error('the ringkv node did not start');
      return node;
    },
    get ref(): RedisReference {
      if (ref === undefined) throw new Error('redis-server is not running');
      return ref;
    },
    get refIfAny(): RedisReference | undefined {
      return ref;
    },
  };
}

export interface ClusterBesideRedis {
  readonly cluster: TestCluster;
  /** The redis-server; throws when it is not installed (guard with `haveRedisServer`). */
  readonly ref: RedisReference;
}

/** A ringkv cluster of `size` nodes beside a redis-server, for the describe block that calls it, as nodeBesideRedis. */
export function clusterBesideRedis(size: number, args: string[] = []): ClusterBesideRedis {
  let cluster: TestCluster | undefined;
  let ref: RedisReference | undefined;
  beforeAll(async () => {
    const started = await Promise.allSettled([haveRedisServer ? startRedisServer() : Promise.resolve(undefined), startCluster(size, args)]);
    if (started[0].status === 'fulfilled') ref = started[0].value;
    if (started[1].status === 'fulfilled') cluster = started[1].value;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }, 90_000);
  afterAll(async () => {
    await Promise.allSettled([ref?.stop(), cluster?.stop()]);
  });
  return {
    get cluster(): TestCluster {
      if (cluster === undefined) throw new Error('the ringkv cluster did not start');
      return cluster;
    },
    get ref(): RedisReference {
      if (ref === undefined) throw new Error('redis-server is not running');
      return ref;
    },
  };
}
