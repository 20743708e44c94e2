/**
 * Goal: deleting, overwriting or expiring a collection is O(1) for the client and its elements'
 * space is given back in the background, on every replica. Method: a real node (and a real 3-node
 * cluster); build hashes of a few thousand fields, DEL one, SET over another, let a third expire;
 * the reply is immediate and INFO ringkv's reclaimed-element count reaches the fields' total on
 * each node, while a live hash keeps every field.
 */
import { afterAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

const nodes: NodeProcess[] = [];
const clusters: TestCluster[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
  await Promise.all(clusters.map((c) => c.stop()));
});

async function reclaimed(port: number): Promise<number> {
  const r = new Redis({ port });
  try {
    return Number(/ringkv_reclaimed_elements:(\d+)/.exec(await r.info('ringkv'))?.[1] ?? NaN);
  } finally {
    r.disconnect();
  }
}

async function fill(client: Redis | Cluster, key: string, fields: number): Promise<void> {
  for (let i = 0; i < fields; i += 500) {
    const args: string[] = [];
    for (let j = i; j < Math.min(fields, i + 500); j++) args.push(`f${j}`, `v${j}`);
    await client.hset(key, ...args);
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('reclaiming deleted collections', () => {
  it('standalone: DEL, overwrite and expiry give every element back; a live hash keeps its fields', async () => {
    const node = await startNode();
    nodes.push(node);
    const r = new Redis({ port: node.port });
    await fill(r, 'gone', 3000);
    await fill(r, 'over', 1000);
    await fill(r, 'ttl', 1000);
    await fill(r, 'live', 500);
    const started = performance.now();
    expect(await r.del('gone')).toBe(1);
    const delMs = performance.now() - started;
    expect(delMs, 'DEL of a 3,000-field hash answers without touching its fields').toBeLessThan(200);
    await r.set('over', 'a string now');
    await r.pexpire('ttl', 50);
    await waitFor('5,000 elements reclaimed', async () => (await reclaimed(node.port)) >= 5000);
    expect(await reclaimed(node.port)).toBe(5000);
    expect(await r.hlen('live')).toBe(500);
    expect(await r.hget('live', 'f499')).toBe('v499');
    expect(await r.get('over')).toBe('a string now');
    expect(await r.exists('gone', 'ttl')).toBe(0);
    // A new life of a deleted key starts empty.
    await r.hset('gone', 'x', '1');
    expect(await r.hgetall('gone')).toEqual({ x: '1' });
    r.disconnect();
  }, 60000);

  it('cluster: every replica reclaims the elements of a deleted hash', async () => {
    const c = await startCluster(3);
    clusters.push(c);
    const client = new Cluster(c.ports.map((port) => ({ host: '127.0.0.1', port })));
    await fill(client, '{rc}big', 2000);
    const before = await Promise.all(c.ports.map(reclaimed));
    expect(await client.del('{rc}big')).toBe(1);
    await waitFor('each replica reclaimed 2,000 elements', async () => {
      const now = await Promise.all(c.ports.map(reclaimed));
      return now.every((n, i) => n - before[i]! >= 2000);
    });
    expect(await client.hlen('{rc}big')).toBe(0);
    await client.quit();
  }, 90000);
});
