/**
 * Goal: as product-sim-5.test.ts, with the product's default sloppy quorums: writes for unreachable
 * owners go to fallback nodes as hints, which count toward W, and the real HintReplayer hands them
 * back once the owner is reachable. After healing, no acknowledged write may be missing and every
 * replica must agree; the replies are held to the sequential model as well.
 * Method: test/sim/product, one run per seed; SIM_SEED=<n> replays one, SIM_SEEDS=<count> runs more.
 */
import { describe, expect, it } from 'vitest';
import { runProductSim } from './product/run.js';
import { failures, figures, seedList, traceOptions } from './product/seeds.js';

const FILE = 'test/sim/product-sim-5-sloppy.test.ts';

describe('product simulation, 5 nodes, sloppy quorums', () => {
  for (const seed of seedList(24, 300_001)) {
    it(`seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 5, sloppy: true, ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE}`).toEqual([]);
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
      expect(report.stats.incrAcked, `seed ${seed}`).toBeGreaterThan(10);
    });
  }
});
