/**
 * Goal: acknowledged writes survive restarts and `kill -9` under appendfsync always; TTLs and the
 * node id survive too. Method: real processes, writes from concurrent ioredis clients, SIGKILL while
 * writing, restart on the same directory, and check every acknowledged write reads back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { startNode, type NodeProcess } from '../helpers/server.js';

const nodes: NodeProcess[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
});

describe('durability', () => {
  it('clean restart keeps data, TTLs, hashes and the node id', async () => {
    const node = await startNode({ args: ['--appendfsync', 'everysec'] });
    nodes.push(node);
    const r = new Redis({ port: node.port });
    const id1 = await r.info('server');
    for (let i = 0; i < 500; i++) await r.set(`k${i}`, `v${i}`);
    await r.set('ttl', 'v', 'EX', 1000);
    await r.hset('h', 'a', '1', 'b', '2');
    await r.del('k0');
    r.disconnect();
    expect(await node.stop()).toBe(0);
    await node.restart();
    const r2 = new Redis({ port: node.port });
    expect(await r2.get('k499')).toBe('v499');
    expect(await r2.get('k0')).toBeNull();
    expect(await r2.dbsize()).toBe(501);
    expect(await r2.ttl('ttl')).toBeGreaterThan(990);
    expect(await r2.hgetall('h')).toEqual({ a: '1', b: '2' });
    const runId = (s: string): string | undefined => /run_id:(\w+)/.exec(s)?.[1];
    expect(runId(await r2.info('server'))).toBe(runId(id1));
    r2.disconnect();
  });

  it('kill -9 mid-load loses no acknowledged write (appendfsync always)', async () => {
    const node = await startNode({ args: ['--appendfsync', 'always'] });
    nodes.push(node);
    const acked = new Map<string, string>();
    const clients = Array.from({ length: 8 }, () => {
      const c = new Redis({ port: node.port, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined); // the kill is expected to break these connections
      return c;
    });
    let stop = false;
    const writers = clients.map(async (c, ci) => {
      for (let i = 0; !stop; i++) {
        const key = `c${ci}:${i}`;
        const value = `${ci}-${i}-${'x'.repeat(i % 50)}`;
        try {
          await c.set(key, value);
          acked.set(key, value);
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await node.kill9();
    stop = true;
    await Promise.all(writers);
    clients.forEach((c) => c.disconnect());
    expect(acked.size).toBeGreaterThan(100);
    await node.restart();
    const r = new Redis({ port: node.port });
    const keys = [...acked.keys()];
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      const values = await r.mget(...batch);
      batch.forEach((k, j) => expect(values[j], `acknowledged ${k} lost`).toBe(acked.get(k)));
    }
    r.disconnect();
  });

  it('a restart after kill -9 waits for the clock to pass its HLC mark (at most 1 s); a clean restart does not wait', async () => {
    // The mark is persisted up to 1 s ahead of the versions issued; a node that stamped from it at
    // once would let a write whose quorum failed outrank writes acknowledged elsewhere after it.
    // Its versions here run 30 s ahead (a skewed clock), so the mark does too and the wait is the
    // whole second whatever the restart costs on a loaded machine.
    const skewed = await startNode({ args: ['--appendfsync', 'always', '--loglevel', 'notice', '--debug-clock-offset-ms', '30000'] });
    nodes.push(skewed);
    const waitsOf = (n: NodeProcess): number[] => [...n.output().matchAll(/"ms":(\d+)[^\n]*waiting for the clock/g)].map((m) => Number(m[1]));
    const r = new Redis({ port: skewed.port });
    await r.set('k', 'before');
    r.disconnect();
    // The mark is persisted every 500 ms: let one persist take in the skewed version.
    await new Promise((res) => setTimeout(res, 1200));
    await skewed.kill9();
    skewed.args.splice(skewed.args.indexOf('--debug-clock-offset-ms'), 2);
    const restartedAt = Date.now();
    await skewed.restart();
    const took = Date.now() - restartedAt;
    expect(waitsOf(skewed)).toEqual([1001]);
    expect(took).toBeGreaterThanOrEqual(1001);
    const r2 = new Redis({ port: skewed.port });
    expect(await r2.get('k')).toBe('before');
    r2.disconnect();

    // A clean stop records the mark itself: the next start waits for nothing.
    const plain = await startNode({ args: ['--appendfsync', 'always', '--loglevel', 'notice'] });
    nodes.push(plain);
    const r3 = new Redis({ port: plain.port });
    await r3.set('k', 'v');
    r3.disconnect();
    expect(await plain.stop()).toBe(0);
    await plain.restart();
    expect(waitsOf(plain)).toEqual([]);
    const r4 = new Redis({ port: plain.port });
    expect(await r4.get('k')).toBe('v');
    r4.disconnect();
  });
});
