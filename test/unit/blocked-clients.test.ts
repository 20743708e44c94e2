/**
 * Goal: the blocked-clients registry keeps Redis's order and never loses a wake-up: only the first
 * waiter of a changed key tries, a change during a running try makes it try again, a waiter that is
 * served passes the wake on, and timeouts or CLIENT UNBLOCK that arrive during a try wait for it.
 * Method: the registry with scripted tries (resolved by hand) and in-memory reply sinks.
 */
import { describe, expect, it } from 'vitest';
import { BlockedClients, type AttemptResult } from '../../src/server/blocked-clients.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import type { ReplySink } from '../../src/server/connection.js';
import type { SessionState } from '../../src/server/session-state.js';

const K = Buffer.from('k');
const WAIT: AttemptResult = { kind: 'wait', keys: [K], timeoutMs: 0 };
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** A client: its session, the reply it got (once done), and its tries, each resolved by the test. */
function client(name: string) {
  const session = { proto: 2 } as SessionState;
  let answer: string | undefined;
  const tries: Array<(r: AttemptResult) => void> = [];
  const sink: ReplySink = {
    out: new ReplyWriter(2),
    defer: () => {
      const out = new ReplyWriter(2);
      return { out, done: () => (answer = out.take().toString()) };
    },
  };
  return {
    name, session, sink, tries,
    answer: () => answer,
    attempt: (retry: boolean) => (retry ? new Promise<AttemptResult>((resolve) => tries.push(resolve)) : WAIT),
  };
}

const reply = (s: string): AttemptResult => ({ kind: 'reply', bytes: Buffer.from(s) });

describe('BlockedClients', () => {
  it('wakes only the first waiter of a key; a served waiter passes the wake to the next', async () => {
    const reg = new BlockedClients(() => false);
    const a = client('a');
    const b = client('b');
    reg.run(a.session, a.sink, a.attempt);
    reg.run(b.session, b.sink, b.attempt);
    expect(reg.count).toBe(2);
    reg.keyChanged(K);
    await tick();
    expect([a.tries.length, b.tries.length]).toEqual([1, 0]);
    a.tries[0]!(reply('+a\r\n'));
    await tick();
    expect(a.answer()).toBe('+a\r\n');
    expect(b.tries.length).toBe(1);
    b.tries[0]!(WAIT);
    await tick();
    expect(b.answer()).toBeUndefined();
    expect(reg.count).toBe(1);
  });

  it('a change during a running try makes the same waiter try again; it keeps its place', async () => {
    const reg = new BlockedClients(() => false);
    const a = client('a');
    const b = client('b');
    reg.run(a.session, a.sink, a.attempt);
    reg.run(b.session, b.sink, b.attempt);
    reg.keyChanged(K);
    await tick();
    reg.keyChanged(K);
    await tick();
    expect([a.tries.length, b.tries.length]).toEqual([1, 0]);
    a.tries[0]!(WAIT);
    await tick();
    expect([a.tries.length, b.tries.length]).toEqual([2, 0]);
    a.tries[1]!(WAIT);
    await tick();
    expect([a.tries.length, b.tries.length]).toEqual([2, 0]);
    expect(reg.count).toBe(2);
  });

  it('CLIENT UNBLOCK during a try answers once the try found nothing; a closed client leaves the queues', async () => {
    const reg = new BlockedClients(() => false);
    const a = client('a');
    const b = client('b');
    reg.run(a.session, a.sink, a.attempt);
    reg.run(b.session, b.sink, b.attempt);
    reg.keyChanged(K);
    await tick();
    expect(reg.unblock(a.session, 'error')).toBe(true);
    expect(a.answer()).toBeUndefined();
    a.tries[0]!(WAIT);
    await tick();
    expect(a.answer()).toBe('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
    reg.cancel(b.session);
    expect(reg.count).toBe(0);
    reg.keyChanged(K);
    await tick();
    expect(b.tries.length).toBe(0);
  });

  it('a client that closes while its first try runs never starts waiting', async () => {
    const reg = new BlockedClients(() => false);
    const a = client('a');
    let first: ((r: AttemptResult) => void) | undefined;
    reg.run(a.session, a.sink, () => new Promise<AttemptResult>((resolve) => (first = resolve)));
    reg.cancel(a.session);
    first!(WAIT);
    await tick();
    expect(reg.count).toBe(0);
  });

  it('a timeout answers a null array in the client\'s protocol', async () => {
    const reg = new BlockedClients(() => false);
    const a = client('a');
    reg.run(a.session, a.sink, () => ({ kind: 'wait', keys: [K], timeoutMs: 20 }));
    await new Promise((r) => setTimeout(r, 60));
    expect(a.answer()).toBe('*-1\r\n');
    expect(reg.count).toBe(0);
  });
});
