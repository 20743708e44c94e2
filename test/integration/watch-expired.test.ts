/**
 * Goal: WATCH on keys with expiries aborts or runs EXEC as Redis 7.0 does: a value written already
 * past its expiry (SET … EXAT in the past) is a write to the watched key; a key watched live that
 * expired since breaks the watch; a key already expired when watched holds while it stays so, is
 * read (and removed) or deleted, and breaks once a new value is written. A key written and then
 * removed before EXEC (by expiry, or a deletion whose tombstone a save purges) breaks it too, as
 * Redis marks such a key touched.
 * Method: each case runs its steps on redis-server 7.0, on one ringkv node and on the slot's primary
 * of a 3-node ringkv cluster (one hash tag, so a cluster runs it on one slot), over two plain
 * connections: the watcher and another client, once a command at a time and once with each client's
 * consecutive steps pipelined. Every reply is compared with redis-server's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { primaryPort } from '../helpers/node-facts.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { RespConn, show } from '../helpers/resp-conn.js';
import { startNode, type NodeProcess } from '../helpers/server.js';

const PAST = '1000000000';
type Step = { by: 'watcher' | 'other'; argv: string[] } | { sleep: number };

interface Case {
  name: string;
  steps: (k: string, x: string) => Step[];
}

const w = (...argv: string[]): Step => ({ by: 'watcher', argv });
const o = (...argv: string[]): Step => ({ by: 'other', argv });
const exec = (k: string, x: string): Step[] => [w('MULTI'), w('SET', x, '1'), w('EXEC')];

const CASES: Case[] = [
  { name: 'another client sets the absent watched key already expired', steps: (k, x) => [w('WATCH', k), o('SET', k, 'v', 'EXAT', PAST), ...exec(k, x), o('EXISTS', k)] },
  { name: 'the watcher itself sets it already expired', steps: (k, x) => [w('WATCH', k), w('SET', k, 'v', 'PXAT', `${PAST}000`), ...exec(k, x)] },
  { name: 'SET … EXAT in the past over a deleted key', steps: (k, x) => [o('SET', k, 'v'), o('DEL', k), w('WATCH', k), o('SET', k, 'v', 'EXAT', PAST), ...exec(k, x)] },
  { name: 'SET … EXAT in the past over a live key', steps: (k, x) => [o('SET', k, 'v'), w('WATCH', k), o('SET', k, 'v', 'EXAT', PAST), ...exec(k, x)] },
  // A second between SET and WATCH's replies would make the key expired when watched: leave room.
  { name: 'watched live, expired before EXEC', steps: (k, x) => [o('SET', k, 'v', 'PX', '1000'), w('WATCH', k), { sleep: 1300 }, ...exec(k, x)] },
  { name: 'already expired when watched, untouched', steps: (k, x) => [o('SET', k, 'v', 'PX', '50'), { sleep: 150 }, w('WATCH', k), ...exec(k, x)] },
  { name: 'already expired when watched, then read', steps: (k, x) => [o('SET', k, 'v', 'PX', '50'), { sleep: 150 }, w('WATCH', k), o('GET', k), ...exec(k, x)] },
  { name: 'already expired when watched, then deleted', steps: (k, x) => [o('SET', k, 'v', 'PX', '50'), { sleep: 150 }, w('WATCH', k), o('DEL', k), ...exec(k, x)] },
  { name: 'already expired when watched, then set anew', steps: (k, x) => [o('SET', k, 'v', 'PX', '50'), { sleep: 150 }, w('WATCH', k), o('SET', k, 'new'), ...exec(k, x)] },
  { name: 'already expired when watched, then set past its expiry again', steps: (k, x) => [o('SET', k, 'v', 'PX', '50'), { sleep: 150 }, w('WATCH', k), o('SET', k, 'v2', 'EXAT', PAST), ...exec(k, x)] },
  { name: 'set by another client with an expiry that ends before EXEC', steps: (k, x) => [w('WATCH', k), o('SET', k, 'v', 'PX', '1'), { sleep: 300 }, o('EXISTS', k), ...exec(k, x)] },
  { name: 'set by another client, expired, then deleted (a deletion of nothing)', steps: (k, x) => [w('WATCH', k), o('SET', k, 'v', 'PX', '1'), { sleep: 300 }, o('DEL', k), o('EXISTS', k), ...exec(k, x)] },
  { name: 'set and deleted by another client, then a save', steps: (k, x) => [w('WATCH', k), o('SET', k, 'v'), o('DEL', k), o('SAVE'), ...exec(k, x)] },
  { name: 'deleted before WATCH, then a save', steps: (k, x) => [o('SET', k, 'v'), o('DEL', k), w('WATCH', k), o('SAVE'), ...exec(k, x)] },
  { name: 'absent key deleted by another client', steps: (k, x) => [w('WATCH', k), o('DEL', k), ...exec(k, x)] },
  { name: 'EXPIRE in the past on a live watched key', steps: (k, x) => [o('SET', k, 'v'), w('WATCH', k), o('EXPIRE', k, '-1'), ...exec(k, x), o('EXISTS', k)] },
  { name: 'GETEX … EXAT in the past on a live watched key', steps: (k, x) => [o('SET', k, 'v'), w('WATCH', k), o('GETEX', k, 'EXAT', PAST), ...exec(k, x)] },
];

/**
 * The replies of one case's steps on a server, rendered. `pipelined`: each run of one client's
 * steps (up to a sleep or the other client's turn) goes out in one write, as a pipelining client
 * sends WATCH … MULTI … EXEC; the next run waits for its replies.
 */
