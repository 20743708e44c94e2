/**
 * Goal: the stream checks of the collections fault workload catch what they claim — an
 * acknowledged entry lost or re-numbered, ids handed out twice or out of order, an entry delivered
 * as new twice or skipped, an acknowledged XACK undone, a delivery dropped from the pending list —
 * and accept what unknown outcomes allow.
 * Method: one small correct history, then the same with one defect each.
 */
import { describe, expect, it } from 'vitest';
import type { CCommand, CViolation } from '../helpers/fault-collections-checker.js';
import { checkStreams, compareStreamIds, type StreamFinal } from '../helpers/fault-streams-checker.js';

const X = 'col:x:0';
let order = 0;
function cmd(c: Partial<CCommand> & Pick<CCommand, 'kind'>, start: number, client = 1): CCommand {
  return { client, order: order++, key: X, result: 'ok', start, end: start + 1, ...c };
}

/** Three entries added; c1 read the first two and acknowledged the first; c2 read the third. */
function history(): CCommand[] {
  return [
    cmd({ kind: 'xadd', jobs: ['t1'], id: '1-0' }, 0),
    cmd({ kind: 'xadd', jobs: ['t2'], id: '2-0' }, 10, 2),
    cmd({ kind: 'xadd', jobs: ['t3'], id: '3-0' }, 20),
    cmd({ kind: 'xreadgroup', count: 2, entries: [['1-0', 't1'], ['2-0', 't2']] }, 30),
    cmd({ kind: 'xack', jobs: ['1-0'], n: 1 }, 40),
    cmd({ kind: 'xreadgroup', count: 2, entries: [['3-0', 't3']] }, 50, 2),
  ];
}

function final(over: Partial<StreamFinal> = {}): Map<string, StreamFinal> {
  return new Map([[X, {
    entries: [['1-0', 't1'], ['2-0', 't2'], ['3-0', 't3']],
    len: 3,
    pending: new Map([['2-0', 'c1'], ['3-0', 'c2']]),
    lastDelivered: '3-0',
    ...over,
  }]]);
}

function check(cmds: CCommand[], f = final()): CViolation[] {
  const out = { streams: [] as CViolation[], sizes: [] as CViolation[], unread: [] as CViolation[] };
  checkStreams(cmds, f, out);
  return [...out.streams, ...out.sizes, ...out.unread];
}

