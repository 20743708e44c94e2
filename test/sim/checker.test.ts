/**
 * Goal: the history checker flags exactly the anomalies it names (lost write, stale read, phantom
 * value, key never read back) and nothing on a correct history.
 * Method: small hand-written histories, each with one known defect, and their correct twins.
 */
import { describe, expect, it } from 'vitest';
import { type History, type ReadOp, type WriteOp, checkHistory } from './checker.js';

const V1 = '01'.padEnd(32, '0');
const V2 = '02'.padEnd(32, '0');
const V3 = '03'.padEnd(32, '0');

function write(version: string | undefined, value: string, startMs: number, endMs: number, outcome: WriteOp['outcome'] = 'ok'): WriteOp {
  return { key: 'k', value, startMs, endMs, outcome, version };
}

function read(version: string | undefined, value: string | undefined, startMs: number, endMs = startMs + 5): ReadOp {
  return { key: 'k', startMs, endMs, outcome: 'ok', version, value };
}

function history(over: Partial<History>): History {
  return {
    writes: [write(V1, 'a', 0, 10), write(V2, 'b', 20, 30)],
    reads: [read(V2, 'b', 40)],
    finalReads: [read(V2, 'b', 100)],
    issued: new Map([[V1, { key: 'k', value: 'a' }], [V2, { key: 'k', value: 'b' }], [V3, { key: 'k', value: 'c' }]]),
    ...over,
  };
}

describe('checkHistory', () => {
  it('passes a correct history, including a newer unacknowledged value read back', () => {
    const result = checkHistory(history({ finalReads: [read(V3, 'c', 100)] }));
    expect(result).toEqual({ lostWrites: [], staleReads: [], phantomReads: [], unreadKeys: [], lwwInversions: 0 });
  });

  it('flags a final read below the highest acknowledged version as a lost write', () => {
    const result = checkHistory(history({ finalReads: [read(V1, 'a', 100)] }));
    expect(result.lostWrites).toEqual([{ key: 'k', acked: V2, read: V1 }]);
    expect(checkHistory(history({ finalReads: [read(undefined, undefined, 100)] })).lostWrites).toHaveLength(1);
  });

  it('flags a read that misses a write acknowledged before it started, but not a concurrent one', () => {
    expect(checkHistory(history({ reads: [read(V1, 'a', 31)] })).staleReads).toEqual([
      { key: 'k', startMs: 31, required: V2, read: V1 },
    ]);
    // Started before the write's acknowledgement: either answer is allowed.
    expect(checkHistory(history({ reads: [read(V1, 'a', 25)] })).staleReads).toEqual([]);
  });

  it('flags values that no write issued under that version', () => {
    expect(checkHistory(history({ reads: [read(V2, 'x', 40)] })).phantomReads).toHaveLength(1);
    expect(checkHistory(history({ finalReads: [read('ff'.padEnd(32, '0'), 'b', 100)] })).phantomReads).toHaveLength(1);
  });

  it('flags a key with acknowledged writes that was never read back', () => {
    expect(checkHistory(history({ finalReads: [] })).unreadKeys).toEqual(['k']);
  });

  it('ignores unacknowledged writes when deciding what must survive', () => {
    const result = checkHistory(history({ writes: [write(V1, 'a', 0, 10), write(V2, 'b', 20, 30, 'unknown')], reads: [], finalReads: [read(V1, 'a', 100)] }));
    expect(result.lostWrites).toEqual([]);
  });

  it('counts sequential acknowledged writes whose versions went backwards', () => {
    const result = checkHistory(history({ writes: [write(V2, 'b', 0, 10), write(V1, 'a', 20, 30)], reads: [], finalReads: [read(V2, 'b', 100)] }));
    expect(result.lwwInversions).toBe(1);
    expect(result.lostWrites).toEqual([]);
  });
});
