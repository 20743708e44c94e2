/**
 * Goal: deterministic reproductions of what the product simulation found (docs/reliability.md,
 * "Findings of the product simulation"), on the product's own coordinator and replica code.
 * Method: ScriptedCluster (test/sim/product/scripted.ts) places each fault by hand. A reproduction
 * of an open defect is `it.fails`: it passes while the defect is there, and fails — to be turned into
 * a plain `it` — once it is fixed.
 */
import { describe, expect, it } from 'vitest';
import { show } from './product/resp.js';
import { ScriptedCluster } from './product/scripted.js';

const A = 0;
const B = 1;

/**
 * A SET on the isolated primary misses W and answers NOREPLICAS (it stays on that node); the next
 * SET of the same client, through the node that took over, is acknowledged by the other two; once
 * the partition heals, GET must return the acknowledged value.
 */
async function failedThenAcknowledged(c: ScriptedCluster): Promise<string[]> {
  const key = c.keyLedBy([A, B, 2]);
  const client = c.session();
  c.isolate(A);
  const failed = await c.call(A, client, ['SET', key, 'failed-first']);
  expect(show(failed[0])).toMatch(/^-NOREPLICAS Not enough good replicas to write/);
  const acked = await c.call(B, c.session(), ['SET', key, 'acknowledged-after']);
  expect(show(acked[0])).toBe('+OK');
  c.heal();
  await c.idle(100);
  const reads = await c.call(A, c.session(), ['GET', key]);
  const all = await c.call(A, c.session(), ['RINGKV.CONSISTENCY', 'R', '3'], ['GET', key]);
  return [show(reads[0]), show(all[1])];
}

describe('findings of the product simulation', () => {
  it('control: with clocks in step, the acknowledged SET wins over the earlier failed one', async () => {
    const c = new ScriptedCluster();
    expect(await failedThenAcknowledged(c)).toEqual(['"acknowledged-after"', '"acknowledged-after"']);
  });

  it.fails('finding 1: a failed SET stamped by a clock 1.5 s ahead undoes a later acknowledged SET', async () => {
    const c = new ScriptedCluster();
    c.clocks[A]!.jump(1500);
    expect(await failedThenAcknowledged(c)).toEqual(['"acknowledged-after"', '"acknowledged-after"']);
  });

  it('finding 1, fixed for restarts: a node back from a crash waits for its clock to pass its HLC mark (up to 1 s ahead)', async () => {
    const c = new ScriptedCluster();
    await c.idle(50);
    const crashedAt = c.sched.now;
    await c.restart(A);
    expect(c.sched.now - crashedAt, 'the boot waited for the clock').toBeGreaterThan(900);
    expect(await failedThenAcknowledged(c)).toEqual(['"acknowledged-after"', '"acknowledged-after"']);
  });

  it('finding 2, fixed by slot leases: two nodes that both lead a slot in their own view lose no acknowledged increment', async () => {
    const c = new ScriptedCluster();
    const C = 2;
    const key = c.keyLedBy([A, C, B]);
    // C's failure detector holds A down (as right after A restarted, or while C does not hear A):
    // C leads the slot in its table, and A still leads it in its own. Only one of them gets the
    // slot's lease from B; the other cannot reach a majority for it and answers TRYAGAIN.
    c.suspect(C, A);
    const [atA, atC] = await c.together([A, c.session(), [['INCR', key]]], [C, c.session(), [['INCR', key]]]);
    const replies = [show(atA![0]), show(atC![0])];
    for (const r of replies) expect(r, replies.join(' ')).toMatch(/^(:\d+|-TRYAGAIN .*)$/);
    const acked = replies.filter((r) => r.startsWith(':'));
    expect(acked.length).toBeGreaterThan(0);
    expect(new Set(acked).size, 'two acknowledged increments answered the same value').toBe(acked.length);
    c.heal();
    await c.idle(100);
    const all = await c.call(A, c.session(), ['RINGKV.CONSISTENCY', 'R', '3'], ['GET', key]);
    expect(show(all[1])).toBe(`"${acked.length}"`);
  });

  it('finding 3, fixed: a restarted primary answers its first INCR once its lease quiet period ends, though a replica died unnoticed', async () => {
    const c = new ScriptedCluster();
    const C = 2;
    const key = c.keyLedBy([A, B, C]);
    await c.idle(50);
    // A restarts: for one lease duration (3 s) it grants no lease, not even to itself. C loses power
    // and no failure detector has noticed yet, so every lease request to C ends at the bus timeout
    // (2 s). A and B are a majority from 3 s on. Before the fix A answered after 7 s: it slept A's
    // "retry in 3 s" from the end of a round that had waited for C, and the next round waited for C
    // again before counting the two grants it already had.
    await c.restart(A);
    c.nodes[C]!.crash();
    const start = c.sched.now;
    const replies = await c.call(A, c.session(), ['INCR', key]);
    expect(show(replies[0])).toBe(':1');
    expect(c.sched.now - start).toBeGreaterThanOrEqual(3000);
    expect(c.sched.now - start).toBeLessThanOrEqual(3100);
  });

  /**
   * Finding 4: three members and a fourth node D; a key whose list is [p, q, r] and, once D has
   * joined, [D, p, q]. A SET through q while q's detector holds p down is acknowledged by q and r.
   * D joins; the rebalance feeds D from p alone (p is the first staying owner, and D's preferred
   * peer), so the copies on q and r reach nobody new; the windows close. A GET at R=2 through D
   * (its primary now) asked p first and read nil. Fixed: every staying owner compares the slot
   * with the newcomer (topologyChanges), so q feeds D too.
   */
  async function afterJoin(missedByFirstStayer: boolean): Promise<string> {
    const c = ScriptedCluster.withMembers();
    const D = 3;
    let key = '';
    let p = -1;
    let q = -1;
    for (let i = 0; key === '' && i < 100_000; i++) {
      const k = `moved${i}`;
      const before = c.listOf(k, [A, B, 2]);
      const after = c.listOf(k, [A, B, 2, D]);
      if (after[0] === D && after[1] === before[0] && after[2] === before[1]) {
        key = k;
        [p, q] = [before[0]!, before[1]!];
      }
    }
    expect(key).not.toBe('');
    if (missedByFirstStayer) c.suspect(q, p);
    const acked = await c.call(missedByFirstStayer ? q : p, c.session(), ['SET', key, 'acknowledged']);
    expect(show(acked[0])).toBe('+OK');
    c.heal();
    await c.idle(100);
    c.join(D);
    // Rebalance rounds every 500 ms: the comparisons, then every member reports the change synced.
    await c.idle(3000);
    const read = await c.call(D, c.session(), ['GET', key]);
    return show(read[0]);
  }

  it('control: a write every replica acknowledged reads back through the node that joined', async () => {
    expect(await afterJoin(false)).toBe('"acknowledged"');
  });

  it('finding 4 (fixed): after a join, a write acknowledged by the second and third old owners reads back at R=2', async () => {
    expect(await afterJoin(true)).toBe('"acknowledged"');
  });
});
