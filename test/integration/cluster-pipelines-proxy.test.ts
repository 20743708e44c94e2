/**
 * Goal: under `--cluster-proxy yes` a plain (cluster-unaware) client on any node pipelines commands
 * for keys on every node and gets the replies Redis gives when they run one after another, though
 * the node relays most of them to other nodes. Method: a real 3-node proxy cluster; the raw RESP
 * cases sent to a node that owns none of their keys (mixed-slot cases span every node); plain
 * ioredis (pipeline, autopipelining, multi), node-redis createClient and redis-py pipelines checked
 * against exact sequences and the sequential string model (replay with RINGKV_PIPE_SEED).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { fromIoredis, settle } from '../helpers/client-replies.js';
import { rawEdgeCases } from '../helpers/raw-edge-cases.js';
import { rawPipelineCases } from '../helpers/raw-pipeline-cases.js';
import { RespConn, show } from '../helpers/resp-conn.js';
import { proxyTarget } from '../helpers/raw-targets.js';
import { asRedisPy, redisPyMissing, runRedisPy } from '../helpers/redis-py.js';
import { settledSlotMap, type SlotMap } from '../helpers/slot-map.js';
import { asClientValue, generateSteps, pipelineSeed, StringModel } from '../helpers/string-model.js';
import { Prng } from '../sim/prng.js';

const seed = pipelineSeed();

let c: TestCluster;
let slots: SlotMap;
beforeAll(async () => {
  c = await startCluster(3, ['--cluster-proxy', 'yes']);
  slots = await settledSlotMap(c.ports[0]!, c.ports);
}, 60000);
afterAll(async () => {
  await c?.stop();
});

/** Keys on every node, the entry node included, round-robin. */
const spreadKeys = (prefix: string, count: number): string[] => {
  const perNode = c.ports.map((p) => slots.keysOn(p, `${prefix}${p}-`, Math.ceil(count / c.ports.length)));
  return Array.from({ length: count }, (_, i) => perNode[i % c.ports.length]![Math.floor(i / c.ports.length)]!);
};

const diffSteps = (steps: Array<{ argv: string[] }>, got: unknown[], want: unknown[]): string[] =>
  steps.flatMap((s, i) => (JSON.stringify(got[i]) === JSON.stringify(want[i]) ? [] : [`#${i} ${s.argv.join(' ')} gave ${JSON.stringify(got[i])}, want ${JSON.stringify(want[i])}`]));

describe('raw RESP pipelines through a node that owns none of the keys', () => {
  // Cases written for another way of reaching the cluster are not tests here.
  for (const rawCase of [...rawPipelineCases, ...rawEdgeCases].filter((c) => c.kinds === undefined || c.kinds.includes('proxy'))) {
    it(rawCase.name, async () => {
      await rawCase.run(proxyTarget(slots, c.ports), seed);
    }, 180000);
  }
});

