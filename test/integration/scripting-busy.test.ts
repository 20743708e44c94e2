/**
 * Goal: a script that runs past busy-reply-threshold behaves as in Redis 7.0 on a standalone node:
 * other clients get -BUSY except for the allow_busy commands, SCRIPT KILL / FUNCTION KILL stop a
 * script that has not written (and answer UNKILLABLE once it has), FUNCTION STATS names a busy
 * function, SHUTDOWN needs NOSAVE; and the script stays atomic: nobody reads its partial writes, a
 * blocked client is served only after it ends, and a crash or SHUTDOWN NOSAVE in the middle of it
 * leaves none of its writes behind.
 * Method: the same client sequences against a ringkv node and redis-server (every reply compared),
 * then ringkv alone for what Redis cannot show (kill -9 and restart under a busy writing script).
 */
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { startNode } from '../helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const THRESHOLD_MS = 200;
const SPIN = 'local i = 0 while true do i = i + 1 end';
/** Lua that spins until `ms` have passed by the server's clock (a loop count would take Redis a few ms). */
const WAIT_MS = (ms: number): string =>
  `local t = redis.call('time') local t0 = t[1] * 1000000 + t[2] local i = 0 ` +
  `while true do i = i + 1 if i % 1000 == 0 then t = redis.call('time') if t[1] * 1000000 + t[2] - t0 > ${ms * 1000} then break end end end`;
const LIBRARY = "#!lua name=busylib\nredis.register_function('spin', function(keys, args) local i = 0 while true do i = i + 1 end end)";

async function reply(c: Redis, ...argv: string[]): Promise<string> {
  try {
    const v = await c.call(argv[0]!, ...argv.slice(1));
    return JSON.stringify(v);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** Waits until another client is told -BUSY: the script passed the threshold. */
async function untilBusy(c: Redis): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await reply(c, 'PING')).startsWith('error: BUSY')) {
    if (Date.now() > deadline) throw new Error('the script never made the server busy');
    await sleep(20);
  }
}

/** The whole scenario against one server; every reply in order, durations left out. */
async function scenario(port: number): Promise<string[]> {
  const runner = new Redis({ port, maxRetriesPerRequest: 0 });
  const other = new Redis({ port, maxRetriesPerRequest: 0 });
  const waiter = new Redis({ port, maxRetriesPerRequest: 0 });
  const log: string[] = [];
  try {
    await other.config('SET', 'busy-reply-threshold', String(THRESHOLD_MS));
    await other.del('k', 'k2', 'q');
    await other.call('FUNCTION', 'LOAD', 'REPLACE', LIBRARY);

    // An EVAL script that never writes: -BUSY for others, allow_busy commands pass, SCRIPT KILL ends it.
    const spinning = reply(runner, 'EVAL', SPIN, '0');
    await untilBusy(other);
    for (const argv of [['GET', 'k'], ['SET', 'k', '1'], ['FUNCTION', 'KILL'], ['FUNCTION', 'STATS'], ['CLIENT', 'LIST'], ['SCRIPT', 'FLUSH'],
      ['SHUTDOWN'], ['SHUTDOWN', 'SAVE'], ['SHUTDOWN', 'ABORT'], ['MULTI'], ['INCR', 'k'], ['EXEC'], ['WATCH', 'k'], ['UNWATCH'], ['PING']]) {
      log.push(`${argv.join(' ')} -> ${await reply(other, ...argv)}`);
    }
    log.push(`SCRIPT KILL -> ${await reply(other, 'SCRIPT', 'KILL')}`);
    log.push(`EVAL -> ${await spinning}`);
    log.push(`after -> ${await reply(other, 'PING')} ${await reply(other, 'SCRIPT', 'KILL')}`);

    // Scripts that catch errors: one caught before the loop must not stop the loop from being
    // interrupted, and one that catches the kill error itself in a loop is still ended by it.
    for (const body of ["pcall(error, 'x') local i = 0 while true do i = i + 1 end",
      "local f = function() while true do redis.call('ping') end end while true do pcall(f) end",
      "local f = function() while true do end end while true do xpcall(f, function(e) return e end) end",
      // A coroutine the script made, spinning between its yields.
      'local f = coroutine.wrap(function() while true do coroutine.yield(1) end end) while true do f() end']) {
      const caught = reply(runner, 'EVAL', body, '0');
      await untilBusy(other);
      log.push(`SCRIPT KILL (pcall) -> ${await reply(other, 'SCRIPT', 'KILL')}`);
      log.push(`EVAL (pcall) -> ${await caught}`);
    }

    // A coroutine busy past the threshold and then done: others got -BUSY, its values are intact.
    const gen = reply(runner, 'EVAL', `local co = coroutine.create(function() ${WAIT_MS(1500)} coroutine.yield('a', 1) return 'b' end) ` +
      "local r1 = {coroutine.resume(co)} local r2 = {coroutine.resume(co)} local r3 = {coroutine.resume(co)} " +
      "return {tostring(r1[1]), r1[2], r1[3], tostring(r2[1]), r2[2], tostring(r3[1]), r3[2], coroutine.status(co)}", '0');
    await untilBusy(other);
    log.push(`coroutine -> ${await gen}`);

    // A busy function: SCRIPT KILL refused, FUNCTION STATS names it, FUNCTION KILL ends it.
    const fn = reply(runner, 'FCALL', 'spin', '0');
    await untilBusy(other);
    log.push(`SCRIPT KILL -> ${await reply(other, 'SCRIPT', 'KILL')}`);
    const stats = (await other.call('FUNCTION', 'STATS')) as unknown[];
    const running = stats[1] as unknown[];
    log.push(`FUNCTION STATS -> ${JSON.stringify([running[0], running[1], running[2], running[3], running[4]])}`);
    log.push(`FUNCTION KILL -> ${await reply(other, 'FUNCTION', 'KILL')}`);
    log.push(`FCALL -> ${await fn}`);

    // A script that wrote: UNKILLABLE; nobody sees its first write before it ends; a client
    // blocked on the list it pushes to is served after it, with what it left at the end.
    const blocked = reply(waiter, 'BLPOP', 'q', '10').then((v) => ({ v, at: Date.now() }));
    // The BLPOP must be waiting before the script starts (on a loaded machine its connection may be slow).
    const deadline = Date.now() + 10_000;
    while (!/blocked_clients:1\r\n/.test(String(await other.info('clients')))) {
      if (Date.now() > deadline) throw new Error('the BLPOP never blocked');
      await sleep(20);
    }
    const writing = reply(runner, 'EVAL', `redis.call('rpush', 'q', 'a') redis.call('set', 'k', 'first') ${WAIT_MS(2000)} redis.call('rpush', 'q', 'b') redis.call('set', 'k2', 'second') return 1`, '0')
      .then((v) => ({ v, at: Date.now() }));
    await untilBusy(other);
    log.push(`GET k while busy -> ${await reply(other, 'GET', 'k')}`);
    log.push(`SCRIPT KILL -> ${await reply(other, 'SCRIPT', 'KILL')}`);
    const [w, b] = await Promise.all([writing, blocked]);
    log.push(`EVAL -> ${w.v}`, `BLPOP -> ${b.v}`, `BLPOP after EVAL -> ${b.at >= w.at - 5}`);
    log.push(`after -> ${await reply(other, 'MGET', 'k', 'k2')} ${await reply(other, 'LRANGE', 'q', '0', '-1')}`);
  } finally {
    await other.config('SET', 'busy-reply-threshold', '5000').catch(() => undefined);
    runner.disconnect();
    other.disconnect();
    waiter.disconnect();
  }
  return log;
}

