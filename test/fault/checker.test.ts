/**
 * Goal: the fault-suite checkers catch exactly what they claim — an acknowledged write missing from
 * the final state, a deleted key that came back, a read that misses a write acknowledged before it
 * started, a value nobody wrote — and accept what quorum replication with unknown outcomes allows
 * (concurrent writes, writes whose outcome the client never learned).
 * Method: small hand-written histories on one key, each with one known defect, next to the correct
 * twin that differs only where the defect is.
 */
import { describe, expect, it } from 'vitest';
import {
  checkHistory,
  checkNoLostWrites,
  checkNoResurrectedDeletes,
  checkPhantoms,
  checkReadYourWrites,
  checkUnreadKeys,
  historyStats,
  violationCount,
  type Op,
} from '../helpers/fault-checker.js';

const K = 'k';

function set(value: string, start: number, end: number, result: Op['result'] = 'ok', extra: Partial<Op> = {}): Op {
  return { client: 1, op: 'set', key: K, value, start, end, result, ...extra };
}
function del(start: number, end: number, result: Op['result'] = 'ok', extra: Partial<Op> = {}): Op {
  return { client: 2, op: 'del', key: K, value: null, start, end, result, ...(result === 'ok' ? { deleted: 1 } : {}), ...extra };
}
function get(value: string | null, start: number, end = start + 2, extra: Partial<Op> = {}): Op {
  return { client: 3, op: 'get', key: K, value, start, end, result: 'ok', ...extra };
}
const finals = (value: string | null, key = K): Map<string, string | null> => new Map([[key, value]]);

describe('no acknowledged write lost (a)', () => {
  const seq = [set('a', 0, 10), set('b', 20, 30)];

  it('accepts the last acknowledged write', () => {
    expect(checkNoLostWrites(seq, finals('b'))).toEqual([]);
  });

  it('flags an earlier acknowledged value as the final state', () => {
    const lost = checkNoLostWrites(seq, finals('a'));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ key: K, final: 'a', lost: { value: 'b' }, finalWriter: { value: 'a' } });
  });

  it('flags a missing key when the last acknowledged write was a SET', () => {
    expect(checkNoLostWrites(seq, finals(null)).map((l) => l.lost.value)).toEqual(['a', 'b']);
  });

  it('accepts a write concurrent with the last acknowledged one, acknowledged or not', () => {
    expect(checkNoLostWrites([...seq, set('c', 25, 40)], finals('c'))).toEqual([]);
    expect(checkNoLostWrites([...seq, set('c', 25, 40, 'unknown')], finals('c'))).toEqual([]);
    // b is concurrent with c too, so either may win.
    expect(checkNoLostWrites([...seq, set('c', 25, 40)], finals('b'))).toEqual([]);
  });

  it('flags an unknown write that ended before the last acknowledged write started', () => {
    expect(checkNoLostWrites([set('u', -10, -5, 'unknown'), ...seq], finals('u')).map((l) => l.lost.value)).toEqual(['a', 'b']);
    // Overlapping a, u may have overwritten a, but not b.
    expect(checkNoLostWrites([set('u', 0, 5, 'unknown'), ...seq], finals('u')).map((l) => l.lost.value)).toEqual(['b']);
  });

  it('accepts an open unknown write (the client stopped waiting) whatever came later', () => {
    const h = [set('u', 0, 5, 'unknown', { open: true }), ...seq];
    expect(checkNoLostWrites(h, finals('u'))).toEqual([]);
  });

  it('ignores a failed write and accepts a concurrent DEL as the reason for nil', () => {
    expect(checkNoLostWrites([...seq, set('f', 40, 41, 'fail')], finals('b'))).toEqual([]);
    expect(checkNoLostWrites([...seq, del(25, 35)], finals(null))).toEqual([]);
    expect(checkNoLostWrites([...seq, del(25, 35, 'unknown')], finals(null))).toEqual([]);
  });

  it('flags nil when the only DEL strictly precedes the last acknowledged SET', () => {
    expect(checkNoLostWrites([set('a', 0, 10), del(12, 15), set('b', 20, 30)], finals(null)).map((l) => l.lost.value)).toEqual(['b']);
  });

  it('accepts nil for a key nobody acknowledged a write to', () => {
    expect(checkNoLostWrites([set('u', 0, 5, 'unknown')], finals(null))).toEqual([]);
  });
});

