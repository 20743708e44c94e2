/**
 * Goal: under `appendfsync always` (the default) a power failure loses no acknowledged write, and
 * the node starts cleanly on what the disk kept, whatever the moment of the cut. Method: the node's
 * --dir is on lazyfs (test/power/lazyfs.py), which holds unsynced writes in memory; pipelined
 * SET/INCR/HSET/LPUSH/XADD/MULTI traffic from 4 connections; the power is cut at a random moment,
 * every other cut keeping a random part of the unsynced sectors (torn); the node restarts
 * on the disk as it was left and each connection's surviving state must be a prefix of what it
 * sent that covers every acknowledged command (power-workload.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuseUnavailable } from './lazy-mount.js';
import { powerCycle, startRig, stopRig, summary, type Rig } from './power-cycle.js';

const unavailable = fuseUnavailable();
/** Cuts at exact points of group commits and checkpoints are power-torn-tail's and power-checkpoint's. */
const CYCLES = 4;

describe.skipIf(unavailable !== undefined)('power loss under appendfsync always', () => {
  let rig: Rig | undefined;
  beforeAll(async () => {
    rig = await startRig(['--appendfsync', 'always', '--checkpoint-interval-ms', '300']);
  });
  afterAll(async () => stopRig(rig));

  it('keeps every acknowledged write through power cuts at random moments', async () => {
    const seed = Number(process.env.POWER_SEED ?? Math.floor(Math.random() * 1e9));
    let torn = 0;
    for (let c = 0; c < CYCLES; c++) {
      const r = await powerCycle(rig!, { prefix: `a${c}`, seed: seed + c, cutAfterMs: ((seed ^ Math.imul(c + 1, 2654435761)) >>> 0) % 1000, torn: c % 2 === 1 });
      const s = summary(r);
      if (r.tornTail) torn++;
      console.log(`power seed ${seed + c}: sent ${s.sent}, acked ${s.acked}, survived ${s.survived}, lost acked ${s.lostAcked}, ` +
        `unsynced pages at cut ${r.status.unsynced_pages} in ${JSON.stringify(r.status.unsynced_files)}, torn kept ${r.status.torn_sectors_kept}, torn tail cut: ${r.tornTail}, ` +
        `directory changes undone: ${JSON.stringify(r.status.dir_changes_undone)}`);
      expect(s.acked, 'the workload got acknowledgements').toBeGreaterThan(0);
      expect(s.problems, `seed ${seed + c}`).toEqual([]);
      expect(s.lostAcked, `seed ${seed + c}: ${s.lost.slice(0, 20).join('; ')} ${JSON.stringify(r.status)} ${r.startLog}`).toBe(0);
      expect(r.startLog, `seed ${seed + c}`).not.toMatch(/"level":(50|60)/);
    }
    console.log(`torn log tails cut off at start: ${torn} of ${CYCLES / 2} torn cuts`);
  }, 120_000);
});
