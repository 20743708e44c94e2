/**
 * Goal: the cluster bus carries requests, responses and one-way messages between authenticated
 * nodes, keeps working through garbage, peer restarts and overload, and fails fast (never hangs)
 * when a peer is gone.
 * Method: real buses on 127.0.0.1 with ephemeral ports; raw sockets play strangers, silent peers
 * and authenticated peers that send malformed frames.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BusError, ClusterBus, type BusAddress, type ClusterBusOptions } from '../../src/cluster/bus/cluster-bus.js';
import { encodeFrame, FrameKind } from '../../src/cluster/bus/frame.js';
import { Handshake } from '../../src/cluster/bus/handshake.js';
import { PENDING_REQUESTS_MAX } from '../../src/cluster/bus/peer-link.js';
import { silentLogger } from '../../src/core/logger.js';

const SECRET = 'test-secret';
const open: { close(): Promise<void> | void }[] = [];

afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

function nodeId(n: number): string {
  return n.toString(16).padStart(40, '0');
}

async function startBus(n: number, extra: Partial<ClusterBusOptions> = {}): Promise<ClusterBus> {
  const bus = new ClusterBus({
    nodeId: nodeId(n),
    advertise: { host: '127.0.0.1', port: 0 },
    listen: { host: '127.0.0.1', port: 0 },
    secret: SECRET,
    logger: silentLogger,
    ...extra,
  });
  open.push(bus);
  await bus.listen();
  return bus;
}

const addr = (bus: ClusterBus): BusAddress => ({ host: '127.0.0.1', port: bus.port });

async function rejection(p: Promise<unknown>): Promise<BusError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BusError);
    return err as BusError;
  }
  throw new Error('expected a rejection');
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function capturingLogger(): { logger: typeof silentLogger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { logger, lines };
}

/** A TCP server that accepts connections and never says anything. */
async function silentServer(): Promise<{ server: Server; port: number }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  open.push({
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

/** Opens a raw socket to a bus and completes the handshake as node 99, to send hand-made frames. */
async function authenticatedSocket(port: number, secret = SECRET): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  open.push({ close: () => void socket.destroy() });
  const hs = new Handshake({ role: 'connect', secret, nodeId: nodeId(99), advertise: { host: '127.0.0.1', port: 1 } }, randomBytes(32));
  socket.write(hs.hello());
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      const step = hs.receive(chunk);
      if (step.state === 'failed') reject(new Error(step.message));
      else for (const b of step.send) socket.write(b);
      if (step.state === 'done') resolve();
    });
    socket.on('error', reject);
  });
  socket.removeAllListeners('data');
  return socket;
}

