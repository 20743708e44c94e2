/**
 * Goal: show that the power-loss check can fail. Under `appendfsync everysec` a reply does not
 * wait for fdatasync, so a power cut loses up to a second of acknowledged writes: the same
 * workload and check as power-always.test.ts must report them lost, while what survives is still a
 * clean prefix of each connection's commands (no holes, no double increments, no torn MULTI).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuseUnavailable } from './lazy-mount.js';
import { powerCycle, startRig, stopRig, summary, type Rig } from './power-cycle.js';

const unavailable = fuseUnavailable();
const CYCLES = 2;

describe.skipIf(unavailable !== undefined)('power loss under appendfsync everysec (the check must catch it)', () => {
  let rig: Rig | undefined;
  beforeAll(async () => {
    rig = await startRig(['--appendfsync', 'everysec', '--checkpoint-interval-ms', '5000']);
  });
  afterAll(async () => stopRig(rig));

  it('reports acknowledged writes lost by a power cut', async () => {
    const seed = Number(process.env.POWER_SEED ?? Math.floor(Math.random() * 1e9));
    for (let c = 0; c < CYCLES; c++) {
      // Cut just before the second once-a-second fdatasync: a second of acknowledged writes is unsynced.
      const r = await powerCycle(rig!, { prefix: `e${c}`, seed: seed + c, arm: { pattern: String.raw`^fsync\s.*commit-`, k: 2 }, torn: false });
      const s = summary(r);
      console.log(`power seed ${seed + c} (everysec): sent ${s.sent}, acked ${s.acked}, survived ${s.survived}, lost acked ${s.lostAcked}`);
      expect(s.lostAcked, `seed ${seed + c}: everysec lost nothing acknowledged, so the check proves nothing`).toBeGreaterThan(0);
      expect(s.problems, `seed ${seed + c}`).toEqual([]);
      expect(r.startLog, `seed ${seed + c}`).not.toMatch(/"level":(50|60)/);
    }
  }, 120_000);
});
