/**
 * Goal: the checkers of the pipelined workload catch what they claim — a reply that does not
 * reflect an earlier command of its own batch, a lost or doubled increment, a lost or doubled
 * APPEND token, a transaction applied by half, a private key left at an older write — and accept
 * what concurrency and unknown outcomes allow.
 * Method: small hand-written batch histories, each with one known defect, next to its correct twin.
 */
import { describe, expect, it } from 'vitest';
import {
  checkAppends,
  checkAtomicity,
  checkBatchOrder,
  checkCounters,
  checkLastWrites,
  checkPipelines,
  checkSharedReads,
  pipelineViolationCount,
  type PCommand,
  type PipelineRecord,
} from '../helpers/fault-pipeline-checker.js';

const R = 'p:c1:r0';
const H = 'p:c1:h0';
const C = 'p:ctr:0';
const L = 'p:log:0';
const P = '{p:c1:m0}';

let seq = 0;
function batch(commands: Array<Partial<PCommand> & Pick<PCommand, 'kind' | 'key'>>, client = 1, start = seq * 10): PipelineRecord {
  return {
    client, transport: 'pipeline', seq: seq++, node: 'n1', start,
    commands: commands.map((c, i) => ({ result: 'ok', end: start + 1 + i * 0.1, ...c })),
  };
}
const fin = (entries: Array<[string, string | null]>): Map<string, string | null> => new Map(entries);

describe('order inside a batch', () => {
  it('accepts reads that reflect the batch\'s earlier writes', () => {
    const b = batch([
      { kind: 'set', key: R, value: 'v1' }, { kind: 'get', key: R, read: 'v1' }, { kind: 'del', key: R }, { kind: 'get', key: R, read: null },
      { kind: 'hset', key: H, field: 'f', value: 'h1' }, { kind: 'hget', key: H, field: 'f', read: 'h1' },
      { kind: 'tx', key: P, value: 't1' }, { kind: 'get', key: `${P}:a`, read: 't1/a' }, { kind: 'get', key: `${P}:b`, read: 't1/b' },
      { kind: 'incr', key: C, amount: 1, n: 5 }, { kind: 'incr', key: C, amount: 3, n: 9 }, { kind: 'get', key: C, read: '12' },
      { kind: 'append', key: L, value: 'a;', n: 6 }, { kind: 'get', key: L, read: 'xx;a;b;' }, { kind: 'append', key: L, value: 'c;', n: 9 },
    ]);
    expect(checkBatchOrder([b])).toEqual([]);
  });

  it('flags a read that returns the value from before the batch\'s own write (the command ran early)', () => {
    const v = checkBatchOrder([batch([{ kind: 'set', key: R, value: 'v2' }, { kind: 'get', key: R, read: 'v1' }])]);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ index: 1, problem: expect.stringContaining('after this batch\'s acknowledged write') });
  });

  it('flags a key still present after the batch deleted it, a stale hash field and half a transaction', () => {
    expect(checkBatchOrder([batch([{ kind: 'del', key: R }, { kind: 'get', key: R, read: 'v1' }])])).toHaveLength(1);
    expect(checkBatchOrder([batch([{ kind: 'hset', key: H, field: 'f', value: 'h2' }, { kind: 'hget', key: H, field: 'f', read: 'h1' }])])).toHaveLength(1);
    expect(checkBatchOrder([batch([{ kind: 'tx', key: P, value: 't2' }, { kind: 'get', key: `${P}:a`, read: 't2/a' }, { kind: 'get', key: `${P}:b`, read: 't1/b' }])])).toHaveLength(1);
  });

  it('expects nothing after a write whose outcome is unknown, and keeps the expectation past a failed one', () => {
    expect(checkBatchOrder([batch([{ kind: 'set', key: R, value: 'v2', result: 'unknown' }, { kind: 'get', key: R, read: 'v1' }])])).toEqual([]);
    expect(checkBatchOrder([batch([{ kind: 'set', key: R, value: 'v1' }, { kind: 'set', key: R, value: 'v2', result: 'fail' }, { kind: 'get', key: R, read: 'v1' }])])).toEqual([]);
  });

  it('accepts the value of an earlier write whose outcome is open (it may land late), not of a closed one', () => {
    const open = batch([{ kind: 'set', key: R, value: 'v1', result: 'unknown', open: true }]);
    const later = batch([{ kind: 'set', key: R, value: 'v2' }, { kind: 'get', key: R, read: 'v1' }]);
    expect(checkBatchOrder([later, open])).toEqual([]);
    const closed = batch([{ kind: 'set', key: R, value: 'v1', result: 'unknown' }]);
    const after = batch([{ kind: 'set', key: R, value: 'v2' }, { kind: 'get', key: R, read: 'v1' }]);
    const v = checkBatchOrder([closed, after]);
    expect(v).toHaveLength(1);
    expect(v[0]!.problem).toContain('set p:c1:r0 v1 -> unknown');
    // Another connection's open write is no excuse: the key has one writer.
    const foreign = batch([{ kind: 'set', key: R, value: 'v1', result: 'unknown', open: true }], 2);
    expect(checkBatchOrder([foreign, batch([{ kind: 'set', key: R, value: 'v2' }, { kind: 'get', key: R, read: 'v1' }])])).toHaveLength(1);
  });

  it('flags a counter that goes backwards inside a batch, or a GET that misses the INCR before it', () => {
    expect(checkBatchOrder([batch([{ kind: 'incr', key: C, amount: 1, n: 5 }, { kind: 'get', key: C, read: '4' }])])).toHaveLength(1);
    expect(checkBatchOrder([batch([{ kind: 'incr', key: C, amount: 2, n: 5 }, { kind: 'incr', key: C, amount: 2, n: 6 }])])).toHaveLength(1);
    expect(checkBatchOrder([batch([{ kind: 'get', key: C, read: '7' }, { kind: 'incr', key: C, amount: 1, n: 7 }])])).toHaveLength(1);
    // Other connections only add: a jump upwards is fine.
    expect(checkBatchOrder([batch([{ kind: 'incr', key: C, amount: 1, n: 5 }, { kind: 'get', key: C, read: '40' }])])).toEqual([]);
  });

  it('flags a log read lacking the batch\'s own token, or shorter than an earlier reply', () => {
    expect(checkBatchOrder([batch([{ kind: 'append', key: L, value: 'a;', n: 4 }, { kind: 'get', key: L, read: 'xx;' }])])).toHaveLength(2);
    expect(checkBatchOrder([batch([{ kind: 'get', key: L, read: 'xx;yy;' }, { kind: 'append', key: L, value: 'a;', n: 5 }])])).toHaveLength(1);
  });

  it('flags a reply of the wrong shape (another command\'s reply)', () => {
    const v = checkBatchOrder([batch([{ kind: 'incr', key: C, amount: 1, result: 'unknown', malformed: 'INCR answered "OK"' }])]);
    expect(v).toHaveLength(1);
    expect(v[0]!.problem).toContain('wrong shape');
  });
});

