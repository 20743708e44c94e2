/**
 * Goal: `ringkv load-rdb` moves a Redis 7.0 dump.rdb into a running node or a 3-node cluster with
 * every key, value, expiry and function library as redis-server holds them; keys of other
 * databases are left out unless --db picks theirs; a damaged file loads nothing and says why in
 * one line; a file ringkv itself sent (`redis-cli --rdb`) loads back into a fresh node the same.
 * Method: redis-server filled with keys of every type and encoding (big collections, streams with
 * groups, TTLs, a library, keys in database 1), SAVEd; the CLI run on its file; every key's
 * contents and PEXPIRETIME compared between redis-server and ringkv.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterForBlock } from '../helpers/cluster.js';
import { keySnapshot, librariesByName as libraries, queueFullKeyspace } from '../helpers/key-contents.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { CLI, hasBinary, run, startNode, tempDir, type NodeProcess } from '../helpers/server.js';

type Client = Redis | Cluster;

const snapshotOf = (c: Client, key: string): Promise<unknown> => keySnapshot(c as Redis, key);

function loadRdb(file: string, port: number, ...more: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, 'load-rdb', file, '--port', String(port), ...more], undefined, 120_000);
}

describe.skipIf(!haveRedisServer)('ringkv load-rdb', () => {
  let ref: RedisReference | undefined;
  let redis: Redis;
  let file = '';
  let keys: string[] = [];
  let expected: unknown[] = [];
  let db1Keys: string[] = [];

  beforeAll(async () => {
    const dir = tempDir('ringkv-load-rdb-');
    ref = await startRedisServer(['--dir', dir, '--dbfilename', 'dump.rdb']);
    redis = new Redis({ port: ref.ports[0] });
    const p = redis.pipeline();
    queueFullKeyspace(p);
    for (let i = 0; i < 700; i++) p.set(`{t${i % 7}}k:${i}`, `value-${i}`);
    await p.exec();
    await redis.call('FUNCTION', 'LOAD', "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)");
    await redis.select(1);
    await redis.mset('db1:a', '1', 'db1:b', '2');
    db1Keys = ['db1:a', 'db1:b'];
    await redis.select(0);
    await redis.save();
    file = path.join(dir, 'dump.rdb');
    keys = (await redis.keys('*')).sort();
    expected = await Promise.all(keys.map((k) => snapshotOf(redis, k)));
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await ref?.stop();
  });

  describe('into one node', () => {
    let node: NodeProcess | undefined;
    let c: Redis;
    beforeAll(async () => {
      node = await startNode({ args: ['--appendfsync', 'no'] });
      c = new Redis({ port: node.port });
    }, 60_000);
    afterAll(async () => {
      c?.disconnect();
      await node?.stop();
    });

    it('loads every key, value, expiry and library of database 0, and counts what it left out', async () => {
      const r = await loadRdb(file, node!.port);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${keys.length} keys loaded, 1 function libraries, 0 expired keys and ${db1Keys.length} keys of other databases left out`);
      expect((await c.keys('*')).sort()).toEqual(keys);
      expect(await Promise.all(keys.map((k) => snapshotOf(c, k)))).toEqual(expected);
      expect(await libraries(c)).toEqual(await libraries(redis));
    }, 120_000);

    it('loads another database with --db, over what is there', async () => {
      const r = await loadRdb(file, node!.port, '--db', '1');
      expect(r.code, r.stderr).toBe(0);
      expect(await c.mget(...db1Keys)).toEqual(['1', '2']);
    }, 60_000);

    it('loads nothing from a damaged file, and says so in one line', async () => {
      const bad = path.join(tempDir('ringkv-bad-rdb-'), 'bad.rdb');
      const bytes = fs.readFileSync(file);
      // A byte inside a value near the end: every key before it is readable, the checksum is not.
      bytes[bytes.length - 40] ^= 0xff;
      fs.writeFileSync(bad, bytes);
      await c.flushall();
      const r = await loadRdb(bad, node!.port);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ringkv load-rdb: /);
      expect(await c.dbsize()).toBe(0);
      const missing = await loadRdb(path.join(path.dirname(bad), 'none.rdb'), node!.port);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no such file');
    }, 60_000);

    it.skipIf(!hasBinary('redis-cli'))('loads back what redis-cli --rdb took from ringkv', async () => {
      await loadRdb(file, node!.port);
      const taken = path.join(tempDir('ringkv-roundtrip-'), 'dump.rdb');
      const got = await run('redis-cli', ['-p', String(node!.port), '--rdb', taken], undefined, 60_000);
      expect(got.code, got.stderr).toBe(0);
      const fresh = await startNode({ args: ['--appendfsync', 'no'] });
      const f = new Redis({ port: fresh.port });
      try {
        const r = await loadRdb(taken, fresh.port);
        expect(r.code, r.stderr).toBe(0);
        expect((await f.keys('*')).sort()).toEqual(keys);
        const got = await Promise.all(keys.map((k) => snapshotOf(f, k)));
        for (let i = 0; i < keys.length; i++) expect([keys[i], got[i]]).toEqual([keys[i], expected[i]]);
      } finally {
        f.disconnect();
        await fresh.stop();
      }
    }, 120_000);
  });

  describe('into a 3-node cluster', () => {
    const cluster = clusterForBlock(3);

    it('sends each key to the node serving its slot (--cluster)', async () => {
      const r = await loadRdb(file, cluster.ports[0]!, '--cluster');
      expect(r.code, r.stderr).toBe(0);
      const c = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
      try {
        expect(await Promise.all(keys.map((k) => snapshotOf(c, k)))).toEqual(expected);
        expect(await libraries(c)).toEqual(await libraries(redis));
      } finally {
        c.disconnect();
      }
    }, 180_000);
  });
});
