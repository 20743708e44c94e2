/**
 * Goal: nodes that announce a DNS name instead of an IP (as deploy/kubernetes/ringkv.yaml does with
 * each pod's stable name) form a cluster, and clients follow CLUSTER SLOTS and MOVED to the name.
 * Method: three real nodes announcing `localhost`, seeded with `localhost:<port>`; CLUSTER SLOTS
 * checked for the name; ioredis Cluster and redis-cli -c write and read through them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { freePort, run, startNode, type NodeProcess } from '../helpers/server.js';

const nodes: NodeProcess[] = [];
beforeAll(async () => {
  const ports: number[] = [];
  while (ports.length < 3) {
    const p = await freePort();
    if (!ports.some((q) => q === p || q === p + 10000 || q + 10000 === p)) ports.push(p);
  }
  const seeds = ports.map((p) => `localhost:${p}`).join(' ');
  const started = await Promise.allSettled(ports.map((port) => startNode({
    port, args: ['--cluster-enabled', 'yes', '--cluster-announce-ip', 'localhost', '--cluster-seeds', seeds, '--cluster-node-timeout', '2000', '--appendfsync', 'no'],
  })));
  for (const r of started) if (r.status === 'fulfilled') nodes.push(r.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => (n.proc.exitCode === null ? n.stop() : null)));
});

describe('announcing a DNS name', () => {
  it('forms a cluster whose CLUSTER SLOTS and MOVED name it, and clients follow them', async () => {
    const r = new Redis({ port: nodes[0]!.port });
    try {
      // Formed means every node serves slots: a node briefly suspected while the machine is loaded
      // serves none for a moment, so the slot map is read once all three are in it.
      type Slots = Array<[number, number, [string, number, string]]>;
      const deadline = Date.now() + 30_000;
      let slots: Slots = [];
      for (;;) {
        const info = (await r.call('cluster', 'info')) as string;
        if (info.includes('cluster_known_nodes:3\r\n') && info.includes('cluster_state:ok')) {
          slots = (await r.call('cluster', 'slots')) as Slots;
          if (new Set(slots.map((s) => s[2][1])).size === nodes.length) break;
        }
        if (Date.now() > deadline) throw new Error(`cluster did not form: ${JSON.stringify(slots)}`);
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(new Set(slots.map((s) => s[2][0]))).toEqual(new Set(['localhost']));
      expect(new Set(slots.map((s) => s[2][1]))).toEqual(new Set(nodes.map((n) => n.port)));
    } finally {
      r.disconnect();
    }
    const c = new Cluster([{ host: 'localhost', port: nodes[0]!.port }]);
    try {
      for (let i = 0; i < 50; i++) await c.set(`h${i}`, `v${i}`);
      for (let i = 0; i < 50; i++) expect(await c.get(`h${i}`)).toBe(`v${i}`);
    } finally {
      c.disconnect();
    }
    const cli = await run('redis-cli', ['-c', '-p', String(nodes[1]!.port), 'get', 'h7']);
    expect(cli.stdout.trim()).toBe('v7');
  });
});
