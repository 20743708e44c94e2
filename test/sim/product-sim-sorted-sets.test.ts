/**
 * Goal: a sorted set's member records and its score index stay one collection through the faults
 * of the product simulation: counters kept as members of a sorted set (ZINCRBY, ZSCORE) lose no
 * acknowledged increment, and after healing ZRANGE WITHSCORES lists each member once, at the score
 * ZSCORE answers, with ZCARD the number listed.
 * Method: test/sim/product with `sortedSets` (three members per home's sorted set beside the usual
 * workload), one run per seed. SIM_SEED=<n> replays one, SIM_SEEDS=<count> runs more (soak).
 */
import { describe, expect, it } from 'vitest';
import { runProductSim } from './product/run.js';
import { failures, figures, seedList, traceOptions } from './product/seeds.js';

const FILE = 'test/sim/product-sim-sorted-sets.test.ts';

describe('product simulation, 3 nodes, with sorted sets', () => {
  for (const seed of seedList(48, 1, [58])) {
    it(`seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 3, sortedSets: true, ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE}`).toEqual([]);
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
      expect(report.stats.incrAcked, `seed ${seed}`).toBeGreaterThan(10);
    });
  }
});
