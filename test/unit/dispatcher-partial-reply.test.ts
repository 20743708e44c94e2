// Goal: a command that fails after writing part of its reply answers with the error alone, so the
// connection's later replies stay in step (a pipelined LPOP with a count once sent an array header,
// then the error inside it). Method: the real Dispatcher.run with a command that writes an array
// header and one element, then throws; the reply bytes are compared.
import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/server/dispatcher.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { ReplyError } from '../../src/core/errors.js';
import { command } from '../../src/commands/spec.js';
import { ServerStats } from '../../src/server/stats.js';
import { TransientSession } from '../../src/server/transient-session.js';
import { silentLogger } from '../../src/core/logger.js';
import type { NodeServices } from '../../src/server/node-services.js';
import type { Keyspace } from '../../src/commands/keyspace.js';
import { KeyspaceNotifier } from '../../src/pubsub/keyspace-notifier.js';
import { PubSubHub } from '../../src/pubsub/pubsub-hub.js';
import { ClientTracking } from '../../src/server/client-tracking.js';

describe('Dispatcher.run', () => {
  it('replaces a half-written reply by the error', () => {
    const config = { int: (name: string): number => (name === 'slowlog-log-slower-than' ? -1 : 128) };
    const node = { stats: new ServerStats(), logger: silentLogger, now: () => 0, config, notifier: new KeyspaceNotifier(new PubSubHub()), tracking: new ClientTracking(() => undefined) } as unknown as NodeServices;
    const keyspace = { now: 0, atomically: <T>(fn: () => T): T => fn() } as unknown as Keyspace & { now: number; atomically<T>(fn: () => T): T };
    const spec = command({
      name: 'halfway', arity: 1, flags: ['write'],
      run: (ctx) => {
        ctx.out.arrayHeader(3);
        ctx.out.bulk('first');
        throw new ReplyError('ERR something went wrong');
      },
    });
    const d = new Dispatcher(node, new Map([[spec.name, spec]]), keyspace);
    const out = new ReplyWriter(2);
    out.simple('before');
    d.run(new TransientSession(2, false, 't'), spec, [Buffer.from('halfway')], out);
    expect(out.take().toString()).toBe('+before\r\n-ERR something went wrong\r\n');
  });
});