describe('WATCH through a node that does not own the key', () => {
  it('a change by another client between WATCH and EXEC aborts the transaction, one command at a time', async () => {
    // Goal: the WATCH guarantee holds when the watching client's node relays to the owner, even
    // without pipelining (this isolates WATCH from command order). Method: A on each non-owner node
    // SETs and WATCHes the key, B on another node SETs it, then A's MULTI/SET/EXEC, each awaited:
    // EXEC must answer a null array and the key keep B's value, as on the owner and in Redis.
    const k = '{px-watch}k';
    const got: string[] = [];
    for (const entry of c.ports.filter((p) => p !== slots.ownerOf(k))) {
      const a = await RespConn.connect(entry);
      const b = await RespConn.connect(c.ports.find((p) => p !== entry)!);
      try {
        const step = async (conn: RespConn, ...argv: string[]): Promise<void> => void got.push(`${entry} ${argv.join(' ')} -> ${show(await conn.call(...argv))}`);
        await step(a, 'SET', k, 'start');
        await step(a, 'WATCH', k);
        await step(b, 'SET', k, 'theirs');
        await step(a, 'MULTI');
        await step(a, 'SET', k, 'mine');
        await step(a, 'EXEC');
        await step(a, 'GET', k);
      } finally {
        a.close();
        b.close();
      }
    }
    const want = c.ports.filter((p) => p !== slots.ownerOf(k)).flatMap((entry) => [
      `${entry} SET ${k} start -> +OK`, `${entry} WATCH ${k} -> +OK`, `${entry} SET ${k} theirs -> +OK`, `${entry} MULTI -> +OK`,
      `${entry} SET ${k} mine -> +QUEUED`, `${entry} EXEC -> nil[]`, `${entry} GET ${k} -> "theirs"`,
    ]);
    expect(got).toEqual(want);
  });

  it('a watched transaction is not overtaken by a later transaction on another slot of the same node', async () => {
    // Goal: in one pipeline, WATCH k, a write of k, MULTI…EXEC on k's slot, then MULTI…EXEC on
    // another slot of the same owner: the first EXEC aborts (its watch saw the write), the second
    // runs. The connection's relayed commands share one session on the owner, and an EXEC there
    // ends that session's watches; before the fix the second transaction could arrive first, end
    // the watch, and leave the first to run unguarded (1 run in 3 of the proxy differential test,
    // seed 21). Method: keys on one owner in two slots, sent through a node that owns neither,
    // 20 rounds (each on fresh keys), every reply compared with Redis's.
    const owner = c.ports[0]!;
    const entry = c.ports.find((p) => p !== owner)!;
    const conn = await RespConn.connect(entry);
    try {
      for (let round = 0; round < 20; round++) {
        const [w, other] = slots.keysOn(owner, `px-overtake-${round}-`, 2);
        const tag = (k: string): string => `{${k}}`;
        const k = `${tag(w!)}a`;
        const k2 = `${tag(w!)}b`;
        const o = `${tag(other!)}c`;
        await conn.call('SET', k, 'start');
        const replies = await conn.pipelineText([
          ['WATCH', k], ['MSET', k, 'changed', k2, 'x'], ['MULTI'], ['SET', k, 'mine'], ['SET', k2, 'y'], ['EXEC'],
          ['MULTI'], ['SET', o, 'other'], ['EXEC'], ['GET', k], ['GET', o],
        ]);
        expect(replies, `round ${round}`).toEqual([
          '+OK', '+OK', '+OK', '+QUEUED', '+QUEUED', 'nil[]', '+OK', '+QUEUED', '[+OK]', '"changed"', '"other"',
        ]);
      }
    } finally {
      conn.close();
    }
  });
});

describe('plain ioredis on one node', () => {
  let r: Redis;
  let auto: Redis;
  beforeAll(() => {
    r = new Redis({ port: c.ports[1], connectTimeout: 20000 });
    auto = new Redis({ port: c.ports[2], connectTimeout: 20000, enableAutoPipelining: true });
  });
  afterAll(async () => {
    await Promise.allSettled([r?.quit(), auto?.quit()]);
  });

  it('a pipeline over keys on every node matches the sequential model', async () => {
    // Goal: one pipeline, one connection, relayed to three nodes, still in order per key.
    // Method: 5 pipelines of 120 seeded steps over 9 keys on all three nodes.
    const rng = new Prng(seed);
    const keys = spreadKeys('px-pipe-', 9);
    const model = new StringModel();
    for (let p = 0; p < 5; p++) {
      const steps = generateSteps(rng, keys, 120, model);
      const got = fromIoredis((await r.pipeline(steps.map((s) => [s.argv[0]!.toLowerCase(), ...s.argv.slice(1)])).exec()) as Array<[Error | null, unknown]>)!;
      expect(diffSteps(steps, got, steps.map((s) => asClientValue(s.expect))).slice(0, 10), `seed ${seed} pipeline ${p}`).toEqual([]);
    }
  });

  it('autopipelining: 600 seeded commands issued together match the sequential model', async () => {
    // Method: all 600 issued before any is awaited, over 12 keys on every node.
    const steps = generateSteps(new Prng(seed + 1), spreadKeys('px-auto-', 12), 600);
    const got = await settle(steps.map((s) => auto.call(s.argv[0]!, ...s.argv.slice(1))));
    expect(diffSteps(steps, got, steps.map((s) => asClientValue(s.expect))).slice(0, 10), `seed ${seed}`).toEqual([]);
  });

  it('multi(): transactions on slots of other nodes, issued together with plain commands, run in order', async () => {
    // Goal: a relayed transaction runs whole, and the commands issued after it see it.
    // Method: 8 INCR+GET transactions on a counter another node owns, each followed by a GET, all
    // issued before any is awaited, then a dependent SET/INCR/GET transaction. The client without
    // autopipelining is used: an autopipelining client would delay the GETs behind every EXEC.
    const [other] = spreadKeys('px-tx-', 3).filter((k) => slots.ownerOf(k) !== c.ports[1]);
    const n = `{${other}}n`;
    const issued = Array.from({ length: 8 }, () => ({ tx: r.multi().incr(n).get(n).exec(), get: r.get(n) }));
    for (let i = 0; i < issued.length; i++) {
      expect(fromIoredis(await issued[i]!.tx)).toEqual([i + 1, String(i + 1)]);
      expect(await issued[i]!.get).toBe(String(i + 1));
    }
    expect(fromIoredis(await r.multi().set(`{${other}}s`, '1').incr(`{${other}}s`).get(`{${other}}s`).exec())).toEqual(['OK', 2, '2']);
  });
});

