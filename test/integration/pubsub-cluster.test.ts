/**
 * Goal: pub/sub in a 3-node cluster behaves as in Redis Cluster: PUBLISH on any node reaches the
 * subscribers of every node (over the cluster bus) and answers the count on the node it was sent
 * to; shard channels are served where their slot is (MOVED elsewhere, SPUBLISH reaching the
 * slot's replicas, `sunsubscribe` once a node stops serving the slot); ioredis Cluster and
 * node-redis createCluster subscribe and receive; PUBLISH keeps working while a node is killed,
 * and reaches that node's new subscribers once it is back.
 * Method: real ringkv processes (test/helpers/cluster.ts), ioredis, node-redis and raw RESP
 * connections; messages are matched exactly (no message may be missing, repeated or foreign).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { createCluster } from 'redis';
import { startCluster, waitForNodeState, type TestCluster } from '../helpers/cluster.js';
import { RespConn, show } from '../helpers/resp-conn.js';
import { primaryPort } from '../helpers/node-facts.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** The client port of the node CLUSTER SLOTS names as the primary of `key`'s slot. */
/** A shard channel name whose slot's primary is the node on `port`. */
async function channelServedBy(ports: number[], port: number, prefix: string): Promise<string> {
  for (let i = 0; i < 1000; i++) if ((await primaryPort(ports[0]!, `${prefix}${i}`)) === port) return `${prefix}${i}`;
  throw new Error(`no channel with prefix ${prefix} lands on ${port}`);
}

