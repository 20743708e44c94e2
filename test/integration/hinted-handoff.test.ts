/**
 * Goal: sloppy quorum with hinted handoff keeps writes available while a replica is down, the hints
 * reach the replica when it returns, and strict mode refuses what it cannot place on owners.
 * Method: a real 4-node cluster with N=3; one node killed; writes at W=3 succeed only through hints;
 * after a restart the hints drain (INFO) and the node serves those keys from its own store (R=1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { startCluster, waitForCluster, waitForNodeState, type TestCluster } from '../helpers/cluster.js';

function infoField(info: string, name: string): number {
  return Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? NaN);
}

async function sumInfo(ports: number[], name: string): Promise<number> {
  let total = 0;
  for (const port of ports) {
    const r = new Redis({ port });
    total += infoField(await r.info('ringkv'), name);
    r.disconnect();
  }
  return total;
}

describe('hinted handoff', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(4, ['--write-quorum', '3']);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('W=3 writes succeed through hints while a replica is down, and the hints reach it after restart', async () => {
    const victim = c.nodes[3]!;
    const survivors = c.ports.slice(0, 3);
    await victim.kill9();
    await waitForNodeState(survivors[0]!, victim.port, 'fail');
    const client = new Cluster(survivors.map((port) => ({ host: '127.0.0.1', port })));
    const keys = Array.from({ length: 400 }, (_, i) => `hh:${i}`);
    for (const k of keys) expect(await client.set(k, `v-${k}`)).toBe('OK');
    expect(await sumInfo(survivors, 'ringkv_hinted_writes')).toBeGreaterThan(0);
    expect(await sumInfo(survivors, 'ringkv_hints_pending_bytes')).toBeGreaterThan(0);

    await victim.restart();
    await waitForCluster(c.ports, 4);
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && (await sumInfo(survivors, 'ringkv_hints_pending_bytes')) > 0) await new Promise((r) => setTimeout(r, 200));
    expect(await sumInfo(survivors, 'ringkv_hints_pending_bytes')).toBe(0);
    expect(await sumInfo(survivors, 'ringkv_hints_delivered')).toBeGreaterThan(0);

    const local = new Redis({ port: victim.port });
    await local.call('readonly');
    await local.call('ringkv.consistency', 'R', '1');
    let served = 0;
    for (const k of keys) {
      try {
        expect(await local.get(k)).toBe(`v-${k}`);
        served++;
      } catch (err) {
        expect(String(err)).toContain('MOVED');
      }
    }
    expect(served, 'keys the returning node replicates').toBeGreaterThan(100);
    local.disconnect();
    await client.quit();
  });

  it('strict quorum (cluster-sloppy-quorum no) refuses W=3 with a replica down, naming the acks', async () => {
    const victim = c.nodes[3]!;
    const survivors = c.ports.slice(0, 3);
    for (const port of survivors) {
      const r = new Redis({ port });
      await r.config('SET', 'cluster-sloppy-quorum', 'no');
      r.disconnect();
    }
    await victim.kill9();
    await waitForNodeState(survivors[0]!, victim.port, 'fail');
    const client = new Cluster(survivors.map((port) => ({ host: '127.0.0.1', port })));
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => client.set(`strict:${i}`, 'v')));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/NOREPLICAS .*acknowledged by 2 of 3 required/);
    await client.quit();
  });
});