describe('no deleted key returns (b)', () => {
  it('flags a value written before an acknowledged DEL as the final state', () => {
    const r = checkNoResurrectedDeletes([set('a', 0, 10), del(20, 30)], finals('a'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ key: K, final: 'a', undoneDelete: { op: 'del', start: 20 }, deletesUndone: 1 });
  });

  it('flags a bounded unknown write that ended before the DEL started', () => {
    expect(checkNoResurrectedDeletes([set('u', 0, 10, 'unknown'), del(20, 30)], finals('u'))).toHaveLength(1);
  });

  it('accepts missing, a SET overlapping the DEL, a later SET, or an open unknown SET', () => {
    expect(checkNoResurrectedDeletes([set('a', 0, 10), del(20, 30)], finals(null))).toEqual([]);
    expect(checkNoResurrectedDeletes([set('a', 0, 10), del(20, 30), set('c', 25, 35)], finals('c'))).toEqual([]);
    expect(checkNoResurrectedDeletes([set('a', 0, 10), del(20, 30), set('c', 40, 45, 'unknown')], finals('c'))).toEqual([]);
    expect(checkNoResurrectedDeletes([set('u', 0, 10, 'unknown', { open: true }), del(20, 30)], finals('u'))).toEqual([]);
  });

  it('does not count a DEL that was refused or whose outcome is unknown', () => {
    expect(checkNoResurrectedDeletes([set('a', 0, 10), del(20, 30, 'fail')], finals('a'))).toEqual([]);
    expect(checkNoResurrectedDeletes([set('a', 0, 10), del(20, 30, 'unknown')], finals('a'))).toEqual([]);
  });
});

describe('read-your-writes (c)', () => {
  const base = [set('a', 0, 10), set('b', 20, 30)];

  it('accepts reads of the newest acknowledged value and reads concurrent with a write', () => {
    expect(checkReadYourWrites([...base, get('b', 35), get('a', 25), get(null, 5)])).toEqual([]);
  });

  it('flags an older acknowledged value read after a newer one was acknowledged', () => {
    const stale = checkReadYourWrites([...base, get('a', 35)]);
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ key: K, got: 'a', start: 35, missed: { value: 'b' } });
  });

  it('flags nil read after an acknowledged SET, unless a DEL explains it', () => {
    expect(checkReadYourWrites([...base, get(null, 35)])).toHaveLength(1);
    expect(checkReadYourWrites([...base, del(32, 50), get(null, 35)])).toEqual([]);
    // A DEL that strictly precedes b does not explain nil after b.
    expect(checkReadYourWrites([set('a', 0, 10), del(12, 15), set('b', 20, 30), get(null, 35)])).toHaveLength(1);
  });

  it('flags a value read after an acknowledged DEL', () => {
    expect(checkReadYourWrites([set('a', 0, 10), del(20, 30), get('a', 35)])).toHaveLength(1);
    expect(checkReadYourWrites([set('a', 0, 10), del(20, 30), get(null, 35)])).toEqual([]);
  });

  it('is not fooled by reads listed out of order', () => {
    expect(checkReadYourWrites([get('a', 35), get('b', 36), ...base])).toHaveLength(1);
  });

  it('is skipped by checkHistory when W + R <= N', () => {
    const h = [...base, get('a', 35)];
    expect(checkHistory(h, finals('b'), { readYourWrites: false }).staleReads).toEqual([]);
    expect(checkHistory(h, finals('b'), { readYourWrites: true }).staleReads).toHaveLength(1);
  });
});

describe('phantoms and unread keys', () => {
  it('flags values nobody wrote, a failed write, another key or a write that started later', () => {
    const h = [set('a', 0, 10), set('f', 12, 13, 'fail'), { ...set('o', 0, 10), key: 'other' }, set('late', 50, 60)];
    const reads = [get('zzz', 20), get('f', 20), get('o', 20), get('late', 20)];
    expect(checkPhantoms([...h, ...reads], finals('a')).map((p) => p.reason)).toEqual(['never-written', 'failed-write', 'other-key', 'future-write']);
    expect(checkPhantoms(h, finals('zzz'))).toEqual([{ key: K, where: 'final', value: 'zzz', reason: 'never-written' }]);
  });

  it('counts a phantom final value as losing every acknowledged SET', () => {
    expect(checkNoLostWrites([set('a', 0, 10)], finals('zzz'))).toHaveLength(1);
  });

  it('flags a key with acknowledged writes that was never read back', () => {
    expect(checkUnreadKeys([set('a', 0, 10)], new Map())).toEqual([K]);
    expect(checkUnreadKeys([set('u', 0, 10, 'unknown')], new Map())).toEqual([]);
  });

  it('refuses a history whose SET values are not unique', () => {
    expect(() => checkNoLostWrites([set('a', 0, 10), set('a', 20, 30)], finals('a'))).toThrow(/unique/);
  });
});

describe('checkHistory on a clean mixed history', () => {
  it('reports nothing, and counts the operations', () => {
    const h: Op[] = [
      set('a', 0, 10), get('a', 11), del(12, 20), get(null, 21), set('b', 22, 30, 'unknown'), set('c', 25, 35),
      get('c', 40), set('d', 41, 42, 'fail'), { ...get(null, 43), result: 'fail' }, set('e', 50, 60, 'unknown', { open: true }),
    ];
    const report = checkHistory(h, finals('e'), { readYourWrites: true });
    expect(violationCount(report)).toBe(0);
    expect(historyStats(h)).toMatchObject({ operations: 10, sets: 5, dels: 1, gets: 4, ok: 6, failed: 2, unknown: 2, openUnknown: 1, ackedWrites: 3 });
  });
});
