/**
 * Goal: `maxmemory-clients` closes the biggest clients once all connections together hold more
 * than the limit, leaves CLIENT NO-EVICT connections alone, counts what it closed, and reads and
 * writes its setting as Redis 7.0 does (bytes or a percentage of maxmemory).
 * Method: the same scenario against a ringkv node and, where installed, redis-server: two raw
 * clients ask for 16 MB of replies each and stop reading, so their unsent output piles up on the
 * server; one of them (and the controlling client) said CLIENT NO-EVICT ON. The other must be
 * closed, the no-evict ones must stay, INFO must count one evicted client. The setting's replies
 * are compared reply for reply with redis-server.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { haveRedisServer } from '../helpers/redis-reference.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const BIG = 256 * 1024;
const GETS = 64;

function cmd(...argv: string[]): string {
  return `*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/**
 * A raw client that (optionally) says NO-EVICT, pipelines GETs of the big value and never reads
 * them. (It never sees its own close: the replies it leaves unread hold the end of the stream.)
 */
async function stalledReader(port: number, noEvict: boolean): Promise<net.Socket> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  sock.write(cmd('CLIENT', 'SETNAME', noEvict ? 'keeper' : 'hog') + (noEvict ? cmd('CLIENT', 'NO-EVICT', 'on') : ''));
  await new Promise<void>((resolve) => sock.once('data', () => resolve()));
  sock.pause();
  sock.write(cmd('GET', 'big').repeat(GETS));
  return sock;
}

async function clientNames(ctl: Redis): Promise<string[]> {
  const list = (await ctl.client('LIST')) as string;
  return list.trim().split('\n').map((l) => /name=(\S*)/.exec(l)?.[1] ?? '');
}

async function evictionScenario(port: number): Promise<{ names: string[]; evicted: number }> {
  const ctl = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
  const made: net.Socket[] = [];
  try {
    await ctl.connect();
    await ctl.call('CLIENT', 'NO-EVICT', 'on');
    await ctl.client('SETNAME', 'ctl');
    await ctl.config('SET', 'client-output-buffer-limit', 'normal 0 0 0');
    await ctl.set('big', 'x'.repeat(BIG));
    made.push(await stalledReader(port, true));
    made.push(await stalledReader(port, false));
    // Both now hold several MB of unsent replies (beyond what the kernel's buffers take).
    await sleep(500);
    expect(await clientNames(ctl)).toEqual(expect.arrayContaining(['ctl', 'keeper', 'hog']));
    await ctl.config('SET', 'maxmemory-clients', '2mb');
    const deadline = Date.now() + 15_000;
    let names = await clientNames(ctl);
    while (names.includes('hog') && Date.now() < deadline) {
      await sleep(50);
      names = await clientNames(ctl);
    }
    const evicted = Number(/evicted_clients:(\d+)/.exec((await ctl.info('stats')) as string)?.[1] ?? -1);
    return { names: names.sort(), evicted };
  } finally {
    await ctl.config('SET', 'maxmemory-clients', '0').catch(() => undefined);
    for (const s of made) s.destroy();
    ctl.disconnect();
  }
}

async function settingReplies(port: number): Promise<string[]> {
  const c = new Redis({ port });
  const out: string[] = [];
  const attempt = async (f: () => Promise<unknown>): Promise<void> => {
    try {
      out.push(JSON.stringify(await f()));
    } catch (err) {
      out.push(`error: ${(err as Error).message}`);
    }
  };
  try {
    for (const v of ['10%', '0%', '100%', '101%', '-5%', 'abc', '%', '1mb', '100', '2gb', '1k', ' 1mb', '1mb ', '0']) {
      await attempt(() => c.config('SET', 'maxmemory-clients', v));
      await attempt(() => c.config('GET', 'maxmemory-clients'));
    }
    for (const v of ['on', 'ON', 'off', 'maybe']) await attempt(() => c.call('CLIENT', 'NO-EVICT', v));
    // Settings with words split at single spaces, as Redis's sdssplitlen.
    for (const v of [' pubsub 1mb 0 0', 'pubsub  1mb 0 0', 'pubsub 1mb 0 0 ', 'pubsub 32mb 8mb 60']) await attempt(() => c.config('SET', 'client-output-buffer-limit', v));
    await attempt(() => c.call('CLIENT', 'NO-EVICT'));
    await c.call('CLIENT', 'NO-EVICT', 'on');
    await attempt(async () => /flags=(\S+)/.exec((await c.client('INFO')) as string)?.[1]);
    // RESET leaves the no-evict flag in Redis 7.0.
    await c.call('RESET');
    await attempt(async () => /flags=(\S+)/.exec((await c.client('INFO')) as string)?.[1]);
    await c.call('CLIENT', 'NO-EVICT', 'off');
    await attempt(async () => /flags=(\S+)/.exec((await c.client('INFO')) as string)?.[1]);
    await attempt(async () => /evicted_clients:\d+/.test((await c.info('stats')) as string));
    await attempt(async () => /mem_clients_normal:\d+/.test((await c.info('memory')) as string));
  } finally {
    c.disconnect();
  }
  return out;
}

