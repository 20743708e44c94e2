/**
 * Goal: the connection modes around pub/sub behave as Redis 7.0: CLIENT REPLY OFF / SKIP / ON
 * (which replies are dropped, in pipelines too), MONITOR (one line per command in Redis's format,
 * admin commands left out, passwords redacted), and CLIENT PAUSE WRITE / ALL (held commands wait
 * for the timeout or UNPAUSE, keep their connection's order, and what WRITE lets through).
 * Method: raw RESP connections to redis-server and ringkv with the same inputs, outputs compared
 * (timestamps and ports masked); pauses timed on ringkv with the reference's behaviour as spec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { RespConn, show } from '../helpers/resp-conn.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!haveRedisServer)('CLIENT REPLY, MONITOR, CLIENT PAUSE', () => {
  let redis: RedisReference;
  let node: NodeProcess;
  const closers: Array<() => void> = [];
  beforeAll(async () => {
    redis = await startRedisServer();
    node = await startNode({ args: ['--appendfsync', 'no'] });
  });
  afterAll(async () => {
    for (const c of closers) c();
    await redis?.stop();
    await node?.stop();
  });
  const connect = async (port: number): Promise<RespConn> => {
    const c = await RespConn.connect(port);
    closers.push(() => c.close());
    return c;
  };

  it('CLIENT REPLY drops exactly the replies Redis drops, in one pipeline', async () => {
    const commands = [
      ['CLIENT', 'REPLY', 'FOO'], ['CLIENT', 'REPLY', 'SKIP'], ['SET', 'r:a', '1'], ['GET', 'r:a'], ['CLIENT', 'REPLY', 'OFF'], ['INCR', 'r:a'],
      ['CLIENT', 'REPLY', 'SKIP'], ['GET', 'r:a'], ['CLIENT', 'REPLY', 'ON'], ['GET', 'r:a'], ['CLIENT', 'REPLY', 'SKIP'], ['CLIENT', 'REPLY', 'SKIP'],
      ['ECHO', 'x'], ['ECHO', 'y'], ['PING'],
    ];
    const run = async (port: number): Promise<string[]> => {
      const c = await connect(port);
      c.send(commands);
      await sleep(300);
      return c.strayReplies(100);
    };
    const want = await run(redis.ports[0]!);
    expect(await run(node.port)).toEqual(want);
    expect(want).toEqual(['-ERR syntax error', '"1"', '+OK', '"2"', '"y"', '+PONG']);
  });

  it('CLIENT REPLY inside MULTI takes effect as EXEC runs, cutting EXEC\'s own reply as Redis does', async () => {
    // Each case on a fresh connection; `resp3` sends HELLO 3 first (its reply names the server, so it is left out).
    const cases: Array<{ resp3?: boolean; lines: string[] }> = [
      { lines: ['MULTI', 'CLIENT REPLY OFF', 'EXEC', 'PING', 'CLIENT REPLY ON', 'PING'] },
      { lines: ['MULTI', 'CLIENT REPLY SKIP', 'EXEC', 'PING', 'PING'] },
      { lines: ['MULTI', 'CLIENT REPLY SKIP', 'PING', 'CLIENT REPLY ON', 'EXEC', 'PING', 'PING'] },
      { lines: ['MULTI', 'SET r:m 1', 'CLIENT REPLY OFF', 'GET r:m', 'EXEC', 'PING'] },
      { lines: ['MULTI', 'CLIENT REPLY OFF', 'CLIENT REPLY ON', 'GET r:m', 'EXEC', 'PING'] },
      { lines: ['MULTI', 'CLIENT REPLY SKIP', 'CLIENT REPLY OFF', 'EXEC', 'PING', 'CLIENT REPLY ON', 'PING'] },
      { lines: ['MULTI', 'CLIENT REPLY OFF', 'CLIENT REPLY SKIP', 'CLIENT REPLY ON', 'EXEC', 'PING'] },
      { lines: ['CLIENT REPLY OFF', 'MULTI', 'CLIENT REPLY ON', 'PING', 'EXEC', 'PING'] },
      { lines: ['MULTI', 'CLIENT REPLY SKIP', 'CLIENT REPLY SKIP', 'EXEC', 'CLIENT REPLY SKIP', 'PING', 'PING', 'PING'] },
      { lines: ['CLIENT REPLY SKIP', 'EXEC', 'MULTI', 'CLIENT REPLY FOO', 'CLIENT REPLY OFF', 'EXEC', 'CLIENT REPLY ON', 'PING'] },
      { lines: ['MULTI', 'CLIENT REPLY OFF', 'GET', 'EXEC', 'PING', 'CLIENT REPLY ON', 'PING'] },
      { lines: ['WATCH r:w', 'SET r:w 1', 'MULTI', 'CLIENT REPLY OFF', 'EXEC', 'PING'] },
      { lines: ['CLIENT REPLY SKIP', 'MULTI', 'CLIENT REPLY ON', 'INCR r:n', 'EXEC', 'PING'] },
      // Pub/sub confirmations arrive whatever CLIENT REPLY says, in RESP2 and RESP3.
      { lines: ['CLIENT REPLY OFF', 'SUBSCRIBE r:ch', 'PING', 'UNSUBSCRIBE', 'CLIENT REPLY ON'] },
      { lines: ['CLIENT REPLY SKIP', 'SUBSCRIBE r:ch', 'PING', 'UNSUBSCRIBE', 'PING'] },
      { resp3: true, lines: ['MULTI', 'CLIENT REPLY SKIP', 'HGETALL r:none', 'CLIENT REPLY ON', 'SUBSCRIBE r:ch', 'EXEC', 'PING', 'PING'] },
      { resp3: true, lines: ['CLIENT REPLY OFF', 'SUBSCRIBE r:ch', 'CLIENT REPLY ON'] },
      { resp3: true, lines: ['MULTI', 'CLIENT REPLY OFF', 'SUBSCRIBE r:ch', 'EXEC', 'CLIENT REPLY ON'] },
      { resp3: true, lines: ['CLIENT REPLY SKIP', 'SUBSCRIBE r:ch', 'PING'] },
    ];
    const run = async (port: number, c: { resp3?: boolean; lines: string[] }): Promise<string[]> => {
      const conn = await connect(port);
      if (c.resp3 === true) await conn.call('HELLO', '3');
      conn.send(c.lines.map((l) => l.split(' ')));
      return conn.strayReplies(200);
    };
    for (const c of cases) {
      const [want, got] = await Promise.all([run(redis.ports[0]!, c), run(node.port, c)]);
      expect(got, c.lines.join('; ')).toEqual(want);
    }
    // EXEC's header promises one reply, and OFF run inside it sends none: the next reply fills it.
    expect(await run(redis.ports[0]!, cases[0]!)).toEqual(['+OK', '+QUEUED', '[+OK]', '+PONG']);
  });

  it('MONITOR shows every command in Redis\'s format, without admin commands or passwords', async () => {
    const lines = async (port: number): Promise<string[]> => {
      const mon = await connect(port);
      expect(show(await mon.call('MONITOR'))).toBe('+OK');
      const c = await connect(port);
      await c.pipeline([
        ['SET', Buffer.from('a"b\\c'), Buffer.from([0x78, 0x0a, 0x79, 0x01, 0xff, 0x09, 0x07, 0x08, 0x0d])], ['GET', 'k'], ['CONFIG', 'GET', 'maxmemory'],
        ['MULTI'], ['INCR', 'z'], ['EXEC'], ['AUTH', 'secret'], ['HELLO', '2', 'AUTH', 'default', 'pw'], ['PUBLISH', 'ch', 'm'],
        ['ACL', 'SETUSER', 'mon', '>pw'], ['ACL', 'WHOAMI'], ['ACL', 'DELUSER', 'mon'],
      ]);
      await sleep(200);
      return (await mon.strayReplies(100)).map((l) => l.replace(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\]/, '+T [0 ADDR]'));
    };
    const want = await lines(redis.ports[0]!);
    expect(await lines(node.port)).toEqual(want);
    expect(want[0]).toBe('+T [0 ADDR] "SET" "a\\"b\\\\c" "x\\ny\\x01\\xff\\t\\a\\b\\r"');
    expect(want).toContain('+T [0 ADDR] "AUTH" "(redacted)"');
    expect(want).toContain('+T [0 ADDR] "ACL" "WHOAMI"');
    expect(want.some((l) => l.includes('SETUSER'))).toBe(false);
  });

  it('MONITOR shows MIGRATE with its passwords redacted as Redis parses them, and none of the commands MIGRATE runs itself', async () => {
    const migrate = (...rest: string[]): string[] => ['MIGRATE', '127.0.0.1', '1', ...rest];
    const lines = async (port: number): Promise<string[]> => {
      const mon = await connect(port);
      expect(show(await mon.call('MONITOR'))).toBe('+OK');
      const c = await connect(port);
      await c.pipeline([
        ['SET', 'mg:k', 'v'], migrate('mg:k', '0', '100', 'AUTH', 'pw'), migrate('mg:k', '0', '100', 'AUTH2', 'user', 'pw'),
        migrate('mg:k', '0', '100', 'AUTH2', 'user', 'pw', 'KEYS', 'a'), migrate('', '0', '100', 'COPY', 'AUTH', 'pw', 'KEYS', 'mg:k'),
        migrate('', '0', '100', 'AUTH'), migrate('', '0', '100', 'FOO', 'AUTH', 'pw'), migrate('', '0', '100', 'REPLACE', 'AUTH2', 'u'),
        migrate('', '0', '100', 'KEYS', 'AUTH', 'pw'),
      ]);
      await sleep(200);
      return (await mon.strayReplies(100)).map((l) => l.replace(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\]/, '+T [0 ADDR]'));
    };
    const want = await lines(redis.ports[0]!);
    expect(await lines(node.port)).toEqual(want);
    expect(want).toContain('+T [0 ADDR] "MIGRATE" "127.0.0.1" "1" "mg:k" "0" "100" "AUTH2" "(redacted)" "(redacted)"');
    expect(want).toHaveLength(9);
  });

  it('a MONITOR client may not touch the keyspace, and sees its own commands after their replies', async () => {
    const session = async (port: number): Promise<string[]> => {
      const mon = await connect(port);
      expect(show(await mon.call('MONITOR'))).toBe('+OK');
      mon.send([['GET', 'mk'], ['SET', 'mk', 'v'], ['OBJECT', 'ENCODING', 'mk'], ['EVAL', 'return 1', '0'], ['PING'], ['ECHO', 'hi'], ['CLIENT', 'GETNAME'], ['PUBLISH', 'mc', 'm']]);
      await sleep(300);
      return (await mon.strayReplies(100)).map((l) => l.replace(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\]/, '+T'));
    };
    const want = await session(redis.ports[0]!);
    expect(want).toContain("-ERR Replica can't interact with the keyspace");
    expect(await session(node.port)).toEqual(want);
  });

  it('MONITOR shows EVAL, EVALSHA and FCALL lines, then each command their script ran as [0 lua]', async () => {
    const body = 'redis.call("set","ml:x","1"); redis.call("get","ml:x"); redis.pcall("auth","pw"); redis.pcall("config","get","maxmemory"); ' +
      'redis.pcall("incr"); redis.pcall("nosuch"); redis.pcall("incr","ml:x","y"); redis.pcall("lpush","ml:x","y"); return redis.call("ping")';
    const lines = async (port: number): Promise<string[]> => {
      const mon = await connect(port);
      expect(show(await mon.call('MONITOR'))).toBe('+OK');
      const c = await connect(port);
      await c.pipeline([
        ['EVAL', body, '0'], ['EVAL_RO', 'return redis.call("get","ml:x")', '0'], ['EVAL_RO', 'return redis.pcall("set","ml:x","2")', '0'],
        ['EVALSHA', 'ab'.repeat(20), '0'], ['EVALSHA', 'abc', '0'],
        ['FUNCTION', 'LOAD', 'REPLACE', '#!lua name=monlib\nredis.register_function("mon_f", function(k) return redis.call("exists", k[1]) end)'],
        ['FCALL', 'mon_f', '1', 'ml:x'], ['FCALL_RO', 'mon_f', '1', 'ml:x'],
        ['EVAL', 'return redis.pcall("migrate","127.0.0.1","1","ml:k","0","10","AUTH","pw")', '0'], ['FUNCTION', 'DELETE', 'monlib'],
      ]);
      await sleep(200);
      return (await mon.strayReplies(100)).map((l) => l.replace(/^\+\d+\.\d{6} \[0 (127\.0\.0\.1:\d+|lua)\]/, (_m, who: string) => `+T [0 ${who === 'lua' ? 'lua' : 'ADDR'}]`));
    };
    const want = await lines(redis.ports[0]!);
    expect(await lines(node.port)).toEqual(want);
    // Commands refused before they run (not allowed in scripts, unknown, wrong arity) are not shown; a WRONGTYPE one is.
    expect(want.slice(1, 5)).toEqual(['+T [0 lua] "set" "ml:x" "1"', '+T [0 lua] "get" "ml:x"', '+T [0 lua] "lpush" "ml:x" "y"', '+T [0 lua] "ping"']);
  });

  it('CLIENT PAUSE ALL holds every command, CLIENT UNPAUSE included, until the timeout', async () => {
    const a = await connect(node.port);
    const b = await connect(node.port);
    expect(show(await a.call('CLIENT', 'PAUSE', '600', 'ALL'))).toBe('+OK');
    const started = Date.now();
    expect(await b.pipelineText([['GET', 'p:none'], ['CLIENT', 'UNPAUSE']])).toEqual(['nil', '+OK']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('CLIENT PAUSE WRITE holds writes, PUBLISH and EVAL, lets reads through, and keeps each connection\'s order', async () => {
    const a = await connect(node.port);
    const b = await connect(node.port);
    const c = await connect(node.port);
    await a.call('SET', 'p:k', 'old');
    expect(show(await a.call('CLIENT', 'PAUSE', '20000', 'WRITE'))).toBe('+OK');
    // b: a write is held, and so is the read behind it on the same connection.
    b.send([['SET', 'p:k', 'new'], ['GET', 'p:k'], ['PUBLISH', 'p:ch', 'm'], ['EVAL', 'return 1', '0']]);
    // c: reads go through at once, and see the old value.
    expect(await c.pipelineText([['GET', 'p:k'], ['EXISTS', 'p:k'], ['MULTI'], ['GET', 'p:k'], ['EXEC']])).toEqual(['"old"', ':1', '+OK', '+QUEUED', '["old"]']);
    expect(await b.strayReplies(300)).toEqual([]);
    // The held connection counts as a blocked client, as Redis counts a postponed one.
    expect(show(await c.call('INFO', 'clients'))).toMatch(/blocked_clients:1\\r\\n/);
    expect(show(await c.call('CLIENT', 'UNPAUSE'))).toBe('+OK');
    expect((await b.read(4)).map(show)).toEqual(['+OK', '"new"', ':0', ':1']);
    expect(show(await c.call('GET', 'p:k'))).toBe('"new"');
  });

  it('CLIENT PAUSE WRITE runs scripts that declare no-writes at once and holds the others as Redis', async () => {
    const noWrites = '#!lua flags=no-writes\nreturn 1';
    const declared = '#!lua\nreturn 2';
    const compat = 'return 3';
    const lib = "#!lua name=pauselib\nredis.register_function{function_name='p_ro', callback=function() return 1 end, flags={'no-writes'}}\nredis.register_function('p_rw', function() return 2 end)";
    const sha = async (c: RespConn, body: string): Promise<string> => JSON.parse(show(await c.call('SCRIPT', 'LOAD', body))) as string;
    // Which commands answer while WRITE is in force, and every reply once it is over.
    const run = async (port: number): Promise<{ atOnce: string[]; replies: string[] }> => {
      const admin = await connect(port);
      await admin.call('FUNCTION', 'LOAD', 'REPLACE', lib);
      const shas = [await sha(admin, noWrites), await sha(admin, declared), await sha(admin, compat)];
      const cases: string[][][] = [
        [['EVAL', noWrites, '0']], [['EVAL', declared, '0']], [['EVAL', compat, '0']],
        [['EVAL_RO', noWrites, '0']], [['EVAL_RO', declared, '0']], [['EVAL_RO', compat, '0']],
        [['EVAL', '#!lua flags=no-writes,allow-oom\nreturn 4', '0']], [['EVAL', '#!lua flags=allow-stale\nreturn 5', '0']], [['EVAL', '#!lua flags=bogus\nreturn 6', '0']],
        ...shas.flatMap((h) => [[['EVALSHA', h, '0']], [['EVALSHA_RO', h, '0']]]),
        [['EVALSHA', 'ab'.repeat(20), '0']], [['EVALSHA_RO', 'ab'.repeat(20), '0']],
        [['FCALL', 'p_ro', '0']], [['FCALL', 'p_rw', '0']], [['FCALL_RO', 'p_ro', '0']], [['FCALL_RO', 'p_rw', '0']], [['FCALL', 'p_none', '0']], [['FCALL_RO', 'p_none', '0']],
        [['MULTI'], ['EVAL', noWrites, '0'], ['EXEC']], [['MULTI'], ['EVAL', compat, '0'], ['EXEC']], [['MULTI'], ['FCALL_RO', 'p_rw', '0'], ['EXEC']],
        [['MULTI'], ['EVALSHA', shas[0]!, '0'], ['EXEC']],
      ];
      const conns = await Promise.all(cases.map(() => connect(port)));
      expect(show(await admin.call('CLIENT', 'PAUSE', '20000', 'WRITE'))).toBe('+OK');
      cases.forEach((c, i) => conns[i]!.send(c));
      await sleep(300);
      const early = await Promise.all(conns.map((c) => c.strayReplies(0)));
      const atOnce = cases.filter((c, i) => early[i]!.length === c.length).map((c) => c.map((argv) => argv[0]).join('/') + ' ' + c.map((argv) => argv[1]?.slice(0, 24) ?? '').join(' '));
      expect(show(await admin.call('CLIENT', 'UNPAUSE'))).toBe('+OK');
      await sleep(200);
      const late = await Promise.all(conns.map((c) => c.strayReplies(0)));
      await admin.call('FUNCTION', 'DELETE', 'pauselib');
      return { atOnce, replies: early.map((e, i) => [...e, ...late[i]!].join(' ')) };
    };
    const want = await run(redis.ports[0]!);
    const got = await run(node.port);
    expect(got.atOnce).toEqual(want.atOnce);
    expect(got.replies).toEqual(want.replies);
    expect(want.atOnce).toContain(`EVAL ${noWrites.slice(0, 24)}`);
    expect(want.atOnce).not.toContain(`EVAL ${compat}`);
  });

  it('nothing expires while CLIENT PAUSE WRITE is in force: keys read as gone and are removed once it ends, as Redis', async () => {
    const run = async (port: number): Promise<string[]> => {
      const c = await connect(port);
      const expired = async (): Promise<string> => /expired_keys:(\d+)/.exec(show(await c.call('INFO', 'stats')))![1]!;
      const before = Number(await expired());
      await c.pipelineText([['MULTI'], ['SET', 'pe:a', '1', 'PX', '10'], ['SET', 'pe:b', '1', 'PX', '10'], ['CLIENT', 'PAUSE', '50000', 'WRITE'], ['EXEC']]);
      await sleep(300);
      const during = await c.pipelineText([['GET', 'pe:a'], ['EXISTS', 'pe:b']]);
      const keptDuring = Number(await expired()) - before;
      await c.call('CLIENT', 'UNPAUSE');
      const after = await c.pipelineText([['GET', 'pe:a'], ['GET', 'pe:b']]);
      return [...during, `expired during the pause: ${keptDuring}`, ...after, `expired after: ${Number(await expired()) - before}`];
    };
    const want = await run(redis.ports[0]!);
    expect(await run(node.port)).toEqual(want);
    expect(want).toContain('expired during the pause: 0');
    expect(want).toContain('expired after: 2');
  });

  it('CLIENT PAUSE arguments as Redis', async () => {
    const commands = [['CLIENT', 'PAUSE', '10', 'FOO'], ['CLIENT', 'PAUSE', '-1'], ['CLIENT', 'PAUSE', 'x'], ['CLIENT', 'PAUSE', '1', 'WRITE', 'x'], ['CLIENT', 'PAUSE', '1', 'write'], ['CLIENT', 'UNPAUSE']];
    const want = await (await connect(redis.ports[0]!)).pipelineText(commands);
    expect(await (await connect(node.port)).pipelineText(commands)).toEqual(want);
  });
});
