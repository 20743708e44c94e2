/**
 * Goal: with the product's coming back in the simulation — the real routing view (a node cut off
 * from the majority serves nothing), the real decision of when a node is coming back
 * (src/cluster/coming-back.ts), the real CatchUpDriver and SlotTable `standby` — every property the
 * product simulation checks still holds under restarts and partitions, and so does what catching up
 * promises: a read at `read-quorum 1` through a node that came back returns at least the newest
 * write acknowledged while it was away, before the read started.
 * Method: runProductSim with catchUp 'on' on 3 nodes (see docs/reliability.md), one run per seed.
 * SIM_SEED=<n> replays one exactly, SIM_SEEDS=<count> runs more (soak).
 */
import { describe, expect, it } from 'vitest';
import { runProductSim } from './product/run.js';
import { failures, figures, seedList, traceOptions } from './product/seeds.js';

const FILE = 'test/sim/product-sim-catch-up.test.ts';

describe('product simulation with coming back, 3 nodes', () => {
  for (const seed of seedList(24, 500001, [3506])) {
    it(`seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 3, catchUp: 'on', ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE}`).toEqual([]);
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
      expect(report.stats.freshReads, `seed ${seed}`).toBeGreaterThan(100);
    });
  }
});
