/**
 * Goal: the failover bench's generator (bench/lib/ackload.ts) reports what the cluster acknowledged
 * and its checks catch what went wrong: the read-back after the mark reads keys acknowledged before
 * it, the final read-back finds an acknowledged key that is gone, and the counter check finds a
 * counter above the increments the client issued. Method: the built generator against a real
 * 3-node ringkv cluster, steered by its signals; two keys deleted and one counter raised behind its
 * back through a separate ioredis client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { ROOT } from '../helpers/server.js';
import { parseAckMessage, type AckMessage } from '../../bench/lib/ack-messages.js';

const GENERATOR = path.join(ROOT, 'dist/bench/lib/ackload.js');

/** Resolves with the first message of `type` the generator prints (or already printed). */
function waitFor<T extends AckMessage['type']>(messages: AckMessage[], type: T, timeoutMs: number): Promise<Extract<AckMessage, { type: T }>> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    for (;;) {
      const found = messages.find((m) => m.type === type);
      if (found !== undefined) return found as Extract<AckMessage, { type: T }>;
      if (Date.now() > deadline) throw new Error(`no ${type} line within ${timeoutMs} ms`);
      await sleep(50);
    }
  })();
}

describe('acknowledged-writes generator of the failover bench', () => {
  let c: TestCluster;
  let gen: ChildProcess | undefined;
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60_000);
  afterAll(async () => {
    if (gen !== undefined && gen.exitCode === null && gen.signalCode === null) gen.kill('SIGKILL');
    await c?.stop();
  });

  it('reads back what was acknowledged, and its final checks catch a lost key and an extra increment', async () => {
    const messages: AckMessage[] = [];
    let stderr = '';
    gen = spawn(process.execPath, [
      GENERATOR, ...c.ports.flatMap((p) => ['--node', `127.0.0.1:${p}`]),
      '--clients', '4', '--mix', 'set,incr', '--counters', '5', '--readback-keys', '100', '--max-seconds', '50',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    gen.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = parseAckMessage(line);
        if (m !== null) messages.push(m);
      }
    });
    gen.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    const exited = new Promise<number | null>((resolve) => gen!.once('exit', (code) => resolve(code)));

    await waitFor(messages, 'ready', 20_000);
    await sleep(1500);
    gen.kill('SIGUSR1');
    const marked = await waitFor(messages, 'marked', 5000);
    expect(marked.keys).toBeGreaterThan(0);
    gen.kill('SIGUSR2');
    const readback = await waitFor(messages, 'readback', 25_000);
    expect(readback).toMatchObject({ acknowledged: marked.keys, keys: Math.min(100, marked.keys), missing: 0, wrong: 0, errors: 0, unanswered: 0 });
    expect(readback.ok).toBe(readback.keys);

    // Behind the generator's back: two acknowledged keys gone, one counter raised by 1000.
    const other = new Cluster([{ host: '127.0.0.1', port: c.ports[1]! }]);
    try {
      // Each worker's first command is a SET of its key number 0.
      expect(await other.del('fo:0:0')).toBe(1);
      expect(await other.del('fo:1:0')).toBe(1);
      await other.incrby('fo:counter:0', 1000);
    } finally {
      other.disconnect();
    }

    gen.kill('SIGTERM');
    const final = await waitFor(messages, 'final', 40_000);
    expect(await exited, stderr).toBe(0);

    const slices = messages.filter((m) => m.type === 'slice');
    const setOk = slices.reduce((n, s) => n + s.setOk, 0);
    expect(final.keys.keys).toBe(setOk);
    expect(final.keys).toMatchObject({ missing: 2, wrong: 0, errors: 0, unanswered: 0 });
    expect(final.keys.ok).toBe(setOk - 2);

    expect(final.counters).toHaveLength(5);
    expect(final.counterErrors).toEqual([]);
    const incrOk = slices.reduce((n, s) => n + s.incrOk, 0);
    expect(final.counters.reduce((n, k) => n + k.acked, 0)).toBe(incrOk);
    for (const k of final.counters) {
      // No fault: every INCR answered, none failed, none left in flight.
      expect(k.failed + k.pending).toBe(0);
      expect(k.value).toBe(k.acked + (k.key === 'fo:counter:0' ? 1000 : 0));
    }
  }, 120_000);
});
