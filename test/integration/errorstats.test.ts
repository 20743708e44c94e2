/**
 * Goal: INFO errorstats and total_error_replies count error replies by their first word as Redis
 * 7.0 does, CONFIG RESETSTAT clears them, and in a cluster redirections count as MOVED.
 * Method: the same pipelined sequence of failing commands sent to a real ringkv node and to
 * redis-server (when installed), both reset first; the errorstats lines and the total compared.
 * Then a 3-node ringkv cluster: a key sent to a node that does not serve it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RespConn } from '../helpers/resp-conn.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { settledSlotMap } from '../helpers/slot-map.js';

const FAILING: string[][] = [
  ['SET', 'str', 'v'], ['LPUSH', 'str', 'x'], ['HGET', 'str', 'f'], ['NOSUCHCOMMAND'], ['GET'],
  ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'], ['INCR', 'str'], ['SET', 'k', 'v', 'EX', '-1'],
  ['MULTI'], ['NOSUCHCOMMAND'], ['EXEC'], ['XADD', 'st', '0-0', 'f', 'v'],
];

async function errorstats(port: number): Promise<{ lines: string[]; total: number }> {
  const c = await RespConn.connect(port);
  try {
    const stats = await c.pipelineText([['INFO', 'errorstats'], ['INFO', 'stats']]);
    const lines = stats[0]!.replace(/^"|"$/g, '').split('\\r\\n').filter((l) => l.startsWith('errorstat_')).sort();
    const total = Number(/total_error_replies:(\d+)/.exec(stats[1]!)?.[1]);
    return { lines, total };
  } finally {
    c.close();
  }
}

async function runFailing(port: number): Promise<void> {
  const c = await RespConn.connect(port);
  try {
    await c.call('CONFIG', 'RESETSTAT');
    await c.pipelineText(FAILING);
  } finally {
    c.close();
  }
}

describe('INFO errorstats', () => {
  const both = nodeBesideRedis();

  it.skipIf(!haveRedisServer)('counts error replies by kind as redis-server, and CONFIG RESETSTAT clears them', async () => {
    await runFailing(both.node.port);
    await runFailing(both.ref.ports[0]!);
    const ours = await errorstats(both.node.port);
    const theirs = await errorstats(both.ref.ports[0]!);
    expect(ours.lines).toEqual(theirs.lines);
    expect(ours.total).toBe(theirs.total);
    expect(ours.lines.length).toBeGreaterThan(3);
    const c = await RespConn.connect(both.node.port);
    try {
      await c.call('CONFIG', 'RESETSTAT');
    } finally {
      c.close();
    }
    expect(await errorstats(both.node.port)).toEqual({ lines: [], total: 0 });
  });
});

describe('INFO errorstats in a cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(3, ['--appendfsync', 'no']);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a redirection counts as MOVED', async () => {
    const slots = await settledSlotMap(cluster.ports[0]!, cluster.ports);
    const other = slots.notOwnerOf('moved-key', cluster.ports);
    const c = await RespConn.connect(other);
    try {
      await c.call('CONFIG', 'RESETSTAT');
      const replies = await c.pipelineText([['GET', 'moved-key'], ['GET', 'moved-key']]);
      expect(replies.every((r) => r.startsWith('-MOVED'))).toBe(true);
    } finally {
      c.close();
    }
    expect(await errorstats(other)).toEqual({ lines: ['errorstat_MOVED:count=2'], total: 2 });
  });
});
