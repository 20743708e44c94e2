/**
 * Goal: the collections checkers catch what they claim — an acknowledged job lost, a job popped
 * twice or popped and still listed, a job nobody pushed, a queue out of FIFO order, a set member
 * lost or come back, an increment lost or doubled, a size that disagrees with the contents — and
 * accept what concurrency and unknown outcomes allow.
 * Method: small hand-written histories, each with one known defect, next to its correct twin.
 */
import { describe, expect, it } from 'vitest';
import { checkCollections, collectionsViolationCount, type CCommand, type CollectionsFinal } from '../helpers/fault-collections-checker.js';

const Q = 'col:q:0';
const S = 'col:s:0';
const Z = 'col:z:0';
const H = 'col:h:0';

let order = 0;
/** A command of client `client` running over [start, start + 1]. */
function cmd(c: Partial<CCommand> & Pick<CCommand, 'kind' | 'key'>, start: number, client = 1): CCommand {
  return { client, order: order++, result: 'ok', start, end: start + 1, ...c };
}

function final(parts: { lists?: Record<string, string[]>; sets?: Record<string, string[]>; zsets?: Record<string, Record<string, number>>; hashes?: Record<string, Record<string, number>> }, sizes: Record<string, number> = {}): CollectionsFinal {
  return {
    lists: new Map(Object.entries(parts.lists ?? {}).map(([k, items]) => [k, { items, len: sizes[k] ?? items.length }])),
    sets: new Map(Object.entries(parts.sets ?? {}).map(([k, members]) => [k, { members, card: sizes[k] ?? members.length }])),
    zsets: new Map(Object.entries(parts.zsets ?? {}).map(([k, v]) => [k, { scores: new Map(Object.entries(v)), card: sizes[k] ?? Object.keys(v).length }])),
    hashes: new Map(Object.entries(parts.hashes ?? {}).map(([k, v]) => [k, { fields: new Map(Object.entries(v)), len: sizes[k] ?? Object.keys(v).length }])),
  };
}