describe('counters', () => {
  const incs = [batch([{ kind: 'incr', key: C, amount: 1, n: 1 }, { kind: 'incr', key: C, amount: 3, n: 4 }]), batch([{ kind: 'incr', key: C, amount: 2, result: 'unknown' }], 2), batch([{ kind: 'incr', key: C, amount: 5, result: 'fail' }], 3)];

  it('accepts any final value between the acknowledged sum and acknowledged + unknown', () => {
    expect(checkCounters(incs, fin([[C, '4']]))).toEqual([]);
    expect(checkCounters(incs, fin([[C, '6']]))).toEqual([]);
  });

  it('flags a lost increment, one applied twice, a failed one applied, and a counter never read', () => {
    expect(checkCounters(incs, fin([[C, '3']]))[0]!.problem).toContain('lost');
    expect(checkCounters(incs, fin([[C, '7']]))[0]!.problem).toContain('applied twice');
    expect(checkCounters(incs, fin([[C, '11']]))).toHaveLength(1);
    expect(checkCounters(incs, fin([]))[0]!.problem).toContain('never read');
    expect(checkCounters(incs, fin([[C, 'abc']]))[0]!.problem).toContain('not an integer');
  });

  it('flags two acknowledged increments that answered the same value', () => {
    const h = [batch([{ kind: 'incr', key: C, amount: 1, n: 1 }]), batch([{ kind: 'incr', key: C, amount: 1, n: 1 }], 2)];
    const v = checkCounters(h, fin([[C, '2']]));
    expect(v).toHaveLength(1);
    expect(v[0]!.problem).toContain('same value');
  });
});