describe('pub/sub in a 3-node cluster', () => {
  let c: TestCluster;
  const closers: Array<() => unknown> = [];
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60000);
  // Each test's clients are closed when it ends: a client left connected to a node a later test
  // kills would reconnect and fail in the background.
  afterEach(async () => {
    for (const close of closers.splice(0)) await Promise.resolve(close()).catch(() => undefined);
  });
  afterAll(async () => {
    await c?.stop();
  });
  const plain = (port: number): Redis => {
    const r = new Redis({ port, maxRetriesPerRequest: 1 });
    r.on('error', () => undefined);
    closers.push(() => r.disconnect());
    return r;
  };

  it('PUBLISH from every node reaches the subscribers of every node; the reply counts this node\'s', async () => {
    const got = c.ports.map(() => [] as string[]);
    const subs = c.ports.map((port, i) => {
      const s = plain(port);
      s.on('message', (ch: string, m: string) => got[i]!.push(`m ${ch} ${m}`));
      s.on('pmessage', (p: string, ch: string, m: string) => got[i]!.push(`p ${p} ${ch} ${m}`));
      return s;
    });
    for (const s of subs) {
      await s.subscribe('bc:ch');
      await s.psubscribe('bc:*');
    }
    const pubs = c.ports.map((port) => plain(port));
    for (let i = 0; i < pubs.length; i++) {
      for (let j = 0; j < 20; j++) expect(await pubs[i]!.publish('bc:ch', `from${i}-${j}`)).toBe(2);
    }
    const want: string[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 20; j++) want.push(`m bc:ch from${i}-${j}`, `p bc:* bc:ch from${i}-${j}`);
    await waitFor('every message on every node', () => got.every((g) => g.length >= want.length));
    await sleep(200);
    for (const g of got) expect([...g].sort()).toEqual([...want].sort());
    // Per publishing node, each subscriber sees that node's messages in the order they were sent.
    for (const g of got) {
      for (let i = 0; i < 3; i++) {
        const seq = g.filter((x) => x.startsWith(`m bc:ch from${i}-`));
        expect(seq).toEqual(Array.from({ length: 20 }, (_, j) => `m bc:ch from${i}-${j}`));
      }
    }
    // PUBSUB CHANNELS / NUMSUB are node-local, as in Redis Cluster.
    expect(await pubs[0]!.pubsub('NUMSUB', 'bc:ch')).toEqual(['bc:ch', 1]);
    for (const s of subs) await s.unsubscribe('bc:ch');
    expect(await pubs[1]!.publish('bc:ch', 'after')).toBe(1);
  });

  it('ioredis Cluster and node-redis createCluster subscribe and receive what any node publishes', async () => {
    const sub = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }]);
    closers.push(() => sub.disconnect());
    const got: string[] = [];
    sub.on('message', (ch: string, m: string) => got.push(`${ch}=${m}`));
    await sub.subscribe('cl:io');
    const nr = createCluster({ rootNodes: [{ socket: { host: '127.0.0.1', port: c.ports[1]! } }] });
    await nr.connect();
    closers.push(() => nr.destroy());
    const gotNr: string[] = [];
    await nr.subscribe('cl:nr', (m, ch) => gotNr.push(`${ch}=${m}`));
    for (let i = 0; i < 3; i++) {
      const p = plain(c.ports[i]!);
      await p.publish('cl:io', `x${i}`);
      await p.publish('cl:nr', `y${i}`);
    }
    await waitFor('ioredis Cluster messages', () => got.length >= 3);
    await waitFor('node-redis cluster messages', () => gotNr.length >= 3);
    // Each message comes from another node: PUBLISH is answered before the bus carries it, so
    // messages of different publishing nodes are not ordered with each other (nor in Redis Cluster).
    expect([...got].sort()).toEqual(['cl:io=x0', 'cl:io=x1', 'cl:io=x2']);
    expect([...gotNr].sort()).toEqual(['cl:nr=y0', 'cl:nr=y1', 'cl:nr=y2']);
  });

  it('shard channels: MOVED off their slot, SPUBLISH reaches the slot\'s subscribers, node-redis sSubscribe', async () => {
    const [p0, p1] = c.ports as [number, number, number];
    const ch = await channelServedBy(c.ports, p0, 'sh:');
    const other = await RespConn.connect(p1);
    const owner = await RespConn.connect(p0);
    const replica = await RespConn.connect(p1);
    const pub = await RespConn.connect(p0);
    closers.push(() => other.close(), () => owner.close(), () => replica.close(), () => pub.close());
    const slot = (await plain(p0).call('cluster', 'keyslot', ch)) as number;
    expect(show(await other.call('SSUBSCRIBE', ch))).toBe(`-MOVED ${slot} 127.0.0.1:${p0}`);
    expect(show(await other.call('SPUBLISH', ch, 'x'))).toBe(`-MOVED ${slot} 127.0.0.1:${p0}`);
    expect(show(await other.call('SSUBSCRIBE', ch, `{${ch}}b`, 'zz-other-slot'))).toMatch(/^-CROSSSLOT|^-MOVED/);
    expect(show(await owner.call('SSUBSCRIBE', ch))).toBe(`["ssubscribe" "${ch}" :1]`);
    // A READONLY connection may subscribe on a replica of the slot (every node with N = 3).
    expect(await replica.pipelineText([['READONLY'], ['SSUBSCRIBE', ch]])).toEqual(['+OK', `["ssubscribe" "${ch}" :1]`]);
    expect(show(await pub.call('SPUBLISH', ch, 'hello'))).toBe(':1');
    expect((await owner.read(1)).map(show)).toEqual([`["smessage" "${ch}" "hello"]`]);
    expect((await replica.read(1)).map(show)).toEqual([`["smessage" "${ch}" "hello"]`]);
    expect(show(await pub.call('PUBSUB', 'SHARDNUMSUB', ch))).toBe(`["${ch}" :1]`);
    // Plain PUBLISH on the same name is another namespace.
    expect(show(await pub.call('PUBLISH', ch, 'plain'))).toBe(':0');
    expect(await owner.strayReplies(150)).toEqual([]);

    const nr = createCluster({ rootNodes: [{ socket: { host: '127.0.0.1', port: p1 } }] });
    await nr.connect();
    closers.push(() => nr.destroy());
    const got: string[] = [];
    await nr.sSubscribe(ch, (m) => got.push(m));
    expect(await nr.sPublish(ch, 'via-node-redis')).toBeGreaterThanOrEqual(1);
    await waitFor('sSubscribe message', () => got.length >= 1);
    expect(got).toEqual(['via-node-redis']);
    await nr.sUnsubscribe(ch);
  });

  it('with cluster-proxy, shard channels are still redirected (a subscription lives on the client\'s own connection)', async () => {
    const [p0, p1] = c.ports as [number, number, number];
    const ch = await channelServedBy(c.ports, p0, 'px:');
    const conn = await RespConn.connect(p1);
    closers.push(() => conn.close());
    const slot = (await plain(p0).call('cluster', 'keyslot', ch)) as number;
    expect(show(await conn.call('CONFIG', 'SET', 'cluster-proxy', 'yes'))).toBe('+OK');
    try {
      expect(await conn.pipelineText([['SSUBSCRIBE', ch], ['SPUBLISH', ch, 'm'], ['SET', `{${ch}}k`, 'v'], ['GET', `{${ch}}k`]])).toEqual([
        `-MOVED ${slot} 127.0.0.1:${p0}`, `-MOVED ${slot} 127.0.0.1:${p0}`, '+OK', '"v"',
      ]);
    } finally {
      await conn.call('CONFIG', 'SET', 'cluster-proxy', 'no');
    }
  });

  it('RESP3: pushes from other nodes never split the replies of a subscriber pipelining quorum writes', async () => {
    const [p0, p1] = c.ports as [number, number, number];
    const tag = await channelServedBy(c.ports, p0, 'pipe');
    const sub = await RespConn.connect(p0);
    const pub = await RespConn.connect(p1);
    closers.push(() => sub.close(), () => pub.close());
    await sub.call('HELLO', '3');
    expect(show(await sub.call('SUBSCRIBE', 'pipe:ch'))).toBe('["subscribe" "pipe:ch" :1]');
    const commands: string[][] = [];
    for (let i = 0; i < 300; i++) commands.push(['SET', `{${tag}}k${i % 20}`, `v${i}`], ['INCR', `{${tag}}n`], ['GET', `{${tag}}k${i % 20}`]);
    const publishing = (async () => {
      for (let i = 0; i < 20; i++) await pub.pipeline(Array.from({ length: 10 }, (_, j) => ['PUBLISH', 'pipe:ch', `m${i * 10 + j}`]));
    })();
    sub.send(commands);
    const replies: string[] = [];
    const pushes: string[] = [];
    while (replies.length < commands.length) {
      const [r] = await sub.read(1, 30000);
      if (r!.t === 'push') pushes.push(show(r!));
      else replies.push(show(r!));
    }
    await publishing;
    await waitFor('every push', async () => {
      pushes.push(...(await sub.strayReplies(50)));
      return pushes.length >= 200;
    });
    for (let i = 0; i < 300; i++) expect(replies.slice(3 * i, 3 * i + 3)).toEqual(['+OK', `:${i + 1}`, `"v${i}"`]);
    expect(pushes).toEqual(Array.from({ length: 200 }, (_, i) => `["message" "pipe:ch" "m${i}"]`));
  }, 60000);

  it('PUBLISH keeps reaching the live nodes while one is killed, and that node\'s new subscribers once it is back', async () => {
    const [p0, p1, p2] = c.ports as [number, number, number];
    const got0: string[] = [];
    const got1: string[] = [];
    const s0 = plain(p0);
    const s1 = plain(p1);
    s0.on('message', (_c: string, m: string) => got0.push(m));
    s1.on('message', (_c: string, m: string) => got1.push(m));
    await s0.subscribe('kr:ch');
    await s1.subscribe('kr:ch');
    const pub0 = plain(p0);
    const pub1 = plain(p1);
    await c.nodes[2]!.kill9();
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const from = i % 2 === 0 ? pub0 : pub1;
      expect(await from.publish('kr:ch', `k${i}`)).toBe(1);
      sent.push(`k${i}`);
      await sleep(20);
    }
    await waitFor('messages during the outage', () => got0.length >= 30 && got1.length >= 30);
    // Every message once, each publisher's in the order it sent them. Two publishers on different
    // nodes are not ordered with each other: a PUBLISH is answered before the bus carries it to
    // the other nodes (as in Redis Cluster), so the other's next message may overtake it.
    const fromEach = (got: readonly string[], parity: number): string[] => got.filter((m) => Number(m.slice(1)) % 2 === parity);
    for (const got of [got0, got1]) {
      expect([...got].sort()).toEqual([...sent].sort());
      for (const parity of [0, 1]) expect(fromEach(got, parity)).toEqual(fromEach(sent, parity));
    }
    await waitForNodeState(p0, p2, 'fail');

    await c.nodes[2]!.restart();
    await waitForNodeState(p0, p2, 'ok');
    const s2 = plain(p2);
    const got2: string[] = [];
    s2.on('message', (_c: string, m: string) => got2.push(m));
    await s2.subscribe('kr:ch');
    // Each node sends to the restarted one once it sees it alive again and its link is up: within
    // a gossip round or two; what is published before that may not reach it (at most once).
    for (const [i, from] of [pub0, pub1].entries()) {
      let n = 0;
      await waitFor(`messages from node ${i} reach the restarted node`, async () => {
        await from.publish('kr:ch', `back${i}-${n++}`);
        await sleep(50);
        return got2.some((m) => m.startsWith(`back${i}-`));
      }, 20000);
    }
    const before = got2.length;
    expect(await pub1.publish('kr:ch', 'final')).toBe(1);
    await waitFor('final message', () => got2.length > before);
    expect(got2.at(-1)).toBe('final');
    expect(got2.every((m) => m === 'final' || /^back\d-\d+$/.test(m))).toBe(true);
    expect(new Set(got2).size).toBe(got2.length);
  }, 90000);

  it('a node leaving the ring ends its shard subscriptions with sunsubscribe', async () => {
    const [p0, , p2] = c.ports as [number, number, number];
    const ch = await channelServedBy(c.ports, p0, 'lv:');
    const sub = await RespConn.connect(p2);
    const ctl = await RespConn.connect(p2);
    closers.push(() => sub.close(), () => ctl.close());
    await waitFor('subscribed on the replica', async () => {
      const r = await sub.pipelineText([['READONLY'], ['SSUBSCRIBE', ch]]);
      return r[1] === `["ssubscribe" "${ch}" :1]`;
    });
    expect(show(await ctl.call('RINGKV.LEAVE'))).toBe('+OK');
    const [frame] = await sub.read(1, 15000);
    expect(show(frame!)).toBe(`["sunsubscribe" "${ch}" :0]`);
    expect(show(await ctl.call('PUBSUB', 'SHARDNUMSUB', ch))).toBe(`["${ch}" :0]`);
  }, 30000);
});