async function runCase(port: number, c: Case, k: string, x: string, pipelined = false): Promise<string[]> {
  const watcher = await RespConn.connect(port);
  const other = await RespConn.connect(port);
  try {
    const out: string[] = [];
    const runs: Step[][] = [];
    for (const step of c.steps(k, x)) {
      const last = runs.at(-1)?.[0];
      const joins = pipelined && last !== undefined && 'by' in last && 'by' in step && last.by === step.by;
      if (joins) runs.at(-1)!.push(step);
      else runs.push([step]);
    }
    for (const run of runs) {
      const first = run[0]!;
      if ('sleep' in first) {
        await new Promise((r) => setTimeout(r, first.sleep));
        continue;
      }
      const conn = first.by === 'watcher' ? watcher : other;
      const argvs = run.map((step) => ('argv' in step ? step.argv : []));
      out.push(...(await conn.pipeline(argvs)).map(show));
    }
    return out;
  } finally {
    watcher.close();
    other.close();
  }
}

describe.skipIf(!haveRedisServer)('WATCH and expiries, beside redis-server 7.0', () => {
  let redis: RedisReference | undefined;
  let node: NodeProcess | undefined;
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    const [r, n, c] = await Promise.allSettled([startRedisServer(), startNode(), startCluster(3)]);
    if (r.status === 'fulfilled') redis = r.value;
    if (n.status === 'fulfilled') node = n.value;
    if (c.status === 'fulfilled') cluster = c.value;
    for (const s of [r, n, c]) if (s.status === 'rejected') throw s.reason;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([redis?.stop(), node?.stop(), cluster?.stop()]);
  });

  for (const pipelined of [false, true]) {
    CASES.forEach((c, i) => {
      it(`${c.name}${pipelined ? ', each client\'s steps pipelined' : ''}`, async () => {
        const k = `{we${i}${pipelined ? 'p' : ''}}k`;
        const x = `{we${i}${pipelined ? 'p' : ''}}x`;
        const expected = await runCase(redis!.ports[0]!, c, k, x, pipelined);
        const [single, clustered] = await Promise.all([
          runCase(node!.port, c, k, x, pipelined),
          runCase(await primaryPort(cluster!.ports[0]!, k), c, k, x, pipelined),
        ]);
        expect(single, 'one node').toEqual(expected);
        expect(clustered, '3-node cluster').toEqual(expected);
      });
    });
  }
});
