/**
 * Goal: a power failure inside a group commit loses nothing acknowledged and the node starts on
 * what the disk kept, cutting off a torn tail (any subset of the unsynced write's 512-byte sectors,
 * every other cycle; every one with POWER_TORN=1). Method: lazyfs cuts the power when the k-th fdatasync of a log segment
 * arrives, before it runs: the group written just before is unsynced. The deterministic torn case
 * (later sectors kept, an earlier one lost) is in test/unit/storage-log.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuseUnavailable } from './lazy-mount.js';
import { powerCycle, startRig, stopRig, summary, type Rig } from './power-cycle.js';

const unavailable = fuseUnavailable();
const CYCLES = 4;
/**
 * Every other cut is torn (a random half of the unsynced sectors reach the disk); POWER_TORN=1
 * tears every cut. Both sweeps lost acknowledged writes until a failed log stopped acknowledging
 * for good (reliability.md, "Power loss"; 2026-12-05: 0 lost in 48 cycles after the fix).
 */
const ALL_TORN = process.env.POWER_TORN === '1';

describe.skipIf(unavailable !== undefined)('power loss inside a commit-log write', () => {
  let rig: Rig | undefined;
  beforeAll(async () => {
    rig = await startRig(['--appendfsync', 'always']);
  });
  afterAll(async () => stopRig(rig));

  it('keeps every acknowledged write when the power fails inside a group commit, plain or torn', async () => {
    const seed = Number(process.env.POWER_SEED ?? Math.floor(Math.random() * 1e9));
    let tornTails = 0;
    for (let c = 0; c < CYCLES; c++) {
      const k = 1 + (((seed ^ Math.imul(c + 1, 2654435761)) >>> 0) % 40);
      const torn = ALL_TORN || c % 2 === 1;
      const r = await powerCycle(rig!, { prefix: `t${c}`, seed: seed + c, arm: { pattern: String.raw`^fsync\s.*commit-`, k }, torn, connections: 6 });
      const s = summary(r);
      if (r.tornTail) tornTails++;
      console.log(`power seed ${seed + c} (cut at log fsync #${k}, ${r.status.cut_at}, torn ${torn}): sent ${s.sent}, acked ${s.acked}, survived ${s.survived}, ` +
        `lost acked ${s.lostAcked}, torn sectors kept ${r.status.torn_sectors_kept}, torn tail cut: ${r.tornTail}`);
      expect(String(r.status.cut_at), 'the armed cut fired').toMatch(/^fsync .*commit-/);
      expect(s.problems, `seed ${seed + c}`).toEqual([]);
      expect(s.lostAcked, `seed ${seed + c}: ${s.lost.slice(0, 20).join('; ')} ${JSON.stringify(r.status)} ${r.startLog}`).toBe(0);
      expect(r.startLog, `seed ${seed + c}`).not.toMatch(/"level":(50|60)/);
    }
    // Whether a cut leaves a frame torn mid-way depends on which sectors the seed keeps (about
    // half the cuts do; the others lose the group's first sector or keep all of it). The
    // deterministic case is in test/unit/storage-log.test.ts.
    console.log(`torn log tails cut off at start: ${tornTails} of ${CYCLES}`);
  }, 120_000);
});
