/**
 * Goal: `redis-cli --rdb` takes a backup of a ringkv node (REPLCONF capa eof, REPLCONF rdb-only 1,
 * SYNC) that redis-check-rdb accepts and Redis 7.0 loads with every key, value, expiry and
 * function library as ringkv holds them; `--functions-rdb` gives the libraries alone; writes
 * during a transfer leave a file that loads, with every key they did not touch exact; a client
 * that goes away mid-transfer leaves the node serving; the nodes of a 3-node cluster each give
 * the keys of the slots they serve, together every key once, also through `redis-cli --cluster
 * backup` (a bare SYNC, answered with the file's length). REPLCONF's answers are Redis's, and the
 * handshake of a replica that wants the stream after the file is refused in one line.
 * Method: the same keys built on ringkv (every type and encoding, big collections, streams with
 * groups, TTLs), the file taken with redis-cli, then loaded by a redis-server started on it, and
 * every key's contents and PEXPIRETIME compared with ringkv's.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterForBlock } from '../helpers/cluster.js';
import { primaryPort } from '../helpers/node-facts.js';
import { contents, keySnapshot as snapshotOf, librariesByName as libraries, queueFullKeyspace } from '../helpers/key-contents.js';
import { haveRedisServer, startRedisServer } from '../helpers/redis-reference.js';
import { hasBinary, rawExchange, run, startNode, tempDir, type NodeProcess } from '../helpers/server.js';
import { rdbFileEntries } from '../../src/rdb/rdb-file-reader.js';

const haveTools = haveRedisServer && hasBinary('redis-cli') && hasBinary('redis-check-rdb');

/** Takes `redis-cli --rdb` (or `--functions-rdb`) of the node on `port` into a new file; its path. */
async function takeRdb(port: number, functionsOnly = false): Promise<string> {
  const file = path.join(tempDir('ringkv-rdb-'), 'dump.rdb');
  const r = await run('redis-cli', ['-p', String(port), functionsOnly ? '--functions-rdb' : '--rdb', file], undefined, 60_000);
  if (r.code !== 0) throw new Error(`redis-cli --rdb failed (${r.code}): ${r.stderr}`);
  const check = await run('redis-check-rdb', [file]);
  expect(check.stdout + check.stderr).toContain('RDB looks OK');
  return file;
}

/** Starts a redis-server that loads `file`, and gives a client of it to `use`. */
async function withLoaded<T>(file: string, use: (c: Redis) => Promise<T>): Promise<T> {
  const ref = await startRedisServer(['--dir', path.dirname(file), '--dbfilename', path.basename(file)]);
  const c = new Redis({ port: ref.ports[0], lazyConnect: true });
  try {
    await c.connect();
    return await use(c);
  } finally {
    c.disconnect();
    await ref.stop();
  }
}

/**
 * Fills a set of 60,000 members through `c`, then takes `redis-cli --rdb` of the node on `port`
 * (its primary) while one client of `connect` adds members and another reads one: the writer's
 * longest wait is the fence, and reads are served inside it (a backup holds writes to the large
 * collection it writes, not reads). The file holds at least the members filled.
 */
async function readsServedWhileWritten(c: Redis | Cluster, connect: () => Redis | Cluster, port: number): Promise<void> {
  const n = 60_000;
  for (let i = 0; i < n; i += 2000) await c.sadd('read:set', ...Array.from({ length: 2000 }, (_, j) => `m${i + j}`));
  const writer = connect();
  const reader = connect();
  const wrote: number[] = [];
  const read: number[] = [];
  let going = true;
  const loops = [
    (async () => {
      for (let i = 0; going; i++) {
        await writer.sadd('read:set', `w${i}`);
        wrote.push(performance.now());
      }
    })(),
    (async () => {
      while (going) {
        expect(await reader.sismember('read:set', 'm7')).toBe(1);
        read.push(performance.now());
      }
    })(),
  ];
  try {
    // Both clients connected and served (a cluster client first loads the slot map) before the backup.
    while (wrote.length < 2 || read.length < 2) await new Promise((r) => setTimeout(r, 10));
    const file = await takeRdb(port);
    going = false;
    await Promise.all(loops);
    let gap = [0, 0];
    for (let i = 1; i < wrote.length; i++) if (wrote[i]! - wrote[i - 1]! > gap[1]! - gap[0]!) gap = [wrote[i - 1]!, wrote[i]!];
    const span = gap[1]! - gap[0]!;
    expect(span, 'the writer waited while the set was written').toBeGreaterThan(50);
    const inside = read.filter((t) => t > gap[0]! + span / 5 && t < gap[1]! - span / 5).length;
    expect(inside, `reads served inside the writer's ${Math.round(span)} ms wait`).toBeGreaterThan(2);
    const members = await withLoaded(file, (r) => r.scard('read:set'));
    expect(members).toBeGreaterThanOrEqual(n);
  } finally {
    going = false;
    await Promise.allSettled(loops);
    writer.disconnect();
    reader.disconnect();
  }
}

