/**
 * Goal: Lua scripts and functions behave as Redis 7.0's for the libraries built on them, and survive
 * a restart. Method: one real ringkv node; ioredis defineCommand (EVALSHA, NOSCRIPT fallback),
 * node-redis scripts and functions, redis-py's Lock through /usr/bin/python3, a fixed-window rate
 * limiter and a redlock-style lock written as those packages write them, concurrent clients for
 * atomicity, and FUNCTION LOAD before a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createClient, defineScript, type CommandParser } from 'redis';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { run, startNode, type NodeProcess } from '../helpers/server.js';

/** redis-py is there (Debian's python3-redis): its Lock is tested, otherwise that test is skipped. */
const havePyRedis = ((): boolean => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import redis'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const RATE_LIMIT = `
local current = redis.call('incr', KEYS[1])
if current == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
return {current, redis.call('pttl', KEYS[1])}`;
const REDLOCK_ACQUIRE = `
for _, key in ipairs(KEYS) do
  if redis.call('exists', key) == 1 then return 0 end
end
for _, key in ipairs(KEYS) do redis.call('set', key, ARGV[1], 'PX', ARGV[2]) end
return #KEYS`;
const REDLOCK_RELEASE = `
local count = 0
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then redis.call('del', key) count = count + 1 end
end
return count`;

describe('scripting on one node', () => {
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

  it('ioredis defineCommand: EVALSHA falls back to EVAL on NOSCRIPT, then the script is cached', async () => {
    await r.script('FLUSH');
    r.defineCommand('rateLimit', { numberOfKeys: 1, lua: RATE_LIMIT });
    const limiter = r as Redis & { rateLimit(key: string, windowMs: number): Promise<[number, number]> };
    const first = await limiter.rateLimit('rl:{a}', 60000);
    expect(first[0]).toBe(1);
    expect(first[1]).toBeGreaterThan(59000);
    expect((await limiter.rateLimit('rl:{a}', 60000))[0]).toBe(2);
    const sha = (await r.script('LOAD', RATE_LIMIT)) as string;
    expect(await r.script('EXISTS', sha, 'ffffffffffffffffffffffffffffffffffffffff')).toEqual([1, 0]);
    await expect(r.evalsha('ffffffffffffffffffffffffffffffffffffffff', 0)).rejects.toThrow('NOSCRIPT No matching script. Please use EVAL.');
  });

  it('the EVAL cache is bounded: the least recently used of 500 EVAL scripts goes, SCRIPT LOAD ones stay', async () => {
    await r.script('FLUSH');
    const loaded = (await r.script('LOAD', 'return 0')) as string;
    const pipeline = r.pipeline();
    for (let i = 1; i <= 501; i++) pipeline.eval(`return ${i}`, 0);
    await pipeline.exec();
    const sha = (n: number): string => createHash('sha1').update(`return ${n}`).digest('hex');
    expect(await r.script('EXISTS', loaded, sha(1), sha(2), sha(501))).toEqual([1, 0, 1, 1]);
  });

  it('a fixed-window rate limiter admits exactly the limit under concurrent clients', async () => {
    const clients = Array.from({ length: 5 }, () => new Redis({ port: node.port }));
    try {
      const script = `local n = redis.call('incr', KEYS[1]) if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end if n > tonumber(ARGV[2]) then return 0 end return 1`;
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => clients[i % 5]!.eval(script, 1, 'window', 60000, 30)));
      expect(results.filter((x) => x === 1)).toHaveLength(30);
      expect(await r.get('window')).toBe('100');
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('redlock-style acquire and release scripts lock several keys at once and release only the owner', async () => {
    expect(await r.eval(REDLOCK_ACQUIRE, 2, 'lock:a', 'lock:b', 'owner-1', 10000)).toBe(2);
    expect(await r.eval(REDLOCK_ACQUIRE, 2, 'lock:b', 'lock:c', 'owner-2', 10000)).toBe(0);
    expect(await r.eval(REDLOCK_RELEASE, 2, 'lock:a', 'lock:b', 'owner-2')).toBe(0);
    expect(await r.eval(REDLOCK_RELEASE, 2, 'lock:a', 'lock:b', 'owner-1')).toBe(2);
    expect(await r.exists('lock:a', 'lock:b')).toBe(0);
  });

  it('a read-modify-write script is atomic: 200 concurrent GET+SET increments lose none', async () => {
    const script = `local v = tonumber(redis.call('get', KEYS[1]) or '0') redis.call('set', KEYS[1], v + 1) return v + 1`;
    const clients = Array.from({ length: 4 }, () => new Redis({ port: node.port }));
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => clients[i % 4]!.eval(script, 1, 'counter')));
      expect(await r.get('counter')).toBe('200');
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('EVAL_RO and no-writes scripts refuse writes with Redis texts; tostring and numbers read as Lua 5.1', async () => {
    await expect(r.call('eval_ro', "return redis.call('set', 'x', 1)", '0')).rejects.toThrow(/^ERR Write commands are not allowed from read-only scripts\. script: [0-9a-f]{40}, on @user_script:1\.$/);
    await expect(r.eval("#!lua flags=no-writes\nreturn redis.call('set', 'x', 1)", 0)).rejects.toThrow(/Write commands are not allowed from read-only scripts/);
    expect(await r.eval("return tostring(3.0) .. ' ' .. (10 / 2) .. ' ' .. tostring(1700000000 * 1000)", 0)).toBe('3 5 1700000000000');
    expect(await r.eval("return redis.call('set', KEYS[1], 1700000000 * 1000)", 1, 'ms')).toBe('OK');
    expect(await r.get('ms')).toBe('1700000000000');
  });

  it('a table that holds itself answers nested arrays ending in Redis\'s stack-limit error, and the connection goes on', async () => {
    const raw = new Redis({ port: node.port });
    try {
      // ioredis reads the nesting as arrays down to the error, which it hands back as a value.
      let v: unknown = await raw.eval('local a = {}; local b = {a}; a[1] = b; return a', 0);
      let depth = 0;
      while (Array.isArray(v)) {
        expect(v).toHaveLength(1);
        v = v[0];
        depth++;
      }
      expect(String(v)).toMatch(/reached lua stack limit/);
      expect(depth).toBeGreaterThan(100);
      expect(await raw.ping()).toBe('PONG');
      expect(await raw.eval("return {1, {2, {3, {'x'}}}}", 0)).toEqual([1, [2, [3, ['x']]]]);
    } finally {
      raw.disconnect();
    }
  });

  it('DEBUG SET-DISABLE-DENY-SCRIPTS lets scripts run noscript commands, as Redis\'s testing knob does', async () => {
    const script = "return redis.call('client', 'id')";
    await expect(r.eval(script, 0)).rejects.toThrow(/This Redis command is not allowed from script/);
    expect(await r.call('DEBUG', 'SET-DISABLE-DENY-SCRIPTS', '1')).toBe('OK');
    try {
      expect(typeof (await r.eval(script, 0))).toBe('number');
    } finally {
      await r.call('DEBUG', 'SET-DISABLE-DENY-SCRIPTS', '0');
    }
    await expect(r.eval(script, 0)).rejects.toThrow(/This Redis command is not allowed from script/);
  });

  it('inside MULTI (where a script cannot yield) a script that has not written is stopped past busy-reply-threshold', async () => {
    await r.config('SET', 'busy-reply-threshold', '300');
    try {
      const started = Date.now();
      const replies = await r.multi().eval('while true do end', 0).exec();
      expect(String(replies?.[0]?.[0])).toMatch(/^ReplyError: ERR Script exceeded busy-reply-threshold \(300 ms\) and was stopped before it wrote anything script: /);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await r.ping()).toBe('PONG');
      await expect(r.script('KILL')).rejects.toThrow('NOTBUSY No scripts in execution right now.');
    } finally {
      await r.config('SET', 'busy-reply-threshold', '5000');
    }
  });

  it('node-redis scripts and functions (RESP3 client)', async () => {
    const incrBy = defineScript({
      SCRIPT: "return redis.call('incrby', KEYS[1], ARGV[1])",
      NUMBER_OF_KEYS: 1,
      parseCommand(parser: CommandParser, key: string, by: number) {
        parser.pushKey(key);
        parser.push(by.toString());
      },
      transformReply: undefined as unknown as () => number,
    });
    const client = createClient({
      socket: { port: node.port },
      RESP: 3,
      scripts: { incrBy },
      functions: {
        ringlib: {
          getdouble: {
            NUMBER_OF_KEYS: 1,
            IS_READ_ONLY: true,
            parseCommand(parser: CommandParser, key: string) {
              parser.pushKey(key);
            },
            transformReply: undefined as unknown as () => number,
          },
        },
      },
    });
    await client.connect();
    try {
      expect(await client.incrBy('nr:counter', 5)).toBe(5);
      expect(await client.incrBy('nr:counter', 2)).toBe(7);
      const code = "#!lua name=ringlib\nredis.register_function{function_name='getdouble', callback=function(keys) redis.setresp(3) return {double=tonumber(redis.call('get', keys[1])) * 1.5} end, flags={'no-writes'}}";
      expect(await client.functionLoad(code, { REPLACE: true })).toBe('ringlib');
      expect(await client.ringlib.getdouble('nr:counter')).toBe(10.5);
      const list = await client.functionList();
      expect(list.map((l) => l.library_name)).toContain('ringlib');
    } finally {
      await client.quit();
    }
  });

  it.skipIf(!havePyRedis)('redis-py Lock acquires, refuses a second owner, extends and releases (its Lua scripts)', async () => {
    const py = `
import redis, sys
r = redis.Redis(port=${node.port})
lock = r.lock('pylock', timeout=10)
assert lock.acquire(blocking=False)
other = r.lock('pylock', timeout=10)
assert not other.acquire(blocking=False)
assert lock.extend(5)
assert lock.owned()
lock.release()
assert not lock.locked()
try:
    lock.release()
    print('released twice')
    sys.exit(1)
except redis.exceptions.LockError:
    pass
print('ok')
`;
    const res = await run('/usr/bin/python3', ['-c', py]);
    expect(res.stderr).toBe('');
    expect(res.stdout.trim()).toBe('ok');
  });

  it('a script\'s writes are acknowledged only once durable: they survive kill -9 right after the reply', async () => {
    expect(await r.eval("redis.call('set', KEYS[1], ARGV[1]) redis.call('hset', KEYS[2], 'f', ARGV[1]) return 1", 2, 'durable:s', 'durable:h', 'kept')).toBe(1);
    r.disconnect();
    await node.kill9();
    await node.restart();
    r = new Redis({ port: node.port });
    expect(await r.get('durable:s')).toBe('kept');
    expect(await r.hget('durable:h', 'f')).toBe('kept');
  }, 30000);

  it('function libraries survive a restart', async () => {
    await r.call('function', 'load', 'replace', "#!lua name=keep\nredis.register_function('keep_echo', function(keys, args) return args[1] end)");
    await r.quit();
    await node.stop();
    await node.restart();
    r = new Redis({ port: node.port });
    expect(await r.call('fcall', 'keep_echo', '0', 'still here')).toBe('still here');
    const list = (await r.call('function', 'list', 'libraryname', 'keep')) as unknown[][];
    expect(list).toHaveLength(1);
  }, 30000);
});
