/**
 * Goal: string commands behave as Redis documents them, in RESP2 and RESP3.
 * Method: one real ringkv process; ioredis clients with protocol 2 and 3 run the same checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { startNode, type NodeProcess } from '../helpers/server.js';

let node: NodeProcess;
beforeAll(async () => {
  node = await startNode({ args: ['--appendfsync', 'everysec'] });
});
afterAll(async () => {
  await node?.stop();
});

describe.each([2, 3] as const)('strings over RESP%i', (protocol) => {
  let r: Redis;
  const k = (name: string): string => `p${protocol}:${name}`;
  beforeAll(() => {
    r = new Redis({ port: node.port, protocol, lazyConnect: false });
  });
  afterAll(() => r.disconnect());

  it('SET / GET / missing key', async () => {
    expect(await r.set(k('a'), 'hello')).toBe('OK');
    expect(await r.get(k('a'))).toBe('hello');
    expect(await r.get(k('missing'))).toBeNull();
  });

  it('SET NX / XX / GET / KEEPTTL', async () => {
    expect(await r.set(k('nx'), '1', 'NX')).toBe('OK');
    expect(await r.set(k('nx'), '2', 'NX')).toBeNull();
    expect(await r.set(k('xx'), '1', 'XX')).toBeNull();
    expect(await r.set(k('nx'), '3', 'XX')).toBe('OK');
    expect(await r.set(k('nx'), '4', 'GET')).toBe('3');
    expect(await r.set(k('ttl'), 'v', 'EX', 100)).toBe('OK');
    expect(await r.set(k('ttl'), 'w', 'KEEPTTL')).toBe('OK');
    const ttl = await r.ttl(k('ttl'));
    expect(ttl).toBeGreaterThan(90);
    expect(await r.set(k('ttl'), 'x')).toBe('OK');
    expect(await r.ttl(k('ttl'))).toBe(-1);
  });

  it('SET option errors use Redis wording', async () => {
    await expect(r.set(k('e'), 'v', 'EX', 0)).rejects.toThrow("ERR invalid expire time in 'set' command");
    await expect(r.call('set', k('e'), 'v', 'NX', 'XX')).rejects.toThrow('ERR syntax error');
    await expect(r.call('set', k('e'), 'v', 'EX', 'abc')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('set', k('e'))).rejects.toThrow("ERR wrong number of arguments for 'set' command");
  });

  it('PX / PXAT / EXAT expire', async () => {
    await r.set(k('px'), 'v', 'PX', 50);
    expect(await r.pttl(k('px'))).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 120));
    expect(await r.get(k('px'))).toBeNull();
    await r.set(k('exat'), 'v', 'EXAT', Math.floor(Date.now() / 1000) + 100);
    expect(await r.ttl(k('exat'))).toBeGreaterThan(95);
  });

  it('active expiry removes short-lived keys nobody reads again', async () => {
    const expired = async (): Promise<number> => Number(/expired_keys:(\d+)/.exec(await r.info('stats'))![1]);
    const before = await expired();
    for (let i = 0; i < 5; i++) await r.set(k(`active${i}`), 'v', 'PX', 30);
    const deadline = Date.now() + 3000;
    while ((await expired()) < before + 5 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(await expired()).toBeGreaterThanOrEqual(before + 5);
  });

  it('INCR family, overflow and type errors', async () => {
    expect(await r.incr(k('n'))).toBe(1);
    expect(await r.incrby(k('n'), 10)).toBe(11);
    expect(await r.decr(k('n'))).toBe(10);
    expect(await r.decrby(k('n'), 20)).toBe(-10);
    await r.set(k('big'), '9223372036854775807');
    await expect(r.incr(k('big'))).rejects.toThrow('ERR increment or decrement would overflow');
    await r.set(k('str'), 'abc');
    await expect(r.incr(k('str'))).rejects.toThrow('ERR value is not an integer or out of range');
    await r.set(k('sp'), ' 1');
    await expect(r.incr(k('sp'))).rejects.toThrow('ERR value is not an integer or out of range');
    expect(await r.incrbyfloat(k('f'), '10.5')).toBe('10.5');
    expect(await r.incrbyfloat(k('f'), '0.1')).toBe('10.6');
    expect(await r.incrbyfloat(k('f'), '-5')).toBe('5.6');
    await r.set(k('fe'), '5.0e3');
    expect(await r.incrbyfloat(k('fe'), '2.0e2')).toBe('5200');
  });

  it('MSET / MGET / MSETNX', async () => {
    expect(await r.mset(k('m1'), 'a', k('m2'), 'b')).toBe('OK');
    expect(await r.mget(k('m1'), k('m2'), k('m3'))).toEqual(['a', 'b', null]);
    expect(await r.msetnx(k('m3'), 'c', k('m1'), 'x')).toBe(0);
    expect(await r.msetnx(k('m3'), 'c', k('m4'), 'd')).toBe(1);
    await expect(r.call('mset', k('m1'), 'a', k('m2'))).rejects.toThrow("wrong number of arguments for 'mset' command");
  });

  it('APPEND / STRLEN / GETRANGE / SETRANGE', async () => {
    expect(await r.append(k('ap'), 'Hello')).toBe(5);
    expect(await r.append(k('ap'), ' World')).toBe(11);
    expect(await r.strlen(k('ap'))).toBe(11);
    expect(await r.getrange(k('ap'), 0, 4)).toBe('Hello');
    expect(await r.getrange(k('ap'), -5, -1)).toBe('World');
    expect(await r.getrange(k('ap'), 5, 2)).toBe('');
    expect(await r.setrange(k('sr'), 5, 'x')).toBe(6);
    expect(await r.getBuffer(k('sr'))).toEqual(Buffer.from([0, 0, 0, 0, 0, 0x78]));
  });

  it('GETSET / GETDEL / GETEX / SETNX / SETEX / PSETEX', async () => {
    await r.set(k('gs'), 'old');
    expect(await r.getset(k('gs'), 'new')).toBe('old');
    expect(await r.getdel(k('gs'))).toBe('new');
    expect(await r.exists(k('gs'))).toBe(0);
    await r.set(k('ge'), 'v');
    expect(await r.getex(k('ge'), 'EX', 100)).toBe('v');
    expect(await r.ttl(k('ge'))).toBeGreaterThan(90);
    expect(await r.getex(k('ge'), 'PERSIST')).toBe('v');
    expect(await r.ttl(k('ge'))).toBe(-1);
    await expect(r.call('getex', k('ge'), 'EX', '0')).rejects.toThrow("ERR invalid expire time in 'getex' command");
    expect(await r.call('getex', k('missing'), 'EX', '0')).toBeNull();
    expect(await r.setnx(k('snx'), '1')).toBe(1);
    expect(await r.setnx(k('snx'), '2')).toBe(0);
    expect(await r.setex(k('sex'), 100, 'v')).toBe('OK');
    expect(await r.psetex(k('psex'), 100000, 'v')).toBe('OK');
    await expect(r.setex(k('sex'), -1, 'v')).rejects.toThrow("ERR invalid expire time in 'setex' command");
  });

  it('WRONGTYPE on a hash', async () => {
    await r.hset(k('h'), 'f', 'v');
    await expect(r.get(k('h'))).rejects.toThrow('WRONGTYPE Operation against a key holding the wrong kind of value');
    await expect(r.append(k('h'), 'x')).rejects.toThrow('WRONGTYPE');
  });

  it('binary-safe values and keys', async () => {
    const key = Buffer.from([0, 1, 2, 255, 13, 10]);
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await r.set(key, value);
    expect(await r.getBuffer(key)).toEqual(value);
  });

  it('large values (1 MiB) and long keys (64 KiB)', async () => {
    const big = Buffer.alloc(1024 * 1024, 7);
    await r.set(k('big1m'), big);
    expect((await r.getBuffer(k('big1m')))!.equals(big)).toBe(true);
    const longKey = k('long:') + 'x'.repeat(64 * 1024);
    await r.set(longKey, 'v');
    expect(await r.get(longKey)).toBe('v');
    expect(await r.exists(longKey)).toBe(1);
  });
});
