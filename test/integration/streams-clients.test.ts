/**
 * Goal: streams work through unmodified clients the way applications use them, including what the
 * differential suite cannot reach: `*` ids from the node's clock, a job queue of consumer-group
 * workers (XREADGROUP / XACK) that hands every job to exactly one worker, BLOCK reads woken by an
 * XADD from another connection (and their timeouts and CLIENT UNBLOCK), many commands in flight
 * on one connection, and streams under DEL, EXPIRE, RENAME, COPY, TYPE and OBJECT ENCODING; on one
 * node and on a 3-node cluster where a group reads while entries are added through every node.
 * Method: real ringkv processes (and redis-server, for `*` ids compared by shape); ioredis (RESP2
 * and RESP3), node-redis and redis-py (/usr/bin/python3, test/py/stream_workers.py) drive them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { createClient } from 'redis';
import path from 'node:path';
import { startNode, ROOT, run, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { PYTHON, redisPyMissing } from '../helpers/redis-py.js';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { untilBlocked } from '../helpers/blocked.js';

type Entry = [string, string[]];

/** A stream read's reply as [key, entries] pairs, whether it came as an array (RESP2) or a map (RESP3). */
function streamsOf(reply: unknown): Array<[string, Entry[]]> {
  if (reply === null || reply === undefined) return [];
  if (reply instanceof Map) return [...reply.entries()] as Array<[string, Entry[]]>;
  if (Array.isArray(reply)) {
    if (reply.length > 0 && !Array.isArray(reply[0])) {
      const out: Array<[string, Entry[]]> = [];
      for (let i = 0; i < reply.length; i += 2) out.push([String(reply[i]), reply[i + 1] as Entry[]]);
      return out;
    }
    return reply as Array<[string, Entry[]]>;
  }
  return Object.entries(reply as Record<string, Entry[]>);
}

function idParts(id: string): [bigint, bigint] {
  const m = /^(\d+)-(\d+)$/.exec(id);
  if (!m) throw new Error(`not a stream id: ${id}`);
  return [BigInt(m[1]!), BigInt(m[2]!)];
}

function idLess(a: string, b: string): boolean {
  const [am, as] = idParts(a);
  const [bm, bs] = idParts(b);
  return am < bm || (am === bm && as < bs);
}

/**
 * Producer and `workers` consumers of one group on `key`: every job is read by one worker and
 * acknowledged. Returns job → worker names that processed it.
 */
async function jobQueue(connect: () => Redis | Cluster, key: string, jobs: number, workers: number): Promise<Map<string, string[]>> {
  const producer = connect();
  await producer.del(key);
  await producer.xgroup('CREATE', key, 'workers', '$', 'MKSTREAM');
  const seen = new Map<string, string[]>();
  let done = 0;
  const clients = Array.from({ length: workers }, connect);
  const loops = clients.map(async (c, i) => {
    const name = `w${i}`;
    while (done < jobs) {
      const reply = await c.xreadgroup('GROUP', 'workers', name, 'COUNT', 10, 'BLOCK', 200, 'STREAMS', key, '>');
      for (const [, entries] of streamsOf(reply)) {
        for (const [id, fields] of entries) {
          const job = fields[1]!;
          seen.set(job, [...(seen.get(job) ?? []), name]);
          await c.xack(key, 'workers', id);
          done++;
        }
      }
    }
  });
  for (let i = 0; i < jobs; i += 50) {
    const p = producer.pipeline();
    for (let j = i; j < Math.min(jobs, i + 50); j++) p.xadd(key, '*', 'job', String(j));
    for (const [err] of (await p.exec()) ?? []) if (err) throw err;
  }
  await Promise.all(loops);
  for (const c of [producer, ...clients]) c.disconnect();
  return seen;
}

