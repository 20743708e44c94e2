/**
 * Goal: CLIENT LIST and CLIENT INFO lines carry Redis 7.0's fields in Redis 7.0's order, and the
 * fields that describe a client's state (sub, psub, multi, multi-mem, argv-mem, qbuf of a
 * half-sent request, obl, oll, omem, flags, cmd) have the values redis-server reports for the
 * same clients doing the same things.
 * Method: the same scene on redis-server and on a ringkv node: a client in MULTI with two
 * queued commands, a subscriber, a client that sent half a request, an idle one; an observer
 * reads CLIENT LIST and CLIENT INFO; the lines are parsed and compared field by field.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { haveRedisServer } from '../helpers/redis-reference.js';

type Fields = Array<[string, string]>;

const parse = (line: string): Fields => line.trim().split(' ').map((kv) => {
  const i = kv.indexOf('=');
  return [kv.slice(0, i), kv.slice(i + 1)];
});

/** Fields whose values depend on the server's allocation, clock or sockets, not on the client. */
const VARYING = new Set(['id', 'addr', 'laddr', 'fd', 'age', 'idle', 'qbuf-free', 'rbs', 'rbp', 'tot-mem']);

/** Runs the scene against a server and returns the parsed lines of the scene's clients, by role. */
async function scene(port: number): Promise<{ roles: Record<string, Fields>; info: Fields; order: string[] }> {
  const observer = new Redis({ port });
  const multi = new Redis({ port });
  const subscriber = new Redis({ port });
  const idle = new Redis({ port });
  const half = net.connect({ port, host: '127.0.0.1' });
  const halfConnected = new Promise<void>((r) => half.once('connect', () => r()));
  try {
    await Promise.all([multi.client('SETNAME', 'multi'), subscriber.client('SETNAME', 'subscriber'), idle.client('SETNAME', 'idle'), observer.client('SETNAME', 'observer')]);
    await multi.call('MULTI');
    await multi.call('SET', 'a', 'b');
    await multi.call('SET', 'key1', 'value1');
    await subscriber.subscribe('c1', 'c2');
    await subscriber.psubscribe('p*');
    await idle.ping();
    await halfConnected;
    half.write('*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$4\r\nhalf\r\n*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nwor');
    await new Promise((r) => setTimeout(r, 200));
    const list = (await observer.client('LIST')) as string;
    const info = parse((await observer.client('INFO')) as string);
    const roles: Record<string, Fields> = {};
    for (const line of list.trim().split('\n')) {
      const f = parse(line);
      const name = f.find(([k]) => k === 'name')![1];
      roles[name === '' ? 'other' : name] = f;
    }
    return { roles, info, order: parse(list.split('\n')[0]!).map(([k]) => k) };
  } finally {
    half.destroy();
    for (const c of [observer, multi, subscriber, idle]) c.disconnect();
  }
}

describe.skipIf(!haveRedisServer)('CLIENT LIST and CLIENT INFO against redis-server', () => {
  const both = nodeBesideRedis([]);

  it('has Redis 7.0 fields in Redis order, and the same values for the same clients', async () => {
    const redis = await scene(both.ref.ports[0]!);
    const ringkv = await scene(both.node.port);
    // Redis 7.0's fields first and in its order; what ringkv adds comes after them.
    expect(ringkv.order.slice(0, redis.order.length)).toEqual(redis.order);
    expect(ringkv.order.slice(redis.order.length)).toEqual(['lib-name', 'lib-ver', 'watch']);
    const comparable = (f: Fields): Fields => f.filter(([k]) => !VARYING.has(k) && redis.order.includes(k));
    const get = (f: Fields, k: string): string => f.find(([n]) => n === k)![1];
    for (const role of ['multi', 'subscriber', 'idle', 'half']) {
      expect(comparable(ringkv.roles[role]!), role).toEqual(comparable(redis.roles[role]!));
    }
    // The asking client's own request is still in its query buffer while it runs, as in Redis.
    expect(comparable(ringkv.roles['observer']!)).toEqual(comparable(redis.roles['observer']!));
    expect(comparable(ringkv.info)).toEqual(comparable(redis.info));
    // Values the scene makes non-trivial, so the comparison above cannot pass on zeros alone.
    expect(get(ringkv.info, 'qbuf')).not.toBe('0');
    expect(get(ringkv.roles['multi']!, 'multi-mem')).toBe('66');
    expect(get(ringkv.roles['observer']!, 'argv-mem')).not.toBe('0');
    expect(get(ringkv.roles['half']!, 'qbuf')).not.toBe('0');
  });

  it('counts the replies a client has not read as output memory', async () => {
    const reader = new Redis({ port: both.node.port });
    const observer = new Redis({ port: both.node.port });
    const slow = net.connect({ port: both.node.port, host: '127.0.0.1' });
    const slowConnected = new Promise<void>((r) => slow.once('connect', () => r()));
    try {
      await reader.set('big', 'x'.repeat(1 << 20));
      await slowConnected;
      // Never read: the replies pile up in the kernel's buffers and then in the node's.
      slow.pause();
      slow.write('CLIENT SETNAME slow\r\n' + 'GET big\r\n'.repeat(64));
      let omem = 0;
      for (let i = 0; i < 50 && omem === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const line = ((await observer.client('LIST')) as string).split('\n').find((l) => l.includes('name=slow'));
        omem = line === undefined ? 0 : Number(/ omem=(\d+)/.exec(line)![1]);
        if (line !== undefined && omem > 0) expect(Number(/ tot-mem=(\d+)/.exec(line)![1])).toBeGreaterThanOrEqual(omem);
      }
      expect(omem).toBeGreaterThan(0);
    } finally {
      slow.destroy();
      reader.disconnect();
      observer.disconnect();
    }
  });
});
