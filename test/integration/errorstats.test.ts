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

/** INFO commandstats as name → "calls,rejected_calls,failed_calls" (times left out). */
async function callCounts(port: number): Promise<Record<string, string>> {
  const c = await RespConn.connect(port);
  try {
    const text = (await c.pipelineText([['INFO', 'commandstats']]))[0]!.replace(/^"|"$/g, '');
    const out: Record<string, string> = {};
    for (const line of text.split('\\r\\n')) {
      const m = /^cmdstat_(\S+):calls=(\d+),.*rejected_calls=(\d+),failed_calls=(\d+)/.exec(line);
      if (m) out[m[1]!] = `calls=${m[2]},rejected=${m[3]},failed=${m[4]}`;
    }
    return out;
  } finally {
    c.close();
  }
}

/** Errors made by scripts' calls, by a discarded transaction and by an unblocked wait. */
async function runScriptAndBlockingErrors(port: number): Promise<string[]> {
  const c = await RespConn.connect(port);
  const waiter = await RespConn.connect(port);
  try {
    await c.call('CONFIG', 'RESETSTAT');
    const replies = await c.pipelineText([
      ['DEL', 'Sicily', 'x', 'list1'], ['SET', 'Sicily', '1'],
      // A command's error inside a script counts once, at the call, whether or not the script fails with it.
      ['EVAL', "redis.pcall('XGROUP', 'CREATECONSUMER', 's1', 'mygroup', 'consumer') return", '0'],
      ['EVAL', "return redis.call('select', 99)", '0'],
      ['EVAL', "local t = redis.pcall('select', 99) return t['err']", '0'],
      ['EVAL', "return redis.pcall('select', 99)", '0'],
      ['EVAL', "return redis.call('GEOADD', 'Sicily', '13.361389', '38.115556', 'Palermo')", '1', 'Sicily'],
      // Refused inside a script: counted as the command's rejected call.
      ['EVAL_RO', "return redis.call('set', 'x', 'y')", '1', 'x'],
      ['EVAL_RO', "local t = redis.pcall('set', 'x', 'y') return t['err']", '1', 'x'],
      ['EVAL', "return redis.call('nosuchcommand')", '0'],
      // The script's own errors count at the script.
      ['EVAL', "return redis.error_reply('MY own error')", '0'],
      ['EVAL', "return {err = 'OTHER kind'}", '0'],
      ['EVAL', "error('raised')", '0'],
      ['EVAL', "return redis.call('get', 'x')", '1', 'x'],
      // A transaction discarded at EXEC: the queued command's error, then EXECABORT.
      ['MULTI'], ['SET'], ['EXEC'],
      ['MULTI'], ['SET', 'x', '1'], ['EXEC'],
    ]);
    const waiterId = String((await waiter.call('CLIENT', 'ID') as { v: bigint }).v);
    const blocked = waiter.pipelineText([['BLPOP', 'list1', '0']]);
    for (let i = 0; i < 100; i++) {
      const list = String((await c.call('CLIENT', 'LIST') as { v: Buffer }).v);
      if (list.includes(`id=${waiterId} `) && / flags=b /.test(list.split('\n').find((l) => l.startsWith(`id=${waiterId} `)) ?? '')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    replies.push(...await c.pipelineText([['CLIENT', 'UNBLOCK', waiterId, 'ERROR']]));
    replies.push(...await blocked);
    return replies;
  } finally {
    c.close();
    waiter.close();
  }
}

describe('INFO errorstats and commandstats of scripts, transactions and unblocked waits', () => {
  const both = nodeBesideRedis();

  it.skipIf(!haveRedisServer)('count each error once, where Redis 7.0 counts it', async () => {
    const ours = await runScriptAndBlockingErrors(both.node.port);
    const theirs = await runScriptAndBlockingErrors(both.ref.ports[0]!);
    // Replies first (a script error's position suffix names the same line on both).
    expect(ours.map((r) => r.replace(/ script: \w+,/, ' script:'))).toEqual(theirs.map((r) => r.replace(/ script: \w+,/, ' script:')));
    expect(await errorstats(both.node.port)).toEqual(await errorstats(both.ref.ports[0]!));
    const mine = await callCounts(both.node.port);
    const ref = await callCounts(both.ref.ports[0]!);
    // CLIENT LIST polled a different number of times on each side.
    delete mine['client|list'];
    delete ref['client|list'];
    expect(mine).toEqual(ref);
  });
});
