/**
 * Goal: SLOWLOG and INFO commandstats report what ran, as Redis 7.0 does: a slow command is logged
 * with its arguments (at most 32, each cut at 128 bytes with Redis's notes), its duration, client
 * address and name, newest first, trimmed to slowlog-max-len; a negative threshold logs nothing;
 * commandstats counts microseconds. Method: a real node, ioredis, DEBUG SLEEP as the slow command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { startNode, type NodeProcess } from '../helpers/server.js';

type Entry = [number, number, number, string[], string, string];

describe('SLOWLOG and commandstats', () => {
  let node: NodeProcess;
  let r: Redis;
  beforeAll(async () => {
    node = await startNode();
    r = new Redis({ port: node.port });
  }, 30000);
  afterAll(async () => {
    r?.disconnect();
    await node?.stop();
  });

  it('logs a slow command with its duration, arguments, address and name', async () => {
    await r.call('client', 'setname', 'slowpoke');
    await r.config('SET', 'slowlog-log-slower-than', '50000');
    await r.call('slowlog', 'reset');
    await r.call('debug', 'sleep', '0.1');
    await r.set('fast', 'x');
    const [entry] = (await r.call('slowlog', 'get', '1')) as Entry[];
    expect(entry![2]).toBeGreaterThanOrEqual(100_000);
    expect(entry![3]).toEqual(['debug', 'sleep', '0.1']);
    expect(entry![4]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(entry![5]).toBe('slowpoke');
    expect(await r.call('slowlog', 'len')).toBe(1);
    const stats = await r.info('commandstats');
    const usec = Number(/cmdstat_debug:calls=\d+,usec=(\d+)/.exec(stats)![1]);
    expect(usec).toBeGreaterThanOrEqual(100_000);
  });

  it('keeps passwords out: AUTH and ACL SETUSER arguments are redacted as Redis does', async () => {
    await r.config('SET', 'slowlog-log-slower-than', '0');
    await r.call('slowlog', 'reset');
    await r.call('acl', 'setuser', 'slowuser', '>secretpw');
    await r.call('auth', 'slowuser', 'secretpw').catch(() => undefined);
    await r.call('auth', 'default', 'x').catch(() => undefined);
    const entries = (await r.call('slowlog', 'get', '3')) as Entry[];
    expect(entries.map((e) => e[3])).toEqual([
      ['auth', '(redacted)', '(redacted)'],
      ['auth', '(redacted)', '(redacted)'],
      ['acl', 'setuser', '(redacted)', '(redacted)'],
    ]);
    await r.call('acl', 'deluser', 'slowuser');
  });

  it('logs the commands a transaction ran, not EXEC itself (skip_slowlog), as Redis does', async () => {
    await r.config('SET', 'slowlog-log-slower-than', '50000');
    await r.call('slowlog', 'reset');
    await r.multi().call('debug', 'sleep', '0.06').exec();
    const entries = (await r.call('slowlog', 'get')) as Entry[];
    expect(entries.map((e) => e[3])).toEqual([['debug', 'sleep', '0.06']]);
  });

  it('keeps secret settings out: CONFIG SET masterauth / requirepass values are redacted, also beside a refused pair', async () => {
    await r.config('SET', 'slowlog-log-slower-than', '0');
    await r.call('slowlog', 'reset');
    await r.call('config', 'set', 'masterauth', 'pw1', 'maxmemory-samples', '5');
    await r.call('config', 'set', 'nosuch', '1', 'MasterAuth', 'pw2').catch(() => undefined);
    await r.call('config', 'set', 'masterauth', '');
    const entries = (await r.call('slowlog', 'get', '3')) as Entry[];
    expect(entries.map((e) => e[3])).toEqual([
      ['config', 'set', 'masterauth', '(redacted)'],
      ['config', 'set', 'nosuch', '1', 'MasterAuth', '(redacted)'],
      ['config', 'set', 'masterauth', '(redacted)', 'maxmemory-samples', '5'],
    ]);
  });

  it('cuts long arguments and argument lists as Redis does, keeps slowlog-max-len entries, and logs nothing below a negative threshold', async () => {
    await r.config('SET', 'slowlog-log-slower-than', '0');
    await r.config('SET', 'slowlog-max-len', '3');
    await r.call('slowlog', 'reset');
    await r.call('echo', 'y'.repeat(200));
    await r.call('del', ...Array.from({ length: 40 }, (_, i) => `k${i}`));
    const [del, echo] = (await r.call('slowlog', 'get', '-1')) as Entry[];
    expect(del![3]).toHaveLength(32);
    // 41 arguments: 31 shown, the 32nd slot counts the other 10 (Redis: argc - 32 + 1).
    expect(del![3][31]).toBe('... (10 more arguments)');
    expect(echo![3][1]).toBe(`${'y'.repeat(128)}... (72 more bytes)`);
    for (let i = 0; i < 5; i++) await r.ping();
    expect(await r.call('slowlog', 'len')).toBe(3);
    await expect(r.call('slowlog', 'get', '-2')).rejects.toThrow('ERR count should be greater than or equal to -1');
    await r.config('SET', 'slowlog-log-slower-than', '-1');
    await r.call('slowlog', 'reset');
    await r.call('debug', 'sleep', '0.01');
    expect(await r.call('slowlog', 'len')).toBe(0);
  });
});
