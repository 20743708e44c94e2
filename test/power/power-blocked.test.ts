/**
 * Goal: a reply that waits for durability outside the connection's own write path (a blocked
 * BLPOP served by another client's push) reports a failed log write as an error, as every other
 * write reply does, instead of handing out an element whose pop never reached the disk. Method:
 * lazyfs fails the commit log's next fdatasync (a power cut) while a BLPOP waits and an LPUSH
 * serves it; then the node restarts on what the disk kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { fuseUnavailable } from './lazy-mount.js';
import { startRig, stopRig, type Rig } from './power-cycle.js';

const unavailable = fuseUnavailable();

describe.skipIf(unavailable !== undefined)('power loss while a blocked pop is served', () => {
  let rig: Rig | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    rig = await startRig(['--appendfsync', 'always']);
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await stopRig(rig);
  });

  it('answers the served BLPOP with an error when its pop cannot be made durable', async () => {
    const client = (): Redis => {
      const c = new Redis({ port: rig!.node.port, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    };
    const consumer = client();
    const producer = client();
    await producer.set('before', 'durable');
    const popped = consumer.blpop('queue', 0).then((v) => ({ ok: v }), (e: Error) => ({ err: e.message }));
    // The consumer is blocked once CLIENT LIST shows it in BLPOP.
    for (let i = 0; i < 200 && !/cmd=blpop/.test(await producer.client('LIST') as string); i++) await new Promise((r) => setTimeout(r, 10));
    rig!.mount.arm(String.raw`^fsync\s.*commit-`, 1);
    const pushed = await producer.lpush('queue', 'job-1').then((n) => ({ ok: n }), (e: Error) => ({ err: e.message }));
    const pop = await popped;
    expect(rig!.mount.status().cut_at).toMatch(/^fsync .*commit-/);
    expect(pushed).toEqual({ err: 'ERR write could not be made durable' });
    // Before the fix the consumer got ['queue', 'job-1'] for a push and pop that the disk never saw.
    expect(pop).toEqual({ err: 'ERR write could not be made durable' });
    await rig!.node.kill9();
    await rig!.mount.unmount();
    await rig!.mount.mount();
    await rig!.node.restart();
    const check = client();
    expect(await check.get('before')).toBe('durable');
    expect(await check.lrange('queue', 0, -1)).toEqual([]);
  }, 60_000);
});