describe('cluster bus', () => {
  it('answers a request and tells the handler who asked', async () => {
    const a = await startBus(1);
    const b = await startBus(2);
    b.handle('echo', (from, payload) => ({ from, payload }));
    expect(a.linkState(addr(b))).toBe('disconnected');
    const reply = (await a.request(addr(b), 'echo', { x: 1, s: 'hi', n: null, t: true, big: 12345678901234567890n })) as {
      from: { nodeId: string; address: BusAddress };
      payload: unknown;
    };
    expect(reply.from).toEqual({ nodeId: nodeId(1), address: { host: '127.0.0.1', port: a.port } });
    expect(reply.payload).toEqual({ x: 1, s: 'hi', n: null, t: true, big: 12345678901234567890n });
    expect(a.linkState(addr(b))).toBe('connected');
    const stats = a.stats();
    expect(stats.sent_messages_echo).toBe(1);
    expect(stats.received_messages_echo).toBe(1);
    expect(stats.links_outgoing).toBe(1);
    expect(b.stats().links_incoming).toBe(1);
  });

  it('carries 10k concurrent requests on one link, matched by id', async () => {
    const a = await startBus(1);
    const b = await startBus(2);
    // Every third reply is delayed so responses come back out of order.
    b.handle('double', (_from, n) => ((n as number) % 3 === 0 ? new Promise((r) => setTimeout(() => r((n as number) * 2), 5)) : (n as number) * 2));
    const n = 10_000;
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => a.request(addr(b), 'double', i)));
    expect(replies).toEqual(Array.from({ length: n }, (_, i) => i * 2));
    expect(b.stats().received_messages_double).toBe(n);
    expect(a.stats().requests_pending).toBe(0);
  });

  it('round-trips Buffers, small and large, as Buffers', async () => {
    const a = await startBus(1);
    const b = await startBus(2);
    b.handle('store', (_from, p) => p);
    const big = randomBytes(8 * 1024 * 1024 + 3);
    const reply = (await a.request(addr(b), 'store', { key: Buffer.from('k1'), value: big, empty: Buffer.alloc(0) }, 10_000)) as Record<string, Buffer>;
    expect(Buffer.isBuffer(reply.key) && Buffer.isBuffer(reply.value) && Buffer.isBuffer(reply.empty)).toBe(true);
    expect(reply.key!.toString()).toBe('k1');
    expect(reply.value!.equals(big)).toBe(true);
    expect(reply.empty!.length).toBe(0);
  });

  it('delivers one-way messages in order', async () => {
    const a = await startBus(1);
    const b = await startBus(2);
    const got: number[] = [];
    let sender = '';
    b.on('gossip', (from, p) => {
      sender = from.nodeId;
      got.push((p as { seq: number }).seq);
    });
    for (let i = 0; i < 100; i++) a.send(addr(b), 'gossip', { seq: i });
    await until(() => got.length === 100);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(sender).toBe(nodeId(1));
  });

  it('turns handler errors and unknown types into error responses', async () => {
    const a = await startBus(1);
    const b = await startBus(2);
    b.handle('sync-throw', () => {
      throw new Error('disk full');
    });
    b.handle('async-throw', async () => {
      throw new Error('no quorum');
    });
    expect(await rejection(a.request(addr(b), 'sync-throw', null))).toMatchObject({ code: 'remote', message: 'disk full' });
    expect(await rejection(a.request(addr(b), 'async-throw', null))).toMatchObject({ code: 'remote', message: 'no quorum' });
    expect(await rejection(a.request(addr(b), 'nope', null))).toMatchObject({ code: 'remote', message: "unknown bus request 'nope'" });
    // One-way messages of unknown types are ignored, and the link stays up.
    a.send(addr(b), 'from-the-future', 1);
    b.handle('ping', () => 'pong');
    expect(await a.request(addr(b), 'ping', null)).toBe('pong');
    expect(b.stats().unknown_messages).toBe(2);
  });

  it('refuses a peer with the wrong secret, counts it, warns once, runs no handler', async () => {
    const { logger, lines } = capturingLogger();
    const b = await startBus(2, { logger });
    let ran = 0;
    b.handle('ping', () => ++ran);
    b.on('gossip', () => void ++ran);
    const intruder = await startBus(3, { secret: 'wrong' });
    const err = await rejection(intruder.request(addr(b), 'ping', null));
    expect(err.code).toBe('unreachable');
    expect(err.message).toMatch(/secret/);
    intruder.send(addr(b), 'gossip', 1);
    const intruder2 = await startBus(4, { secret: '' });
    await rejection(intruder2.request(addr(b), 'ping', null));
    await until(() => b.stats().auth_failures === 2);
    expect(ran).toBe(0);
    const warnings = lines.filter((l) => l.level === 40 && /authentication/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(b.stats().links_incoming).toBe(0);
  });

  it('fails pending and new requests fast when the peer goes away', async () => {
    const a = await startBus(1, { requestTimeoutMs: 5000 });
    const b = await startBus(2);
    b.handle('hang', () => new Promise(() => {}));
    b.handle('ping', () => 'pong');
    expect(await a.request(addr(b), 'ping', null)).toBe('pong');
    const pending = a.request(addr(b), 'hang', null);
    const started = Date.now();
    await b.close();
    // Pending on a link that was up: it may have reached the peer ('lost'); a new request was never sent.
    expect(await rejection(pending)).toMatchObject({ code: 'lost' });
    expect((await rejection(a.request(addr(b), 'ping', null))).code).toBe('unreachable');
    // While backing off, requests fail without even trying to connect.
    expect((await rejection(a.request(addr(b), 'ping', null))).message).toMatch(/retrying in/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(a.linkState(addr(b))).toBe('disconnected');
  });

  it('reconnects after the peer restarts on the same port', async () => {
    const a = await startBus(1);
    const b = await startBus(2);
    b.handle('ping', () => 'pong-1');
    expect(await a.request(addr(b), 'ping', null)).toBe('pong-1');
    const port = b.port;
    await b.close();
    await rejection(a.request({ host: '127.0.0.1', port }, 'ping', null));
    const b2 = await startBus(2, { listen: { host: '127.0.0.1', port } });
    b2.handle('ping', () => 'pong-2');
    let reply: unknown;
    await until(() => {
      a.request({ host: '127.0.0.1', port }, 'ping', null).then(
        (r) => void (reply = r),
        () => {},
      );
      return reply === 'pong-2';
    });
    expect(a.linkState({ host: '127.0.0.1', port })).toBe('connected');
  });

  it('survives garbage before and after authentication', async () => {
    const a = await startBus(1);
    const b = await startBus(2);
    b.handle('ping', () => 'pong');
    for (const junk of ['GET / HTTP/1.1\r\n\r\n', 'PING\r\n', randomBytes(5000).toString('latin1')]) {
      const s = connect({ host: '127.0.0.1', port: b.port });
      open.push({ close: () => void s.destroy() });
      s.on('error', () => {});
      s.write(Buffer.from(junk, 'latin1'));
    }
    const bad: Buffer[] = [
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0]), // 4 GiB length
      Buffer.from([0, 0, 0, 8, 9, 0, 0, 0, 1, 0, 0, 0xc0]), // unknown kind
      Buffer.from([0, 0, 0, 8, 0, 0, 0, 0, 1, 0, 0, 0xd9]), // truncated msgpack
    ];
    for (const frame of bad) {
      const s = await authenticatedSocket(b.port);
      s.on('error', () => {});
      const closed = new Promise<void>((r) => s.on('close', () => r()));
      s.write(frame);
      await closed;
    }
    expect(b.stats().protocol_errors).toBeGreaterThanOrEqual(3 + 3);
    expect(await a.request(addr(b), 'ping', null)).toBe('pong');
  });

  it('closes a link that sends a frame over the limit, then carries on', async () => {
    const a = await startBus(1);
    const b = await startBus(2, { maxFrameBytes: 1024 * 1024 });
    b.handle('put', () => 'ok');
    expect(await a.request(addr(b), 'put', Buffer.alloc(100))).toBe('ok');
    // The peer hung up on the link the frame was sent on: whether it ran is unknown to the sender.
    expect((await rejection(a.request(addr(b), 'put', Buffer.alloc(2 * 1024 * 1024)))).code).toBe('lost');
    expect(b.stats().protocol_errors).toBe(1);
    expect(await a.request(addr(b), 'put', Buffer.alloc(100))).toBe('ok');
    // The sender refuses frames over its own limit before they reach the wire.
    expect((await rejection(b.request(addr(a), 'put', Buffer.alloc(2 * 1024 * 1024)))).code).toBe('encode');
  });

  it('times out requests, including ones waiting for a connect or handshake that never completes', async () => {
    const a = await startBus(1, { connectTimeoutMs: 200 });
    const b = await startBus(2);
    b.handle('hang', () => new Promise(() => {}));
    let started = Date.now();
    expect(await rejection(a.request(addr(b), 'hang', null, 100))).toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(a.stats().requests_timed_out).toBe(1);
    const silent = await silentServer();
    started = Date.now();
    const err = await rejection(a.request({ host: '127.0.0.1', port: silent.port }, 'ping', null, 5000));
    expect(err.code).toBe('unreachable');
    expect(err.message).toMatch(/timed out after 200 ms/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('refuses sends beyond the per-peer queue limit instead of buffering', async () => {
    const a = await startBus(1, { maxQueuedBytesPerPeer: 100_000, connectTimeoutMs: 500 });
    const silent = await silentServer();
    const to = { host: '127.0.0.1', port: silent.port };
    // The handshake never completes, so everything stays queued.
    const first = a.request(to, 'put', Buffer.alloc(60_000));
    const second = a.request(to, 'put', Buffer.alloc(60_000));
    expect(await rejection(second)).toMatchObject({ code: 'overloaded' });
    a.send(to, 'gossip', Buffer.alloc(60_000));
    expect(a.stats().messages_dropped).toBe(1);
    expect(a.stats().requests_refused).toBe(1);
    expect((await rejection(first)).code).toBe('unreachable');
  });

  it('drops low-priority messages once a quarter of the queue is taken, leaving room for requests', async () => {
    const a = await startBus(1, { maxQueuedBytesPerPeer: 100_000, connectTimeoutMs: 500 });
    const silent = await silentServer();
    const to = { host: '127.0.0.1', port: silent.port };
    // The handshake never completes, so everything stays queued.
    expect(a.sendLowPriority(to, 'pub', Buffer.alloc(20_000))).toBe(true);
    expect(a.sendLowPriority(to, 'pub', Buffer.alloc(20_000))).toBe(true);
    expect(a.sendLowPriority(to, 'pub', Buffer.alloc(20_000))).toBe(false);
    expect(a.stats().messages_dropped).toBe(1);
    // A request still fits in what is left.
    const req = a.request(to, 'put', Buffer.alloc(50_000));
    expect(a.stats().requests_refused).toBe(0);
    expect((await rejection(req)).code).toBe('unreachable');
  });

  it('refuses requests beyond the pending limit of a link', async () => {
    const a = await startBus(1, { connectTimeoutMs: 300 });
    const silent = await silentServer();
    const to = { host: '127.0.0.1', port: silent.port };
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < PENDING_REQUESTS_MAX; i++) all.push(a.request(to, 'ping', null, 10_000).catch(() => undefined));
    expect(await rejection(a.request(to, 'ping', null))).toMatchObject({ code: 'overloaded' });
    await Promise.all(all);
    expect(a.stats().requests_pending).toBe(0);
  });

  it('stops reading requests from a peer that does not read its responses, and resumes', async () => {
    const b = await startBus(2, { maxQueuedBytesPerPeer: 1024 * 1024 });
    const blob = Buffer.alloc(1024 * 1024);
    b.handle('blob', () => blob);
    const s = await authenticatedSocket(b.port);
    s.pause();
    const total = 100;
    for (let i = 0; i < total; i += 5) {
      s.write(Buffer.concat(Array.from({ length: 5 }, (_, j) => Buffer.concat(encodeFrame(FrameKind.request, i + j + 1, 'blob', null)))));
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 100));
    const served = b.stats().received_messages_blob!;
    expect(served).toBeLessThan(total);
    s.on('data', () => {});
    s.resume();
    await until(() => b.stats().received_messages_blob === total);
  });

  it('rejects pending requests on close', async () => {
    const a = await startBus(1);
    const b = await startBus(2);
    b.handle('hang', () => new Promise(() => {}));
    const pending = a.request(addr(b), 'hang', null);
    await until(() => b.stats().received_messages_hang === 1);
    await a.close();
    expect(await rejection(pending)).toMatchObject({ code: 'closed' });
    expect((await rejection(a.request(addr(b), 'hang', null))).code).toBe('closed');
  });

  it('benchmark: 50k small request/response pairs over one link', async () => {
    const a = await startBus(1);
    const b = await startBus(2);
    b.handle('get', (_from, p) => ({ ok: true, key: (p as { key: Buffer }).key }));
    await a.request(addr(b), 'get', { key: Buffer.from('warm-up') });
    const n = 50_000;
    const key = Buffer.from('user:1000');
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: n }, () => a.request(addr(b), 'get', { key }, 10_000)));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`cluster bus: ${n} request/response pairs in ${(seconds * 1000).toFixed(0)} ms = ${Math.round(n / seconds)} req/s`);
    expect(b.stats().received_messages_get).toBe(n + 1);
  });
});
