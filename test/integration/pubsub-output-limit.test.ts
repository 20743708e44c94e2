/**
 * Goal: a subscriber that stops reading is disconnected by `client-output-buffer-limit pubsub`
 * (hard limit at once, soft limit after its seconds) instead of growing the node's memory, while
 * the node and its other subscribers carry on; the setting reads and writes in Redis's format.
 * Method: one real node; a raw socket subscribes and then stops reading (paused, so the kernel
 * buffers fill and the node's output queue grows); a publisher sends 64 KB messages; the stalled
 * client must vanish from CLIENT LIST and PUBSUB NUMSUB, INFO must count the disconnection, a
 * reading subscriber must get every message, and the node's RSS must stay bounded.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startNode, type NodeProcess } from '../helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** A subscriber that reads its confirmation and then never reads again. */
async function stalledSubscriber(port: number, channel: string): Promise<net.Socket> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  sock.write(`*2\r\n$9\r\nSUBSCRIBE\r\n$${channel.length}\r\n${channel}\r\n`);
  await new Promise<void>((resolve) => sock.once('data', () => resolve()));
  sock.pause();
  return sock;
}

describe('slow subscribers and client-output-buffer-limit', () => {
  let node: NodeProcess;
  let ctl: Redis;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
    ctl = new Redis({ port: node.port });
  });
  afterAll(async () => {
    ctl?.disconnect();
    await node?.stop();
  });

  it('CONFIG SET changes only the class given; CONFIG GET shows every class in bytes', async () => {
    expect(await ctl.config('GET', 'client-output-buffer-limit')).toEqual(['client-output-buffer-limit', 'normal 268435456 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60']);
    expect(await ctl.config('SET', 'client-output-buffer-limit', 'pubsub 1mb 0 0')).toBe('OK');
    expect(await ctl.config('GET', 'client-output-buffer-limit')).toEqual(['client-output-buffer-limit', 'normal 268435456 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0']);
    await expect(ctl.config('SET', 'client-output-buffer-limit', 'pubsub 1mb 0')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.");
    await expect(ctl.config('SET', 'client-output-buffer-limit', 'foo 1 2 3')).rejects.toThrow('Invalid client class specified in buffer limit configuration.');
  });

  it('a stalled subscriber is closed at the hard limit; a reading one gets every message; memory stays bounded', async () => {
    await ctl.config('SET', 'client-output-buffer-limit', 'pubsub 1mb 0 0');
    const stalled = await stalledSubscriber(node.port, 'slow:ch');
    const reader = new Redis({ port: node.port });
    let received = 0;
    reader.on('message', () => received++);
    await reader.subscribe('slow:ch');
    const pub = new Redis({ port: node.port });
    const rssBefore = rssBytes(node.proc.pid!);
    const payload = 'x'.repeat(64 * 1024);
    let sent = 0;
    try {
      // 64 MB in all: far more than the kernel's socket buffers and the 1 MB limit together.
      for (let batch = 0; batch < 32; batch++) {
        const p = pub.pipeline();
        for (let i = 0; i < 32; i++) p.publish('slow:ch', payload);
        const replies = (await p.exec()) ?? [];
        for (const [err] of replies) expect(err).toBeNull();
        sent += 32;
      }
      await waitFor('the reader got everything', () => received >= sent);
      expect(received).toBe(sent);
      expect(await ctl.pubsub('NUMSUB', 'slow:ch')).toEqual(['slow:ch', 1]);
      const info = await ctl.info('stats');
      expect(info).toMatch(/client_output_buffer_limit_disconnections:1\r\n/);
      expect(await pub.publish('slow:ch', 'small')).toBe(1);
      // The stalled client's backlog was dropped with it: what clients hold now is small, and RSS
      // grew by less than the 64 MB a kept backlog would add to the 40-48 MB of garbage the
      // messages leave behind until the heap shrinks (measured on a quiet machine, before and after).
      const clientBytes = Number(/mem_clients_normal:(\d+)/.exec(await ctl.info('memory'))?.[1] ?? -1);
      expect(clientBytes).toBeGreaterThanOrEqual(0);
      expect(clientBytes).toBeLessThan(4 * 1024 * 1024);
      const grown = rssBytes(node.proc.pid!) - rssBefore;
      expect(grown).toBeLessThan(96 * 1024 * 1024);
      expect(await ctl.ping()).toBe('PONG');
      expect(node.output()).toMatch(/output buffer limits/);
    } finally {
      stalled.destroy();
      reader.disconnect();
      pub.disconnect();
    }
  }, 60000);

  it('the soft limit closes a subscriber once its seconds pass even when nothing more is published', async () => {
    await ctl.config('SET', 'client-output-buffer-limit', 'pubsub 0 256kb 1');
    const stalled = await stalledSubscriber(node.port, 'quiet:ch');
    const pub = new Redis({ port: node.port });
    try {
      const payload = 'y'.repeat(64 * 1024);
      const p = pub.pipeline();
      for (let i = 0; i < 256; i++) p.publish('quiet:ch', payload);
      await p.exec();
      expect(await ctl.pubsub('NUMSUB', 'quiet:ch')).toEqual(['quiet:ch', 1]);
      // No more publishing: the node's own periodic check (as Redis's clientsCron) closes it.
      await waitFor('soft-limit disconnection without traffic', async () => (await ctl.pubsub('NUMSUB', 'quiet:ch'))[1] === 0, 5000);
    } finally {
      stalled.destroy();
      pub.disconnect();
      await ctl.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    }
  }, 30000);

  it('a single reply over the hard limit closes the client before any of it is sent, as Redis', async () => {
    // (Redis's obuf-limits unit: "No response for single command if client output buffer hard limit is enforced".)
    await ctl.config('SET', 'client-output-buffer-limit', 'normal 100000 0 0');
    const sock = net.connect(node.port, '127.0.0.1');
    sock.on('error', () => undefined);
    try {
      await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
      await ctl.del('obuf:list');
      await ctl.rpush('obuf:list', ...Array.from({ length: 150 }, () => 'x'.repeat(1000)));
      let received = '';
      sock.on('data', (d: Buffer) => (received += d.toString('latin1')));
      const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
      sock.write('*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*4\r\n$6\r\nLRANGE\r\n$9\r\nobuf:list\r\n$1\r\n0\r\n$2\r\n-1\r\n');
      await closed;
      // Nothing of the 150 KB reply arrives, nor the reply queued with it (Redis drops the client's
      // whole output buffer when it closes it).
      expect(received).toBe('');
    } finally {
      sock.destroy();
      await ctl.config('SET', 'client-output-buffer-limit', 'normal 0 0 0');
    }
  }, 30000);

  it('a huge negative count of random picks, or KEYS of too many names, closes the client at its output limit; the node stays up', async () => {
    // (Redis's obuf-limits unit: "Obuf limit, HRANDFIELD with huge count stopped mid-run".) Each
    // command built its whole reply first: 999,999,999 picks ran the node out of memory.
    await ctl.config('SET', 'client-output-buffer-limit', 'normal 1000000 0 0');
    try {
      await ctl.hset('huge:h', 'a', 'b');
      await ctl.sadd('huge:s', 'a');
      await ctl.zadd('huge:z', '1', 'a');
      for (const argv of [['HRANDFIELD', 'huge:h', '-999999999'], ['HRANDFIELD', 'huge:h', '-999999999', 'WITHVALUES'], ['SRANDMEMBER', 'huge:s', '-999999999'], ['ZRANDMEMBER', 'huge:z', '-999999999', 'WITHSCORES']]) {
        const c = new Redis({ port: node.port, maxRetriesPerRequest: 0, retryStrategy: () => null });
        c.on('error', () => undefined);
        await expect(c.call(argv[0]!, ...argv.slice(1)), argv.join(' ')).rejects.toThrow(/Connection is closed|ECONNRESET/);
        c.disconnect();
      }
      // KEYS over a keyspace whose names pass the limit stops mid-run too ("Obuf limit, KEYS stopped mid-run").
      const prefix = 'long-key-name-prefix-of-100-chars-'.padEnd(100, '-');
      const p = ctl.pipeline();
      for (let i = 0; i < 1000; i++) p.set(`${prefix}${i}`, 'v');
      await p.exec();
      await ctl.config('SET', 'client-output-buffer-limit', 'normal 100000 0 0');
      const k = new Redis({ port: node.port, maxRetriesPerRequest: 0, retryStrategy: () => null });
      k.on('error', () => undefined);
      await expect(k.keys('*')).rejects.toThrow(/Connection is closed|ECONNRESET/);
      k.disconnect();
      expect(await ctl.ping()).toBe('PONG');
      // Within the limit, repeated picks come back as asked.
      expect((await ctl.call('SRANDMEMBER', 'huge:s', '-3000')) as unknown[]).toHaveLength(3000);
      expect((await ctl.call('HRANDFIELD', 'huge:h', '-2500', 'WITHVALUES')) as unknown[]).toHaveLength(2500);
    } finally {
      await ctl.config('SET', 'client-output-buffer-limit', 'normal 0 0 0');
    }
  }, 60000);

  it('the soft limit closes a subscriber only once it stayed over it longer than its seconds', async () => {
    await ctl.config('SET', 'client-output-buffer-limit', 'pubsub 0 256kb 1');
    const stalled = await stalledSubscriber(node.port, 'soft:ch');
    const pub = new Redis({ port: node.port });
    try {
      const payload = 'y'.repeat(64 * 1024);
      const p = pub.pipeline();
      for (let i = 0; i < 256; i++) p.publish('soft:ch', payload);
      await p.exec();
      // Over the soft limit now, but not for a second yet: still subscribed.
      expect(await ctl.pubsub('NUMSUB', 'soft:ch')).toEqual(['soft:ch', 1]);
      // Each publish re-checks the limit; after the soft seconds the client goes.
      await waitFor('soft-limit disconnection', async () => {
        await pub.publish('soft:ch', 'tick');
        return (await ctl.pubsub('NUMSUB', 'soft:ch'))[1] === 0;
      }, 10000);
      expect(await ctl.ping()).toBe('PONG');
    } finally {
      stalled.destroy();
      pub.disconnect();
      await ctl.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    }
  }, 30000);
});
