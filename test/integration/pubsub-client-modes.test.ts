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
    expect(show(await c.call('CLIENT', 'UNPAUSE'))).toBe('+OK');
    expect((await b.read(4)).map(show)).toEqual(['+OK', '"new"', ':0', ':1']);
    expect(show(await c.call('GET', 'p:k'))).toBe('"new"');
  });

  it('CLIENT PAUSE arguments as Redis', async () => {
    const commands = [['CLIENT', 'PAUSE', '10', 'FOO'], ['CLIENT', 'PAUSE', '-1'], ['CLIENT', 'PAUSE', 'x'], ['CLIENT', 'PAUSE', '1', 'WRITE', 'x'], ['CLIENT', 'PAUSE', '1', 'write'], ['CLIENT', 'UNPAUSE']];
    const want = await (await connect(redis.ports[0]!)).pipelineText(commands);
    expect(await (await connect(node.port)).pipelineText(commands)).toEqual(want);
  });
});
