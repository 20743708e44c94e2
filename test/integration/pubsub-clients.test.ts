/**
 * Goal: pub/sub works through unmodified clients the way applications use it on one node:
 * ioredis (subscribe/psubscribe, message and pmessage events, unsubscribe, many channels, a
 * subscriber that reconnects), node-redis v5 (duplicate().subscribe, pSubscribe, RESP3 on one
 * connection), redis-py (PubSub.get_message), and raw RESP3 pushes that never split a reply of a
 * pipelined subscriber. Also: subscriptions end with RESET and with the connection.
 * Method: one real ringkv process; the real client libraries; raw sockets (test/helpers/resp-conn.ts)
 * where bytes matter.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { hasBinary, startNode, ROOT, run, type NodeProcess } from '../helpers/server.js';
import { PYTHON, redisPyMissing } from '../helpers/redis-py.js';
import { RespConn, show } from '../helpers/resp-conn.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('pub/sub with client libraries on one node', () => {
  let node: NodeProcess;
  const closers: Array<() => unknown> = [];
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
  });
  // Each test's clients end with it: a later CLIENT KILL TYPE pubsub would otherwise kill an earlier
  // test's ioredis subscriber, whose reconnect and resubscribe would still be in flight at the end.
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0)) await Promise.resolve(c()).catch(() => undefined);
  };
  afterEach(closeAll);
  afterAll(async () => {
    await closeAll();
    await node?.stop();
  });
  const ioredis = (): Redis => {
    const r = new Redis({ port: node.port, lazyConnect: false });
    closers.push(() => r.disconnect());
    return r;
  };

  it('ioredis: subscribe, psubscribe, message and pmessage events, unsubscribe', async () => {
    const sub = ioredis();
    const pub = ioredis();
    const got: string[] = [];
    sub.on('message', (ch: string, msg: string) => got.push(`message ${ch} ${msg}`));
    sub.on('pmessage', (pat: string, ch: string, msg: string) => got.push(`pmessage ${pat} ${ch} ${msg}`));
    expect(await sub.subscribe('io:news', 'io:sport')).toBe(2);
    expect(await sub.psubscribe('io:n*')).toBe(3);
    expect(await pub.publish('io:news', 'hello')).toBe(2);
    expect(await pub.publish('io:sport', 'goal')).toBe(1);
    expect(await pub.publish('io:none', 'x')).toBe(1);
    expect(await pub.publish('other', 'x')).toBe(0);
    await waitFor('4 messages', () => got.length >= 4);
    expect(got.sort()).toEqual(['message io:news hello', 'message io:sport goal', 'pmessage io:n* io:news hello', 'pmessage io:n* io:none x'].sort());
    expect(await pub.pubsub('NUMSUB', 'io:news', 'io:zzz')).toEqual(['io:news', 1, 'io:zzz', 0]);
    expect(await pub.pubsub('NUMPAT')).toBe(1);
    expect((await pub.pubsub('CHANNELS', 'io:*') as string[]).sort()).toEqual(['io:news', 'io:sport']);
    await sub.unsubscribe('io:news');
    await sub.punsubscribe('io:n*');
    got.length = 0;
    expect(await pub.publish('io:news', 'late')).toBe(0);
    expect(await pub.publish('io:sport', 'still')).toBe(1);
    await waitFor('1 message', () => got.length >= 1);
    await sleep(100);
    expect(got).toEqual(['message io:sport still']);
  });

  it('ioredis: 500 channels, 2000 pipelined publishes, every message once and in order per channel', async () => {
    const sub = ioredis();
    const pub = ioredis();
    const channels = Array.from({ length: 500 }, (_, i) => `many:${i}`);
    const got = new Map<string, string[]>();
    sub.on('message', (ch: string, msg: string) => {
      const list = got.get(ch) ?? [];
      list.push(msg);
      got.set(ch, list);
    });
    expect(await sub.subscribe(...channels)).toBe(500);
    const p = pub.pipeline();
    for (let i = 0; i < 2000; i++) p.publish(channels[i % 500]!, String(i));
    const replies = (await p.exec()) ?? [];
    expect(replies.every(([err, n]) => err === null && n === 1)).toBe(true);
    await waitFor('2000 messages', () => [...got.values()].reduce((n, l) => n + l.length, 0) >= 2000);
    for (let c = 0; c < 500; c++) expect(got.get(`many:${c}`)).toEqual([c, c + 500, c + 1000, c + 1500].map(String));
    const info = await pub.info('clients');
    expect(info).toMatch(/pubsub_clients:[1-9]/);
  });

  it('ioredis: a subscriber that reconnects subscribes again and receives', async () => {
    const sub = ioredis();
    const pub = ioredis();
    const got: string[] = [];
    sub.on('message', (_ch: string, msg: string) => got.push(msg));
    await sub.subscribe('re:ch');
    await sub.client('SETNAME', 'resubscriber').catch(() => undefined);
    const list = (await pub.client('LIST')) as string;
    const line = list.split('\n').find((l) => / sub=1 /.test(l) && l.includes('flags=P'));
    expect(line, list).toBeDefined();
    const id = /id=(\d+)/.exec(line!)![1]!;
    await pub.client('KILL', 'ID', id);
    await waitFor('resubscribed', async () => (await pub.pubsub('NUMSUB', 're:ch'))[1] === 1 && (await pub.publish('re:ch', 'after')) === 1);
    await waitFor('message after reconnect', () => got.includes('after'));
  });

  it('node-redis v5: duplicate().subscribe and pSubscribe, and RESP3 subscriptions beside commands', async () => {
    const client = createClient({ socket: { port: node.port } });
    await client.connect();
    closers.push(() => client.destroy());
    const sub = client.duplicate();
    await sub.connect();
    closers.push(() => sub.destroy());
    const got: string[] = [];
    await sub.subscribe('nr:a', (msg, ch) => got.push(`${ch}=${msg}`));
    await sub.pSubscribe('nr:*', (msg, ch) => got.push(`p:${ch}=${msg}`));
    expect(await client.publish('nr:a', 'one')).toBe(2);
    expect(await client.publish('nr:b', 'two')).toBe(1);
    await waitFor('3 messages', () => got.length >= 3);
    expect(got.sort()).toEqual(['nr:a=one', 'p:nr:a=one', 'p:nr:b=two']);
    await sub.unsubscribe('nr:a');
    await sub.pUnsubscribe('nr:*');
    expect(await client.publish('nr:a', 'x')).toBe(0);

    // RESP3: one connection subscribes and keeps running ordinary commands.
    const r3 = createClient({ socket: { port: node.port }, RESP: 3 });
    await r3.connect();
    closers.push(() => r3.destroy());
    const got3: string[] = [];
    await r3.subscribe('nr3:ch', (msg) => got3.push(msg));
    await r3.set('nr3:key', 'v');
    expect(await client.publish('nr3:ch', 'pushed')).toBe(1);
    expect(await r3.get('nr3:key')).toBe('v');
    await waitFor('RESP3 push', () => got3.length >= 1);
    expect(got3).toEqual(['pushed']);
    await r3.unsubscribe('nr3:ch');
    expect(await client.publish('nr3:ch', 'gone')).toBe(0);
  });

  it.skipIf(redisPyMissing !== undefined)('redis-py: subscribe, psubscribe, get_message, unsubscribe', async () => {
    const r = await run(PYTHON, [path.join(ROOT, 'test/py/pubsub_client.py')], JSON.stringify({ port: node.port }), 60000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out.confirmations).toEqual([['subscribe', 'py:a', 1], ['subscribe', 'py:b', 2], ['psubscribe', 'py:*', 3]]);
    expect(out.counts).toEqual([2, 2, 1]);
    const received = (out.received as unknown[][]).map((m) => JSON.stringify(m)).sort();
    expect(received).toEqual([
      ['message', null, 'py:a', '1'], ['message', null, 'py:b', '2'],
      ['pmessage', 'py:*', 'py:a', '1'], ['pmessage', 'py:*', 'py:b', '2'], ['pmessage', 'py:*', 'py:c', '3'],
    ].map((m) => JSON.stringify(m)).sort());
    expect(out.numsub).toEqual([['py:a', 1], ['py:none', 0]]);
    expect(out.numpat).toBe(1);
    expect(out.after).toEqual([['unsubscribe', 'py:a', 2], ['punsubscribe', 'py:*', 1]]);
    expect(out.counts_after).toEqual([0, 1]);
    expect(out.last).toEqual(['message', 'py:b', 'y']);
  });

  it.skipIf(!hasBinary('redis-cli'))('redis-cli: SUBSCRIBE prints the confirmation and each message', async () => {
    const cli = spawn('redis-cli', ['-p', String(node.port), 'SUBSCRIBE', 'cli:ch']);
    closers.push(() => cli.kill('SIGKILL'));
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const pub = ioredis();
    await waitFor('redis-cli subscribed', async () => (await pub.pubsub('NUMSUB', 'cli:ch'))[1] === 1);
    expect(await pub.publish('cli:ch', 'one')).toBe(1);
    expect(await pub.publish('cli:ch', 'two words')).toBe(1);
    await waitFor('two messages printed', () => out.includes('two words'));
    expect(out.trim().split('\n')).toEqual(['subscribe', 'cli:ch', '1', 'message', 'cli:ch', 'one', 'message', 'cli:ch', 'two words']);
    cli.kill('SIGTERM');
    await waitFor('redis-cli gone', async () => (await pub.pubsub('NUMSUB', 'cli:ch'))[1] === 0);
  });

  it('raw RESP3: pushes arrive whole between the replies of a pipelined subscriber', async () => {
    const sub = await RespConn.connect(node.port);
    const pub = await RespConn.connect(node.port);
    closers.push(() => sub.close(), () => pub.close());
    await sub.call('HELLO', '3');
    expect((await sub.pipelineText([['SUBSCRIBE', 'raw:ch']]))).toEqual(['[+subscribe "raw:ch" :1]'.replace('+subscribe', '"subscribe"')]);
    // While the subscriber pipelines 3000 commands, another client publishes 500 messages.
    const commands: string[][] = [];
    for (let i = 0; i < 1000; i++) commands.push(['SET', `raw:k${i}`, 'x'.repeat(i % 50)], ['GET', `raw:k${i}`], ['PING']);
    const publishing = (async () => {
      for (let i = 0; i < 50; i++) {
        await pub.pipeline(Array.from({ length: 10 }, (_, j) => ['PUBLISH', 'raw:ch', `m${i * 10 + j}`]));
      }
    })();
    sub.send(commands);
    const expected = commands.length;
    const replies: string[] = [];
    const pushes: string[] = [];
    while (replies.length < expected) {
      const [r] = await sub.read(1);
      if (r!.t === 'push') pushes.push(show(r!));
      else replies.push(show(r!));
    }
    await publishing;
    const rest = await sub.strayReplies(300);
    pushes.push(...rest);
    for (let i = 0; i < 1000; i++) {
      expect(replies[3 * i]).toBe('+OK');
      expect(replies[3 * i + 1]).toBe(JSON.stringify('x'.repeat(i % 50)));
      expect(replies[3 * i + 2]).toBe('+PONG');
    }
    expect(pushes).toEqual(Array.from({ length: 500 }, (_, i) => `["message" "raw:ch" "m${i}"]`));
  });

  it('CLIENT LIST / INFO show sub, psub, ssub and flag P; TYPE pubsub selects subscribers for LIST and KILL', async () => {
    const sub = await RespConn.connect(node.port);
    const ctl = await RespConn.connect(node.port);
    closers.push(() => sub.close(), () => ctl.close());
    await sub.pipeline([['CLIENT', 'SETNAME', 'typed-sub'], ['SUBSCRIBE', 'ty:a', 'ty:b'], ['PSUBSCRIBE', 'ty:*'], ['SSUBSCRIBE', 'ty:s']]);
    const list = show(await ctl.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const line = list.split('\\n').find((l) => l.includes('name=typed-sub'));
    expect(line).toMatch(/ flags=P .* sub=2 psub=1 ssub=1 /);
    expect(show(await ctl.call('CLIENT', 'LIST', 'TYPE', 'normal'))).not.toContain('name=typed-sub');
    expect(show(await ctl.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toMatch(/^:[1-9]/);
    await waitFor('subscriber killed', async () => show(await ctl.call('PUBSUB', 'NUMSUB', 'ty:a')) === '["ty:a" :0]');
    expect(show(await ctl.call('PING'))).toBe('+PONG');
  });

  it('RESET and closing the connection end its subscriptions', async () => {
    const a = await RespConn.connect(node.port);
    const b = await RespConn.connect(node.port);
    const ctl = await RespConn.connect(node.port);
    closers.push(() => a.close(), () => b.close(), () => ctl.close());
    await a.pipeline([['SUBSCRIBE', 'end:a'], ['PSUBSCRIBE', 'end:*'], ['SSUBSCRIBE', 'end:s']]);
    await b.pipeline([['SUBSCRIBE', 'end:a']]);
    expect(await ctl.pipelineText([['PUBSUB', 'NUMSUB', 'end:a'], ['PUBSUB', 'NUMPAT'], ['PUBSUB', 'SHARDNUMSUB', 'end:s']])).toEqual(['["end:a" :2]', ':1', '["end:s" :1]']);
    expect(await a.pipelineText([['RESET'], ['GET', 'end:none']])).toEqual(['+RESET', 'nil']);
    b.close();
    await waitFor('b gone', async () => show(await ctl.call('PUBSUB', 'NUMSUB', 'end:a')) === '["end:a" :0]');
    expect(await ctl.pipelineText([['PUBSUB', 'NUMPAT'], ['PUBSUB', 'SHARDNUMSUB', 'end:s'], ['PUBLISH', 'end:a', 'x']])).toEqual([':0', '["end:s" :0]', ':0']);
    expect(await a.strayReplies(100)).toEqual([]);
  });
});
