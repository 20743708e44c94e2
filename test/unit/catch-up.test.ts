/**
 * Goal: a returning node's catch-up ends exactly when every planned comparison is done and no
 * reachable peer holds hints for it, or at its deadline; an unreachable peer neither blocks it
 * nor is forgotten if it comes back.
 * Method: the pure CatchUp state driven through plans, comparisons, hints and time.
 */
import { describe, expect, it } from 'vitest';
import { CatchUp, sharedSlots } from '../../src/cluster/catch-up.js';

describe('CatchUp', () => {
  it('ends once every planned slot was compared with every peer and no peer holds hints', () => {
    const c = new CatchUp('restart', 0, 60_000);
    c.plan('a', [1, 2, 3]);
    c.plan('b', [2, 3]);
    expect(c.status(10)).toEqual({ state: 'catching-up', slotsLeft: 5, hintHolders: 0 });
    c.compared('a', [1, 2]);
    c.compared('b', [2, 3]);
    expect(c.peers()).toEqual(['a']);
    expect(c.slotsFor('a')).toEqual([3]);
    c.hints('b', true);
    c.compared('a', [3]);
    expect(c.status(20)).toMatchObject({ state: 'catching-up', slotsLeft: 0, hintHolders: 1 });
    c.hints('b', false);
    expect(c.status(30).state).toBe('caught-up');
    expect(c.comparisons).toBe(5);
  });

  it('a plan is made once per reachable spell; a dropped peer is planned afresh when it returns', () => {
    const c = new CatchUp('isolation', 0, 60_000);
    c.plan('a', [1, 2]);
    c.plan('a', [1, 2, 3, 4]);
    expect(c.slotsFor('a')).toEqual([1, 2]);
    c.compared('a', [1, 2]);
    c.plan('a', [1, 2]);
    expect(c.status(1).state).toBe('caught-up');
    c.plan('b', [5]);
    c.hints('b', true);
    c.drop('b');
    expect(c.status(2).state).toBe('caught-up');
    expect(c.isPlanned('b')).toBe(false);
    c.plan('b', [5]);
    expect(c.status(3)).toMatchObject({ state: 'catching-up', slotsLeft: 1 });
  });

  it('lasts at least until its earliest end, however fast the comparisons are', () => {
    const c = new CatchUp('isolation', 1000, 60_000, 4150);
    c.plan('a', [1]);
    c.compared('a', [1]);
    expect(c.status(2000)).toMatchObject({ state: 'catching-up', slotsLeft: 0 });
    expect(c.status(4150).state).toBe('caught-up');
  });

  it('gives up at its deadline', () => {
    const c = new CatchUp('stall', 1000, 5000);
    c.plan('a', [1]);
    expect(c.status(4999).state).toBe('catching-up');
    expect(c.status(5000)).toMatchObject({ state: 'timed-out', slotsLeft: 1 });
  });

  it('sharedSlots lists the slots whose replicas include both nodes', () => {
    const lists: Record<number, string[]> = { 0: ['a', 'b'], 1: ['b', 'c'], 2: ['c', 'a'], 3: ['a', 'b', 'c'] };
    expect(sharedSlots(4, (s) => lists[s]!, 'a', 'b')).toEqual([0, 3]);
    expect(sharedSlots(4, (s) => lists[s]!, 'a', 'c')).toEqual([2, 3]);
  });
});
