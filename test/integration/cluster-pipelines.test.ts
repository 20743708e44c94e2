/**
 * Goal: one client connection's commands run in the order the client sent them when a cluster client
 * pipelines them, as apps do with ioredis Cluster (pipeline, autopipelining, multi) and node-redis
 * createCluster (commands issued together, multi); replies must be what Redis gives when the same
 * commands run one after another. Method: a real 3-node cluster; explicit dependent sequences with
 * exact expected replies, and seeded command sequences checked against a sequential model of the
 * string commands (test/helpers/string-model.ts; replay a failure with RINGKV_PIPE_SEED).
 * redis-py's ClusterPipeline lives in cluster-pipelines-py.test.ts, raw RESP in
 * cluster-pipelines-raw.test.ts, cluster-proxy in cluster-pipelines-proxy.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { slotMap, type SlotMap } from '../helpers/slot-map.js';
import { asClientValue, generateSteps, pipelineSeed, StringModel } from '../helpers/string-model.js';
import { fromIoredis, settle, type ClientValue } from '../helpers/client-replies.js';
import { Prng } from '../sim/prng.js';

const seed = pipelineSeed();

let c: TestCluster;
let slots: SlotMap;
beforeAll(async () => {
  c = await startCluster(3);
  slots = await slotMap(c.ports[0]!);
}, 60000);
afterAll(async () => {
  await c?.stop();
});

/** ioredis pipelines look commands up by their lower-case method names. */
const ioredisArgv = (s: { argv: string[] }): string[] => [s.argv[0]!.toLowerCase(), ...s.argv.slice(1)];

const root = (): Array<{ host: string; port: number }> => [{ host: '127.0.0.1', port: c.ports[0]! }];
/** Generous timeouts: the machine that runs the suite may be busy, and a slow CLUSTER SLOTS is not what is under test. */
const ioredisOptions = { slotsRefreshTimeout: 20000, redisOptions: { connectTimeout: 20000 } };

