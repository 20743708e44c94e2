/**
 * Goal: in a 3-node cluster a listpack hash's field order is a property of the data, not of the
 * node that answers: every node lists the fields in the insertion order redis-server 7.0 gives,
 * also after one replica was killed with SIGKILL while writes went on and came back.
 * Method: a real 3-node cluster (N=3, W=2, R=2) and a real redis-server get the same seeded
 * pipelines of HSET / HDEL / HINCRBY / HSETNX (ioredis Cluster and a plain client); a replica of
 * the hash's slot (not its primary) is killed -9 between two rounds and started again after the
 * second; then HKEYS / HGETALL through the cluster client and through each node with READONLY
 * (each node reads its own replica, completed from the others first) must equal redis-server's.
 */
import { describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { clusterBesideRedis } from '../helpers/beside-redis.js';
import { primaryPort } from '../helpers/node-facts.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { Prng } from '../sim/prng.js';

const KEY = '{hord}h';

/** One round of writes: fields from a pool of 40 (a listpack throughout), some changed, some deleted and added again. */
function round(rng: Prng, n: number): string[][] {
  const f = (): string => `f${rng.int(0, 39)}`;
  return Array.from({ length: n }, () => {
    switch (rng.int(0, 5)) {
      case 0: return ['HDEL', KEY, f(), f()];
      case 1: return ['HINCRBY', KEY, `n${rng.int(0, 3)}`, String(rng.int(1, 9))];
      case 2: return ['HSETNX', KEY, f(), 'nx'];
      default: return ['HSET', KEY, f(), String(rng.int(0, 999)), f(), 'x'];
    }
  });
}

async function send(r: Redis | Cluster, steps: readonly string[][]): Promise<unknown[]> {
  const results = (await r.pipeline(steps.map((s) => [s[0]!.toLowerCase(), ...s.slice(1)])).exec()) ?? [];
  return results.map(([err, value]) => (err ? `ERR ${err.message}` : value));
}

/** HKEYS through the node on `port` as a READONLY reader; retried while the node settles (MOVED, TRYAGAIN). */
async function readThrough(port: number): Promise<{ keys: string[]; all: Record<string, string> }> {
  const r = new Redis({ port, maxRetriesPerRequest: 0 });
  try {
    await r.call('READONLY');
    const deadline = Date.now() + 10000;
    for (;;) {
      try {
        return { keys: await r.hkeys(KEY), all: await r.hgetall(KEY) };
      } catch (err) {
        if (Date.now() > deadline || !/MOVED|TRYAGAIN|CLUSTERDOWN|LOADING/.test(String(err))) throw err;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  } finally {
    r.disconnect();
  }
}

describe.skipIf(!haveRedisServer)('hash field order in a 3-node cluster', () => {
  const both = clusterBesideRedis(3);

  it('every node lists the fields as redis-server does, after a replica was killed -9 and came back', async () => {
    const rng = new Prng(7);
    const ref = new Redis({ port: both.ref.ports[0]! });
    const c = both.cluster;
    const client = new Cluster(c.ports.map((port) => ({ host: '127.0.0.1', port })), { clusterRetryStrategy: () => 100, retryDelayOnFailover: 100 });
    client.on('error', () => undefined);
    try {
      const both = async (steps: string[][]): Promise<void> => {
        const [want, got] = await Promise.all([send(ref, steps), send(client, steps)]);
        expect(got).toEqual(want);
      };
      await both(round(rng, 120));
      const primary = await primaryPort(c.ports[0]!, KEY);
      const replica = c.nodes.find((n) => n.port !== primary)!;
      await replica.kill9();
      // W=2 of the two alive replicas: the writes go on without waiting for failure detection.
      await both(round(rng, 120));
      await replica.restart();
      await both(round(rng, 60));

      const want = { keys: await ref.hkeys(KEY), all: await ref.hgetall(KEY) };
      expect(await ref.object('ENCODING', KEY)).toBe('listpack');
      expect(want.keys.length).toBeGreaterThan(20);
      expect(await client.hkeys(KEY)).toEqual(want.keys);
      for (const port of c.ports) {
        const got = await readThrough(port);
        expect(got.keys, `HKEYS through ${port}${port === replica.port ? ' (the restarted replica)' : ''}`).toEqual(want.keys);
        expect(Object.entries(got.all), `HGETALL through ${port}`).toEqual(Object.entries(want.all));
      }
    } finally {
      ref.disconnect();
      client.disconnect();
    }
  }, 60000);
});