describe('scripts past busy-reply-threshold (standalone)', () => {
  const both = nodeBesideRedis();

  it('answer as redis-server does: -BUSY, allow_busy commands, SCRIPT/FUNCTION KILL, UNKILLABLE, a blocked client served after', async () => {
    const mine = await scenario(both.node.port);
    expect(mine).toContain('GET k -> error: BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.');
    expect(mine).toContain('SCRIPT KILL -> "OK"');
    expect(mine.some((l) => l.startsWith('SCRIPT KILL -> error: UNKILLABLE'))).toBe(true);
    expect(mine).toContain('BLPOP -> ["q","a"]');
    expect(mine.filter((l) => l === 'SCRIPT KILL (pcall) -> "OK"')).toHaveLength(4);
    expect(mine).toContain('coroutine -> ["true","a",1,"true","b","false","cannot resume dead coroutine","dead"]');
    if (haveRedisServer) expect(mine).toEqual(await scenario(both.ref.ports[0]!));
  }, 60_000);
});

describe('a busy writing script and the disk', () => {
  it('kill -9 or SHUTDOWN NOSAVE in the middle of it leaves none of its writes; earlier acknowledged writes stay', async () => {
    const node = await startNode({ args: ['--busy-reply-threshold', String(THRESHOLD_MS)] });
    try {
      for (const stop of ['kill9', 'nosave'] as const) {
        const c = new Redis({ port: node.port, maxRetriesPerRequest: 0, retryStrategy: () => null });
        c.on('error', () => undefined);
        const other = new Redis({ port: node.port, maxRetriesPerRequest: 0, retryStrategy: () => null });
        other.on('error', () => undefined);
        await c.set(`before:${stop}`, 'acked');
        // Writes, then spins for good: it can only end by the node going away.
        void c.eval("redis.call('set', KEYS[1], 'partial') redis.call('rpush', KEYS[2], 'x') while true do end", 2, `during:${stop}`, `list:${stop}`).catch(() => undefined);
        await untilBusy(other);
        // Checkpoints are due meanwhile; the script's records must not reach LMDB through one.
        await sleep(1200);
        if (stop === 'kill9') await node.kill9();
        else {
          await other.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
          await new Promise<void>((r) => (node.proc.exitCode !== null || node.proc.signalCode !== null ? r() : node.proc.once('exit', () => r())));
        }
        c.disconnect();
        other.disconnect();
        await node.restart();
        const check = new Redis({ port: node.port });
        try {
          expect(await check.get(`before:${stop}`)).toBe('acked');
          expect(await check.get(`during:${stop}`)).toBeNull();
          expect(await check.exists(`list:${stop}`)).toBe(0);
        } finally {
          check.disconnect();
        }
      }
    } finally {
      await node.stop();
    }
  }, 90_000);
});