describe('queues', () => {
  const history = (): CCommand[] => [
    cmd({ kind: 'rpush', key: Q, jobs: ['j1', 'j2'], n: 2 }, 0),
    cmd({ kind: 'rpush', key: Q, jobs: ['j3'], n: 3 }, 10, 2),
    cmd({ kind: 'lpop', key: Q, popped: ['j1'] }, 20, 3),
    cmd({ kind: 'blpop', key: Q, popped: ['j2'] }, 30, 3),
  ];

  it('accepts every acknowledged job popped once or still listed', () => {
    const r = checkCollections(history(), final({ lists: { [Q]: ['j3'] } }));
    expect(collectionsViolationCount(r)).toBe(0);
  });

  it('flags an acknowledged job neither popped nor listed', () => {
    const r = checkCollections(history(), final({ lists: { [Q]: [] } }));
    expect(r.lostJobs).toHaveLength(1);
    expect(r.lostJobs[0]!.problem).toContain('j3');
  });

  it('lets a pop of unknown outcome explain one missing job, only one, and only one pushed before it could end', () => {
    const unknownPop = cmd({ kind: 'lpop', key: Q, result: 'unknown', error: 'closed: connection closed' }, 40, 4);
    expect(collectionsViolationCount(checkCollections([...history(), unknownPop], final({ lists: { [Q]: [] } })))).toBe(0);
    const twoMissing = [...history().slice(0, 2), cmd({ kind: 'lpop', key: Q, popped: ['j1'] }, 20, 3), unknownPop];
    expect(checkCollections(twoMissing, final({ lists: { [Q]: [] } })).lostJobs).toHaveLength(1);
    // An unknown pop that ended before j3's push began cannot have taken it.
    const early = cmd({ kind: 'lpop', key: Q, result: 'unknown', error: 'NOREPLICAS' }, 5, 4);
    expect(checkCollections([...history(), early], final({ lists: { [Q]: [] } })).lostJobs).toHaveLength(1);
    // An open one (the client stopped waiting) may take effect any time later.
    const open = cmd({ kind: 'lpop', key: Q, result: 'unknown', open: true, error: 'timeout' }, 5, 4);
    expect(collectionsViolationCount(checkCollections([...history(), open], final({ lists: { [Q]: [] } })))).toBe(0);
  });

  it('flags a job popped twice, and a job popped and still listed', () => {
    const twice = [...history(), cmd({ kind: 'lpop', key: Q, count: 2, popped: ['j2', 'j3'] }, 40, 4)];
    const r = checkCollections(twice, final({ lists: { [Q]: [] } }));
    expect(r.duplicateJobs).toHaveLength(1);
    expect(r.duplicateJobs[0]!.problem).toContain('j2 seen 2 times');
    const back = checkCollections(history(), final({ lists: { [Q]: ['j1', 'j3'] } }));
    expect(back.duplicateJobs).toHaveLength(1);
    expect(back.duplicateJobs[0]!.problem).toContain('listed in');
  });

  it('flags a job nobody pushed, one only a failed push wrote, and one popped before its push began', () => {
    expect(checkCollections(history(), final({ lists: { [Q]: ['j3', 'ghost'] } })).phantomJobs).toHaveLength(1);
    const failed = [...history(), cmd({ kind: 'rpush', key: Q, jobs: ['j9'], result: 'fail', error: 'CLUSTERDOWN' }, 50)];
    expect(checkCollections(failed, final({ lists: { [Q]: ['j3', 'j9'] } })).phantomJobs).toHaveLength(1);
    // An unknown push may or may not show up.
    const unknown = [...history(), cmd({ kind: 'rpush', key: Q, jobs: ['j9'], result: 'unknown', error: 'closed' }, 50)];
    expect(collectionsViolationCount(checkCollections(unknown, final({ lists: { [Q]: ['j3', 'j9'] } })))).toBe(0);
    expect(collectionsViolationCount(checkCollections(unknown, final({ lists: { [Q]: ['j3'] } })))).toBe(0);
    const early = [cmd({ kind: 'lpop', key: Q, popped: ['j5'] }, 0, 3), cmd({ kind: 'rpush', key: Q, jobs: ['j5'] }, 10)];
    expect(checkCollections(early, final({ lists: { [Q]: [] } })).phantomJobs).toHaveLength(1);
  });

  it('flags jobs listed out of push order, and a pop that overtook a job still listed', () => {
    const pushes = [cmd({ kind: 'rpush', key: Q, jobs: ['a'] }, 0), cmd({ kind: 'rpush', key: Q, jobs: ['b'] }, 10), cmd({ kind: 'rpush', key: Q, jobs: ['c'] }, 20)];
    expect(collectionsViolationCount(checkCollections(pushes, final({ lists: { [Q]: ['a', 'b', 'c'] } })))).toBe(0);
    expect(checkCollections(pushes, final({ lists: { [Q]: ['a', 'c', 'b'] } })).queueOrder).toHaveLength(1);
    const overtaken = [...pushes, cmd({ kind: 'lpop', key: Q, popped: ['b'] }, 30, 2)];
    expect(checkCollections(overtaken, final({ lists: { [Q]: ['a', 'c'] } })).queueOrder).toHaveLength(1);
    // Concurrent pushes may land in either order.
    const concurrent = [cmd({ kind: 'rpush', key: Q, jobs: ['x'] }, 0), cmd({ kind: 'rpush', key: Q, jobs: ['y'] }, 0.5, 2)];
    expect(collectionsViolationCount(checkCollections(concurrent, final({ lists: { [Q]: ['y', 'x'] } })))).toBe(0);
  });

  it('flags LLEN that disagrees with LRANGE, and a queue never read back', () => {
    expect(checkCollections(history(), final({ lists: { [Q]: ['j3'] } }, { [Q]: 2 })).sizes).toHaveLength(1);
    const unread = checkCollections(history(), final({}));
    expect(unread.unread).toHaveLength(1);
    expect(unread.lostJobs).toHaveLength(0);
  });
});

