/**
 * Goal: the sorted-set uses real applications make work through unmodified clients, at sizes the
 * differential generator does not reach: an ioredis Cluster leaderboard on 3 nodes, a pipelined
 * sliding-window rate limiter, redis-py's zrange with scores, and a 3,000-member set whose ranks,
 * rank ranges from both ends, lex ranges over equal scores and ZSCAN pages are checked against a model.
 * Method: real node processes and real clients; every answer compared with a plain JS model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { run, startNode, type NodeProcess } from '../helpers/server.js';
import { PYTHON, redisPyMissing } from '../helpers/redis-py.js';

type Model = Map<string, number>;

/** Members ordered as Redis orders them: by score, ties by member bytes. */
function ordered(m: Model): Array<[string, number]> {
  return [...m.entries()].sort((a, b) => a[1] - b[1] || Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
}

describe('sorted sets through ioredis Cluster on 3 nodes', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('a leaderboard: ZADD, ZINCRBY, ZREVRANGE WITHSCORES, ZRANK / ZREVRANK, ZSCORE, across slots', async () => {
    const cluster = new Cluster(c.ports.map((port) => ({ host: '127.0.0.1', port })));
    try {
      const boards = ['board:daily', 'board:weekly', 'board:all'];
      const models = new Map<string, Model>(boards.map((b) => [b, new Map()]));
      for (let i = 0; i < 200; i++) {
        const board = boards[i % boards.length]!;
        const player = `player${i % 70}`;
        const points = (i * 37) % 101;
        const m = models.get(board)!;
        const reply = await cluster.zincrby(board, points, player);
        m.set(player, (m.get(player) ?? 0) + points);
        expect(Number(reply)).toBe(m.get(player));
      }
      await cluster.zadd('board:all', 'NX', 5, 'late', 5, 'player1');
      models.get('board:all')!.set('late', 5);
      for (const board of boards) {
        const m = models.get(board)!;
        const want = ordered(m).reverse();
        const flat = await cluster.zrevrange(board, 0, 9, 'WITHSCORES');
        expect(flat).toEqual(want.slice(0, 10).flatMap(([p, s]) => [p, String(s)]));
        expect(await cluster.zcard(board)).toBe(m.size);
        for (const [i, [player, score]] of want.entries()) {
          if (i % 7 !== 0) continue;
          expect(await cluster.zrevrank(board, player)).toBe(i);
          expect(await cluster.zrank(board, player)).toBe(want.length - 1 - i);
          expect(await cluster.zscore(board, player)).toBe(String(score));
        }
        expect(await cluster.zrank(board, 'nobody')).toBeNull();
      }
      // A cross-slot union is refused as Redis Cluster refuses it; one slot through a hash tag works.
      await expect(cluster.zunionstore('board:sum', 2, 'board:daily', 'board:weekly')).rejects.toThrow(/CROSSSLOT/);
      await cluster.zadd('{t}a', 1, 'x', 2, 'y');
      await cluster.zadd('{t}b', 10, 'y', 20, 'z');
      expect(await cluster.zunionstore('{t}sum', 2, '{t}a', '{t}b', 'WEIGHTS', 1, 2)).toBe(3);
      expect(await cluster.zrange('{t}sum', 0, -1, 'WITHSCORES')).toEqual(['x', '1', 'y', '22', 'z', '40']);
    } finally {
      cluster.disconnect();
    }
  }, 60000);
});

