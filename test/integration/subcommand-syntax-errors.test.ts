/**
 * Goal: every command family that checks its subcommands' argument counts itself answers Redis
 * 7.0's one text for an unknown subcommand and a wrong count (`unknown subcommand or wrong number
 * of arguments for '<sub>'. Try <CMD> HELP.`): the subcommand as the client spelled it, cut at
 * 128 bytes, the command in capitals whatever case was sent.
 * Method: the same pipelines sent on raw connections to redis-server and to a ringkv node; the
 * replies name nothing that differs between the two, so they must be equal byte for byte. (DEBUG,
 * which the reference server refuses by default, is compared in the DEBUG tests.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { RespConn } from '../helpers/resp-conn.js';

describe.skipIf(!haveRedisServer)('subcommand syntax errors as Redis 7.0', () => {
  const both = nodeBesideRedis();
  const conns: RespConn[] = [];
  afterAll(() => {
    for (const c of conns) c.close();
  });

  it('answers the same text for each family, in any case, with long subcommands cut', async () => {
    const long = 'x'.repeat(200);
    const commands: string[][] = [
      ['XADD', 's', '1-1', 'f', 'v'],
      ['XGROUP', 'CREATE', 's', 'g', '0', 'extra', 'more'],
      ['xgroup', 'createconsumer', 's'],
      ['XINFO', 'STREAM', 's', 'FULL', 'COUNT'],
      ['XINFO', 'GROUPS'],
      ['PUBSUB', 'CHANNELS', 'a', 'b'],
      ['pubsub', 'shardchannels', 'a', 'b'],
      ['SLOWLOG', 'GET', '1', '2'],
      ['slowlog', 'Get', '1', '2'],
      ['CLIENT', 'PAUSE', '10', 'WRITE', 'extra'],
      ['FUNCTION', 'FLUSH', 'ASYNC', 'extra', 'more'],
      ['XGROUP', long, 'a', 'b', 'c', 'd', 'e'],
    ];
    const run = async (port: number): Promise<string[]> => {
      const c = await RespConn.connect(port);
      conns.push(c);
      return c.pipelineText(commands);
    };
    const want = await run(both.ref.ports[0]!);
    const got = await run(both.node.port);
    for (let i = 0; i < commands.length; i++) expect(got[i], commands[i]!.join(' ').slice(0, 60)).toBe(want[i]);
    expect(want.filter((r) => r.includes('unknown subcommand or wrong number of arguments')).length).toBeGreaterThanOrEqual(8);
  });
});
