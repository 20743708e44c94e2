/**
 * Goal: key-space and hash commands match Redis's documented replies, in RESP2 and RESP3.
 * Method: one real ringkv process, driven by ioredis with protocol 2 and 3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { startNode, type NodeProcess } from '../helpers/server.js';

let node: NodeProcess;
beforeAll(async () => {
  node = await startNode({ args: ['--appendfsync', 'no'] });
});
afterAll(async () => {
  await node?.stop();
});

describe.each([2, 3] as const)('keys and hashes over RESP%i', (protocol) => {
  let r: Redis;
  const k = (name: string): string => `p${protocol}:${name}`;
  beforeAll(() => {
    r = new Redis({ port: node.port, protocol });
  });
  afterAll(() => r.disconnect());

  it('DEL / UNLINK / EXISTS count duplicates / TYPE', async () => {
    await r.mset(k('d1'), 'a', k('d2'), 'b');
    expect(await r.exists(k('d1'), k('d1'), k('nope'))).toBe(2);
    expect(await r.type(k('d1'))).toBe('string');
    await r.hset(k('dh'), 'f', 'v');
    expect(await r.type(k('dh'))).toBe('hash');
    expect(await r.type(k('nope'))).toBe('none');
    expect(await r.del(k('d1'), k('d2'), k('nope'))).toBe(2);
    expect(await r.unlink(k('dh'))).toBe(1);
  });

  it('EXPIRE family with NX / XX / GT / LT', async () => {
    await r.set(k('e'), 'v');
    expect(await r.call('expire', k('e'), 100, 'XX')).toBe(0);
    expect(await r.call('expire', k('e'), 100, 'NX')).toBe(1);
    expect(await r.call('expire', k('e'), 50, 'GT')).toBe(0);
    expect(await r.call('expire', k('e'), 200, 'GT')).toBe(1);
    expect(await r.call('expire', k('e'), 150, 'LT')).toBe(1);
    expect(await r.ttl(k('e'))).toBeLessThanOrEqual(150);
    await expect(r.call('expire', k('e'), 10, 'NX', 'XX')).rejects.toThrow('ERR NX and XX, GT or LT options at the same time are not compatible');
    expect(await r.pexpire(k('e'), 100000)).toBe(1);
    expect(await r.pttl(k('e'))).toBeGreaterThan(99000);
    const at = Math.floor(Date.now() / 1000) + 1000;
    expect(await r.expireat(k('e'), at)).toBe(1);
    expect(await r.call('expiretime', k('e'))).toBe(at);
    expect(await r.call('pexpiretime', k('e'))).toBe(at * 1000);
    expect(await r.persist(k('e'))).toBe(1);
    expect(await r.ttl(k('e'))).toBe(-1);
    expect(await r.ttl(k('nokey'))).toBe(-2);
    expect(await r.expire(k('e'), -1)).toBe(1);
    expect(await r.exists(k('e'))).toBe(0);
  });

  it('RENAME / RENAMENX / COPY keep values and TTLs', async () => {
    await r.set(k('r1'), 'v', 'EX', 100);
    expect(await r.rename(k('r1'), k('r2'))).toBe('OK');
    expect(await r.get(k('r2'))).toBe('v');
    expect(await r.ttl(k('r2'))).toBeGreaterThan(90);
    await expect(r.rename(k('missing'), k('x'))).rejects.toThrow('ERR no such key');
    await r.set(k('r3'), 'w');
    expect(await r.renamenx(k('r2'), k('r3'))).toBe(0);
    expect(await r.call('copy', k('r2'), k('r4'))).toBe(1);
    expect(await r.call('copy', k('r2'), k('r3'))).toBe(0);
    expect(await r.call('copy', k('r2'), k('r3'), 'REPLACE')).toBe(1);
    expect(await r.get(k('r3'))).toBe('v');
    await expect(r.call('copy', k('r3'), k('r3'))).rejects.toThrow('ERR source and destination objects are the same');
    await expect(r.call('copy', k('missing'), k('missing'))).rejects.toThrow('ERR source and destination objects are the same');
  });

  it('HSET / HGET / HMGET / HGETALL / HDEL / HLEN / HEXISTS / HSTRLEN', async () => {
    expect(await r.hset(k('h'), 'a', '1', 'b', '2')).toBe(2);
    expect(await r.hset(k('h'), 'a', '3', 'c', '4')).toBe(1);
    expect(await r.hget(k('h'), 'a')).toBe('3');
    expect(await r.hmget(k('h'), 'a', 'x', 'c')).toEqual(['3', null, '4']);
    expect(await r.hgetall(k('h'))).toEqual({ a: '3', b: '2', c: '4' });
    expect(await r.hlen(k('h'))).toBe(3);
    expect(await r.hexists(k('h'), 'b')).toBe(1);
    expect(await r.hstrlen(k('h'), 'c')).toBe(1);
    expect((await r.hkeys(k('h'))).sort()).toEqual(['a', 'b', 'c']);
    expect((await r.hvals(k('h'))).sort()).toEqual(['2', '3', '4']);
    expect(await r.hdel(k('h'), 'a', 'b', 'c', 'zz')).toBe(3);
    expect(await r.exists(k('h'))).toBe(0);
    expect(await r.hmset(k('h2'), 'x', '1')).toBe('OK');
    expect(await r.hsetnx(k('h2'), 'x', '2')).toBe(0);
    expect(await r.hsetnx(k('h2'), 'y', '2')).toBe(1);
  });

  it('HINCRBY / HINCRBYFLOAT / errors', async () => {
    expect(await r.hincrby(k('hi'), 'n', 5)).toBe(5);
    expect(await r.hincrby(k('hi'), 'n', -10)).toBe(-5);
    expect(await r.hincrbyfloat(k('hi'), 'f', '1.5')).toBe('1.5');
    await r.hset(k('hi'), 's', 'abc');
    await expect(r.hincrby(k('hi'), 's', 1)).rejects.toThrow('ERR hash value is not an integer');
    await expect(r.hincrbyfloat(k('hi'), 's', '1')).rejects.toThrow('ERR hash value is not a float');
    await r.set(k('str'), 'x');
    await expect(r.hset(k('str'), 'f', 'v')).rejects.toThrow('WRONGTYPE');
  });

  it('HRANDFIELD and HSCAN', async () => {
    await r.hset(k('hr'), 'a', '1', 'b', '2', 'c', '3');
    expect(['a', 'b', 'c']).toContain(await r.hrandfield(k('hr')));
    expect((await r.hrandfield(k('hr'), 5)).length).toBe(3);
    expect((await r.hrandfield(k('hr'), -5)).length).toBe(5);
    const [cursor, items] = await r.hscan(k('hr'), 0, 'MATCH', 'a*');
    expect(cursor).toBe('0');
    expect(items).toEqual(['a', '1']);
  });

  it('SCAN visits every key exactly once; KEYS matches globs', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => k(`scan:${i}`));
    await r.mset(...keys.flatMap((x) => [x, 'v']));
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', k('scan:*'), 'COUNT', 50);
      for (const key of batch) seen.add(key);
      cursor = next;
    } while (cursor !== '0');
    expect([...seen].sort()).toEqual([...keys].sort());
    const matched = await r.keys(k('scan:1?'));
    expect(matched.sort()).toEqual(Array.from({ length: 10 }, (_, i) => k(`scan:1${i}`)).sort());
    const [, typed] = await r.scan('0', 'TYPE', 'hash', 'COUNT', 10000);
    expect(typed.every((x) => !x.includes('scan:'))).toBe(true);
    expect(await r.randomkey()).not.toBeNull();
  });

  it('MULTI / EXEC / DISCARD / WATCH', async () => {
    const res = await r.multi().set(k('t1'), '1').incr(k('t1')).get(k('t1')).exec();
    expect(res).toEqual([[null, 'OK'], [null, 2], [null, '2']]);
    await r.watch(k('w'));
    const other = new Redis({ port: node.port, protocol });
    await other.set(k('w'), 'changed');
    other.disconnect();
    expect(await r.multi().set(k('w'), 'mine').exec()).toBeNull();
    expect(await r.get(k('w'))).toBe('changed');
  });

  it('EXECABORT after a queued error; errors inside EXEC stay per command', async () => {
    const raw = new Redis({ port: node.port, protocol });
    await raw.call('multi');
    await expect(raw.call('nosuchcommand')).rejects.toThrow('unknown command');
    await expect(raw.call('exec')).rejects.toThrow('EXECABORT Transaction discarded because of previous errors.');
    await raw.set(k('ts'), 'abc');
    const res = await raw.multi().incr(k('ts')).set(k('ts2'), 'ok').exec();
    expect(res![0]![0]).toBeInstanceOf(Error);
    expect(res![1]).toEqual([null, 'OK']);
    raw.disconnect();
  });
});
