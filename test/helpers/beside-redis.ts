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

/** Starts ringkv (what `start` returns) and redis-server together for the block; `what` names ringkv's side in errors. */
function besideRedis<T extends { stop(): Promise<unknown> }>(start: () => Promise<T>, what: string, timeoutMs: number) {
  let mine: T | undefined;
  let ref: RedisReference | undefined;
  beforeAll(async () => {
    const started = await Promise.allSettled([haveRedisServer ? startRedisServer() : Promise.resolve(undefined), start()]);
    if (started[0].status === 'fulfilled') ref = started[0].value;
    if (started[1].status === 'fulfilled') mine = started[1].value;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }, timeoutMs);
  afterAll(async () => {
    await Promise.allSettled([ref?.stop(), mine?.stop()]);
  });
  return {
    get mine(): T {
      if (mine === undefined) throw new Error(`the ringkv ${what} did not start`);
      return mine;
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

export function nodeBesideRedis(args: string[] = ['--appendfsync', 'no']): BesideRedis {
  const both = besideRedis(() => startNode({ args }), 'node', 60_000);
  return {
    get node(): NodeProcess {
      return both.mine;
    },
    get ref(): RedisReference {
      return both.ref;
    },
    get refIfAny(): RedisReference | undefined {
      return both.refIfAny;
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
  const both = besideRedis(() => startCluster(size, args), 'cluster', 90_000);
  return {
    get cluster(): TestCluster {
      return both.mine;
    },
    get ref(): RedisReference {
      return both.ref;
    },
  };
}