describe('appends', () => {
  const apps = [batch([{ kind: 'append', key: L, value: 'c1.1;', n: 5 }, { kind: 'append', key: L, value: 'c1.2;', n: 10 }]), batch([{ kind: 'append', key: L, value: 'c2.1;', result: 'unknown' }, { kind: 'append', key: L, value: 'c2.2;', result: 'fail' }], 2)];

  it('accepts every acknowledged token once, with or without the unknown one', () => {
    expect(checkAppends(apps, fin([[L, 'c1.1;c1.2;']]))).toEqual([]);
    expect(checkAppends(apps, fin([[L, 'c1.1;c2.1;c1.2;']]))).toEqual([]);
  });

  it('flags a lost token, a token applied twice, a failed or foreign token, and garbage', () => {
    expect(checkAppends(apps, fin([[L, 'c1.1;']]))[0]).toMatchObject({ problem: expect.stringContaining('missing'), tokens: ['c1.2;'] });
    expect(checkAppends(apps, fin([[L, 'c1.1;c1.2;c1.2;']]))[0]).toMatchObject({ problem: expect.stringContaining('more than once'), tokens: ['c1.2;'] });
    expect(checkAppends(apps, fin([[L, 'c1.1;c1.2;c2.2;']]))[0]).toMatchObject({ tokens: ['c2.2;'] });
    expect(checkAppends(apps, fin([[L, 'c1.1;c1.2;zz;']]))[0]).toMatchObject({ tokens: ['zz;'] });
    expect(checkAppends(apps, fin([[L, 'c1.1;c1.2;xy']]))[0]!.problem).toContain('trailing');
  });

  it('refuses a workload that appended one token twice', () => {
    expect(() => checkAppends([batch([{ kind: 'append', key: L, value: 'a;' }, { kind: 'append', key: L, value: 'a;' }])], fin([[L, 'a;']]))).toThrow(/unique/);
  });
});

describe('transactions', () => {
  const txs = [batch([{ kind: 'tx', key: P, value: 't1' }]), batch([{ kind: 'tx', key: P, value: 't2', result: 'unknown' }])];

  it('accepts both keys from one transaction, or both missing', () => {
    expect(checkAtomicity(txs, fin([[`${P}:a`, 't1/a'], [`${P}:b`, 't1/b']]))).toEqual([]);
    expect(checkAtomicity(txs, fin([[`${P}:a`, 't2/a'], [`${P}:b`, 't2/b']]))).toEqual([]);
    expect(checkAtomicity(txs, fin([[`${P}:a`, null], [`${P}:b`, null]]))).toEqual([]);
  });

  it('flags keys from two transactions, or one key written and the other not', () => {
    expect(checkAtomicity(txs, fin([[`${P}:a`, 't2/a'], [`${P}:b`, 't1/b']]))).toEqual([{ base: P, a: 't2/a', b: 't1/b' }]);
    expect(checkAtomicity(txs, fin([[`${P}:a`, 't1/a'], [`${P}:b`, null]]))).toHaveLength(1);
  });
});

describe('the last write of a private key', () => {
  it('flags a final value older than the last acknowledged write sent, even inside one batch', () => {
    // Both SETs in one batch look concurrent by time; the send order says v2 must win.
    const h = [batch([{ kind: 'set', key: R, value: 'v1' }, { kind: 'set', key: R, value: 'v2' }])];
    expect(checkLastWrites(h, fin([[R, 'v2']]))).toEqual([]);
    expect(checkLastWrites(h, fin([[R, 'v1']]))).toHaveLength(1);
    expect(checkLastWrites(h, fin([[R, null]]))).toHaveLength(1);
  });

  it('accepts a later unknown write or an open unknown earlier one, not a failed later one', () => {
    const h = [batch([{ kind: 'set', key: R, value: 'u0', result: 'unknown', open: true }]), batch([{ kind: 'set', key: R, value: 'v1' }, { kind: 'set', key: R, value: 'u2', result: 'unknown' }, { kind: 'set', key: R, value: 'f3', result: 'fail' }])];
    expect(checkLastWrites(h, fin([[R, 'u2']]))).toEqual([]);
    expect(checkLastWrites(h, fin([[R, 'u0']]))).toEqual([]);
    expect(checkLastWrites(h, fin([[R, 'f3']]))).toHaveLength(1);
  });
});

