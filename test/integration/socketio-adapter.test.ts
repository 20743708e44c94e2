/**
 * Goal: @socket.io/redis-adapter, the usual way to run socket.io on several servers, works over
 * ringkv: a broadcast to a room from one socket.io server reaches the sockets connected to the
 * other, and the adapter's request/response traffic (fetchSockets, serverSideEmit) gets its answers.
 * On one node (PSUBSCRIBE-based adapter) and on a 3-node cluster (the sharded adapter over
 * SSUBSCRIBE/SPUBLISH, and the classic one, whose PUBLISH reaches every node).
 * Method: two socket.io servers in this process on free ports, each with its own ioredis pub and
 * sub clients, and socket.io-client sockets connected to each.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { createAdapter } from '@socket.io/redis-adapter';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { startNode, type NodeProcess } from '../helpers/server.js';

type AdapterFactory = (pub: Redis | Cluster, sub: Redis | Cluster) => ReturnType<typeof createAdapter>;

interface Pair {
  servers: Server[];
  clients: ClientSocket[];
  close(): Promise<void>;
}

/** Two socket.io servers sharing `makeClient`'s store through the adapter, one client socket on each. */
async function twoServers(makeClient: () => Redis | Cluster, adapter: AdapterFactory): Promise<Pair> {
  const servers: Server[] = [];
  const https: HttpServer[] = [];
  const redis: Array<Redis | Cluster> = [];
  const clients: ClientSocket[] = [];
  for (let i = 0; i < 2; i++) {
    const pub = makeClient();
    const sub = makeClient();
    redis.push(pub, sub);
    const http = createServer();
    const server = new Server(http, { adapter: adapter(pub, sub) });
    server.on('connection', (socket) => {
      socket.on('join', (room: string, ack: () => void) => {
        void socket.join(room);
        ack();
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    https.push(http);
    servers.push(server);
  }
  for (const http of https) {
    const socket = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'], forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    clients.push(socket);
  }
  return {
    servers,
    clients,
    async close() {
      for (const c of clients) c.disconnect();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const r of redis) r.disconnect();
    },
  };
}

function nextEvent<T>(socket: ClientSocket, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (v: T) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

async function crossServerTraffic(pair: Pair, room: string): Promise<void> {
  const [a, b] = pair.servers as [Server, Server];
  const [ca, cb] = pair.clients as [ClientSocket, ClientSocket];
  await new Promise<void>((r) => ca.emit('join', room, () => r()));
  await new Promise<void>((r) => cb.emit('join', room, () => r()));
  // The adapter's subscriptions are set up asynchronously: broadcast until the first one lands.
  const gotA = nextEvent<string>(ca, 'news');
  const gotB = nextEvent<string>(cb, 'news');
  const pump = setInterval(() => b.to(room).emit('news', 'from-b'), 100);
  try {
    expect(await gotA).toBe('from-b');
    expect(await gotB).toBe('from-b');
  } finally {
    clearInterval(pump);
  }
  // Request/response over the store: server A lists the sockets of both servers in the room. The
  // adapter asks PUBSUB NUMSUB how many servers listen for requests, and B's subscription to that
  // channel is made apart from the broadcast one above: asked again until B answers (as on Redis).
  const want = [ca.id, cb.id].sort();
  let ids: string[] = [];
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    ids = (await a.in(room).fetchSockets()).map((s) => s.id).sort();
    if (ids.length === want.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(ids).toEqual(want);
  // serverSideEmit with an acknowledgement from the other server.
  b.on('ping-servers', (n: number, ack: (v: number) => void) => ack(n + 1));
  const answers = await a.serverSideEmitWithAck('ping-servers', 41);
  expect(answers).toEqual([42]);
}

describe('@socket.io/redis-adapter on one node', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
  }, 30_000);
  afterAll(async () => {
    await node?.stop();
  });

  it('broadcasts, fetchSockets and serverSideEmit cross between two socket.io servers', async () => {
    const pair = await twoServers(() => new Redis({ port: node.port }), (p, s) => createAdapter(p, s));
    try {
      await crossServerTraffic(pair, 'room-one');
    } finally {
      await pair.close();
    }
  }, 60_000);
});

describe('@socket.io/redis-adapter on a 3-node cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('the sharded adapter (SSUBSCRIBE / SPUBLISH through ioredis Cluster)', async () => {
    // ioredis Cluster needs shardedSubscribers to send SSUBSCRIBE to the slot's node, as with Redis Cluster.
    const pair = await twoServers(() => new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }], { shardedSubscribers: true }), (p, s) => createShardedAdapter(p, s) as unknown as ReturnType<typeof createAdapter>);
    try {
      await crossServerTraffic(pair, 'room-sharded');
    } finally {
      await pair.close();
    }
  }, 60_000);

  it('the classic adapter through ioredis Cluster (PUBLISH reaches every node; PUBSUB NUMSUB summed over the nodes)', async () => {
    let next = 0;
    const pair = await twoServers(() => new Cluster([{ host: '127.0.0.1', port: c.ports[next++ % 3]! }]), (p, s) => createAdapter(p, s));
    try {
      await crossServerTraffic(pair, 'room-classic');
    } finally {
      await pair.close();
    }
  }, 60_000);
});