describe('ioredis Cluster', () => {
  let cl: Cluster;
  let auto: Cluster;
  beforeAll(() => {
    cl = new Cluster(root(), ioredisOptions);
    auto = new Cluster(root(), { ...ioredisOptions, enableAutoPipelining: true });
  });
  afterAll(async () => {
    await Promise.allSettled([cl?.quit(), auto?.quit()]);
  });

  it('a pipeline of dependent commands on one key answers as if they ran one by one', async () => {
    // Goal: each command sees the effect of the ones before it in the same pipeline.
    // Method: the sequences from real reports, each in one pipeline, exact replies.
    const run = async (cmds: Array<Array<string | number>>): Promise<ClientValue[] | null> => fromIoredis((await cl.pipeline(cmds).exec()) as Array<[Error | null, unknown]>);
    expect(await run([['set', 'io:a', '1'], ['incr', 'io:a'], ['get', 'io:a']])).toEqual(['OK', 2, '2']);
    expect(await run([['set', 'io:b', 'v'], ['del', 'io:b'], ['exists', 'io:b']])).toEqual(['OK', 1, 0]);
    const ttl = await run([['set', 'io:c', 'v'], ['expire', 'io:c', 100], ['ttl', 'io:c']]);
    expect(ttl?.slice(0, 2)).toEqual(['OK', 1]);
    expect(ttl?.[2]).toBeGreaterThanOrEqual(99);
    expect(await run([['set', 'io:d', 'v', 'EX', 100], ['persist', 'io:d'], ['ttl', 'io:d']])).toEqual(['OK', 1, -1]);
    expect(await run([['del', 'io:e'], ['incr', 'io:e'], ['incr', 'io:e'], ['incrby', 'io:e', 10], ['decr', 'io:e'], ['get', 'io:e']])).toEqual([0, 1, 2, 12, 11, '11']);
    expect(await run([['set', 'io:f', 'x'], ['append', 'io:f', 'y'], ['append', 'io:f', 'z'], ['getdel', 'io:f'], ['get', 'io:f'], ['setnx', 'io:f', 'n'], ['set', 'io:f', 'm', 'GET']])).toEqual(['OK', 2, 3, 'xyz', null, 1, 'n']);
    expect(await run([['hset', 'io:h', 'f', '1'], ['hincrby', 'io:h', 'f', 5], ['hgetall', 'io:h'], ['del', 'io:h'], ['hgetall', 'io:h']])).toEqual([1, 6, { f: '6' }, 1, {}]);
  });

  it('seeded pipelines over the keys of one slot, on many slots at once, match the sequential model', async () => {
    // Goal: order holds for several keys of one slot (hash tags), while other connections' slots are busy too.
    // Method: 6 tags, each gets 8 pipelines of 50 model steps over 4 keys, sent one after another; the tags run concurrently.
    const rng = new Prng(seed);
    const mismatches: string[] = [];
    await Promise.all(Array.from({ length: 6 }, async (_, t) => {
      const keys = ['a', 'b', 'c', 'd'].map((k) => `{io-tag${t}}${k}`);
      const model = new StringModel();
      for (let p = 0; p < 8; p++) {
        const steps = generateSteps(rng, keys, 50, model);
        const got = fromIoredis((await cl.pipeline(steps.map(ioredisArgv)).exec()) as Array<[Error | null, unknown]>)!;
        const want = steps.map((s) => asClientValue(s.expect));
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          const i = got.findIndex((g, j) => JSON.stringify(g) !== JSON.stringify(want[j]));
          mismatches.push(`tag ${t} pipeline ${p} step ${i}: ${steps[i]!.argv.join(' ')} gave ${JSON.stringify(got[i])}, want ${JSON.stringify(want[i])}`);
          return;
        }
      }
    }));
    expect(mismatches, `seed ${seed}`).toEqual([]);
  });

  it('a pipeline over keys of different slots on one node matches the sequential model', async () => {
    // Goal: order holds across slots, since a connection is one stream whatever keys it touches.
    // Method: per node, 6 keys in 6 different slots that node serves (ioredis allows such pipelines),
    // 5 pipelines of 80 model steps each; the three nodes' pipelines run concurrently.
    const rng = new Prng(seed + 1);
    const results = await Promise.all(c.ports.map(async (port) => {
      const keys = slots.keysOn(port, `io-mix${port}-`, 6);
      const model = new StringModel();
      for (let p = 0; p < 5; p++) {
        const steps = generateSteps(rng, keys, 80, model);
        const got = fromIoredis((await cl.pipeline(steps.map(ioredisArgv)).exec()) as Array<[Error | null, unknown]>);
        const want = steps.map((s) => asClientValue(s.expect));
        if (JSON.stringify(got) !== JSON.stringify(want)) return { port, p, steps: steps.map((s) => s.argv.join(' ')), got, want };
      }
      return undefined;
    }));
    expect(results.filter(Boolean), `seed ${seed}`).toEqual([]);
  });

  it('autopipelining: hundreds of concurrent INCRs and APPENDs per key come back in issue order', async () => {
    // Goal: with enableAutoPipelining every command issued in one tick goes out in one write per node;
    // the replies must still follow issue order. Method: 8 counters and 8 strings on different slots,
    // each first SET (a blind write), then 150 INCRs / 100 APPENDs with a GET after every tenth,
    // interleaved round-robin across the keys and all issued before any is awaited.
    const counters = Array.from({ length: 8 }, (_, i) => `ap:n${i}`);
    const strings = Array.from({ length: 8 }, (_, i) => `ap:s${i}`);
    const issued: Array<{ key: string; what: string; reply: Promise<unknown>; want: unknown }> = [];
    for (const k of counters) issued.push({ key: k, what: 'SET 100', reply: auto.set(k, '100'), want: 'OK' });
    for (const k of strings) issued.push({ key: k, what: 'SET start', reply: auto.set(k, 'start'), want: 'OK' });
    for (let round = 1; round <= 150; round++) {
      for (const k of counters) {
        issued.push({ key: k, what: `INCR #${round}`, reply: auto.incr(k), want: 100 + round });
        if (round % 10 === 0) issued.push({ key: k, what: `GET after INCR #${round}`, reply: auto.get(k), want: String(100 + round) });
      }
      if (round > 100) continue;
      for (const k of strings) {
        issued.push({ key: k, what: `APPEND #${round}`, reply: auto.append(k, 'xy'), want: 5 + 2 * round });
        if (round % 10 === 0) issued.push({ key: k, what: `STRLEN after APPEND #${round}`, reply: auto.strlen(k), want: 5 + 2 * round });
      }
    }
    const got = await settle(issued.map((x) => x.reply));
    const wrong = issued.flatMap((x, i) => (JSON.stringify(got[i]) === JSON.stringify(x.want) ? [] : [`${x.key} ${x.what}: ${JSON.stringify(got[i])}, want ${JSON.stringify(x.want)}`]));
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('autopipelining: 600 seeded commands over 12 keys on every node match the sequential model', async () => {
    // Goal: dependent commands of every kind keep their order when issued together.
    // Method: the model's steps only touch one key each, so any order that keeps each key's
    // commands in issue order gives the model's replies; all 600 are issued before any is awaited.
    const keys = Array.from({ length: 12 }, (_, i) => `ap:m${i}`);
    const steps = generateSteps(new Prng(seed + 2), keys, 600);
    const got = await settle(steps.map((s) => auto.call(s.argv[0]!, ...s.argv.slice(1))));
    const diffs = steps.flatMap((s, i) => (JSON.stringify(got[i]) === JSON.stringify(asClientValue(s.expect)) ? [] : [`#${i} ${s.argv.join(' ')} gave ${JSON.stringify(got[i])}, want ${JSON.stringify(asClientValue(s.expect))}`]));
    expect(diffs.slice(0, 10), `seed ${seed}`).toEqual([]);
  });

  it('multi(): a transaction sees its own writes, and commands issued right after it see the transaction', async () => {
    // Goal: MULTI/EXEC answers as Redis and later commands are not drawn into it.
    // Method: one transaction, then a transaction and a GET issued in the same tick (autopipelining client).
    expect(fromIoredis(await cl.multi().set('{tx1}k', '1').incr('{tx1}k').get('{tx1}k').exec())).toEqual(['OK', 2, '2']);
    const tx = auto.multi().set('{tx2}k', 'a').append('{tx2}k', 'b').get('{tx2}k').exec();
    const after = [auto.get('{tx2}k'), auto.append('{tx2}k', 'c'), auto.ping()];
    expect(fromIoredis(await tx)).toEqual(['OK', 2, 'ab']);
    expect(await Promise.all(after)).toEqual(['ab', 3, 'PONG']);
  });

  it('multi(): ten transactions on one slot and others on other slots, all at once, run in issue order', async () => {
    // Goal: several transactions in flight on one connection (as @keyv/redis and cache-manager send
    // them) each run whole, in the order issued. Method: 10 concurrent INCR+GET transactions on one
    // counter must return 1..10 in issue order; 3 other slots get 5 APPEND+STRLEN transactions each meanwhile.
    const counter = '{txc}n';
    const txs = Array.from({ length: 10 }, () => cl.multi().incr(counter).get(counter).exec());
    const others = ['{txo1}s', '{txo2}s', '{txo3}s'].map((k) => Array.from({ length: 5 }, () => cl.multi().append(k, 'ab').strlen(k).exec()));
    const got = (await Promise.all(txs)).map(fromIoredis);
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, String(i + 1)]));
    for (const group of others) {
      expect((await Promise.all(group)).map(fromIoredis)).toEqual(Array.from({ length: 5 }, (_, i) => [2 * (i + 1), 2 * (i + 1)]));
    }
  });
});