async function sortedKeys(c: Redis): Promise<string[]> {
  return (await c.keys('*')).sort();
}

describe.skipIf(!haveTools)('RDB snapshots over SYNC (redis-cli --rdb) from one node', () => {
  let node: NodeProcess | undefined;
  let c: Redis;

  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
    c = new Redis({ port: node.port });
    const p = c.pipeline();
    queueFullKeyspace(p);
    // More keys than one page of the snapshot's listing.
    for (let i = 0; i < 1500; i++) p.set(`k:${i}`, `value-${i}`);
    await p.exec();
    await c.call('FUNCTION', 'LOAD', "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)");
    await c.call('FUNCTION', 'LOAD', "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function(keys) return keys[1] end, flags={'no-writes'}}");
  }, 60_000);

  afterAll(async () => {
    c?.disconnect();
    await node?.stop();
  });

  it('is a file Redis 7.0 loads with every key, value, expiry and library', async () => {
    const syncs = (): Promise<number> => c.info('stats').then((t) => Number(/sync_full:(\d+)/.exec(t)?.[1]));
    const before = await syncs();
    const file = await takeRdb(node!.port);
    expect(await syncs()).toBe(before + 1);
    const keys = await sortedKeys(c);
    const mine = await Promise.all(keys.map((k) => snapshotOf(c, k)));
    const libs = await libraries(c);
    await withLoaded(file, async (r) => {
      expect(await sortedKeys(r)).toEqual(keys);
      expect(await Promise.all(keys.map((k) => snapshotOf(r, k)))).toEqual(mine);
      expect(await libraries(r)).toEqual(libs);
    });
  }, 120_000);

  it('--functions-rdb holds the libraries and no key', async () => {
    const file = await takeRdb(node!.port, true);
    const libs = await libraries(c);
    expect(libs).toHaveLength(2);
    await withLoaded(file, async (r) => {
      expect(await r.dbsize()).toBe(0);
      expect(await libraries(r)).toEqual(libs);
    });
  }, 60_000);

  it('keeps serving when the client goes away in the middle of a transfer', async () => {
    const p = c.pipeline();
    for (let i = 0; i < 20_000; i++) p.set(`bulk:${i}`, 'x'.repeat(200));
    await p.exec();
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(node!.port, '127.0.0.1');
      let got = 0;
      s.on('error', reject);
      s.on('connect', () => s.write('REPLCONF capa eof\r\nREPLCONF rdb-only 1\r\nSYNC\r\n'));
      s.on('data', (d: Buffer) => {
        got += d.length;
        // Gone after the first part of the file, with most of it still to come.
        if (got > 100_000) {
          s.destroy();
          resolve();
        }
      });
    });
    expect(await c.ping()).toBe('PONG');
    expect(await c.get('bulk:19999')).toBe('x'.repeat(200));
    // And the next transfer is whole.
    const file = await takeRdb(node!.port);
    await withLoaded(file, async (r) => expect(await r.dbsize()).toBe(await c.dbsize()));
  }, 120_000);

  it('loads when written to during the transfer, with every key the writes left alone exact', async () => {
    const before = new Map<string, unknown>();
    for (const k of await sortedKeys(c)) if (k.startsWith('k:')) before.set(k, await snapshotOf(c, k));
    const writer = new Redis({ port: node!.port });
    let writing = true;
    let writes = 0;
    const load = (async () => {
      while (writing) {
        const p = writer.pipeline();
        for (let i = 0; i < 50; i++) p.set(`w:${writes++ % 3000}`, String(writes)).del(`w:${(writes * 7) % 3000}`);
        await p.exec();
      }
    })();
    try {
      // Over 20,000 keys (the test before adds them): many pages, with the writes between them.
      await new Promise((r) => setTimeout(r, 50));
      const writesBefore = writes;
      const file = await takeRdb(node!.port);
      const writesDuring = writes - writesBefore;
      writing = false;
      await load;
      expect(writesDuring).toBeGreaterThan(0);
      await withLoaded(file, async (r) => {
        for (const [k, v] of before) expect(await snapshotOf(r, k)).toEqual(v);
      });
    } finally {
      writing = false;
      await load.catch(() => undefined);
      writer.disconnect();
    }
  }, 120_000);

  it('writes large collections and streams a page at a time, and clients writing to them meanwhile wait and are served', async () => {
    const n = 10_000;
    const p = c.pipeline();
    for (let i = 0; i < n; i += 500) {
      const chunk = Array.from({ length: 500 }, (_, j) => i + j);
      p.sadd('big:set', ...chunk.map((k) => `m${k}`));
      p.zadd('big:zset', ...chunk.flatMap((k) => [k % 7 === 0 ? '-inf' : String((k * 7919) % 1000 / 8), `m${k}`]));
      p.hset('big:hash', ...chunk.flatMap((k) => [`f${k}`, `v${k}`]));
      // Some elements past a quicklist node's 8 KB, so nodes end by bytes as well as by count.
      p.rpush('big:list', ...chunk.map((k) => (k % 997 === 0 ? 'L'.repeat(9000 + k) : `e${k}`)));
      for (const k of chunk) p.xadd('big:stream', `${k + 1}-${k % 3}`, ...(k % 5 === 0 ? ['other', `o${k}`] : ['f', `v${k}`, 'g', `${k}`]));
    }
    p.pexpire('big:list', 600_000);
    p.xgroup('CREATE', 'big:stream', 'readers', '0');
    p.xreadgroup('GROUP', 'readers', 'alice', 'COUNT', 150, 'STREAMS', 'big:stream', '>');
    p.xdel('big:stream', '5-2');
    // A second group with every entry pending over two consumers, one acknowledged: pages of them.
    p.xgroup('CREATE', 'big:stream', 'all', '0');
    p.xreadgroup('GROUP', 'all', 'bob', 'COUNT', 6000, 'STREAMS', 'big:stream', '>');
    p.xreadgroup('GROUP', 'all', 'carol', 'COUNT', 5000, 'STREAMS', 'big:stream', '>');
    p.xack('big:stream', 'all', '10-0');
    await p.exec();
    // A short stream whose group still has thousands pending (its entries trimmed away).
    const q = c.pipeline();
    for (let k = 1; k <= 5000; k++) q.xadd('pel:stream', `${k}-1`, 'f', String(k));
    q.xgroup('CREATE', 'pel:stream', 'g', '0');
    q.xreadgroup('GROUP', 'g', 'dave', 'COUNT', 5000, 'STREAMS', 'pel:stream', '>');
    q.xtrim('pel:stream', 'MAXLEN', 10);
    await q.exec();
    const big = ['big:set', 'big:zset', 'big:hash', 'big:list', 'big:stream', 'pel:stream'];
    const writer = new Redis({ port: node!.port });
    let writing = true;
    let acked = 0;
    const load = (async () => {
      while (writing) {
        await writer.pipeline().sadd('big:set', `w${acked}`).rpush('big:list', `w${acked}`).xadd('big:stream', '*', 'w', String(acked)).exec();
        acked++;
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 50));
      const during = await takeRdb(node!.port);
      writing = false;
      await load;
      expect(acked).toBeGreaterThan(0);
      // Each collection is in the file as it was at one moment: what was there before, and a prefix of the writes.
      const sets = await withLoaded(during, async (r) => ({ set: await r.smembers('big:set'), list: await r.lrange('big:list', 0, -1) }));
      const addedToSet = sets.set.filter((m) => m.startsWith('w')).length;
      expect(sets.set.length).toBe(n + addedToSet);
      expect(sets.list.slice(0, n)).toEqual(await c.lrange('big:list', 0, n - 1));
      expect(sets.list.slice(n)).toEqual(Array.from({ length: sets.list.length - n }, (_, i) => `w${i}`));
      // Quiet now: the file holds exactly what the node holds.
      const quiet = await takeRdb(node!.port);
      const mine = await Promise.all(big.map((k) => snapshotOf(c, k)));
      await withLoaded(quiet, async (r) => {
        expect(await Promise.all(big.map((k) => snapshotOf(r, k)))).toEqual(mine);
      });
    } finally {
      writing = false;
      await load.catch(() => undefined);
      writer.disconnect();
    }
  }, 120_000);

  it('serves reads of a large collection while it is written, and holds writes to it until it is', async () => {
    await readsServedWhileWritten(c, () => new Redis({ port: node!.port }), node!.port);
  }, 120_000);

  it('reads nothing after SYNC: a command pipelined behind it gets no reply inside the file', async () => {
    const { data, closed } = await rawExchange(node!.port, 'REPLCONF capa eof\r\nREPLCONF rdb-only 1\r\nSYNC\r\nPING\r\n', () => false, 30_000);
    expect(closed).toBe(true);
    const text = data.toString('latin1');
    const head = /^\+OK\r\n\+OK\r\n\$EOF:([0-9a-f]{40})\r\n/.exec(text);
    expect(head).not.toBeNull();
    const mark = head![1]!;
    // The file, then the mark, then nothing: no +PONG anywhere.
    expect(text.endsWith(mark)).toBe(true);
    const file = data.subarray(head![0].length, data.length - mark.length);
    const keys = [...rdbFileEntries(file)].filter((e) => e.kind === 'key').length;
    expect(keys).toBe(await c.dbsize());
  }, 60_000);

  it('answers PSYNC from an rdb-only client without capa eof with +FULLRESYNC and the file by its length', async () => {
    const { data, closed } = await rawExchange(node!.port, 'REPLCONF rdb-only 1\r\nPSYNC ? -1\r\n', () => false, 30_000);
    expect(closed).toBe(true);
    const text = data.toString('latin1');
    // Newlines may come while the file is written (keepalives), before its length.
    const head = /^\+OK\r\n\+FULLRESYNC [0-9a-f]{40} 0\r\n\n*\$(\d+)\r\n/.exec(text);
    expect(head, text.slice(0, 120)).not.toBeNull();
    const file = data.subarray(head![0].length);
    expect(file.length).toBe(Number(head![1]));
    expect([...rdbFileEntries(file)].filter((e) => e.kind === 'key').length).toBe(await c.dbsize());
  }, 60_000);

  it('answers REPLCONF as Redis 7.0 does, and refuses the handshake of a replica that wants the stream', async () => {
    const ref = await startRedisServer();
    const r = new Redis({ port: ref.ports[0] });
    const ask = async (client: Redis, ...argv: string[]): Promise<string> => {
      try {
        return String(await client.call(argv[0]!, ...argv.slice(1)));
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    };
    try {
      for (const argv of [
        ['REPLCONF'], ['REPLCONF', 'capa'], ['REPLCONF', 'capa', 'eof'], ['REPLCONF', 'capa', 'eof', 'capa', 'psync2'],
        ['REPLCONF', 'rdb-only', '1'], ['REPLCONF', 'rdb-only', '0'], ['REPLCONF', 'rdb-only', '2'], ['REPLCONF', 'rdb-only', 'x'],
        ['REPLCONF', 'rdb-filter-only', 'functions'], ['REPLCONF', 'rdb-filter-only', ''], ['REPLCONF', 'rdb-filter-only', 'keys'],
      ]) {
        expect([argv, await ask(c, ...argv)]).toEqual([argv, await ask(r, ...argv)]);
      }
    } finally {
      r.disconnect();
      await ref.stop();
    }
    // A Redis replica's handshake: its port, then PSYNC without rdb-only.
    const fresh = new Redis({ port: node!.port });
    try {
      expect(await ask(fresh, 'REPLCONF', 'listening-port', '6380')).toMatch(/^error: ERR REPLCONF is not supported/);
      expect(await ask(fresh, 'PSYNC', '?', '-1')).toMatch(/^error: ERR PSYNC is not supported/);
      expect(await fresh.ping()).toBe('PONG');
    } finally {
      fresh.disconnect();
    }
  }, 60_000);
});

