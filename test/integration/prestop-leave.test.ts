/**
 * Goal: the Kubernetes preStop hook's decommission works on a real cluster: RINGKV.LEAVE on the
 * pod's own node, then a wait that ends once the other members have moved its slots, after
 * which the node owns nothing and every key is still served by the others.
 * Method: a real 3-node cluster; keys written; leaveAndWait (src/tools/prestop.ts, the hook's own
 * code) run against node 2 as the hook runs it inside its pod (127.0.0.1 and the node's port);
 * then CLUSTER NODES and reads through the remaining nodes. The scale-down decision that
 * precedes it needs the Kubernetes API and is covered by test/unit/deploy-manifests.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { leaveAndWait } from '../../src/tools/prestop.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster(3);
});
afterAll(async () => {
  await cluster?.stop();
});

describe('preStop decommission', () => {
  it('leaves the ring and returns once the slots have moved; the data stays served', async () => {
    const c = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    try {
      for (let i = 0; i < 100; i++) await c.set(`p${i}`, `v${i}`);
    } finally {
      c.disconnect();
    }
    const leaving = cluster.ports[2]!;
    const done = await leaveAndWait(leaving, undefined, Date.now() + 60_000);
    expect(done).toBe(true);
    const r = new Redis({ port: cluster.ports[0]! });
    try {
      const line = ((await r.call('cluster', 'nodes')) as string).split('\n').find((l) => l.includes(`:${leaving}@`))!;
      expect(line).toContain('nofailover');
      expect(line.trim().split(' ')).toHaveLength(8); // no slot ranges after the link state
      const info = (await r.call('info', 'ringkv')) as string;
      expect(info).toMatch(/ringkv_rebalance_slots_moving:0\r\n/);
    } finally {
      r.disconnect();
    }
    await cluster.nodes[2]!.stop();
    const after = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    try {
      for (let i = 0; i < 100; i++) expect(await after.get(`p${i}`)).toBe(`v${i}`);
    } finally {
      after.disconnect();
    }
  });
});