describe('keyspace notifications in a 3-node cluster', () => {
  let c: TestCluster;
  const conns: RespConn[] = [];
  beforeAll(async () => {
    c = await startCluster(3);
  }, 60000);
  afterAll(async () => {
    for (const conn of conns) conn.close();
    await c?.stop();
  });

  it('each write notifies once, on the node that coordinated it; expired on the slot\'s primary only', async () => {
    const listeners: RespConn[] = [];
    for (const port of c.ports) {
      const ctl = await RespConn.connect(port);
      conns.push(ctl);
      expect(show(await ctl.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA'))).toBe('+OK');
      const l = await RespConn.connect(port);
      conns.push(l);
      await l.call('PSUBSCRIBE', '__keyevent@0__:*');
      listeners.push(l);
    }
    const keys = ['ke:a', 'ke:b', 'ke:c', 'ke:d', 'ke:e', 'ke:f'];
    const primaries = await Promise.all(keys.map((k) => primaryPort(c.ports[0]!, k)));
    const cluster = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }]);
    try {
      for (const k of keys) {
        await cluster.set(k, 'v');
        await cluster.hset(`${k}:h`, 'f', '1');
        await cluster.pexpire(k, 300);
      }
    } finally {
      cluster.disconnect();
    }
    // Expect per key: set, expire (at the key's primary); hset at the hash's primary; expired later.
    const hashPrimaries = await Promise.all(keys.map((k) => primaryPort(c.ports[0]!, `${k}:h`)));
    const want = c.ports.map((port) => {
      const list: string[] = [];
      keys.forEach((k, i) => {
        if (primaries[i] === port) list.push(`set ${k}`, `expire ${k}`, `expired ${k}`);
        if (hashPrimaries[i] === port) list.push(`hset ${k}:h`);
      });
      return list.sort();
    });
    const got: string[][] = [];
    for (let i = 0; i < listeners.length; i++) {
      const frames = await listeners[i]!.read(want[i]!.length, 10000);
      got.push(frames.map((f) => {
        const parts = (f as { v: Array<{ v: Buffer }> }).v.map((x) => x.v.toString());
        return `${parts[2]!.replace('__keyevent@0__:', '')} ${parts[3]}`;
      }).sort());
    }
    expect(got).toEqual(want);
    // Nothing more: no second copy from replicas, read repair or anti-entropy.
    for (const l of listeners) expect(await l.strayReplies(1500)).toEqual([]);
  }, 60000);

  it('a key its replicas expired first still gets its `expired` event from the primary', async () => {
    // Active expiry off on the primary: its replicas drop the key first, and the primary's copy is
    // then removed by anti-entropy (a dead record the peers no longer hold), which must notify.
    const key = 'ke:ae';
    const primary = await primaryPort(c.ports[0]!, key);
    const ctl = await RespConn.connect(primary);
    const l = await RespConn.connect(primary);
    conns.push(ctl, l);
    expect(show(await ctl.call('CONFIG', 'SET', 'notify-keyspace-events', 'Ex'))).toBe('+OK');
    expect(show(await ctl.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0'))).toBe('+OK');
    try {
      await l.call('SUBSCRIBE', '__keyevent@0__:expired');
      expect(show(await ctl.call('SET', key, 'v', 'PX', '200'))).toBe('+OK');
      const [frame] = await l.read(1, 15000);
      expect(show(frame!)).toBe(`["message" "__keyevent@0__:expired" "${key}"]`);
    } finally {
      await ctl.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
    expect(await l.strayReplies(1500)).toEqual([]);
  }, 30000);
});
