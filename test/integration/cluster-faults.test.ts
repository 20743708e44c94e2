/**
 * Goal: with N=3, W=2 a cluster keeps every acknowledged write when a node is killed mid-load, keeps
 * accepting writes, and the restarted node catches up. Method: a real 3-node cluster, concurrent
 * ioredis Cluster writers recording acknowledged values, SIGKILL of one node, checks through the
 * survivors, restart, quorum reads coordinated by the restarted node (which repair it), then
 * local-only reads (R=1, READONLY) proving it holds every acknowledged write again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { startCluster, waitForCluster, waitForNodeState, type TestCluster } from '../helpers/cluster.js';
import { CLI, run } from '../helpers/server.js';

describe('node failure with N=3, W=2', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3, ['--appendfsync', 'always']);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('kill -9 mid-load loses no acknowledged write; writes continue; the node catches up after restart', async () => {
    const acked = new Map<string, string>();
    const survivors = [c.ports[0]!, c.ports[1]!];
    const victim = c.nodes[2]!;
    const client = new Cluster(survivors.map((port) => ({ host: '127.0.0.1', port })), { clusterRetryStrategy: () => 100, retryDelayOnFailover: 100 });
    client.on('error', () => undefined);
    let stop = false;
    let failed = 0;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}:${i}`;
        const value = `${w}:${i}:${Date.now()}`;
        try {
          await client.set(key, value);
          acked.set(key, value);
        } catch {
          failed++;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await victim.kill9();
    const ackedAtKill = acked.size;
    await waitForNodeState(survivors[0]!, victim.port, 'fail', 20000);
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(writers);
    expect(acked.size, 'writes kept succeeding after the kill').toBeGreaterThan(ackedAtKill + 50);

    const reader = new Cluster(survivors.map((port) => ({ host: '127.0.0.1', port })));
    const keys = [...acked.keys()];
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      const values = await Promise.all(batch.map((k) => reader.get(k)));
      batch.forEach((k, j) => expect(values[j], `acknowledged ${k} lost`).toBe(acked.get(k)));
    }

    await reader.quit();
    await client.quit();
    await victim.restart();
    await waitForCluster(c.ports, 3);

    // Quorum reads coordinated by the restarted node answer correctly and repair its own copy.
    const local = new Redis({ port: victim.port });
    await local.call('readonly');
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      const values = await Promise.all(batch.map((k) => local.get(k)));
      batch.forEach((k, j) => expect(values[j], `quorum read of ${k} on the restarted node`).toBe(acked.get(k)));
    }
    await local.call('ringkv.consistency', 'R', '1');
    const missing: string[] = [];
    for (const k of keys) if ((await local.get(k)) !== acked.get(k)) missing.push(k);
    local.disconnect();
    expect(missing.length, `restarted node still misses ${missing.slice(0, 5).join(',')}`).toBe(0);
    console.log(`acked=${acked.size} failed=${failed} ackedBeforeKill=${ackedAtKill}`);
  });
});

describe('a node dead longer than cluster-dead-node-removal-ms leaves the ring', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(4, ['--cluster-dead-node-removal-ms', '3000']);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('its slots move to the others and every key stays readable', async () => {
    const client = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }]);
    const keys = Array.from({ length: 1000 }, (_, i) => `rb:${i}`);
    await Promise.all(keys.map((k) => client.set(k, `v-${k}`)));
    await client.quit();
    await c.nodes[3]!.kill9();
    const survivors = c.ports.slice(0, 3);
    const deadline = Date.now() + 30000;
    let info = '';
    while (Date.now() < deadline) {
      const r = new Redis({ port: survivors[0] });
      info = (await r.call('cluster', 'info')) as string;
      r.disconnect();
      if (info.includes('cluster_size:3\r\n')) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(info).toContain('cluster_size:3\r\n');
    expect(info).toContain('cluster_state:ok');
    const reader = new Cluster(survivors.map((port) => ({ host: '127.0.0.1', port })));
    const values = await Promise.all(keys.map((k) => reader.get(k)));
    values.forEach((v, i) => expect(v).toBe(`v-${keys[i]}`));
    await reader.quit();
  });
});

describe('RINGKV.LEAVE and ringkv status', () => {
  let c: TestCluster;
  beforeAll(async () => {
    // Anti-entropy off: no node reports its gained slots synced, so the rebalance window stays open
    // (up to its cap) and status can be checked mid-rebalance; reads are served through the window.
    c = await startCluster(4, ['--anti-entropy-interval-ms', '0']);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('a node that leaves stops owning slots everywhere; data stays readable; status shows it', async () => {
    const client = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }]);
    const keys = Array.from({ length: 500 }, (_, i) => `lv:${i}`);
    await Promise.all(keys.map((k) => client.set(k, k)));
    // A placement held for under three gossip rounds (600 ms here) counts as the cluster forming,
    // not as one to rebalance from.
    await new Promise((res) => setTimeout(res, 1000));
    const leaver = new Redis({ port: c.ports[3] });
    expect(await leaver.call('ringkv.leave')).toBe('OK');
    leaver.disconnect();
    const deadline = Date.now() + 15000;
    let converged = false;
    while (Date.now() < deadline && !converged) {
      const infos = await Promise.all(c.ports.slice(0, 3).map(async (port) => {
        const r = new Redis({ port });
        const info = (await r.call('cluster', 'info')) as string;
        r.disconnect();
        return info;
      }));
      converged = infos.every((i) => i.includes('cluster_size:3\r\n') && i.includes('cluster_known_nodes:3\r\n'));
      if (!converged) await new Promise((res) => setTimeout(res, 200));
    }
    expect(converged).toBe(true);
    const values = await Promise.all(keys.map((k) => client.get(k)));
    values.forEach((v, i) => expect(v, `${keys[i]} after the leave`).toBe(keys[i]));
    await client.quit();
    const status = await run(process.execPath, [CLI, 'status', '--port', String(c.ports[0])]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/cluster_state: ok/);
    expect(status.stdout).toMatch(/NODE\s+ADDRESS\s+STATE\s+LINK\s+SLOTS\s+SHARE\s+EPOCH\s+IN\s+OUT\s+WINDOW\s+AE-QUEUE/);
    const lines = status.stdout.split('\n');
    expect(lines.filter((l) => / alive /.test(l)).length, status.stdout).toBe(3);
    // The leaver is still up and listed as left, with no slots; the others are inside the rebalance
    // window, and each shows the slots it gained.
    const leaverLine = lines.find((l) => l.includes(`:${c.ports[3]} `));
    expect(leaverLine, status.stdout).toMatch(/ left +connected +0 /);
    expect(status.stdout).toMatch(/rebalance: \d+ slots moving, window \d+\.\d s left/);
    const gained = lines.filter((l) => / alive /.test(l)).map((l) => Number(l.trim().split(/\s+/)[7]));
    expect(gained.reduce((a, b) => a + b, 0), status.stdout).toBeGreaterThan(0);
  });
});
