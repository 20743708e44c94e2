/**
 * Goal: the expectations the cluster pipeline tests hold ringkv to are Redis 7.0's own, so those
 * tests can only fail because of ringkv. Method: the same raw RESP cases against a real 3-master
 * Redis Cluster (to the slot owner, as the ringkv run does) and a standalone redis-server; the
 * sequential string model and the redis-py reply mapping against the standalone server. Skipped
 * with a message when redis-server is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawEdgeCases } from '../helpers/raw-edge-cases.js';
import { rawPipelineCases, type RawTarget } from '../helpers/raw-pipeline-cases.js';
import { ownerTarget } from '../helpers/raw-targets.js';
import { haveRedisServer, startRedisCluster, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { RespConn } from '../helpers/resp-conn.js';
import { asRedisPy, redisPyMissing, runRedisPy } from '../helpers/redis-py.js';
import { slotMap } from '../helpers/slot-map.js';
import { asRespText, generateSteps, pipelineSeed, StringModel } from '../helpers/string-model.js';
import { Prng } from '../sim/prng.js';

if (!haveRedisServer) console.warn('skipping the redis-server reference runs: redis-server is not installed');
const seed = pipelineSeed();

describe.skipIf(!haveRedisServer)('pipeline expectations hold on a Redis 7 cluster', () => {
  let ref: RedisReference | undefined;
  let target: RawTarget;
  beforeAll(async () => {
    ref = await startRedisCluster();
    target = ownerTarget(await slotMap(ref.ports[0]!), ref.ports);
  }, 60000);
  afterAll(async () => {
    await ref?.stop();
  });

  for (const c of [...rawPipelineCases, ...rawEdgeCases]) {
    it.skipIf(c.kinds !== undefined && !c.kinds.includes('owner'))(`raw case: ${c.name}`, async () => {
      await c.run(target, seed);
    });
  }
});

describe.skipIf(!haveRedisServer)('pipeline expectations hold on a standalone redis-server', () => {
  let ref: RedisReference | undefined;
  let port = 0;
  beforeAll(async () => {
    ref = await startRedisServer();
    port = ref.ports[0]!;
  });
  afterAll(async () => {
    await ref?.stop();
  });

  for (const c of [...rawPipelineCases, ...rawEdgeCases]) {
    it.skipIf(c.kinds !== undefined && !c.kinds.includes('standalone'))(`raw case: ${c.name}`, async () => {
      const target: RawTarget = {
        kind: 'standalone',
        portFor: () => port,
        keysTogether: (prefix, count) => ({ port, keys: Array.from({ length: count }, (_, i) => `${prefix}${i}`) }),
        ports: [port],
      };
      await c.run(target, seed);
    });
  }

  it('the sequential string model agrees with redis-server over 3000 seeded commands', async () => {
    // Method: one pipeline per 500 steps, model state carried across them.
    const rng = new Prng(seed);
    const model = new StringModel();
    const conn = await RespConn.connect(port);
    try {
      for (let p = 0; p < 6; p++) {
        const steps = generateSteps(rng, ['m0', 'm1', 'm2', 'm3'], 500, model);
        const got = await conn.pipelineText(steps.map((s) => s.argv));
        const want = steps.map((s) => asRespText(s.expect));
        const first = got.findIndex((g, i) => g !== want[i]);
        expect(first < 0 ? 'all match' : `#${first} ${steps[first]!.argv.join(' ')}: ${got[first]} vs model ${want[first]}`, `seed ${seed}`).toBe('all match');
      }
    } finally {
      conn.close();
    }
  });

  it.skipIf(redisPyMissing !== undefined)('redis-py replies map as asRedisPy says', async () => {
    // Method: seeded model pipelines through a plain redis-py client, with and without MULTI.
    const rng = new Prng(seed + 1);
    for (const transaction of [false, true]) {
      const model = new StringModel();
      const pipelines = Array.from({ length: 3 }, () => generateSteps(rng, [`py${transaction}a`, `py${transaction}b`], 100, model));
      const got = await runRedisPy({ port, mode: 'plain', transaction, pipelines: pipelines.map((p) => p.map((s) => s.argv)) });
      expect(got, `seed ${seed}`).toEqual(pipelines.map((p) => p.map(asRedisPy)));
    }
  });
});