describe('plain node-redis on one node', () => {
  let r: ReturnType<typeof createClient>;
  beforeAll(async () => {
    r = createClient({ url: `redis://127.0.0.1:${c.ports[0]}`, socket: { connectTimeout: 20000 } });
    r.on('error', () => undefined);
    await r.connect();
  });
  afterAll(async () => {
    await r?.close();
  });

  it('Promise.all of dependent commands and multi() answer as if they ran one by one', async () => {
    // Method: exact replies for a key another node owns; then two transactions and GETs in one tick.
    const k = spreadKeys('px-nr-', 3).find((key) => slots.ownerOf(key) !== c.ports[0])!;
    expect(await settle([r.set(k, '1'), r.incr(k), r.get(k), r.del(k), r.exists(k), r.set(k, 'a'), r.append(k, 'b'), r.get(k)])).toEqual(['OK', 2, '2', 1, 0, 'OK', 2, 'ab']);
    const n = `{${k}}n`;
    const both = await settle([r.multi().incr(n).get(n).exec(), r.get(n), r.multi().incr(n).get(n).exec(), r.get(n)]);
    expect(both).toEqual([[1, '1'], '1', [2, '2'], '2']);
  });
});

describe.skipIf(redisPyMissing !== undefined)('plain redis-py on one node', () => {
  it('pipelines without and with MULTI match the sequential model', async () => {
    // Method: 4 pipelines of 100 steps over keys on every node (transaction=False), then 4 over
    // the keys of one tag another node owns (transaction=True, MULTI/EXEC around each).
    const rng = new Prng(seed + 2);
    const spreadModel = new StringModel();
    const spread = Array.from({ length: 4 }, () => generateSteps(rng, spreadKeys('px-py-', 9), 100, spreadModel));
    const tag = spreadKeys('px-pytx-', 3).find((key) => slots.ownerOf(key) !== c.ports[1])!;
    const txModel = new StringModel();
    const tagged = Array.from({ length: 4 }, () => generateSteps(rng, ['a', 'b', 'c'].map((x) => `{${tag}}${x}`), 100, txModel));
    for (const [transaction, pipelines] of [[false, spread], [true, tagged]] as const) {
      const got = await runRedisPy({ port: c.ports[1]!, mode: 'plain', transaction, pipelines: pipelines.map((p) => p.map((s) => s.argv)) });
      pipelines.forEach((steps, p) => expect(diffSteps(steps, got[p]!, steps.map(asRedisPy)).slice(0, 10), `seed ${seed} transaction ${transaction} pipeline ${p}`).toEqual([]));
    }
  });
});
