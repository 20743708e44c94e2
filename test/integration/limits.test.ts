/**
 * Goal: every client-facing limit is enforced and the server carries on for everyone else:
 * slow readers past client-output-buffer-limit, maxclients, idle timeout; appendfsync changes at run time.
 * Method: one real node with small limits; raw sockets that misbehave next to a well-behaved client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import Redis from 'ioredis';
import { rawExchange, startNode, type NodeProcess } from '../helpers/server.js';

let node: NodeProcess;
beforeAll(async () => {
  node = await startNode({ args: ['--appendfsync', 'no', '--maxclients', '20', '--client-output-buffer-limit', 'normal 2mb 0 0'] });
});
afterAll(async () => {
  await node?.stop();
});

describe('limits', () => {
  it('a client that never reads its replies is closed at client-output-buffer-limit', async () => {
    const r = new Redis({ port: node.port });
    await r.set('big', Buffer.alloc(512 * 1024, 1));
    const sock = net.connect(node.port, '127.0.0.1');
    sock.on('error', () => undefined);
    // The server may close it as soon as its queued replies pass the limit, before anything is read.
    const closed = new Promise<boolean>((res) => sock.once('close', () => res(true)));
    await new Promise((res) => sock.once('connect', res));
    sock.pause();
    for (let i = 0; i < 200; i++) sock.write('GET big\r\n');
    // Let the server queue replies while nothing is read, then drain what it sent before closing.
    await new Promise((res) => setTimeout(res, 1500));
    let received = 0;
    sock.on('data', (d: Buffer) => (received += d.length));
    sock.resume();
    const wasClosed = await Promise.race([closed, new Promise<boolean>((res) => setTimeout(() => res(false), 10000))]);
    sock.destroy();
    expect(wasClosed).toBe(true);
    expect(received).toBeLessThan(200 * 512 * 1024);
    expect(await r.ping()).toBe('PONG');
    r.disconnect();
  });

  it('connections beyond maxclients are refused with Redis\'s error', async () => {
    const socks: net.Socket[] = [];
    for (let i = 0; i < 25; i++) {
      const s = net.connect(node.port, '127.0.0.1');
      await new Promise((res) => s.once('connect', res));
      socks.push(s);
    }
    const refused = await rawExchange(node.port, 'PING\r\n', (d) => d.includes('\r\n'));
    expect(refused.data.toString()).toBe('-ERR max number of clients reached\r\n');
    // As Redis does, the server closes a refused connection itself, whether or not the client reads.
    const closedByServer = await rawExchange(node.port, '', () => false);
    expect(closedByServer).toEqual({ data: Buffer.from('-ERR max number of clients reached\r\n'), closed: true });
    socks.forEach((s) => s.destroy());
    await new Promise((res) => setTimeout(res, 200));
    expect((await rawExchange(node.port, 'PING\r\n', (d) => d.includes('\r\n'))).data.toString()).toBe('+PONG\r\n');
  });

  it('CONFIG SET timeout closes idle clients; appendfsync switches at run time', async () => {
    const r = new Redis({ port: node.port });
    expect(await r.config('SET', 'appendfsync', 'always')).toBe('OK');
    await r.set('durable', 'yes');
    expect(await r.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    await r.config('SET', 'appendfsync', 'everysec');
    await r.config('SET', 'timeout', '1');
    const idle = net.connect(node.port, '127.0.0.1');
    const closed = await new Promise<boolean>((res) => {
      idle.once('close', () => res(true));
      setTimeout(() => res(false), 5000);
    });
    expect(closed).toBe(true);
    await r.config('SET', 'timeout', '0');
    r.disconnect();
  });
});
