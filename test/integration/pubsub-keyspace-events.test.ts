/**
 * Goal: keyspace notifications match redis-server 7.0: for every command of the string, key,
 * hash, list, set and sorted-set families (including the cases that create a key, empty a
 * collection, or change nothing), the same set of `__keyspace@0__` and `__keyevent@0__` messages,
 * under several notify-keyspace-events settings (all classes with new-key events, keyevent or
 * keyspace alone, single classes, key misses); `expired` when a TTL passes; nothing by default.
 * Method: the same command list run on redis-server and on ringkv (test/helpers/keyspace-events-diff.ts);
 * each command's reply and its events, in publication order, compared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { collectEvents, EVENT_COMMANDS, MISS_COMMANDS, ORDER_COMMANDS, SOURCE_MISS_COMMANDS } from '../helpers/keyspace-events-diff.js';
import { RespConn, show } from '../helpers/resp-conn.js';

describe.skipIf(!haveRedisServer)('keyspace notifications vs redis-server', () => {
  let redis: RedisReference;
  let node: NodeProcess;
  beforeAll(async () => {
    redis = await startRedisServer();
    node = await startNode({ args: ['--appendfsync', 'no'] });
  });
  afterAll(async () => {
    await redis?.stop();
    await node?.stop();
  });

  async function compare(flags: string, commands: string[][]): Promise<void> {
    for (const port of [redis.ports[0]!, node.port]) {
      const c = await RespConn.connect(port);
      await c.call('FLUSHALL');
      c.close();
    }
    const want = await collectEvents(redis.ports[0]!, flags, commands);
    const got = await collectEvents(node.port, flags, commands);
    for (let i = 0; i < commands.length; i++) expect(got[i], `${flags}: ${commands[i]!.join(' ')}`).toEqual(want[i]);
  }

  it.each(['KEAn', 'KA', 'EA', 'Kg$', 'Elshz', 'Eg', 'KEn', ''])('notify-keyspace-events %s: every command\'s events match', async (flags) => {
    await compare(flags, EVENT_COMMANDS);
  });

  // Families added beside notifications: bitmaps, HyperLogLog, geo, SORT STORE and streams.
  const FAMILY_COMMANDS: string[][] = [
    ['SETBIT', 'bm', '7', '1'], ['SETBIT', 'bm', '9', '1'],
    ['BITFIELD', 'bf', 'SET', 'u8', '0', '5'], ['BITFIELD', 'bf', 'GET', 'u8', '0'],
    ['BITOP', 'OR', 'bdst', 'bm', 'bf'], ['BITOP', 'AND', 'bdst2', 'nokey1', 'nokey2'],
    ['PFADD', 'hll', 'a', 'b'], ['PFADD', 'hll', 'a'], ['PFMERGE', 'hll2', 'hll'],
    ['GEOADD', 'geo', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
    ['GEOSEARCHSTORE', 'gdst', 'geo', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'ASC'],
    ['GEORADIUS', 'geo', '15', '37', '200', 'km', 'STORE', 'gdst2'],
    ['RPUSH', 'lst', '3', '1', '2'], ['SORT', 'lst', 'STORE', 'sorted'], ['SORT', 'nolist', 'STORE', 'sorted'],
    ['XADD', 'st', '1-1', 'f', 'v'], ['XADD', 'st', '2-1', 'f', 'v'], ['XDEL', 'st', '1-1'], ['XDEL', 'st', '1-1'],
    ['XTRIM', 'st', 'MAXLEN', '0'], ['XSETID', 'st', '5-0'],
    ['XGROUP', 'CREATE', 'st', 'g', '$'], ['XGROUP', 'CREATECONSUMER', 'st', 'g', 'c1'], ['XGROUP', 'SETID', 'st', 'g', '0'],
    ['XGROUP', 'DELCONSUMER', 'st', 'g', 'c1'], ['XGROUP', 'DESTROY', 'st', 'g'], ['XGROUP', 'CREATE', 'st2', 'g', '$', 'MKSTREAM'],
    // XADD that trims adds `xtrim`; a group read or claim that creates its consumer says so.
    ['XADD', 'st3', 'MAXLEN', '2', '1-1', 'f', 'v'], ['XADD', 'st3', 'MAXLEN', '2', '2-1', 'f', 'v'], ['XADD', 'st3', 'MAXLEN', '2', '3-1', 'f', 'v'],
    ['XGROUP', 'CREATE', 'st3', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 'st3', '>'],
    ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 'st3', '>'],
    ['XCLAIM', 'st3', 'g', 'bob', '0', '2-1'], ['XCLAIM', 'st3', 'g', 'bob', '0', '2-1'],
    ['XAUTOCLAIM', 'st3', 'g', 'carol', '0', '0'], ['XAUTOCLAIM', 'st3', 'g', 'carol', '0', '0'],
  ];

  it.each(['KEAn', 'Et', 'E$', 'Kz'])('notify-keyspace-events %s: bitmap, HyperLogLog, geo, SORT and stream events match', async (flags) => {
    await compare(flags, FAMILY_COMMANDS);
  });

  it('key-miss events (m) for reads of missing keys', async () => {
    await compare('KEm', MISS_COMMANDS);
  });

  it.each(['KEAmn', 'Em'])('notify-keyspace-events %s: key misses of write commands\' sources, none for peeks', async (flags) => {
    await compare(flags, SOURCE_MISS_COMMANDS);
  });

  it.each(['KEAn', 'En', 'Kls'])('notify-keyspace-events %s: multi-key commands publish in Redis\'s order', async (flags) => {
    await compare(flags, ORDER_COMMANDS);
  });

  it('CONFIG GET shows the setting as Redis does', async () => {
    const c = await RespConn.connect(node.port);
    try {
      expect(await c.pipelineText([['CONFIG', 'SET', 'notify-keyspace-events', 'KEAnm'], ['CONFIG', 'GET', 'notify-keyspace-events'], ['CONFIG', 'SET', 'notify-keyspace-events', 'Q']])).toEqual([
        '+OK', '["notify-keyspace-events" "AKEm"]',
        "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
      ]);
    } finally {
      c.close();
    }
  });

  // CONFIG SET checks a value as given: Redis refuses blanks around it (no trimming), for the event
  // classes as for numbers, memory values and yes/no; a string keeps them.
  it('CONFIG SET refuses blanks around a value as Redis does', async () => {
    const cases: string[][] = [
      ['notify-keyspace-events', 'KE'], ['notify-keyspace-events', 'KE '], ['notify-keyspace-events', ' KE'], ['notify-keyspace-events', 'K E'],
      ['hz', ' 11'], ['hz', '11 '], ['maxmemory', '1mb '], ['maxmemory', ' 1mb'], ['protected-mode', 'no '], ['maxmemory-policy', ' noeviction'],
      ['slowlog-max-len', '128 '], ['notify-keyspace-events', ''], ['hz', '10'], ['maxmemory', '0'],
    ];
    const replies: string[][] = [];
    for (const port of [redis.ports[0]!, node.port]) {
      const c = await RespConn.connect(port);
      try {
        replies.push(await c.pipelineText(cases.flatMap(([k, v]) => [['CONFIG', 'SET', k!, v!], ['CONFIG', 'GET', k!]])));
      } finally {
        c.close();
      }
    }
    expect(replies[1]).toEqual(replies[0]);
  });

  it('expired: published once when a TTL passes (active expiry)', async () => {
    const c = await RespConn.connect(node.port);
    const listener = await RespConn.connect(node.port);
    try {
      await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'Ex');
      await listener.call('SUBSCRIBE', '__keyevent@0__:expired');
      await c.pipeline([['SET', 'exp:a', '1', 'PX', '50'], ['HSET', 'exp:h', 'f', 'v'], ['PEXPIRE', 'exp:h', '60']]);
      const got = (await listener.read(2, 5000)).map(show).sort();
      expect(got).toEqual(['["message" "__keyevent@0__:expired" "exp:a"]', '["message" "__keyevent@0__:expired" "exp:h"]']);
      expect(await listener.strayReplies(300)).toEqual([]);
    } finally {
      c.close();
      listener.close();
    }
  });
});