describe('sorted sets on one node', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
  }, 30000);
  afterAll(async () => {
    await node?.stop();
  });

  it('a sliding-window rate limiter, pipelined: ZREMRANGEBYSCORE old, ZADD now, ZCARD, PEXPIRE', async () => {
    const r = new Redis({ port: node.port });
    try {
      const window = 1000;
      const limit = 5;
      const sent: number[] = [];
      let allowed = 0;
      // Simulated clock: 60 requests 120 ms apart; each is allowed when the window held fewer than `limit`.
      for (let i = 0; i < 60; i++) {
        const now = 1_700_000_000_000 + i * 120;
        const replies = await r.pipeline()
          .zremrangebyscore('rate:user1', 0, now - window)
          .zadd('rate:user1', now, `req${i}`)
          .zcard('rate:user1')
          .pexpire('rate:user1', window)
          .exec();
        const inWindow = sent.filter((t) => t > now - window);
        expect(replies![0]![1]).toBe(sent.length - inWindow.length);
        sent.splice(0, sent.length, ...inWindow, now);
        expect(replies![1]![1]).toBe(1);
        expect(replies![2]![1]).toBe(sent.length);
        if ((replies![2]![1] as number) <= limit) allowed++;
      }
      // 1000 ms / 120 ms: 9 requests in every window once it is full.
      expect(sent.length).toBe(9);
      expect(allowed).toBe(5);
      expect(await r.pttl('rate:user1')).toBeGreaterThan(0);
    } finally {
      r.disconnect();
    }
  });

  it('3,000 members: ranks from both ends, rank ranges, lex ranges over equal scores, ZSCAN pages, encoding', async () => {
    const r = new Redis({ port: node.port });
    try {
      const m: Model = new Map();
      const args: Array<string | number> = [];
      for (let i = 0; i < 3000; i++) {
        const member = `m${(i * 7919) % 3000}`;
        const score = (i % 97) - 48 + (i % 3) * 0.25;
        m.set(member, score);
        args.push(score, member);
      }
      for (let i = 0; i < args.length; i += 600) await r.zadd('big', ...args.slice(i, i + 600));
      expect(await r.call('object', 'encoding', 'big')).toBe('skiplist');
      const want = ordered(m);
      for (const i of [0, 1, 17, 1499, 1500, 2000, 2998, 2999]) {
        const [member, score] = want[i]!;
        expect(await r.zrank('big', member)).toBe(i);
        expect(await r.zrevrank('big', member)).toBe(2999 - i);
        expect(await r.zrange('big', i, i + 2, 'WITHSCORES')).toEqual(want.slice(i, i + 3).flatMap(([p, s]) => [p, String(s)]));
        expect(await r.zrevrange('big', i, i + 1)).toEqual(want.slice().reverse().slice(i, i + 2).map(([p]) => p));
        expect(Number(await r.zscore('big', member))).toBe(score);
      }
      expect(await r.zrangebyscore('big', '(-1', '0', 'LIMIT', 3, 4)).toEqual(want.filter(([, s]) => s > -1 && s <= 0).slice(3, 7).map(([p]) => p));
      expect(await r.zcount('big', '-inf', '(0')).toBe(want.filter(([, s]) => s < 0).length);
      // ZSCAN visits every member exactly once, page by page.
      const seen = new Map<string, string>();
      let cursor = '0';
      let pages = 0;
      do {
        const [next, items] = (await r.zscan('big', cursor, 'COUNT', 200)) as [string, string[]];
        for (let i = 0; i < items.length; i += 2) {
          expect(seen.has(items[i]!)).toBe(false);
          seen.set(items[i]!, items[i + 1]!);
        }
        cursor = next;
        pages++;
      } while (cursor !== '0');
      expect(pages).toBeGreaterThan(10);
      expect(seen.size).toBe(3000);
      expect(Number(seen.get('m5'))).toBe(m.get('m5'));
      // Equal scores: lex ranges seek to their bounds.
      const names = Array.from({ length: 2000 }, (_, i) => `n${String(i).padStart(4, '0')}`);
      for (let i = 0; i < names.length; i += 500) await r.zadd('lex', ...names.slice(i, i + 500).flatMap((n) => [0, n]));
      expect(await r.zrangebylex('lex', '[n1000', '(n1005')).toEqual(names.slice(1000, 1005));
      expect(await r.zrevrangebylex('lex', '(n1900', '-', 'LIMIT', 0, 3)).toEqual(['n1899', 'n1898', 'n1897']);
      expect(await r.zlexcount('lex', '(n0100', '[n0199')).toBe(99);
      expect(await r.zremrangebylex('lex', '[n1990', '+')).toBe(10);
      expect(await r.zcard('lex')).toBe(1990);
      const popped = await r.zpopmax('big', 2);
      expect(popped).toEqual(want.slice(-2).reverse().flatMap(([p, s]) => [p, String(s)]));
      expect(await r.zcard('big')).toBe(2998);
    } finally {
      r.disconnect();
    }
  }, 60000);

  it.skipIf(redisPyMissing !== undefined)('redis-py: zadd, zincrby and zrange with scores (floats), zrevrangebyscore', async () => {
    const script = `
import json, redis
r = redis.Redis(port=${node.port})
r.delete('py')
r.zadd('py', {'a': 1.5, 'b': -2, 'c': 0.1, 'd': float('inf')})
r.zincrby('py', 0.2, 'c')
out = {
  'range': r.zrange('py', 0, -1, withscores=True),
  'rev': r.zrevrangebyscore('py', '+inf', 0, withscores=True, start=0, num=2),
  'score': r.zscore('py', 'c'),
  'rank': r.zrank('py', 'a'),
  'pop': r.zpopmin('py', 1),
}
print(json.dumps({k: [[m.decode(), s] for m, s in v] if isinstance(v, list) else v for k, v in out.items()}))
`;
    const res = await run(PYTHON, ['-c', script], undefined, 30000);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout.replace(/Infinity/g, '"inf"')) as Record<string, unknown>;
    expect(out.range).toEqual([['b', -2], ['c', 0.30000000000000004], ['a', 1.5], ['d', 'inf']]);
    expect(out.rev).toEqual([['d', 'inf'], ['a', 1.5]]);
    expect(out.score).toBe(0.30000000000000004);
    expect(out.rank).toBe(2);
    expect(out.pop).toEqual([['b', -2]]);
  });
});