describe('checkPipelines on a clean history', () => {
  it('reports nothing, and routes registers through the single-key checks', () => {
    const h = [
      batch([{ kind: 'set', key: R, value: 'v1' }, { kind: 'get', key: R, read: 'v1' }, { kind: 'incr', key: C, amount: 1, n: 1 }, { kind: 'append', key: L, value: 'c1.1;', n: 5 }]),
      batch([{ kind: 'get', key: R, read: 'v1' }, { kind: 'tx', key: P, value: 't1' }, { kind: 'hset', key: H, field: 'f', value: 'h1' }]),
    ];
    const finals = fin([[R, 'v1'], [C, '1'], [L, 'c1.1;'], [`${P}:a`, 't1/a'], [`${P}:b`, 't1/b'], [`${H}#f`, 'h1']]);
    const report = checkPipelines(h, finals, { readYourWrites: true });
    expect(pipelineViolationCount(report, true), JSON.stringify(report)).toBe(0);
    // A stale read in a later batch is a single-key read-your-writes violation.
    const stale = [...h, batch([{ kind: 'get', key: R, read: null }])];
    expect(checkPipelines(stale, finals, { readYourWrites: true }).history.staleReads).toHaveLength(1);
    // A lost register write through the single-key check (a), an unread one through unread keys.
    expect(checkPipelines(h, fin([...finals, [R, null]]), { readYourWrites: true }).history.lostWrites).toHaveLength(1);
    const unread = new Map(finals);
    unread.delete(`${H}#f`);
    expect(checkPipelines(h, unread, { readYourWrites: true }).history.unreadKeys).toEqual([`${H}#f`]);
  });
});

describe('read-your-writes on counters and logs (W + R > N)', () => {
  // Batches from different connections; times: a batch starts at `start`, its commands end 1 ms later.
  const at = (start: number, client: number, commands: Array<Partial<PCommand> & Pick<PCommand, 'kind' | 'key'>>): PipelineRecord => batch(commands, client, start);

  it('accepts reads that reflect every increment and append acknowledged before they started', () => {
    const h = [
      at(0, 1, [{ kind: 'incr', key: C, amount: 2, n: 2 }, { kind: 'append', key: L, value: 'a;', n: 2 }]),
      at(10, 2, [{ kind: 'get', key: C, read: '2' }, { kind: 'incr', key: C, amount: 1, n: 3 }, { kind: 'get', key: L, read: 'a;' }, { kind: 'append', key: L, value: 'b;', n: 4 }]),
      // Concurrent with the first batch: may miss it.
      at(0.5, 3, [{ kind: 'get', key: C, read: null }, { kind: 'get', key: L, read: null }]),
    ];
    expect(checkSharedReads(h)).toEqual([]);
  });

  it('flags a later read below an acknowledged increment, or an increment that did not build on it', () => {
    const inc = at(0, 1, [{ kind: 'incr', key: C, amount: 2, n: 7 }]);
    expect(checkSharedReads([inc, at(10, 2, [{ kind: 'get', key: C, read: '5' }])])).toHaveLength(1);
    const v = checkSharedReads([inc, at(10, 2, [{ kind: 'incr', key: C, amount: 1, n: 7 }])]);
    expect(v).toHaveLength(1);
    expect(v[0]!.missed).toMatchObject({ client: 1, command: expect.stringContaining('-> 7') });
  });

  it('flags a later log read lacking an acknowledged token, or too short', () => {
    const app = [at(0, 1, [{ kind: 'append', key: L, value: 'a;', n: 2 }]), at(1, 2, [{ kind: 'append', key: L, value: 'bb;', n: 5 }])];
    expect(checkSharedReads([...app, at(10, 3, [{ kind: 'get', key: L, read: 'bb;a;' }])])).toEqual([]);
    expect(checkSharedReads([...app, at(10, 3, [{ kind: 'get', key: L, read: 'bb;zz;' }])])).toHaveLength(1);
    expect(checkSharedReads([...app, at(10, 3, [{ kind: 'get', key: L, read: 'bb;' }])])).toHaveLength(1);
    expect(checkSharedReads([...app, at(10, 3, [{ kind: 'append', key: L, value: 'c;', n: 6 }])])).toHaveLength(1);
  });

  it('is only run by checkPipelines where read-your-writes is promised', () => {
    const h = [at(0, 1, [{ kind: 'incr', key: C, amount: 1, n: 1 }]), at(10, 2, [{ kind: 'get', key: C, read: null }])];
    expect(checkPipelines(h, fin([[C, '1']]), { readYourWrites: true }).sharedStaleReads).toHaveLength(1);
    expect(checkPipelines(h, fin([[C, '1']]), { readYourWrites: false }).sharedStaleReads).toEqual([]);
  });
});
