/**
 * Goal: the mixed-slot load generator of `npm run bench` (bench/lib/mixedload.ts) drives both
 * sides of the pipelined cluster comparison the same way: it routes every key to the master that
 * owns its slot (no redirects), spreads its connections over all the masters and no replica, and its
 * fill makes every later GET hit. Method: the built generator against a real 3-node ringkv cluster
 * and against the bench's Redis Cluster anchor (3 masters + 3 replicas, redis-server processes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { startCluster as startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { hasBinary, ROOT, run } from '../helpers/server.js';
import { startCluster as startBenchCluster, stopCluster, type RunningCluster } from '../../bench/lib/cluster.js';
import { parseMixedLoadResult, type MixedLoadResult } from '../../bench/lib/mixed-result.js';
import { respString } from '../../bench/lib/resp.js';
import { REDIS_CLUSTER_WITH_REPLICAS } from '../../bench/lib/servers.js';

const GENERATOR = path.join(ROOT, 'dist/bench/lib/mixedload.js');
const VALUE = 'x'.repeat(100);

async function mixedLoad(port: number, args: string[]): Promise<MixedLoadResult> {
  const out = await run(process.execPath, [GENERATOR, '--port', String(port), '--connections', '6', '--depth', '8', '--max-seconds', '50', ...args], undefined, 60_000);
  const result = parseMixedLoadResult(out.stdout);
  if (out.code !== 0 || result === null) throw new Error(`mixedload exited ${out.code}: ${out.stderr}`);
  return result;
}

describe('mixed-slot load generator against a ringkv cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster(3);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('fills the keyspace through all three nodes with no redirect, and then every GET hits', async () => {
    // Once unmeasured, as the bench's warm-up does: a CI run under load once had 112 of 400 requests
    // fail on the cluster that had just formed (not captured; most likely slots whose lease was
    // still being granted, which answer TRYAGAIN). The measured fill must then be clean.
    await mixedLoad(c.ports[0]!, ['--test', 'fill', '--keyspace', '400']);
    const fill = await mixedLoad(c.ports[0]!, ['--test', 'fill', '--keyspace', '400']);
    expect(fill, JSON.stringify(fill.errorSamples)).toMatchObject({ requests: 400, ok: 400, errors: 0 });
    expect(fill.nodes.map((n) => Number(n.split(':')[1])).sort()).toEqual([...c.ports].sort());

    const cluster = new Cluster([{ host: '127.0.0.1', port: c.ports[1]! }]);
    try {
      expect(await cluster.get('key:000000000007')).toBe(VALUE);
      expect(await cluster.get('key:000000000399')).toBe(VALUE);
      expect(await cluster.get('key:000000000400')).toBeNull();
    } finally {
      cluster.disconnect();
    }

    const get = await mixedLoad(c.ports[2]!, ['--test', 'get', '--keyspace', '400', '--requests', '2000']);
    expect(get).toMatchObject({ requests: 2000, ok: 2000, errors: 0, misses: 0 });
    expect(get.p50Ms).not.toBeNull();
    expect(get.rps).toBeGreaterThan(0);

    // Keys 400..799 were never written: about half of these GETs miss, and the count says so.
    const half = await mixedLoad(c.ports[0]!, ['--test', 'get', '--keyspace', '800', '--requests', '2000']);
    expect(half.errors).toBe(0);
    expect(half.misses).toBeGreaterThan(600);
    expect(half.misses).toBeLessThan(1400);
  }, 60_000);
});

describe.skipIf(!hasBinary('redis-server') || !hasBinary('redis-cli'))('mixed-slot load generator against the Redis Cluster anchor', () => {
  let scratch = '';
  let cluster: RunningCluster | undefined;
  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'ringkv-bench-test-'));
    cluster = await startBenchCluster({
      target: REDIS_CLUSTER_WITH_REPLICAS,
      durable: false,
      host: '127.0.0.1',
      scratch,
      paths: { redisServer: 'redis-server', redisCli: 'redis-cli', nodeBinary: process.execPath, ringkvEntry: '', ringkvExtraArgs: [] },
    });
  }, 60_000);
  afterAll(async () => {
    if (cluster !== undefined) await stopCluster(cluster);
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  it('forms 3 masters each with a replica in sync, loads only the masters, and the replicas receive the writes', async () => {
    const ports = cluster!.members.map((m) => m.port);
    const roles = await Promise.all(ports.map(async (port) => ({ port, info: await respString('127.0.0.1', port, ['INFO', 'replication']) })));
    const masters = roles.filter((r) => r.info.includes('role:master'));
    const replicas = roles.filter((r) => r.info.includes('role:slave'));
    expect(masters).toHaveLength(3);
    expect(replicas).toHaveLength(3);
    for (const m of masters) expect(m.info).toContain('connected_slaves:1');
    for (const r of replicas) expect(r.info).toContain('master_link_status:up');

    // Seeded through a replica on purpose: the slot map it returns still names the masters.
    const fill = await mixedLoad(replicas[0]!.port, ['--test', 'fill', '--keyspace', '600']);
    expect(fill).toMatchObject({ requests: 600, ok: 600, errors: 0 });
    expect(fill.nodes.map((n) => Number(n.split(':')[1])).sort()).toEqual(masters.map((m) => m.port).sort());

    const get = await mixedLoad(masters[0]!.port, ['--test', 'get', '--keyspace', '600', '--requests', '3000']);
    expect(get).toMatchObject({ requests: 3000, ok: 3000, errors: 0, misses: 0 });

    // Replication is asynchronous: wait until the replicas together hold every key.
    const deadline = Date.now() + 10_000;
    let replicated = 0;
    while (Date.now() < deadline) {
      const counts = await Promise.all(replicas.map(async (r) => {
        const keyspace = await respString('127.0.0.1', r.port, ['INFO', 'keyspace']);
        return Number(/db0:keys=(\d+)/.exec(keyspace)?.[1] ?? 0);
      }));
      replicated = counts.reduce((a, b) => a + b, 0);
      if (replicated === 600) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(replicated).toBe(600);
  }, 60_000);
});
