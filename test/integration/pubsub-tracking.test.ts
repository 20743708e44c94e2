/**
 * Goal: CLIENT TRACKING (server-assisted client-side caching) as Redis 7.0: default mode sends one
 * invalidation per remembered key the first time it changes, BCAST every change under a prefix,
 * OPTIN/OPTOUT with CLIENT CACHING, NOLOOP, FLUSHALL's null invalidation, REDIRECT to a RESP2
 * connection subscribed to __redis__:invalidate, the argument errors and CLIENT TRACKINGINFO; in a
 * cluster, a change invalidates on every node that applies it, whoever coordinated it; node-redis's
 * client-side cache stays correct.
 * Method: the same multi-connection script on redis-server and ringkv (test/helpers/pubsub-diff.ts
 * reads every connection up to a PING after each step) compared step by step; REDIRECT and the
 * cluster case checked against Redis's documented frames.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { runPubSubScenario, type PubSubStep } from '../helpers/pubsub-diff.js';
import { RespConn, show } from '../helpers/resp-conn.js';

const A = 0;
const B = 1;
const step = (conn: number, ...commands: string[][]): PubSubStep => ({ conn, commands });

const SCRIPT: PubSubStep[] = [
  step(A, ['CLIENT', 'TRACKING', 'ON'], ['GET', 'k1'], ['MGET', 'k2', 'k3'], ['CLIENT', 'TRACKINGINFO']),
  step(B, ['SET', 'k1', 'v']),
  step(B, ['SET', 'k1', 'v2']),
  step(A, ['GET', 'k1']),
  step(A, ['SET', 'k1', 'x']),
  step(B, ['DEL', 'k2']),
  step(B, ['SET', 'k3', '1'], ['INCR', 'k3']),
  step(B, ['HSET', 'h', 'f', 'v']),
  step(A, ['HGET', 'h', 'f'], ['EXISTS', 'nokey']),
  step(B, ['HSET', 'h', 'f', 'w']),
  step(B, ['SET', 'nokey', '1']),
  step(A, ['MULTI'], ['GET', 'm1'], ['EXEC']),
  step(B, ['SET', 'm1', '1']),
  step(A, ['GET', 'f1'], ['GET', 'f2']),
  step(B, ['FLUSHALL']),
  step(B, ['SET', 'f1', '1']),
  step(A, ['CLIENT', 'TRACKING', 'OFF'], ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'p:', 'PREFIX', 'r:'], ['CLIENT', 'TRACKINGINFO']),
  step(B, ['SET', 'p:1', 'a']),
  step(B, ['SET', 'q:1', 'a']),
  step(B, ['SET', 'r:x', 'a']),
  step(A, ['SET', 'p:2', 'a']),
  // One turn's changes under two prefixes: one invalidation per prefix, in prefix order.
  step(B, ['MULTI'], ['SET', 'r:y', '1'], ['SET', 'p:3', '1'], ['SET', 'q:2', '1'], ['SET', 'p:4', '1'], ['EXEC']),
  // Overlapping prefixes: a key under both is listed under each.
  step(A, ['CLIENT', 'TRACKING', 'OFF'], ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'ov:', 'PREFIX', 'ov:a']),
  step(B, ['MULTI'], ['SET', 'ov:ab', '1'], ['SET', 'ov:b', '1'], ['EXEC']),
  step(A, ['CLIENT', 'TRACKING', 'OFF'], ['CLIENT', 'TRACKING', 'ON', 'OPTIN'], ['GET', 'o1']),
  step(B, ['SET', 'o1', '1']),
  step(A, ['CLIENT', 'CACHING', 'yes'], ['GET', 'o1'], ['GET', 'o2']),
  step(B, ['SET', 'o1', '2'], ['SET', 'o2', '2']),
  step(A, ['CLIENT', 'TRACKING', 'OFF'], ['CLIENT', 'TRACKING', 'ON', 'OPTOUT'], ['CLIENT', 'CACHING', 'no'], ['GET', 'o3'], ['GET', 'o4']),
  step(B, ['SET', 'o3', '1'], ['SET', 'o4', '1']),
  // NOLOOP hides the client's own write, not the expiry of the key it wrote, even when its own
  // read is what finds the key expired (active expiry off, so that read is what removes it).
  step(B, ['DEBUG', 'SET-ACTIVE-EXPIRE', '0']),
  step(A, ['CLIENT', 'TRACKING', 'OFF'], ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'lz:', 'NOLOOP'], ['SET', 'lz:k', 'v', 'PX', '1'], ['SET', 'lz:other', 'v']),
  step(B, ['DEBUG', 'SLEEP', '0.05']),
  step(A, ['GET', 'lz:k']),
  step(B, ['DEBUG', 'SET-ACTIVE-EXPIRE', '1']),
  step(A, ['CLIENT', 'TRACKING', 'OFF'], ['CLIENT', 'TRACKING', 'ON', 'NOLOOP'], ['GET', 'n1'], ['GET', 'n2']),
  step(A, ['SET', 'n1', 'mine']),
  step(B, ['SET', 'n1', 'theirs'], ['SET', 'n2', 'theirs']),
  // A script's declared keys are tracked once it reads, whatever it reads; EVAL_RO alone tracks nothing.
  step(A, ['CLIENT', 'TRACKING', 'OFF'], ['CLIENT', 'TRACKING', 'ON']),
  step(A, ['EVAL', "redis.call('set', 'sk3', 'bar')", '2', 'sk1', 'sk2']),
  step(B, ['MSET', 'sk2', '1', 'sk1', '1']),
  step(A, ['EVAL', "redis.call('get', 'sk3')", '2', 'sk1', 'sk2']),
  step(B, ['MSET', 'sk2', '2', 'sk1', '2']),
  step(A, ['EVAL_RO', "redis.call('ping')", '2', 'sk1', 'sk2']),
  step(B, ['MSET', 'sk2', '3', 'sk1', '3']),
  step(A, ['EVAL_RO', "redis.call('get', 'sk1')", '2', 'sk1', 'sk2']),
  step(B, ['MSET', 'sk2', '4', 'sk1', '4']),
  step(A, ['CLIENT', 'TRACKING', 'OFF'], ['GET', 'k1']),
  // Time stands still in EXEC: a key that expires while it runs is still read.
  step(A, ['MULTI'], ['SET', 'le:k', 'v', 'PX', '1'], ['DEBUG', 'SLEEP', '0.05'], ['GET', 'le:k'], ['EXEC']),
  step(B, ['SET', 'k1', 'after']),
  // BCAST without a prefix is registered under the empty one.
  step(A, ['CLIENT', 'TRACKING', 'ON', 'BCAST'], ['CLIENT', 'TRACKINGINFO'], ['CLIENT', 'TRACKING', 'OFF']),
  step(A, ['CLIENT', 'TRACKING', 'ON', 'PREFIX', 'x'], ['CLIENT', 'TRACKING', 'ON', 'OPTIN', 'OPTOUT'], ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'OPTIN'],
    ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'ab', 'PREFIX', 'a'], ['CLIENT', 'CACHING', 'yes'], ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', '999999'], ['CLIENT', 'GETREDIR']),
];

describe.skipIf(!haveRedisServer)('CLIENT TRACKING vs redis-server', () => {
  let redis: RedisReference;
  let node: NodeProcess;
  beforeAll(async () => {
    redis = await startRedisServer(['--enable-debug-command', 'yes']);
    node = await startNode({ args: ['--appendfsync', 'no'] });
  });
  afterAll(async () => {
    await redis?.stop();
    await node?.stop();
  });

  it('every reply and invalidation of a RESP3 tracking client matches', async () => {
    const want = await runPubSubScenario(redis.ports[0]!, [3, 2], SCRIPT);
    const got = await runPubSubScenario(node.port, [3, 2], SCRIPT);
    for (let i = 0; i < SCRIPT.length; i++) expect(got[i], `step ${i}: conn ${SCRIPT[i]!.conn} sent ${JSON.stringify(SCRIPT[i]!.commands)}`).toEqual(want[i]);
  });

  it('INFO counts tracked keys, their clients and BCAST prefixes as Redis does', async () => {
    const totals = async (port: number): Promise<string[]> => {
      const a = await RespConn.connect(port);
      const b = await RespConn.connect(port);
      const c = await RespConn.connect(port);
      try {
        await a.pipelineText([['FLUSHALL'], ['CLIENT', 'TRACKING', 'ON'], ['GET', 'tt1'], ['GET', 'tt2'], ['GET', 'tt3']]);
        await b.pipelineText([['CLIENT', 'TRACKING', 'ON'], ['GET', 'tt1']]);
        await c.pipelineText([['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'p:', 'PREFIX', 'q:']]);
        await a.pipelineText([['SET', 'tt3', 'x']]);
        const info = String((await a.call('INFO', 'stats') as { v: Buffer }).v);
        return info.split('\r\n').filter((l) => l.startsWith('tracking_total_'));
      } finally {
        a.close();
        b.close();
        c.close();
      }
    };
    const [want, got] = [await totals(redis.ports[0]!), await totals(node.port)];
    expect(got).toEqual(want);
    expect(got).toEqual(['tracking_total_keys:2', 'tracking_total_items:3', 'tracking_total_prefixes:2']);
  });

  it('tracking-table-max-keys: a smaller table invalidates what it forgets', async () => {
    const a = await RespConn.connect(node.port);
    try {
      await a.pipelineText([['HELLO', '3'], ['CLIENT', 'TRACKING', 'ON'], ['MSET', 'e1', '1', 'e2', '2'], ['MGET', 'e1', 'e2'], ['CONFIG', 'SET', 'tracking-table-max-keys', '1']]);
      const pushed = show((await a.read(1))[0]!);
      expect(pushed).toMatch(/^\["invalidate" \["e[12]"\]\]$/);
      const info = String((await a.call('INFO', 'stats') as { v: Buffer }).v);
      expect(info).toContain('tracking_total_keys:1\r\n');
    } finally {
      await a.call('CONFIG', 'SET', 'tracking-table-max-keys', '1000000');
      a.close();
    }
  });

  it('REDIRECT sends invalidations to a RESP2 subscriber of __redis__:invalidate', async () => {
    const tracker = await RespConn.connect(node.port);
    const sink = await RespConn.connect(node.port);
    const writer = await RespConn.connect(node.port);
    try {
      const sinkId = show(await sink.call('CLIENT', 'ID')).slice(1);
      expect(show(await sink.call('SUBSCRIBE', '__redis__:invalidate'))).toBe('["subscribe" "__redis__:invalidate" :1]');
      expect(await tracker.pipelineText([['CLIENT', 'TRACKING', 'ON', 'REDIRECT', sinkId], ['GET', 'rd:k'], ['CLIENT', 'GETREDIR']])).toEqual(['+OK', 'nil', `:${sinkId}`]);
      await writer.call('SET', 'rd:k', 'v');
      expect((await sink.read(1)).map(show)).toEqual(['["message" "__redis__:invalidate" ["rd:k"]]']);
      await writer.call('FLUSHALL');
      expect((await sink.read(1)).map(show)).toEqual(['["message" "__redis__:invalidate" nil]']);
      expect(await tracker.strayReplies(100)).toEqual([]);
    } finally {
      tracker.close();
      sink.close();
      writer.close();
    }
  });

  it('node-redis client-side cache serves repeated reads locally and sees other clients\' writes', async () => {
    const cached = createClient({ socket: { port: node.port }, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 } });
    const other = createClient({ socket: { port: node.port } });
    await cached.connect();
    await other.connect();
    try {
      await other.set('csc:k', 'one');
      expect(await cached.get('csc:k')).toBe('one');
      expect(await cached.get('csc:k')).toBe('one');
      await other.set('csc:k', 'two');
      const deadline = Date.now() + 5000;
      let seen = await cached.get('csc:k');
      while (seen !== 'two' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        seen = await cached.get('csc:k');
      }
      expect(seen).toBe('two');
    } finally {
      cached.destroy();
      other.destroy();
    }
  });
});

describe('CLIENT TRACKING in a 3-node cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('a BCAST client on every node hears each write once, whichever node coordinated it', async () => {
    const trackers = await Promise.all(c.ports.map((p) => RespConn.connect(p)));
    const writer = await RespConn.connect(c.ports[0]!);
    try {
      for (const t of trackers) expect(await t.pipelineText([['HELLO', '3'], ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'ct:']]).then((r) => r[1])).toBe('+OK');
      // Writes go to each key's primary (MOVED followed by hand); every replica applies them.
      const keys = ['ct:a', 'ct:b', 'ct:c', 'ct:d'];
      for (const k of keys) {
        let reply = show(await writer.call('SET', k, 'v'));
        const moved = /^-MOVED \d+ 127\.0\.0\.1:(\d+)$/.exec(reply);
        if (moved) {
          const direct = await RespConn.connect(Number(moved[1]));
          reply = show(await direct.call('SET', k, 'v'));
          direct.close();
        }
        expect(reply).toBe('+OK');
      }
      for (const t of trackers) {
        const heard = new Set<string>();
        const deadline = Date.now() + 10000;
        while (heard.size < keys.length && Date.now() < deadline) {
          const [f] = await t.read(1, 10000);
          for (const k of keys) if (show(f!).includes(`"${k}"`)) heard.add(k);
        }
        expect([...heard].sort()).toEqual(keys);
      }
    } finally {
      for (const t of trackers) t.close();
      writer.close();
    }
  }, 60000);
});