describe.each([2, 3] as const)('node-redis createCluster, RESP%i', (RESP) => {
  type NodeRedisCluster = ReturnType<typeof createCluster>;
  let cl: NodeRedisCluster;
  const p = `nr${RESP}`;
  beforeAll(async () => {
    cl = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${c.ports[1]}`, socket: { connectTimeout: 20000 } }], RESP });
    cl.on('error', () => undefined);
    await cl.connect();
  });
  afterAll(async () => {
    await cl?.close();
  });

  it('Promise.all of dependent commands answers as if they ran one by one', async () => {
    // Goal: node-redis writes commands issued in one tick to a node's connection in one go; each must
    // see the ones before it. Method: exact replies for one key, a hash and a TTL sequence.
    const k = `${p}:a`;
    // node-redis 5.12's APPEND does not declare its key, so the client sends it to a random node
    // and, after MOVED, behind later commands; sendCommand with the key routes it as Redis needs.
    const append = (key: string, v: string): Promise<unknown> => cl.sendCommand(key, false, ['APPEND', key, v]);
    expect(await settle([cl.set(k, '1'), cl.incr(k), cl.get(k), cl.del(k), cl.exists(k), cl.set(k, 'a'), append(k, 'b'), cl.get(k)])).toEqual(['OK', 2, '2', 1, 0, 'OK', 2, 'ab']);
    const h = `${p}:h`;
    expect(await settle([cl.hSet(h, { f1: 'a', f2: 'b' }), cl.hGetAll(h), cl.hSet(h, 'f3', 'c'), cl.hGetAll(h), cl.del(h), cl.hGetAll(h)])).toEqual([2, { f1: 'a', f2: 'b' }, 1, { f1: 'a', f2: 'b', f3: 'c' }, 1, {}]);
    const t = `${p}:t`;
    const ttl = await settle([cl.set(t, 'v'), cl.expire(t, 100), cl.ttl(t), cl.persist(t), cl.ttl(t)]);
    expect([ttl[0], ttl[1], ttl[3], ttl[4]]).toEqual(['OK', 1, 1, -1]);
    expect(ttl[2]).toBeGreaterThanOrEqual(99);
  });

  it('400 seeded commands over 10 keys issued together match the sequential model', async () => {
    // Goal: the same for every kind of dependent command. Method: model steps over keys on every
    // node, all issued with sendCommand before any is awaited.
    const keys = Array.from({ length: 10 }, (_, i) => `${p}:m${i}`);
    const steps = generateSteps(new Prng(seed + 3 + RESP), keys, 400);
    const readonly = new Set(['GET', 'STRLEN', 'EXISTS']);
    const got = await settle(steps.map((s) => cl.sendCommand(s.argv[1], readonly.has(s.argv[0]!), s.argv)));
    const want = steps.map((s) => asClientValue(s.expect));
    const diffs = steps.flatMap((s, i) => (JSON.stringify(got[i]) === JSON.stringify(want[i]) ? [] : [`#${i} ${s.argv.join(' ')} gave ${JSON.stringify(got[i])}, want ${JSON.stringify(want[i])}`]));
    expect(diffs.slice(0, 10), `seed ${seed}`).toEqual([]);
  });

  it('multi(): transactions issued together each run whole, in order, and later commands see them', async () => {
    // Goal: MULTI/EXEC blocks pipelined with each other and with plain commands on one connection.
    // Method: 8 INCR+GET transactions on one counter plus a GET after each, all in one tick; then
    // execAsPipeline (no MULTI) of a dependent sequence.
    const n = `{${p}tx}n`;
    const txs = Array.from({ length: 8 }, () => [cl.multi().incr(n).get(n).exec(), cl.get(n)] as const);
    for (let i = 0; i < txs.length; i++) {
      expect(await txs[i]![0]).toEqual([i + 1, String(i + 1)]);
      expect(await txs[i]![1]).toBe(String(i + 1));
    }
    const s = `{${p}tx}s`;
    expect(await cl.multi().set(s, '1').incr(s).incrBy(s, 5).get(s).execAsPipeline()).toEqual(['OK', 2, 7, '7']);
  });
});
