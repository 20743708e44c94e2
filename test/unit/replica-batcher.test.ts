import { describe, expect, it } from 'vitest';
import { ReplicaBatcher, type ReplicaBatch } from '../../src/cluster/replica-batcher.js';

/** A batcher whose turn ends when the test says so, and whose peer answers as the test says. */
function harness() {
  const sent: Array<{ nodeId: string; batch: ReplicaBatch; answer(v: unknown): void; fail(e: Error): void }> = [];
  let pendingFlush: (() => void) | undefined;
  const batcher = new ReplicaBatcher(
    (nodeId, batch) => new Promise((resolve, reject) => sent.push({ nodeId, batch, answer: resolve, fail: reject })),
    (fn) => (pendingFlush = fn),
  );
  const endTurn = (): void => {
    const fn = pendingFlush;
    pendingFlush = undefined;
    fn?.();
  };
  return { batcher, sent, endTurn, flushPending: () => pendingFlush !== undefined };
}

const b = (s: string): Buffer => Buffer.from(s);

describe('ReplicaBatcher', () => {
  it('sends one batch per peer per turn, writes and reads in order', async () => {
    const { batcher, sent, endTurn } = harness();
    const w1 = batcher.write('A', 1, [[b('k1'), b('r1')]]);
    const r1 = batcher.read('A', 2, [b('x'), b('y')]);
    const w2 = batcher.write('B', 3, [[b('k2'), b('r2')], [b('k3'), b('r3')]]);
    const r2 = batcher.read('A', 4, [b('z')]);
    expect(sent).toHaveLength(0);
    endTurn();
    expect(sent.map((s) => s.nodeId)).toEqual(['A', 'B']);
    expect(sent[0]!.batch).toEqual({ w: [1, b('k1'), b('r1')], r: [2, 2, b('x'), b('y'), 4, 1, b('z')] });
    expect(sent[1]!.batch).toEqual({ w: [3, b('k2'), b('r2'), 3, b('k3'), b('r3')], r: [] });
    sent[0]!.answer([b('vx'), null, b('vz')]);
    sent[1]!.answer([]);
    await expect(w1).resolves.toBeUndefined();
    await expect(w2).resolves.toBeUndefined();
    await expect(r1).resolves.toEqual([b('vx'), null]);
    await expect(r2).resolves.toEqual([b('vz')]);
  });

  it('tells each writer the newest version the peer held above one of its records', async () => {
    const { batcher, sent, endTurn } = harness();
    const w1 = batcher.write('A', 1, [[b('k1'), b('r1')]]);
    const w2 = batcher.write('A', 1, [[b('k2'), b('r2')], [b('k3'), b('r3')]]);
    const w3 = batcher.write('A', 1, [[b('k4'), b('r4')]]);
    const r = batcher.read('A', 1, [b('k1')]);
    endTurn();
    // Records 1 and 2 (w2's) lost last-writer-wins on the peer.
    sent[0]!.answer({ r: [null], s: [1, b('v5'), 2, b('v7')] });
    await expect(w1).resolves.toBeUndefined();
    await expect(w2).resolves.toEqual(b('v7'));
    await expect(w3).resolves.toBeUndefined();
    await expect(r).resolves.toEqual([null]);
  });

  it('fails the batch on a superseded index that names no write', async () => {
    const { batcher, sent, endTurn } = harness();
    const w = batcher.write('A', 1, [[b('k1'), b('r1')]]);
    endTurn();
    sent[0]!.answer({ r: [], s: [3, b('v')] });
    await expect(w).rejects.toThrow('malformed replica batch response');
  });

  it('starts a new batch after the turn ends', () => {
    const { batcher, sent, endTurn, flushPending } = harness();
    void batcher.write('A', 1, [[b('k'), b('r')]]);
    endTurn();
    expect(flushPending()).toBe(false);
    void batcher.write('A', 1, [[b('k'), b('r2')]]);
    expect(flushPending()).toBe(true);
    endTurn();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.batch.w[2]).toEqual(b('r2'));
  });

  it('fails every caller of a batch the peer did not take, and only those', async () => {
    const { batcher, sent, endTurn } = harness();
    const wa = batcher.write('A', 1, [[b('k'), b('r')]]);
    const ra = batcher.read('A', 1, [b('k')]);
    const wb = batcher.write('B', 1, [[b('k'), b('r')]]);
    endTurn();
    sent[0]!.fail(new Error('unreachable'));
    sent[1]!.answer([]);
    await expect(wa).rejects.toThrow('unreachable');
    await expect(ra).rejects.toThrow('unreachable');
    await expect(wb).resolves.toBeUndefined();
  });

  it('rejects a response that does not carry one answer per key read', async () => {
    const { batcher, sent, endTurn } = harness();
    const r = batcher.read('A', 1, [b('a'), b('b')]);
    const w = batcher.write('A', 1, [[b('k'), b('r')]]);
    endTurn();
    sent[0]!.answer([null]);
    await expect(r).rejects.toThrow(/malformed/);
    await expect(w).rejects.toThrow(/malformed/);
  });

  it('sends a batch early once it is large, keeping the order of sends', () => {
    const { batcher, sent, endTurn } = harness();
    const big = Buffer.alloc(3 << 20);
    void batcher.write('A', 1, [[b('k1'), big]]);
    void batcher.write('A', 1, [[b('k2'), big]]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.batch.w[1]).toEqual(b('k1'));
    endTurn();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.batch.w[1]).toEqual(b('k2'));
  });
});