describe('sets', () => {
  const ops = (): CCommand[] => [
    cmd({ kind: 'sadd', key: S, member: 'c1.m0', n: 1 }, 0),
    cmd({ kind: 'sadd', key: S, member: 'c1.m1', n: 1 }, 1),
    cmd({ kind: 'srem', key: S, member: 'c1.m1', n: 1 }, 2),
    cmd({ kind: 'sadd', key: S, member: 'c1.m2', result: 'fail', error: 'CLUSTERDOWN' }, 3),
  ];

  it('accepts members as their last acknowledged operation left them', () => {
    expect(collectionsViolationCount(checkCollections(ops(), final({ sets: { [S]: ['c1.m0'] } })))).toBe(0);
  });

  it('flags a member lost after its acknowledged SADD, one back after its acknowledged SREM, and one only a failed SADD wrote', () => {
    expect(checkCollections(ops(), final({ sets: { [S]: [] } })).sets).toHaveLength(1);
    expect(checkCollections(ops(), final({ sets: { [S]: ['c1.m0', 'c1.m1'] } })).sets).toHaveLength(1);
    expect(checkCollections(ops(), final({ sets: { [S]: ['c1.m0', 'c1.m2'] } })).sets.length).toBeGreaterThan(0);
  });

  it('relaxes only the member whose later operation had an unknown outcome', () => {
    const relaxed = [...ops(), cmd({ kind: 'srem', key: S, member: 'c1.m0', result: 'unknown', error: 'closed' }, 4)];
    expect(collectionsViolationCount(checkCollections(relaxed, final({ sets: { [S]: [] } })))).toBe(0);
    expect(collectionsViolationCount(checkCollections(relaxed, final({ sets: { [S]: ['c1.m0'] } })))).toBe(0);
    expect(checkCollections(relaxed, final({ sets: { [S]: ['c1.m0', 'c1.m1'] } })).sets).toHaveLength(1);
  });

  it('flags an acknowledged reply that contradicts the client\'s own earlier acknowledged operations', () => {
    const wrong = [...ops(), cmd({ kind: 'sadd', key: S, member: 'c1.m0', n: 1 }, 5)];
    expect(checkCollections(wrong, final({ sets: { [S]: ['c1.m0'] } })).replies).toHaveLength(1);
    const afterUnknown = [...ops(), cmd({ kind: 'srem', key: S, member: 'c1.m0', result: 'unknown', error: 'closed' }, 4), cmd({ kind: 'sadd', key: S, member: 'c1.m0', n: 1 }, 5)];
    expect(collectionsViolationCount(checkCollections(afterUnknown, final({ sets: { [S]: ['c1.m0'] } })))).toBe(0);
  });

  it('lets a write of unknown outcome surface after an acknowledged operation that answered 0 (wrote nothing), not after one that answered 1', () => {
    const base = [cmd({ kind: 'sadd', key: S, member: 'c1.m0', n: 1 }, 0), cmd({ kind: 'srem', key: S, member: 'c1.m0', n: 1 }, 1)];
    const noop = [...base, cmd({ kind: 'sadd', key: S, member: 'c1.m0', result: 'unknown', error: 'NOREPLICAS' }, 2), cmd({ kind: 'srem', key: S, member: 'c1.m0', n: 0 }, 3)];
    expect(collectionsViolationCount(checkCollections(noop, final({ sets: { [S]: ['c1.m0'] } })))).toBe(0);
    expect(collectionsViolationCount(checkCollections([...noop, cmd({ kind: 'sadd', key: S, member: 'c1.m0', n: 0 }, 4)], final({ sets: { [S]: ['c1.m0'] } })))).toBe(0);
    const buried = [...base, cmd({ kind: 'srem', key: S, member: 'c1.m0', result: 'unknown', error: 'NOREPLICAS' }, 2), cmd({ kind: 'sadd', key: S, member: 'c1.m0', n: 1 }, 3)];
    expect(checkCollections(buried, final({ sets: { [S]: [] } })).sets).toHaveLength(1);
    // With nothing unknown before it, an SREM answered 0 asserts the member absent.
    expect(checkCollections([...base, cmd({ kind: 'srem', key: S, member: 'c1.m0', n: 0 }, 3)], final({ sets: { [S]: ['c1.m0'] } })).sets).toHaveLength(1);
  });

  it('flags SCARD that disagrees with SMEMBERS', () => {
    expect(checkCollections(ops(), final({ sets: { [S]: ['c1.m0'] } }, { [S]: 2 })).sizes).toHaveLength(1);
  });
});