describe('stream checks', () => {
  it('accept a correct history', () => {
    expect(check(history())).toEqual([]);
  });

  it('compare ids numerically, as Redis orders them', () => {
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('5-10', '5-9')).toBe(1);
    expect(compareStreamIds('7-1', '7-1')).toBe(0);
  });

  it('catch an acknowledged entry that is gone', () => {
    const v = check(history(), final({ entries: [['2-0', 't2'], ['3-0', 't3']], len: 2 }));
    expect(v.some((x) => /acknowledged XADD 1-0/.test(x.problem))).toBe(true);
  });

  it('catch XLEN disagreeing with the entries', () => {
    expect(check(history(), final({ len: 4 })).some((x) => /XLEN 4/.test(x.problem))).toBe(true);
  });

  it('catch two XADDs answered the same id, and an id out of real-time order', () => {
    const twice = history();
    twice[1] = { ...twice[1]!, id: '1-0' };
    expect(check(twice).some((x) => /two acknowledged XADDs answered 1-0/.test(x.problem))).toBe(true);
    const backwards = [cmd({ kind: 'xadd', jobs: ['t1'], id: '5-0' }, 0), cmd({ kind: 'xadd', jobs: ['t2'], id: '4-0' }, 10)];
    const f = final({ entries: [['4-0', 't2'], ['5-0', 't1']], len: 2, pending: new Map(), lastDelivered: '0-0' });
    expect(check(backwards, f).some((x) => /produced 4-0, not above 5-0/.test(x.problem))).toBe(true);
  });

  it('accept overlapping XADDs in either order', () => {
    const overlapping = [cmd({ kind: 'xadd', jobs: ['t1'], id: '5-0' }, 0), { ...cmd({ kind: 'xadd', jobs: ['t2'], id: '4-0' }, 0), end: 5 }];
    const f = final({ entries: [['4-0', 't2'], ['5-0', 't1']], len: 2, pending: new Map(), lastDelivered: '0-0' });
    expect(check(overlapping, f)).toEqual([]);
  });

  it('catch an entry delivered as new twice', () => {
    const h = [...history(), cmd({ kind: 'xreadgroup', count: 1, entries: [['3-0', 't3']] }, 60, 3)];
    expect(check(h).some((x) => /3-0 delivered as new twice/.test(x.problem))).toBe(true);
  });

  it('catch an acknowledged entry skipped by the group', () => {
    const h = history().slice(0, 5);
    expect(check(h, final({ pending: new Map([['2-0', 'c1']]) })).some((x) => /3-0 is at or below.*skipped/.test(x.problem))).toBe(true);
  });

  it('accept an entry of unknown outcome that landed below the cursor', () => {
    const h = history().slice(0, 5);
    h[2] = { ...h[2]!, result: 'unknown', id: undefined };
    expect(check(h, final({ pending: new Map([['2-0', 'c1']]) }))).toEqual([]);
  });

  it('catch an acknowledged XACK undone, and a delivery dropped from the pending list', () => {
    const undone = check(history(), final({ pending: new Map([['1-0', 'c1'], ['2-0', 'c1'], ['3-0', 'c2']]) }));
    expect(undone.some((x) => /1-0 is pending for c1 though c1's XACK/.test(x.problem))).toBe(true);
    const dropped = check(history(), final({ pending: new Map([['3-0', 'c2']]) }));
    expect(dropped.some((x) => /2-0, delivered to c1 .* is not pending/.test(x.problem))).toBe(true);
  });

  it('catch an XACK that counted fewer ids than it named', () => {
    const h = history();
    h[4] = { ...h[4]!, n: 0 };
    expect(check(h).some((x) => /counted 0/.test(x.problem))).toBe(true);
  });

  it('allow pending entries a read of unknown outcome delivered', () => {
    const h = [...history(), cmd({ kind: 'xadd', jobs: ['t4'], id: '4-0' }, 60), cmd({ kind: 'xreadgroup', result: 'unknown', count: 1 }, 70, 3)];
    const f = final({ entries: [['1-0', 't1'], ['2-0', 't2'], ['3-0', 't3'], ['4-0', 't4']], len: 4, pending: new Map([['2-0', 'c1'], ['3-0', 'c2'], ['4-0', 'c3']]), lastDelivered: '4-0' });
    expect(check(h, f)).toEqual([]);
    const stranger = final({ entries: [['1-0', 't1'], ['2-0', 't2'], ['3-0', 't3'], ['4-0', 't4']], len: 4, pending: new Map([['2-0', 'c1'], ['3-0', 'c2'], ['4-0', 'c9']]), lastDelivered: '4-0' });
    expect(check(h, stranger).some((x) => /pending for c9, which never read it/.test(x.problem))).toBe(true);
  });
});

describe('stream checks after healing', () => {
  it('accept a drain that delivers what the group had not, and catch one that repeats or misses', () => {
    const h = [...history(), cmd({ kind: 'xadd', jobs: ['t4'], id: '4-0' }, 60)];
    const entries: Array<[string, string]> = [['1-0', 't1'], ['2-0', 't2'], ['3-0', 't3'], ['4-0', 't4']];
    expect(check(h, final({ entries, len: 4, drained: ['4-0'] }))).toEqual([]);
    const missed = check(h, final({ entries, len: 4, drained: [] }));
    expect(missed.some((x) => /acknowledged entry 4-0 .* never reached the group/.test(x.problem))).toBe(true);
    const again = check(h, final({ entries, len: 4, drained: ['3-0', '4-0'] }));
    expect(again.some((x) => /3-0 was delivered as new again after healing/.test(x.problem))).toBe(true);
  });
});
