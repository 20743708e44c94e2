/**
 * Goal: the stock Redis tools work unchanged: redis-cli (RESP2, -3, inline via stdin), mass insertion
 * with --pipe, its key surveys (--bigkeys, --memkeys, --hotkeys, --scan), and redis-benchmark
 * including its inline PING. Method: real tools against a real node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBinary, run, startNode, type NodeProcess } from '../helpers/server.js';

const haveTools = hasBinary('redis-cli') && hasBinary('redis-benchmark');
let node: NodeProcess;

describe.skipIf(!haveTools)('redis tools (need redis-tools installed)', () => {
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
  });
  afterAll(async () => {
    await node?.stop();
  });

  const cli = (...args: string[]) => run('redis-cli', ['-p', String(node.port), ...args]);

  it('redis-cli runs commands and prints replies', async () => {
    expect((await cli('SET', 'greeting', 'hello world')).stdout.trim()).toBe('OK');
    expect((await cli('GET', 'greeting')).stdout.trim()).toBe('hello world');
    expect((await cli('INCR', 'counter')).stdout.trim()).toBe('1');
    expect((await cli('GET', 'nothere')).stdout.trim()).toBe('');
    expect((await cli('-3', 'HGETALL', 'nothere')).code).toBe(0);
  });

  it('redis-cli -3 speaks RESP3', async () => {
    await cli('HSET', 'h3', 'f', 'v');
    const r = await cli('-3', 'HGETALL', 'h3');
    expect(r.stdout).toContain('f');
    expect(r.stdout).toContain('v');
  });

  it('--pipe mass insertion of 20,000 keys', async () => {
    let input = '';
    for (let i = 0; i < 20000; i++) {
      const k = `mass:${i}`;
      const v = `value-${i}`;
      input += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
    }
    const r = await run('redis-cli', ['-p', String(node.port), '--pipe'], input, 60000);
    expect(r.stdout).toContain('errors: 0, replies: 20000');
    expect((await cli('GET', 'mass:19999')).stdout.trim()).toBe('value-19999');
  });

  it('--bigkeys, --memkeys, --hotkeys and --scan find the keys of every type', async () => {
    for (const c of [['RPUSH', 'tl', 'a', 'b', 'c'], ['HSET', 'th', 'f', 'v'], ['ZADD', 'tz', '1', 'm'], ['SADD', 'ts', 'x'], ['XADD', 'tx', '*', 'f', 'v'], ['SET', 'tbig', 'v'.repeat(5000)]]) {
      expect((await cli(...c)).code).toBe(0);
    }
    const big = await cli('--bigkeys');
    expect(big.stdout).toContain(`Biggest string found '"tbig"' has 5000 bytes`);
    for (const t of ['list', 'hash', 'stream', 'set', 'zset']) expect(big.stdout).toMatch(new RegExp(`Biggest +${t} found`));
    expect((await cli('--memkeys')).stdout).toMatch(/Biggest string found '"tbig"' has \d+ bytes/);
    expect((await cli('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu')).stdout.trim()).toBe('OK');
    try {
      expect((await cli('--hotkeys')).stdout).toMatch(/hot key found with counter: \d+\s+keyname: "/);
    } finally {
      await cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
    expect((await cli('--scan', '--pattern', 't?')).stdout.trim().split('\n').sort()).toEqual(['th', 'tl', 'ts', 'tx', 'tz']);
  });

  it('redis-benchmark (inline PING, SET, GET) completes without errors', async () => {
    const r = await run('redis-benchmark', ['-p', String(node.port), '-n', '2000', '-c', '5', '-t', 'ping,set,get', '-q'], undefined, 60000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/PING_INLINE: [\d.]+ requests per second/);
    expect(r.stdout).toMatch(/SET: [\d.]+ requests per second/);
    expect(r.stdout).toMatch(/GET: [\d.]+ requests per second/);
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
  });
});