describe.skipIf(!haveTools)('RDB snapshots from the nodes of a 3-node cluster', () => {
  const cluster = clusterForBlock(3);
  const keys = Array.from({ length: 600 }, (_, i) => `key:${i}`);
  let c: Cluster;

  beforeAll(async () => {
    c = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    await Promise.all(keys.map((k, i) => (i % 3 === 0 ? c.rpush(k, 'a', String(i)) : c.set(k, String(i)))));
  }, 60_000);

  afterAll(() => c?.disconnect());

  /** Loads each file and checks its keys against the cluster's; every key listed once over all files. */
  async function expectEveryKeyOnce(files: string[]): Promise<void> {
    const seen: string[] = [];
    for (const file of files) {
      const held = await withLoaded(file, async (r) => {
        const ks = await sortedKeys(r);
        for (const k of ks) expect(await contents(r, k)).toEqual(await contents(c as unknown as Redis, k));
        return ks;
      });
      expect(held.length).toBeGreaterThan(0);
      seen.push(...held);
    }
    expect(seen.sort()).toEqual([...keys].sort());
  }

  it('gives each node (redis-cli --rdb) the keys of the slots it serves, together every key once', async () => {
    const files: string[] = [];
    for (const port of cluster.ports) files.push(await takeRdb(port));
    await expectEveryKeyOnce(files);
  }, 180_000);

  it('takes `redis-cli --cluster backup` (a bare SYNC: the file by its length)', async () => {
    const dir = tempDir('ringkv-backup-');
    const r = await run('redis-cli', ['--cluster', 'backup', `127.0.0.1:${cluster.ports[0]}`, dir], undefined, 60_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.rdb')).map((f) => path.join(dir, f));
    expect(files).toHaveLength(3);
    for (const f of files) expect((await run('redis-check-rdb', [f])).stdout).toContain('RDB looks OK');
    await expectEveryKeyOnce(files);
    // No snapshot file is left in the nodes' data directories.
    for (const n of cluster.nodes) expect(fs.readdirSync(n.dir).filter((f) => f.startsWith('temp-sync-'))).toEqual([]);
  }, 180_000);

  it('writes large collections a page at a time on their primary while a cluster client writes to them', async () => {
    // Runs last: the keys it adds are not among the ones the tests above account for.
    const n = 6_000;
    const big = ['big:set', 'big:zset', 'big:list'];
    for (let i = 0; i < n; i += 500) {
      const chunk = Array.from({ length: 500 }, (_, j) => i + j);
      await Promise.all([
        c.sadd('big:set', ...chunk.map((k) => `m${k}`)),
        c.zadd('big:zset', ...chunk.flatMap((k) => [String((k * 7919) % 1000 / 8), `m${k}`])),
        c.rpush('big:list', ...chunk.map((k) => `e${k}`)),
      ]);
    }
    let writing = true;
    let acked = 0;
    const load = (async () => {
      while (writing) {
        await Promise.all([c.sadd('big:set', `w${acked}`), c.rpush('big:list', `w${acked}`)]);
        acked++;
      }
    })();
    try {
      const owner = await primaryPort(cluster.ports[0]!, 'big:set');
      await new Promise((r) => setTimeout(r, 50));
      const during = await takeRdb(owner);
      writing = false;
      await load;
      expect(acked).toBeGreaterThan(0);
      const got = await withLoaded(during, async (r) => ({ set: await r.smembers('big:set'), list: await r.exists('big:list') ? await r.lrange('big:list', 0, -1) : undefined }));
      // The set as it was at one moment: every first member, and the members written before it.
      expect(got.set.length).toBe(n + got.set.filter((m) => m.startsWith('w')).length);
      expect(got.set.filter((m) => m.startsWith('m')).length).toBe(n);
      if (got.list !== undefined) {
        expect(got.list.slice(0, n)).toEqual(Array.from({ length: n }, (_, k) => `e${k}`));
        expect(got.list.slice(n)).toEqual(Array.from({ length: got.list.length - n }, (_, i) => `w${i}`));
      }
      // Quiet: each collection's primary gives it exactly as the cluster holds it.
      for (const key of big) {
        const file = await takeRdb(await primaryPort(cluster.ports[0]!, key));
        const want = await contents(c as unknown as Redis, key);
        await withLoaded(file, async (r) => expect(await contents(r, key)).toEqual(want));
      }
    } finally {
      writing = false;
      await load.catch(() => undefined);
    }
  }, 180_000);

  it("serves reads of a large collection on its primary while it is written there (reads take no coordinator's key lock)", async () => {
    const seeds = [{ host: '127.0.0.1', port: cluster.ports[0]! }];
    await readsServedWhileWritten(c, () => new Cluster(seeds), await primaryPort(cluster.ports[0]!, 'read:set'));
  }, 180_000);
});
