// Goal: LASTSAVE moves only when a save has ended, so a backup script that runs BGSAVE and waits
// for LASTSAVE to change finds rdb_bgsave_in_progress 0 then, even when one of the node's own
// checkpoints, begun before the BGSAVE, ends while it runs (seen in a loaded test run: LASTSAVE
// moved, INFO still said a save was in progress). Method: Saves over a checkpoint the test ends
// by hand and a clock it sets.
import { describe, expect, it } from 'vitest';
import { Saves } from '../../src/server/saves.js';

function harness() {
  let now = 1_000_000;
  let lastCheckpointAt = 0;
  const pending: Array<() => void> = [];
  const saves = new Saves(
    () => new Promise<void>((resolve) => pending.push(resolve)),
    () => lastCheckpointAt,
    () => now,
    now,
  );
  return {
    saves,
    tick: (ms: number) => (now += ms),
    checkpointEnded: () => (lastCheckpointAt = now),
    endSave: async () => {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('Saves', () => {
  it('counts a checkpoint that ends during a BGSAVE only once the BGSAVE ends', async () => {
    const h = harness();
    const before = h.saves.lastSave();
    h.tick(2000);
    expect(h.saves.background()).toBe('started');
    h.tick(1500);
    h.checkpointEnded();
    expect(h.saves.inProgress).toBe(true);
    expect(h.saves.lastSave()).toBe(before);
    h.tick(1000);
    await h.endSave();
    expect(h.saves.inProgress).toBe(false);
    expect(h.saves.lastSave()).toBe(Math.floor((1_000_000 + 4500) / 1000));
    expect(h.saves.count).toBe(1);
  });

  it('counts the checkpoints that end while no save runs, and those that ended before one began', async () => {
    const h = harness();
    h.tick(3000);
    h.checkpointEnded();
    expect(h.saves.lastSave()).toBe(1003);
    h.tick(2000);
    h.saves.background();
    expect(h.saves.lastSave()).toBe(1003);
    await h.endSave();
    expect(h.saves.lastSave()).toBe(1005);
  });
});
