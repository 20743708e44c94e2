/**
 * Goal: one connection's commands take effect in the order sent. Method: drive a CommandSequencer
 * with keyed commands (K slot id) and state-reading keyless ones (B id) through a small dispatcher,
 * complete the runs it starts in a chosen order, and check which command started when and that the
 * replies come out in request order.
 */
import { describe, expect, it } from 'vitest';
import { CommandSequencer, type SlotRun } from '../../src/server/command-sequencer.js';
import { CaptureSink } from '../../src/server/transient-session.js';
import type { CommandSpec } from '../../src/commands/spec.js';
import type { ReplySink } from '../../src/server/connection.js';

const SPEC = { name: 'k' } as CommandSpec;

function harness() {
  const started: string[] = [];
  const pending: Array<{ run: SlotRun; finish: () => void }> = [];
  let syncRuns = false;
  const seq: CommandSequencer = new CommandSequencer({
    process: (argv, sink) => run(argv, sink),
    startRun: (run, sink) => {
      const ids = run.commands.map((c) => c.argv[2]!.toString());
      started.push(ids.join('+'));
      if (syncRuns) {
        for (const id of ids) sink.out.bulk(Buffer.from(id));
        return undefined;
      }
      const reply = sink.defer();
      return new Promise<void>((resolve) => {
        pending.push({
          run,
          finish: () => {
            for (const id of ids) reply.out.bulk(Buffer.from(id));
            reply.done();
            resolve();
          },
        });
      });
    },
    writes: () => 0,
    awaitDurable: () => false,
  });
  // As the dispatcher: a new command queues behind held ones; a held one, when its turn comes, runs.
  const dispatch = (argv: Buffer[], sink: ReplySink): void => (seq.holding ? seq.hold(argv, sink) : run(argv, sink));
  const run = (argv: Buffer[], sink: ReplySink): void => {
    const kind = argv[0]!.toString();
    if (kind === 'K') return seq.add(Number(argv[1]!.toString()), undefined, false, { spec: SPEC, argv }, sink);
    if (kind === 'X') return seq.add(Number(argv[1]!.toString()), undefined, true, { spec: SPEC, argv }, sink);
    seq.flush();
    if (seq.busy) return seq.hold(argv, sink);
    started.push(argv[1]!.toString());
    sink.out.bulk(argv[1]!);
  };
  const sink = new CaptureSink(2);
  const send = (...cmds: string[]): void => {
    for (const c of cmds) dispatch(c.split(' ').map((p) => Buffer.from(p)), sink);
    seq.flush();
  };
  const finish = async (id: string): Promise<void> => {
    const i = pending.findIndex((p) => p.run.commands.some((c) => c.argv[2]!.toString() === id));
    expect(i, `run with ${id} is running`).toBeGreaterThanOrEqual(0);
    pending.splice(i, 1)[0]!.finish();
    await new Promise((r) => setImmediate(r));
  };
  const replies = async (): Promise<string[]> => {
    const text = (await sink.collect()).toString();
    return [...text.matchAll(/\$\d+\r\n([^\r]*)\r\n/g)].map((m) => m[1]!);
  };
  return { send, finish, replies, started, setSync: (v: boolean) => (syncRuns = v) };
}

describe('CommandSequencer', () => {
  it('groups consecutive same-slot commands into one run and keeps each slot in order', async () => {
    const h = harness();
    h.send('K 1 a', 'K 1 b', 'K 2 c', 'K 1 d', 'K 2 e');
    // a+b and c start at once (different slots); d waits for a+b, e for c.
    expect(h.started).toEqual(['a+b', 'c']);
    await h.finish('c');
    expect(h.started).toEqual(['a+b', 'c', 'e']);
    await h.finish('a');
    expect(h.started).toEqual(['a+b', 'c', 'e', 'd']);
    await h.finish('e');
    await h.finish('d');
    expect(await h.replies()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a keyless command waits for every running run and holds everything after it', async () => {
    const h = harness();
    h.send('K 1 a', 'B z', 'K 2 b', 'K 1 c');
    expect(h.started).toEqual(['a']);
    await h.finish('a');
    // z ran, then b and c (held behind z) started, each as its own run.
    expect(h.started).toEqual(['a', 'z', 'b', 'c']);
    await h.finish('c');
    await h.finish('b');
    expect(await h.replies()).toEqual(['a', 'z', 'b', 'c']);
  });

  it('commands arriving in a later batch queue behind held ones', async () => {
    const h = harness();
    h.send('K 1 a', 'B y');
    h.send('K 3 b', 'B z');
    expect(h.started).toEqual(['a']);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'y', 'b']);
    await h.finish('b');
    expect(h.started).toEqual(['a', 'y', 'b', 'z']);
    expect(await h.replies()).toEqual(['a', 'y', 'b', 'z']);
  });

  it('an exclusive run waits for the others and holds later commands until it ends', async () => {
    const h = harness();
    h.send('K 1 a', 'X 2 w', 'K 3 b');
    expect(h.started).toEqual(['a']);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'w']);
    await h.finish('w');
    expect(h.started).toEqual(['a', 'w', 'b']);
    await h.finish('b');
    expect(await h.replies()).toEqual(['a', 'w', 'b']);
  });

  it('runs that answer at once keep the fast path: no wait, replies in line', async () => {
    const h = harness();
    h.setSync(true);
    h.send('K 1 a', 'B x', 'K 2 b', 'K 2 c', 'B y');
    expect(h.started).toEqual(['a', 'x', 'b+c', 'y']);
    expect(await h.replies()).toEqual(['a', 'x', 'b', 'c', 'y']);
  });
});
