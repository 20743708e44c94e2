/**
 * Goal: CLIENT CACHING, CLIENT LIST and CLIENT KILL answer bad and edge-case arguments with Redis
 * 7.0's replies, in Redis's order of checks (tracking before the CACHING argument, CLIENT LIST's
 * TYPE only alone and ID only first, CLIENT KILL's options left to right with no MAXAGE).
 * Method: the same pipelines sent on raw connections to redis-server and to a ringkv node, with
 * replies that name no live client, so they must be equal byte for byte.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { RespConn } from '../helpers/resp-conn.js';

describe.skipIf(!haveRedisServer)('CLIENT subcommand arguments as Redis 7.0', () => {
  const both = nodeBesideRedis();
  const conns: RespConn[] = [];
  afterAll(() => {
    for (const c of conns) c.close();
  });
  const same = async (commands: string[][]): Promise<string[]> => {
    const run = async (port: number): Promise<string[]> => {
      const c = await RespConn.connect(port);
      conns.push(c);
      return c.pipelineText(commands);
    };
    const want = await run(both.ref.ports[0]!);
    expect(await run(both.node.port)).toEqual(want);
    return want;
  };
  const words = (...lines: string[]): string[][] => lines.map((l) => l.split(' '));

  it('CLIENT CACHING checks the tracking mode first, then the argument, in every mode', async () => {
    const probe = ['CLIENT CACHING maybe', 'CLIENT CACHING yes', 'CLIENT CACHING no', 'CLIENT CACHING YES'];
    const want = await same(words(
      ...probe,
      'CLIENT TRACKING on', ...probe, 'CLIENT TRACKING off',
      'CLIENT TRACKING on OPTIN', ...probe, 'CLIENT TRACKING off',
      'CLIENT TRACKING on OPTOUT', ...probe, 'CLIENT TRACKING off',
      'CLIENT TRACKING on BCAST', ...probe, 'CLIENT TRACKING off',
    ));
    expect(want[0]).toBe('-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
  });

  it('CLIENT LIST: TYPE alone, ID first with integer ids', async () => {
    const want = await same(words(
      'CLIENT LIST ID', 'CLIENT LIST TYPE normal ID 1', 'CLIENT LIST ID abc', 'CLIENT LIST ID 1 TYPE normal', 'CLIENT LIST ID 0',
      'CLIENT LIST ID -1', 'CLIENT LIST ID 99999 99998', 'CLIENT LIST TYPE bad', 'CLIENT LIST TYPE', 'CLIENT LIST foo',
      'CLIENT LIST TYPE master', 'CLIENT LIST TYPE replica', 'CLIENT LIST TYPE SLAVE', 'CLIENT LIST TYPE normal x',
      'CLIENT LIST ID 9999999999999999999999', 'CLIENT LIST ID 1.5', 'CLIENT LIST ID 9223372036854775807',
    ));
    expect(want.slice(0, 4)).toEqual(['-ERR syntax error', '-ERR syntax error', '-ERR Invalid client ID', '-ERR Invalid client ID']);
  });

  it('CLIENT KILL: each filter\'s bad argument, options read left to right, no MAXAGE', async () => {
    const want = await same(words(
      'CLIENT KILL ID abc', 'CLIENT KILL ID 0', 'CLIENT KILL ID -5', 'CLIENT KILL ID 1.5', 'CLIENT KILL ID 99999999999999999999',
      'CLIENT KILL ID 9223372036854775807', 'CLIENT KILL SKIPME maybe', 'CLIENT KILL MAXAGE 100000', 'CLIENT KILL ADDR 1.2.3.4:5',
      'CLIENT KILL LADDR x', 'CLIENT KILL USER nosuch', 'CLIENT KILL TYPE bad', 'CLIENT KILL 1.2.3.4:5', 'CLIENT KILL TYPE bad ID',
      'CLIENT KILL ID 99999 TYPE', 'CLIENT KILL foo bar', 'CLIENT KILL SKIPME YES ID 99999', 'CLIENT KILL TYPE master',
      'CLIENT KILL TYPE normal SKIPME no TYPE pubsub', 'CLIENT KILL ID 12 ID abc', 'CLIENT KILL USER default ADDR 1.2.3.4:5',
    ));
    expect(want.slice(0, 3)).toEqual(Array(3).fill('-ERR client-id should be greater than 0'));
    expect(want[7]).toBe('-ERR syntax error');
  });
});
