/**
 * Goal: the pipelined workload records what each command's reply proves and nothing more: no
 * effect for a refused or redirected command, maybe for a write cut off or answered with an error
 * after it may have run, open when the client stopped waiting, and a reply of the wrong shape (what
 * another command's reply looks like) flagged for the order check.
 * Method: `classify` on hand-made wire outcomes of single commands and of MULTI/SET/SET/EXEC.
 */
import { describe, expect, it } from 'vitest';
import { ReplyError, TransportError, type Reply } from '../helpers/fault-client.js';
import { classify, type Planned, type WireOutcome } from '../helpers/fault-pipeline.js';

const incr: Planned = { cmd: { kind: 'incr', key: 'p:ctr:0', amount: 1 }, wire: [['INCR', 'p:ctr:0']] };
const get: Planned = { cmd: { kind: 'get', key: 'p:c1:r0' }, wire: [['GET', 'p:c1:r0']] };
const tx: Planned = { cmd: { kind: 'tx', key: '{p:c1:m0}', value: 't1' }, wire: [['MULTI'], ['SET', '{p:c1:m0}:a', 't1/a'], ['SET', '{p:c1:m0}:b', 't1/b'], ['EXEC']] };
/** A reply; a string starting with '-' is an error reply. */
const r = (reply: Reply, at = 5): WireOutcome => ({ reply: typeof reply === 'string' && reply.startsWith('-') ? new ReplyError(reply.slice(1)) : reply, at });
const t = (kind: 'refused' | 'closed' | 'timeout', at = 5): WireOutcome => ({ error: new TransportError(kind, kind), at });

describe('classify', () => {
  it('takes a well-formed reply as ok, with its value', () => {
    expect(classify(incr, [r(7)])).toMatchObject({ result: 'ok', n: 7, end: 5 });
    expect(classify(get, [r(null)])).toMatchObject({ result: 'ok', read: null });
  });

  it('knows a redirected, refused or never-sent write had no effect', () => {
    expect(classify(incr, [r('-MOVED 12 127.0.0.1:7000')]).result).toBe('fail');
    expect(classify(incr, [r('-TRYAGAIN lease')]).result).toBe('fail');
    expect(classify(incr, [t('refused')]).result).toBe('fail');
  });

  it('keeps a write cut off or answered NOREPLICAS as unknown, open only after a timeout', () => {
    expect(classify(incr, [r('-NOREPLICAS Not enough good replicas to write')])).toMatchObject({ result: 'unknown' });
    expect(classify(incr, [t('closed')]).open).toBeUndefined();
    expect(classify(incr, [t('timeout')])).toMatchObject({ result: 'unknown', open: true });
    // A read that got no answer observed nothing.
    expect(classify(get, [t('timeout')]).result).toBe('fail');
  });

  it('flags a reply of the wrong shape and keeps the write as unknown', () => {
    expect(classify(incr, [r('QUEUED')])).toMatchObject({ result: 'unknown', malformed: 'INCR answered "QUEUED"' });
    expect(classify(get, [r([1, 2])])).toMatchObject({ result: 'fail', malformed: expect.stringContaining('GET answered') });
  });

  it('reads a transaction from all four replies', () => {
    expect(classify(tx, [r('OK'), r('QUEUED'), r('QUEUED'), r(['OK', 'OK'], 9)])).toMatchObject({ result: 'ok', end: 9 });
    expect(classify(tx, [r('OK'), r('-MOVED 1 x:1'), r('QUEUED'), r('-EXECABORT Transaction discarded because of previous errors.')]).result).toBe('fail');
    expect(classify(tx, [r('OK'), r('QUEUED'), r('QUEUED'), r('-NOREPLICAS Not enough good replicas to write')]).result).toBe('unknown');
    expect(classify(tx, [r('-ERR MULTI calls can not be nested'), r('QUEUED'), r('QUEUED'), r(['OK', 'OK'])]).malformed).toContain('MULTI answered');
    expect(classify(tx, [r('OK'), r('QUEUED'), r('QUEUED'), r([])])).toMatchObject({ result: 'unknown', malformed: 'EXEC answered []' });
    expect(classify(tx, [r('OK'), r('QUEUED'), r('QUEUED'), t('closed')]).result).toBe('unknown');
  });
});