describe('maxmemory-clients and CLIENT NO-EVICT', () => {
  const both = nodeBesideRedis();

  it('the setting, CLIENT NO-EVICT and its flag answer as redis-server does', async () => {
    const mine = await settingReplies(both.node.port);
    expect(mine).toContain('["maxmemory-clients","10%"]');
    expect(mine).toContain('"e"');
    if (both.refIfAny !== undefined) expect(mine).toEqual(await settingReplies(both.refIfAny.ports[0]!));
  });

  it('closes the biggest evictable client and keeps no-evict ones (ringkv)', async () => {
    expect(await evictionScenario(both.node.port)).toEqual({ names: ['ctl', 'keeper'], evicted: 1 });
  }, 40_000);

  it.skipIf(!haveRedisServer)('redis-server does the same in the same scenario', async () => {
    expect(await evictionScenario(both.ref.ports[0]!)).toEqual({ names: ['ctl', 'keeper'], evicted: 1 });
  }, 40_000);
});

/**
 * A client that goes over maxmemory-clients by itself: by WATCHed keys or subscriptions added one
 * at a time, or by one command with a big argument, which must not run. Returns what happened.
 */
async function ownWeightScenario(port: number): Promise<{ watcher: boolean; subscriber: boolean; tracker: boolean; bigArgRan: boolean }> {
  const ctl = new Redis({ port, lazyConnect: true });
  await ctl.connect();
  const closedAfter = async (send: (r: Redis, i: number) => Promise<unknown>, max: number): Promise<boolean> => {
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    await r.connect();
    try {
      for (let i = 0; i < max; i++) await send(r, i);
      return false;
    } catch {
      return true;
    } finally {
      r.disconnect();
    }
  };
  try {
    await ctl.call('CLIENT', 'NO-EVICT', 'on');
    await ctl.config('SET', 'maxmemory-clients', '200000');
    await ctl.del('bigarg');
    const watcher = await closedAfter((r, i) => r.watch(`w${i}`), 20_000);
    const subscriber = await closedAfter((r, i) => r.call('PSUBSCRIBE', `p${i}`), 20_000);
    const tracker = await closedAfter((r, i) => r.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', String(i).padStart(12, '0')), 20_000);
    await closedAfter((r) => r.set('bigarg', 'v'.repeat(300_000)), 1);
    const bigArgRan = (await ctl.exists('bigarg')) === 1;
    return { watcher, subscriber, tracker, bigArgRan };
  } finally {
    await ctl.config('SET', 'maxmemory-clients', '0');
    ctl.disconnect();
  }
}

describe('a client over maxmemory-clients by itself', () => {
  const both = nodeBesideRedis();

  it('is closed for its WATCHed keys, its subscriptions, its tracking prefixes, or before a command with a big argument runs, as redis-server does', async () => {
    const mine = await ownWeightScenario(both.node.port);
    expect(mine).toEqual({ watcher: true, subscriber: true, tracker: true, bigArgRan: false });
    if (both.refIfAny !== undefined) expect(await ownWeightScenario(both.refIfAny.ports[0]!)).toEqual(mine);
  }, 60_000);
});

/** Clients each holding part of a big argument; then the limit is lowered below their total. */
async function lowerLimitScenario(port: number): Promise<{ before: number; after: number }> {
  const ctl = new Redis({ port, lazyConnect: true });
  await ctl.connect();
  const socks: net.Socket[] = [];
  const named = async (): Promise<number> => ((await ctl.call('CLIENT', 'LIST')) as string).split('\n').filter((l) => / name=holder\d /.test(l)).length;
  try {
    await ctl.call('CLIENT', 'NO-EVICT', 'on');
    await ctl.config('SET', 'maxmemory-clients', '4mb');
    for (let i = 0; i < 5; i++) {
      const sock = net.connect(port, '127.0.0.1');
      sock.on('error', () => undefined);
      await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
      // A name, then the first 200 KB of a 300 KB argument: the rest never comes.
      sock.write(cmd('CLIENT', 'SETNAME', `holder${i}`) + `*2\r\n$300000\r\n${'v'.repeat(200_000)}`);
      socks.push(sock);
    }
    for (let i = 0; i < 100 && (await named()) < 5; i++) await sleep(20);
    const before = await named();
    await ctl.config('SET', 'maxmemory-clients', '600kb');
    return { before, after: await named() };
  } finally {
    await ctl.config('SET', 'maxmemory-clients', '0');
    for (const s of socks) s.destroy();
    ctl.disconnect();
  }
}

describe('lowering maxmemory-clients', () => {
  const both = nodeBesideRedis();

  it('evicts at once, before the next command, as redis-server does', async () => {
    const mine = await lowerLimitScenario(both.node.port);
    expect(mine.before).toBe(5);
    expect(mine.after).toBeGreaterThan(0);
    expect(mine.after).toBeLessThan(5);
    if (both.refIfAny !== undefined) {
      const theirs = await lowerLimitScenario(both.refIfAny.ports[0]!);
      expect(theirs.before).toBe(5);
      expect(theirs.after).toBeLessThan(5);
    }
  }, 60_000);
});
