/**
 * Goal: cluster clients in their read-spreading modes keep working against ringkv's CLUSTER SLOTS
 * (one primary per range, no replicas listed; docs/decisions.md, "CLUSTER SLOTS lists primaries
 * only"): writes succeed, reads return what was written, and no client falls into redirect loops
 * (each refreshes its slot map a bounded number of times, not once per read).
 * Method: a real 3-node cluster; ioredis Cluster with scaleReads master / slave / all, node-redis
 * createCluster with and without useReplicas, redis-py RedisCluster with read_from_replicas, and
 * redis-cli -c; CLUSTER SLOTS calls counted on the nodes (INFO commandstats) around each client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { run } from '../helpers/server.js';
import { PYTHON } from '../helpers/redis-py.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster(3);
});
afterAll(async () => {
  await cluster?.stop();
});

const N = 100;

/** CLUSTER calls (SLOTS refreshes, mostly) served by all nodes so far. */
async function clusterCalls(): Promise<number> {
  let n = 0;
  for (const port of cluster.ports) {
    const r = new Redis({ port });
    try {
      // Counted per subcommand (cmdstat_cluster|slots, …), as Redis 7.0 does.
      for (const m of (await r.info('commandstats')).matchAll(/cmdstat_cluster\|[a-z-]+:calls=(\d+)/g)) n += Number(m[1]);
    } finally {
      r.disconnect();
    }
  }
  return n;
}

describe('read scaling modes of cluster clients', () => {
  it.each(['master', 'slave', 'all'] as const)('ioredis Cluster with scaleReads %s', async (scaleReads) => {
    const before = await clusterCalls();
    const c = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { scaleReads });
    try {
      for (let i = 0; i < N; i++) expect(await c.set(`io-${scaleReads}-${i}`, `v${i}`)).toBe('OK');
      for (let i = 0; i < N; i++) expect(await c.get(`io-${scaleReads}-${i}`)).toBe(`v${i}`);
    } finally {
      c.disconnect();
    }
    // A redirect per read would show as a slot refresh per read.
    expect(await clusterCalls() - before).toBeLessThan(10);
  });

  it.each([false, true])('node-redis createCluster with useReplicas %s', async (useReplicas) => {
    const before = await clusterCalls();
    const c = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${cluster.ports[0]}` }], useReplicas });
    c.on('error', () => undefined);
    await c.connect();
    try {
      for (let i = 0; i < N; i++) expect(await c.set(`nr-${useReplicas}-${i}`, `v${i}`)).toBe('OK');
      for (let i = 0; i < N; i++) expect(await c.get(`nr-${useReplicas}-${i}`)).toBe(`v${i}`);
    } finally {
      await c.close();
    }
    expect(await clusterCalls() - before).toBeLessThan(10);
  });

  it('redis-py RedisCluster with read_from_replicas', async () => {
    const script = `
import sys, redis.cluster
c = redis.cluster.RedisCluster(host='127.0.0.1', port=int(sys.argv[1]), read_from_replicas=True)
for i in range(${N}):
    assert c.set('py-%d' % i, 'v%d' % i) is True
bad = [i for i in range(${N}) if c.get('py-%d' % i) != ('v%d' % i).encode()]
print('bad', len(bad))
`;
    const before = await clusterCalls();
    const r = await run(PYTHON, ['-c', script, String(cluster.ports[0])], undefined, 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('bad 0');
    expect(await clusterCalls() - before).toBeLessThan(10);
  });

  it('redis-cli -c follows redirects to any node', async () => {
    for (const port of cluster.ports) {
      expect((await run('redis-cli', ['-c', '-p', String(port), 'set', `cli-${port}`, 'x'])).stdout.trim()).toBe('OK');
    }
    for (const port of cluster.ports) {
      expect((await run('redis-cli', ['-c', '-p', String(cluster.ports[0]!), 'get', `cli-${port}`])).stdout.trim()).toBe('x');
    }
  });
});
