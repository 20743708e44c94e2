/**
 * Goal: BullMQ, the job queue most Node apps put on Redis, works unchanged on one node and on a
 * 3-node cluster: bulk adds, priorities (scores built with 0x100000000 in its Lua scripts), delays,
 * retries with backoff, flows (a parent after its children), pause and resume, and job counts.
 * In a cluster its scripts build job keys from the queue's prefix without declaring them, as Redis
 * Cluster allows within the slot of the declared keys.
 * Method: real node processes, BullMQ's Queue, Worker, QueueEvents and FlowProducer over ioredis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlowProducer, Queue, QueueEvents, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Cluster } from 'ioredis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { startNode, type NodeProcess } from '../helpers/server.js';

interface Target {
  name: string;
  connection: () => ConnectionOptions;
  prefix: string;
}

/** What a worker saw, in the order it processed jobs. */
function worker(t: Target, queue: string, concurrency: number, seen: string[], failFirst = new Map<string, number>()): Worker {
  const w = new Worker(queue, async (job: Job) => {
    const left = failFirst.get(job.name) ?? 0;
    if (left > 0) {
      failFirst.set(job.name, left - 1);
      throw new Error(`failing ${job.name} on purpose`);
    }
    seen.push(job.name);
    return (job.data as { n: number }).n * 2;
  }, { connection: t.connection(), prefix: t.prefix, concurrency });
  w.on('error', () => undefined);
  return w;
}

function suite(target: () => Target): void {
  it('jobs, retries with backoff, delays and counts', async () => {
    const t = target();
    const queue = new Queue('work', { connection: t.connection(), prefix: t.prefix });
    const events = new QueueEvents('work', { connection: t.connection(), prefix: t.prefix });
    const seen: string[] = [];
    const w = worker(t, 'work', 5, seen, new Map([['flaky', 2]]));
    try {
      await events.waitUntilReady();
      const bulk = await queue.addBulk(Array.from({ length: 40 }, (_, n) => ({ name: `bulk${n}`, data: { n } })));
      const delayed = await queue.add('delayed', { n: 500 }, { delay: 400 });
      const flaky = await queue.add('flaky', { n: 3 }, { attempts: 3, backoff: { type: 'fixed', delay: 50 } });
      expect(await flaky.waitUntilFinished(events, 20000)).toBe(6);
      expect(await bulk[39]!.waitUntilFinished(events, 20000)).toBe(78);
      const started = Date.now();
      expect(await delayed.waitUntilFinished(events, 20000)).toBe(1000);
      expect(Date.now() - started).toBeLessThan(15000);
      const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized');
      expect(counts).toEqual({ completed: 42, failed: 0, waiting: 0, active: 0, delayed: 0, prioritized: 0 });
      expect((await queue.getJob(flaky.id!))!.attemptsMade).toBe(3);
      expect(new Set(seen).size).toBe(42);
    } finally {
      await w.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }, 60000);

  it('priorities: a paused queue hands out its jobs by priority, then in order of addition', async () => {
    const t = target();
    const queue = new Queue('prio', { connection: t.connection(), prefix: t.prefix });
    const events = new QueueEvents('prio', { connection: t.connection(), prefix: t.prefix });
    const seen: string[] = [];
    let w: Worker | undefined;
    try {
      await events.waitUntilReady();
      await queue.pause();
      const added: Job[] = [];
      for (const [name, priority] of [['p5a', 5], ['p1a', 1], ['p9', 9], ['p1b', 1], ['p5b', 5], ['p2', 2]] as const) {
        added.push(await queue.add(name, { n: priority }, { priority }));
      }
      expect(await queue.getJobCounts('prioritized')).toEqual({ prioritized: 6 });
      w = worker(t, 'prio', 1, seen);
      await queue.resume();
      await Promise.all(added.map((j) => j.waitUntilFinished(events, 20000)));
      expect(seen).toEqual(['p1a', 'p1b', 'p2', 'p5a', 'p5b', 'p9']);
    } finally {
      await w?.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }, 60000);

  it('a flow: the parent runs once its children are done, with their results', async () => {
    const t = target();
    const flows = new FlowProducer({ connection: t.connection(), prefix: t.prefix });
    const events = new QueueEvents('flow', { connection: t.connection(), prefix: t.prefix });
    const seen: string[] = [];
    const w = worker(t, 'flow', 3, seen);
    try {
      await events.waitUntilReady();
      const tree = await flows.add({
        name: 'parent', queueName: 'flow', data: { n: 100 },
        children: [1, 2, 3].map((n) => ({ name: `child${n}`, queueName: 'flow', data: { n } })),
      });
      expect(await tree.job.waitUntilFinished(events, 20000)).toBe(200);
      expect(Object.values(await tree.job.getChildrenValues()).sort()).toEqual([2, 4, 6]);
      expect(seen.at(-1)).toBe('parent');
    } finally {
      await w.close();
      await events.close();
      await flows.close();
    }
  }, 60000);
}

describe('BullMQ on one node', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNode();
  }, 30000);
  afterAll(async () => {
    await node?.stop();
  });
  suite(() => ({ name: 'one node', prefix: 'bull', connection: () => ({ host: '127.0.0.1', port: node.port, maxRetriesPerRequest: null }) }));
});

describe('BullMQ on a 3-node cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });
  // BullMQ in a cluster, as its docs say: an ioredis Cluster per connection, and a hash-tag prefix
  // so that a queue's keys share one slot. BullMQ leaves connections it was given open: closed here.
  const clients: Cluster[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });
  suite(() => ({
    name: 'cluster', prefix: '{bq}',
    connection: () => {
      const client = new Cluster(c.ports.map((port) => ({ host: '127.0.0.1', port })), { redisOptions: { maxRetriesPerRequest: null } });
      clients.push(client);
      return client as unknown as ConnectionOptions;
    },
  }));
});
