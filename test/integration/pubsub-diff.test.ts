/**
 * Goal: pub/sub on ringkv answers exactly as redis-server 7.0 on one node: every reply and every
 * message of SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs, PUBLISH, SPUBLISH, PUBSUB,
 * the RESP2 subscribed mode (which commands are refused, with which text; PING as a frame), RESP3
 * pushes beside ordinary replies, RESET, MULTI, and the argument errors.
 * Method: seeded scenarios (test/helpers/pubsub-diff.ts) over three connections (RESP2, RESP3,
 * RESP2), pipelined steps, run in lockstep on redis-server and ringkv; after each step every
 * connection is read up to a PING's reply and the transcripts compared step by step. Only what
 * Redis itself leaves in hash order is sorted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { generatePubSubSteps, runPubSubScenario } from '../helpers/pubsub-diff.js';

const seeds = process.env.DIFF_SEED ? [Number(process.env.DIFF_SEED)] : [7, 8, 9, Math.floor(Math.random() * 1e9)];

describe.skipIf(!haveRedisServer)('pub/sub differential: one node vs redis-server', () => {
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

  it.each(seeds)('seed %i: every reply and message matches', async (seed) => {
    const steps = generatePubSubSteps(seed, 3, 200);
    const protocols = [2, 3, 2] as const;
    const want = await runPubSubScenario(redis.ports[0]!, protocols, steps);
    const got = await runPubSubScenario(node.port, protocols, steps);
    for (let i = 0; i < steps.length; i++) {
      expect(got[i], `seed ${seed} step ${i}: conn ${steps[i]!.conn} sent ${JSON.stringify(steps[i]!.commands)}`).toEqual(want[i]);
    }
  });
});