describe('streams on one node', () => {
  const both = nodeBesideRedis();

  describe.each([2, 3] as const)('ioredis over RESP%i', (protocol) => {
    let r: Redis;
    const k = (name: string): string => `p${protocol}:${name}`;
    beforeAll(() => {
      r = new Redis({ port: both.node.port, protocol });
    });
    afterAll(() => r.disconnect());

    it('XADD * takes ids from the clock, never backwards, as redis-server does', async () => {
      const script = async (c: Redis, key: string): Promise<unknown[]> => {
        await c.del(key);
        const p = c.pipeline();
        for (let i = 0; i < 40; i++) p.xadd(key, '*', 'n', String(i));
        p.xadd(key, '1-1', 'too', 'small');
        p.xadd(key, '99999999999999-*', 'far', 'ahead');
        p.xadd(key, '*', 'after', 'future');
        p.xadd(key, '99999999999999-5', 'same', 'ms');
        return ((await p.exec()) ?? []).map(([err, v]) => (err ? `error: ${err.message}` : v));
      };
      const before = Date.now();
      const got = await script(r, k('clock'));
      const after = Date.now();
      const ids = got.slice(0, 40) as string[];
      for (let i = 1; i < ids.length; i++) expect(idLess(ids[i - 1]!, ids[i]!), `${ids[i - 1]} < ${ids[i]}`).toBe(true);
      const [ms] = idParts(ids[0]!);
      expect(Number(ms)).toBeGreaterThanOrEqual(before);
      expect(Number(ms)).toBeLessThanOrEqual(after);
      // Once the stream's top is ahead of the clock, * continues from it (last id + 1).
      expect(got.slice(40)).toEqual([
        'error: ERR The ID specified in XADD is equal or smaller than the target stream top item',
        '99999999999999-0', '99999999999999-1', '99999999999999-5',
      ]);
      if (both.refIfAny !== undefined) {
        const ref = new Redis({ port: both.refIfAny.ports[0]!, protocol });
        try {
          const want = await script(ref, k('clock'));
          const shape = (xs: unknown[]): unknown[] => xs.map((x, i) => (i < 40 ? /^\d+-\d+$/.test(String(x)) : x));
          expect(shape(got)).toEqual(shape(want));
        } finally {
          ref.disconnect();
        }
      }
    });

    it('a job queue of consumer-group workers hands every job to exactly one worker', async () => {
      const seen = await jobQueue(() => new Redis({ port: both.node.port, protocol }), k('jobs'), 300, 3);
      expect(seen.size).toBe(300);
      for (const [job, by] of seen) expect(by, `job ${job}`).toHaveLength(1);
      expect(new Set([...seen.values()].flat()).size, 'the work was shared').toBeGreaterThan(1);
      const pending = await r.xpending(k('jobs'), 'workers');
      expect(pending[0]).toBe(0);
      const groups = (await r.call('XINFO', 'GROUPS', k('jobs'))) as unknown[];
      expect(JSON.stringify(groups)).toContain('"lag"');
      expect(await r.xlen(k('jobs'))).toBe(300);
    });

    it('BLOCK reads wake on an XADD from another connection; timeouts and CLIENT UNBLOCK answer null', async () => {
      const key = k('wake');
      await r.del(key);
      await r.xadd(key, '1-1', 'old', 'x');
      const reader = new Redis({ port: both.node.port, protocol });
      const writer = new Redis({ port: both.node.port, protocol });
      try {
        const waiting = reader.xread('BLOCK', 0, 'STREAMS', key, '$');
        await new Promise((res) => setTimeout(res, 100));
        await writer.xadd(key, '2-1', 'new', 'y');
        // `$` was fixed when the read was sent: the new entry, not the old one.
        expect(streamsOf(await waiting)).toEqual([[key, [['2-1', ['new', 'y']]]]]);

        await r.xgroup('CREATE', key, 'g', '$');
        const grouped = reader.xreadgroup('GROUP', 'g', 'c', 'BLOCK', 5000, 'STREAMS', key, '>');
        await new Promise((res) => setTimeout(res, 100));
        await writer.xadd(key, '3-1', 'job', 'z');
        expect(streamsOf(await grouped)).toEqual([[key, [['3-1', ['job', 'z']]]]]);
        expect((await r.xpending(key, 'g'))[0]).toBe(1);

        const started = Date.now();
        expect(await reader.xread('BLOCK', 150, 'STREAMS', key, '$')).toBeNull();
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);

        const id = (await reader.client('ID')) as number;
        const blocked = reader.xreadgroup('GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', key, '>');
        await new Promise((res) => setTimeout(res, 100));
        expect(await writer.client('UNBLOCK', id)).toBe(1);
        expect(await blocked).toBeNull();
      } finally {
        reader.disconnect();
        writer.disconnect();
      }
    });

    it.skipIf(!haveRedisServer)('a blocked XREADGROUP whose stream or group goes (DEL, SET, MULTI, XGROUP DESTROY, FLUSHALL) is answered as redis-server answers it', async () => {
      const key = k('gone');
      const ends: Array<[string, (c: Redis) => Promise<unknown>]> = [
        ['DEL', (c) => c.del(key)],
        ['SET', (c) => c.set(key, 'v')],
        ['MULTI DEL SADD', (c) => c.multi().del(key).sadd(key, 'e').exec()],
        ['XGROUP DESTROY', (c) => c.xgroup('DESTROY', key, 'g')],
        ['FLUSHALL', (c) => c.flushall()],
      ];
      const answer = async (port: number, end: (c: Redis) => Promise<unknown>): Promise<string> => {
        const reader = new Redis({ port, protocol });
        const writer = new Redis({ port, protocol });
        try {
          await writer.del(key);
          await writer.xadd(key, '1-1', 'f', 'v');
          await writer.xgroup('CREATE', key, 'g', '$');
          const blocked = reader.xreadgroup('GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', key, '>').then(String, (e: Error) => `error: ${e.message}`);
          await untilBlocked(port, 1);
          await end(writer);
          return await blocked;
        } finally {
          reader.disconnect();
          writer.disconnect();
        }
      };
      for (const [name, end] of ends) {
        const [ours, theirs] = [await answer(both.node.port, end), await answer(both.ref.ports[0]!, end)];
        expect(ours, name).toBe(theirs);
        expect(ours, name).toMatch(/no longer exists/);
      }
    });

    it('many commands in flight on one connection answer in order', async () => {
      const key = k('flight');
      await r.del(key);
      const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 3 === 2 ? r.xlen(key) : r.xadd(key, `${i + 1}-0`, 'i', String(i)))));
      replies.forEach((v, i) => {
        if (i % 3 === 2) expect(v).toBe(Math.floor(i / 3) * 2 + 2);
        else expect(v).toBe(`${i + 1}-0`);
      });
      const range = await r.xrange(key, '-', '+', 'COUNT', 3);
      expect(range.map(([id]) => id)).toEqual(['1-0', '2-0', '4-0']);
    });

    it('DEL, EXPIRE, RENAME and COPY carry or drop a stream with its groups; TYPE and OBJECT ENCODING name it', async () => {
      const key = k('life');
      await r.del(key, k('renamed'), k('copied'));
      await r.xadd(key, '1-0', 'a', '1');
      await r.xadd(key, '2-0', 'b', '2');
      await r.xgroup('CREATE', key, 'g', '0');
      await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', key, '>');
      expect(await r.type(key)).toBe('stream');
      expect(await r.object('ENCODING', key)).toBe('stream');
      expect(await r.hget(key, 'a').catch((e: Error) => e.message)).toMatch(/^WRONGTYPE/);
      await r.rename(key, k('renamed'));
      expect(await r.exists(key)).toBe(0);
      expect(await r.xrange(k('renamed'), '-', '+')).toEqual([['1-0', ['a', '1']], ['2-0', ['b', '2']]]);
      expect((await r.xpending(k('renamed'), 'g'))[0]).toBe(1);
      await r.copy(k('renamed'), k('copied'));
      await r.xack(k('renamed'), 'g', '1-0');
      expect((await r.xpending(k('copied'), 'g'))[0]).toBe(1);
      expect((await r.xpending(k('renamed'), 'g'))[0]).toBe(0);
      const info = (await r.call('XINFO', 'STREAM', k('copied'))) as unknown;
      expect(JSON.stringify(info)).toContain('"2-0"');
      await r.pexpire(k('copied'), 50);
      await new Promise((res) => setTimeout(res, 120));
      expect(await r.exists(k('copied'))).toBe(0);
      expect(await r.del(k('renamed'))).toBe(1);
      // A new stream under the old name starts empty: no entries or groups come back.
      await r.xadd(k('renamed'), '5-0', 'x', 'y');
      expect(await r.xlen(k('renamed'))).toBe(1);
      expect(await r.call('XINFO', 'GROUPS', k('renamed'))).toEqual([]);
    });
  });

  it('node-redis parses XADD, XREADGROUP, XACK, XPENDING and XINFO STREAM replies', async () => {
    const c = createClient({ socket: { port: both.node.port } });
    await c.connect();
    try {
      const key = 'nr:stream';
      await c.del(key);
      await c.xGroupCreate(key, 'g', '0', { MKSTREAM: true });
      const id = await c.xAdd(key, '*', { job: 'a', n: '1' });
      expect(id).toMatch(/^\d+-0$/);
      const read = await c.xReadGroup('g', 'c1', { key, id: '>' }, { COUNT: 10 });
      expect(JSON.stringify(read)).toContain('"job":"a"');
      const pending = await c.xPending(key, 'g');
      expect(pending.pending).toBe(1);
      expect(await c.xAck(key, 'g', id)).toBe(1);
      const info = await c.xInfoStream(key);
      expect(info.length).toBe(1);
      expect(JSON.stringify(info)).toContain(id);
    } finally {
      await c.quit();
    }
  });

  it.skipIf(redisPyMissing !== undefined)('redis-py workers share a job queue; XCLAIM and XAUTOCLAIM rescue what one left pending', async () => {
    const r = await run(PYTHON, [path.join(ROOT, 'test/py/stream_workers.py')], JSON.stringify({ port: both.node.port, mode: 'plain', key: 'py:jobs', jobs: 200, workers: 4 }), 90000);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const out = JSON.parse(r.stdout) as {
      added: string[]; done: Array<[string, string, string]>; pending: { pending: number };
      info: { length: number; 'last-generated-id': string; groups: number; first: string; last: string };
      claimed: Array<[string, unknown]>; autoclaim: [string, Array<[string, unknown]>, string[]]; extra: string;
    };
    expect(out.done).toHaveLength(200);
    expect(new Set(out.done.map((d) => d[2])).size).toBe(200);
    expect(out.claimed.map((e) => e[0])).toEqual([out.extra]);
    expect(out.autoclaim[1].map((e) => e[0])).toEqual([out.extra]);
    expect(out.pending.pending).toBe(1);
    expect(out.info).toMatchObject({ length: 201, 'last-generated-id': out.extra, groups: 1, first: out.added[0], last: out.extra });
  });
});

