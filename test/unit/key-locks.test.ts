import { describe, expect, it } from 'vitest';
import { KeyLocks } from '../../src/cluster/key-locks.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('KeyLocks', () => {
  it('grants free keys synchronously and refuses held ones without queueing', () => {
    const locks = new KeyLocks();
    const a = locks.tryAcquire(['a', 'b']);
    expect(a).toBeTypeOf('function');
    expect(locks.tryAcquire(['b'])).toBeUndefined();
    expect(locks.tryAcquire(['c'])).toBeTypeOf('function');
    a!();
    expect(locks.tryAcquire(['b'])).toBeTypeOf('function');
  });

  it('serves waiters first come, first served, and frees everything at the end', async () => {
    const locks = new KeyLocks();
    const order: string[] = [];
    const first = locks.tryAcquire(['k'])!;
    const waiters = ['w1', 'w2', 'w3'].map((name) =>
      locks.acquire(['k']).then((release) => {
        order.push(name);
        setImmediate(release);
      }),
    );
    await turn();
    expect(order).toEqual([]);
    first();
    await Promise.all(waiters);
    expect(order).toEqual(['w1', 'w2', 'w3']);
    await turn();
    expect(locks.held).toBe(0);
  });

  it('never deadlocks commands taking overlapping key sets in opposite orders', async () => {
    const locks = new KeyLocks();
    let inside = 0;
    let maxInside = 0;
    const run = async (keys: string[]): Promise<void> => {
      const release = await locks.acquire(keys);
      inside++;
      maxInside = Math.max(maxInside, inside);
      await turn();
      inside--;
      release();
    };
    await Promise.all(Array.from({ length: 50 }, (_, i) => run(i % 2 === 0 ? ['x', 'y', 'x'] : ['y', 'x'])));
    expect(maxInside).toBe(1);
    expect(locks.held).toBe(0);
  });

  it('lets disjoint key sets run side by side', async () => {
    const locks = new KeyLocks();
    const a = await locks.acquire(['a']);
    const b = await locks.acquire(['b']);
    expect(locks.held).toBe(2);
    a();
    a();
    b();
    expect(locks.held).toBe(0);
  });
});
