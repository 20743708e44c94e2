/**
 * Goal: WATCH on a stream is broken by what changes its entries or expiry (XADD, XDEL, XTRIM,
 * EXPIRE, DEL) and survives consumer-group commands (XREADGROUP, XACK, XCLAIM, XAUTOCLAIM,
 * XGROUP …) and XSETID, as Redis 7.0.15 does, on one node and in a cluster.
 * Method: for each command, a stream with a group and one delivered entry; connection A watches
 * it, connection B runs the command, A runs MULTI / PING / EXEC; whether EXEC ran is compared with
 * redis-server (when installed) and, in any case, with the expectation Redis 7.0 documents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RespConn } from '../helpers/resp-conn.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { settledSlotMap } from '../helpers/slot-map.js';

const KEY = '{ws}st';
/** The command B runs, and whether Redis 7.0 counts it as modifying the watched stream. */
const CASES: Array<[string[], boolean]> = [
  [['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', KEY, '>'], false],
  [['XACK', KEY, 'g', '1-1'], false],
  [['XGROUP', 'CREATECONSUMER', KEY, 'g', 'c9'], false],
  [['XGROUP', 'DELCONSUMER', KEY, 'g', 'c0'], false],
  [['XGROUP', 'SETID', KEY, 'g', '0'], false],
  [['XGROUP', 'CREATE', KEY, 'g2', '$'], false],
  [['XCLAIM', KEY, 'g', 'c2', '0', '1-1'], false],
  [['XAUTOCLAIM', KEY, 'g', 'c3', '0', '0'], false],
  [['XINFO', 'STREAM', KEY], false],
  [['XADD', KEY, '3-1', 'f', 'v'], true],
  [['XDEL', KEY, '2-1'], true],
  [['XTRIM', KEY, 'MAXLEN', '1'], true],
  [['XSETID', KEY, '9-9'], false],
  [['EXPIRE', KEY, '100'], true],
  [['DEL', KEY], true],
];

/** Whether A's transaction ran after B's command. */
async function execRan(port: number, command: string[]): Promise<boolean> {
  const a = await RespConn.connect(port);
  const b = await RespConn.connect(port);
  try {
    await a.pipelineText([['DEL', KEY], ['XADD', KEY, '1-1', 'f', 'v'], ['XADD', KEY, '2-1', 'f', 'v'], ['XGROUP', 'CREATE', KEY, 'g', '0'],
      ['XREADGROUP', 'GROUP', 'g', 'c0', 'COUNT', '1', 'STREAMS', KEY, '>']]);
    await a.call('WATCH', KEY);
    const r = await b.call(...command);
    if (r.t === 'error') throw new Error(`${command.join(' ')}: ${JSON.stringify(r)}`);
    const [, , exec] = await a.pipelineText([['MULTI'], ['PING'], ['EXEC']]);
    return exec !== 'nil[]' && exec !== 'nil';
  } finally {
    a.close();
    b.close();
  }
}

describe('WATCH on a stream, one node', () => {
  const both = nodeBesideRedis();

  it.each(CASES)('%j modifies it: %s', async (command, modifies) => {
    expect(await execRan(both.node.port, command)).toBe(!modifies);
    const redis = both.refIfAny;
    if (redis) expect(await execRan(redis.ports[0]!, command)).toBe(!modifies);
  });
});

describe('WATCH on a stream, 3-node cluster', () => {
  let cluster: TestCluster;
  let owner = 0;
  beforeAll(async () => {
    cluster = await startCluster(3, ['--appendfsync', 'no']);
    owner = (await settledSlotMap(cluster.ports[0]!, cluster.ports)).ownerOf(KEY);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it.each(CASES)('%j modifies it: %s', async (command, modifies) => {
    expect(await execRan(owner, command)).toBe(!modifies);
  });
});