describe('a deleted stream gives its records back', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
  }, 30000);
  afterAll(async () => {
    await node?.stop();
  });

  it('DEL is immediate and the reclaimer drops every entry, node, group, pending and consumer record', async () => {
    const r = new Redis({ port: node.port });
    const reclaimed = async (): Promise<number> => Number(/ringkv_reclaimed_elements:(\d+)/.exec(await r.info('ringkv'))?.[1] ?? NaN);
    try {
      const p = r.pipeline();
      for (let i = 1; i <= 300; i++) p.xadd('gone', `${i}-0`, 'n', String(i));
      await p.exec();
      await r.xgroup('CREATE', 'gone', 'g', '0');
      await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 10, 'STREAMS', 'gone', '>');
      // 300 entries, 3 storage nodes of 100, 1 group, 10 pending entries in each PEL index, 1 consumer.
      const records = 300 + 3 + 1 + 10 + 10 + 1;
      const before = await reclaimed();
      expect(await r.del('gone')).toBe(1);
      const deadline = Date.now() + 20000;
      while ((await reclaimed()) - before < records && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      await new Promise((res) => setTimeout(res, 300));
      expect((await reclaimed()) - before).toBe(records);
    } finally {
      r.disconnect();
    }
  });
});

describe('streams in a 3-node cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3, ['--cluster-proxy', 'yes']);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('a consumer group reads every entry once while entries are added through every node', async () => {
    const key = '{stream}events';
    const reader = new Cluster(c.ports.map((port) => ({ host: '127.0.0.1', port })), { clusterRetryStrategy: () => 100 });
    reader.on('error', () => undefined);
    const writers = c.ports.map((port) => new Redis({ port }));
    try {
      await reader.xgroup('CREATE', key, 'g', '$', 'MKSTREAM');
      const perNode = 100;
      const total = perNode * writers.length;
      const got: string[] = [];
      const consumers = ['a', 'b'].map(async (name) => {
        while (got.length < total) {
          const reply = await reader.xreadgroup('GROUP', 'g', name, 'COUNT', 20, 'BLOCK', 300, 'STREAMS', key, '>');
          for (const [, entries] of streamsOf(reply)) {
            for (const [id, fields] of entries) {
              got.push(fields[1]!);
              await reader.xack(key, 'g', id);
            }
          }
        }
      });
      // Each node takes XADD * for the stream (relayed to the slot's primary), concurrently.
      await Promise.all(writers.map(async (w, n) => {
        for (let i = 0; i < perNode; i++) await w.xadd(key, '*', 'msg', `${n}:${i}`);
      }));
      await Promise.race([Promise.all(consumers), new Promise((_, rej) => setTimeout(() => rej(new Error(`read ${got.length} of ${total}`)), 60000))]);
      expect(got).toHaveLength(total);
      expect(new Set(got).size).toBe(total);
      expect(await reader.xlen(key)).toBe(total);
      const ids = (await reader.xrange(key, '-', '+')).map(([id]) => id);
      for (let i = 1; i < ids.length; i++) expect(idLess(ids[i - 1]!, ids[i]!)).toBe(true);
      expect((await reader.xpending(key, 'g'))[0]).toBe(0);
      // The node the group lives on and the others agree on its state; a read without BLOCK is
      // relayed like any command (only BLOCK makes it a blocking command, which is redirected).
      for (const w of writers) {
        expect((await w.xinfo('GROUPS', key)) as unknown[]).toHaveLength(1);
        expect(streamsOf(await w.xread('COUNT', 1, 'STREAMS', key, '0'))[0]![1]).toHaveLength(1);
      }
    } finally {
      reader.disconnect();
      for (const w of writers) w.disconnect();
    }
  }, 90000);

  it.skipIf(redisPyMissing !== undefined)('redis-py RedisCluster workers share a job queue', async () => {
    const r = await run(PYTHON, [path.join(ROOT, 'test/py/stream_workers.py')], JSON.stringify({ port: c.ports[1], mode: 'cluster', key: '{py}jobs', jobs: 100, workers: 3 }), 90000);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const out = JSON.parse(r.stdout) as { done: Array<[string, string, string]>; pending: { pending: number } };
    expect(new Set(out.done.map((d) => d[2])).size).toBe(100);
    expect(out.done).toHaveLength(100);
    expect(out.pending.pending).toBe(1);
  }, 90000);
});
