/**
 * Goal: BZPOPMIN, BZPOPMAX and BZMPOP behave as in Redis 7.0 for real clients: a waiter is served
 * by another client's ZADD with the lowest (highest) member, waiters are served first come first
 * served, a timeout answers null, inside MULTI they do not block, and in a 3-node cluster a client
 * blocked at the slot's primary is woken by a ZADD sent through another node; a priority queue of
 * 600 jobs drained by 4 blocked consumers pops every job exactly once.
 * Method: real node processes and ioredis (standalone and Cluster); INFO blocked_clients tells when
 * a client is blocked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeWithClients, untilBlocked } from '../helpers/blocked.js';
import Redis, { Cluster } from 'ioredis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

describe('blocking sorted-set pops on one node', () => {
  const setup = nodeWithClients();
  const client = setup.client;
  const node = { get port(): number { return setup.port(); } };

  it('BZPOPMIN and BZPOPMAX wait for a ZADD and take its lowest / highest member, first come first served', async () => {
    const [a, b, c, w] = [client(), client(), client(), client()];
    const first = a.bzpopmin('pq', 0);
    await untilBlocked([node.port], 1);
    const second = b.bzpopmax('pq', 0);
    await untilBlocked([node.port], 2);
    expect(await w.zadd('pq', 5, 'five', 1, 'one', 9, 'nine')).toBe(3);
    expect(await first).toEqual(['pq', 'one', '1']);
    expect(await second).toEqual(['pq', 'nine', '9']);
    expect(await c.zrange('pq', 0, -1, 'WITHSCORES')).toEqual(['five', '5']);
  });

  it('BZMPOP waits, pops COUNT entries; timeouts and MULTI answer null', async () => {
    const [a, w] = [client(), client()];
    const waiting = a.call('bzmpop', '0', '2', 'none', 'pq2', 'MAX', 'COUNT', '2');
    await untilBlocked([node.port], 1);
    await w.zadd('pq2', 1, 'x', 2, 'y', 3, 'z');
    expect(await waiting).toEqual(['pq2', [['z', '3'], ['y', '2']]]);
    expect(await a.bzpopmin('empty', 0.05)).toBeNull();
    expect(await a.call('bzmpop', '0.05', '1', 'empty', 'MIN')).toBeNull();
    const tx = await a.multi().bzpopmin('empty', 0).call('bzmpop', '0', '1', 'empty', 'MIN').exec();
    expect(tx).toEqual([[null, null], [null, null]]);
  });
});

describe('blocking sorted-set pops on a 3-node cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('a waiter is woken by a ZADD through another node, and 4 consumers pop 600 jobs exactly once', async () => {
    const nodes = c.ports.map((port) => ({ host: '127.0.0.1', port }));
    const producer = new Cluster(nodes);
    const consumers = Array.from({ length: 4 }, () => new Cluster(nodes));
    const woken = consumers[0]!.bzpopmin('{pq}jobs', 0);
    await untilBlocked(c.ports, 1);
    await producer.zadd('{pq}jobs', 7, 'first');
    expect(await woken).toEqual(['{pq}jobs', 'first', '7']);

    const total = 600;
    const popped: string[] = [];
    let done = false;
    const loops = consumers.map(async (k) => {
      while (!done) {
        const r = await k.bzpopmin('{pq}jobs', 0.2);
        if (r) popped.push(r[1]);
      }
    });
    for (let i = 0; i < total; i += 20) {
      const p = producer.pipeline();
      for (let j = i; j < i + 20; j++) p.zadd('{pq}jobs', j, `job${j}`);
      await p.exec();
    }
    const deadline = Date.now() + 30000;
    while (popped.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    done = true;
    await Promise.all(loops);
    expect(popped.length).toBe(total);
    expect(new Set(popped).size).toBe(total);
    expect(await producer.zcard('{pq}jobs')).toBe(0);
    for (const k of [producer, ...consumers]) await k.quit();
  }, 90000);
});
