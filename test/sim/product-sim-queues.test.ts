/**
 * Goal: a list, a set or a sorted set used as a job queue keeps its promises through the faults of
 * the product simulation: no token is popped twice or comes out without having been pushed, and
 * after healing every acknowledged push was popped or is still listed (but for as many as pops of
 * unknown outcome may have taken), and none that was popped is listed again; a stream keeps every
 * acknowledged XADD under the id it answered.
 * Method: test/sim/product with `queues` (a list, a set, a sorted set and a reliable queue per
 * home: LPUSH, SADD or ZADD of unique tokens; RPOP, SPOP or ZPOPMIN; LMOVE to a processing list and
 * LREM there; XADD to a stream, from every client of that home) and `hashes` (a hash among each client's own keys,
 * its replies checked against a sequential model), beside the usual workload, one run per seed.
 * SIM_SEED=<n> replays one, SIM_SEEDS=<count> runs more (soak).
 */
import { describe, expect, it } from 'vitest';
import { runProductSim } from './product/run.js';
import { failures, figures, seedList, traceOptions } from './product/seeds.js';

const FILE = 'test/sim/product-sim-queues.test.ts';

describe('product simulation, 3 nodes, with lists and sets used as queues', () => {
  for (const seed of seedList(48, 1)) {
    it(`seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 3, queues: true, hashes: true, ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE}`).toEqual([]);
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
      expect(report.stats.queuePushes, `seed ${seed}`).toBeGreaterThan(10);
      expect(report.stats.queuePops, `seed ${seed}`).toBeGreaterThan(0);
    });
  }
});