describe('sorted-set scores and hash fields', () => {
  const incrs = (): CCommand[] => [
    cmd({ kind: 'zincrby', key: Z, member: 'm0', amount: 2, n: 2 }, 0),
    cmd({ kind: 'zincrby', key: Z, member: 'm0', amount: 3, n: 5 }, 1, 2),
    cmd({ kind: 'zincrby', key: Z, member: 'm0', amount: 4, result: 'unknown', error: 'closed' }, 2, 3),
    cmd({ kind: 'hincrby', key: H, member: 'f0', amount: 1, n: 1 }, 0),
    cmd({ kind: 'hincrby', key: H, member: 'f0', amount: 1, n: 2 }, 1, 2),
  ];

  it('accepts a final value between acknowledged and acknowledged + unknown', () => {
    expect(collectionsViolationCount(checkCollections(incrs(), final({ zsets: { [Z]: { m0: 5 } }, hashes: { [H]: { f0: 2 } } })))).toBe(0);
    expect(collectionsViolationCount(checkCollections(incrs(), final({ zsets: { [Z]: { m0: 9 } }, hashes: { [H]: { f0: 2 } } })))).toBe(0);
  });

  it('flags a lost increment and a doubled one', () => {
    expect(checkCollections(incrs(), final({ zsets: { [Z]: { m0: 3 } }, hashes: { [H]: { f0: 2 } } })).counters).toHaveLength(1);
    expect(checkCollections(incrs(), final({ zsets: { [Z]: { m0: 5 } }, hashes: { [H]: { f0: 3 } } })).counters).toHaveLength(1);
    expect(checkCollections(incrs(), final({ zsets: { [Z]: {} }, hashes: { [H]: { f0: 2 } } })).counters).toHaveLength(1);
  });

  it('flags two acknowledged increments answering the same value, and a member nobody incremented', () => {
    const same = [...incrs(), cmd({ kind: 'hincrby', key: H, member: 'f0', amount: 1, n: 2 }, 1.5, 3)];
    expect(checkCollections(same, final({ zsets: { [Z]: { m0: 5 } }, hashes: { [H]: { f0: 3 } } })).counters.length).toBeGreaterThan(0);
    expect(checkCollections(incrs(), final({ zsets: { [Z]: { m0: 5, m9: 1 } }, hashes: { [H]: { f0: 2 } } })).counters).toHaveLength(1);
  });

  it('flags ZCARD and HLEN that disagree with the contents', () => {
    expect(checkCollections(incrs(), final({ zsets: { [Z]: { m0: 5 } }, hashes: { [H]: { f0: 2 } } }, { [Z]: 2 })).sizes).toHaveLength(1);
    expect(checkCollections(incrs(), final({ zsets: { [Z]: { m0: 5 } }, hashes: { [H]: { f0: 2 } } }, { [H]: 0 })).sizes).toHaveLength(1);
  });

  it('flags a sorted set whose range read and point read disagree', () => {
    const f = final({ zsets: { [Z]: { m0: 5 } }, hashes: { [H]: { f0: 2 } } });
    f.zsets.get(Z)!.points = new Map([['m0', 5], ['m1', null]]);
    expect(collectionsViolationCount(checkCollections(incrs(), f))).toBe(0);
    f.zsets.get(Z)!.points = new Map([['m0', 7], ['m1', null]]);
    expect(checkCollections(incrs(), f).indexes).toHaveLength(1);
    f.zsets.get(Z)!.points = new Map([['m0', 5], ['m1', 3]]);
    expect(checkCollections(incrs(), f).indexes).toHaveLength(1);
    // A stale index entry: the member listed twice by the range read.
    f.zsets.get(Z)!.points = new Map([['m0', 5]]);
    f.zsets.get(Z)!.raw = [['m0', 2], ['m0', 5]];
    expect(checkCollections(incrs(), f).indexes).toHaveLength(1);
    f.zsets.get(Z)!.raw = [['m0', 5]];
    expect(collectionsViolationCount(checkCollections(incrs(), f))).toBe(0);
  });

  it('flags a reply of the wrong shape', () => {
    const bad = [cmd({ kind: 'hincrby', key: H, member: 'f0', amount: 1, result: 'unknown', malformed: 'HINCRBY answered "OK"' }, 0)];
    expect(checkCollections(bad, final({ hashes: { [H]: { f0: 1 } } })).replies).toHaveLength(1);
  });
});
