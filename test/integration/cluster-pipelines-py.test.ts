/**
 * Goal: redis-py's RedisCluster pipeline (ClusterPipeline), which sends each node's share of a
 * pipeline in one write, gets the replies Redis gives when the commands run one after another.
 * Method: a real 3-node cluster; test/py/pipelines.py runs the pipelines with /usr/bin/python3 and
 * prints the replies as JSON; exact dependent sequences, then seeded sequences checked against the
 * sequential string model (replay with RINGKV_PIPE_SEED). Skipped only when that Python cannot
 * import redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { asRedisPy, redisPyMissing, runRedisPy, type PyValue } from '../helpers/redis-py.js';
import { generateSteps, pipelineSeed, StringModel } from '../helpers/string-model.js';
import { Prng } from '../sim/prng.js';

const seed = pipelineSeed();

if (redisPyMissing) console.warn(`skipping redis-py pipeline tests: ${redisPyMissing}`);

describe.skipIf(redisPyMissing !== undefined)('redis-py ClusterPipeline on a 3-node cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('dependent commands on one key in one pipeline answer as if they ran one by one', async () => {
    // Goal: the reported sequences, through redis-py. Method: one pipeline each, exact replies
    // in redis-py's decoded form (SET gives true).
    const [incr, del, ttl, chain] = await runRedisPy({
      port: c.ports[0]!,
      mode: 'cluster',
      pipelines: [
        [['SET', 'py:a', '1'], ['INCR', 'py:a'], ['GET', 'py:a']],
        [['SET', 'py:b', 'v'], ['DEL', 'py:b'], ['EXISTS', 'py:b']],
        [['SET', 'py:c', 'v'], ['EXPIRE', 'py:c', '100'], ['TTL', 'py:c']],
        [['DEL', '{py}d'], ['APPEND', '{py}d', 'ab'], ['APPEND', '{py}e', 'c'], ['GET', '{py}d'], ['GETDEL', '{py}d'], ['EXISTS', '{py}d'], ['STRLEN', '{py}e']],
      ],
    });
    expect(incr).toEqual([true, 2, '2']);
    expect(del).toEqual([true, 1, 0]);
    expect(ttl!.slice(0, 2)).toEqual([true, true]);
    expect(ttl![2]).toBeGreaterThanOrEqual(99);
    expect(chain).toEqual([0, 2, 1, 'ab', 'ab', 0, 1]);
  });

  it('seeded pipelines over keys of one slot and over keys on every node match the sequential model', async () => {
    // Goal: order holds whether a pipeline stays in one slot (hash tag) or is split over the
    // nodes. Method: 6 pipelines of 80 steps over 4 keys of one tag, then 6 of 120 steps over 12
    // keys spread over the cluster; the model carries its state from one pipeline to the next.
    const rng = new Prng(seed);
    const tagModel = new StringModel();
    const spreadModel = new StringModel();
    const tagKeys = ['a', 'b', 'c', 'd'].map((k) => `{py-tag}${k}`);
    const spreadKeys = Array.from({ length: 12 }, (_, i) => `py:m${i}`);
    const pipelines = [
      ...Array.from({ length: 6 }, () => generateSteps(rng, tagKeys, 80, tagModel)),
      ...Array.from({ length: 6 }, () => generateSteps(rng, spreadKeys, 120, spreadModel)),
    ];
    const got = await runRedisPy({ port: c.ports[1]!, mode: 'cluster', pipelines: pipelines.map((p) => p.map((s) => s.argv)) });
    const diffs: string[] = [];
    pipelines.forEach((steps, p) => steps.forEach((s, i) => {
      const want: PyValue = asRedisPy(s);
      const have = got[p]![i];
      if (JSON.stringify(have) !== JSON.stringify(want)) diffs.push(`pipeline ${p} step ${i}: ${s.argv.join(' ')} gave ${JSON.stringify(have)}, want ${JSON.stringify(want)}`);
    }));
    expect(diffs.slice(0, 10), `seed ${seed}`).toEqual([]);
  });
});
