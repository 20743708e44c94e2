/**
 * Goal: key → slot matches Redis Cluster bit for bit, since smart clients compute slots themselves.
 * Method: the documented CRC16/slot vectors (REDIS-COMPAT §1), the hash-tag edge cases, a
 * distribution sanity check, and a differential test against a real `redis-server` answering
 * CLUSTER KEYSLOT for ~2000 pseudo-random binary keys heavy in `{` and `}`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc16 } from '../../src/cluster/crc16.js';
import { SLOT_COUNT, keySlot } from '../../src/cluster/slot.js';
import { mulberry32 } from '../sim/prng.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('crc16', () => {
  it.each([
    ['123456789', 0x31c3],
    ['somekey', 0x6b32],
    ['foo', 0xaf96],
    ['a', 0x7c87],
    ['foo{}{bar}', 0xe0ab],
    ['', 0x0000],
  ])('crc16(%j) = %i', (key, expected) => {
    expect(crc16(b(key))).toBe(expected);
  });

  it('hashes a sub-range in place like the equivalent subarray', () => {
    const buf = b('xx123456789yy');
    expect(crc16(buf, 2, 11)).toBe(0x31c3);
  });
});

describe('keySlot', () => {
  it.each([
    ['123456789', 12739],
    ['somekey', 11058],
    ['foo{hash_tag}', 2515],
    ['bar{hash_tag}', 2515],
    ['foo', 12182],
    ['a', 15495],
    ['{user1000}.following', 3443],
    ['user1000', 3443],
    ['foo{}{bar}', 8363],
    ['foo{{bar}}zap', 4015],
    ['{bar', 4015],
    ['foo{bar}{zap}', 5061],
    ['bar', 5061],
    ['', 0],
    // Entries 0..3 of Redis's crc16_slottable.h, which redis-benchmark --cluster uses as tags.
    ['06S', 0],
    ['Qi', 1],
    ['5L5', 2],
    ['4Iu', 3],
  ])('keySlot(%j) = %i', (key, slot) => {
    expect(keySlot(b(key))).toBe(slot);
  });

  it('applies the hash-tag rule on bytes', () => {
    expect(keySlot(b('{}foo'))).toBe(crc16(b('{}foo')) & 0x3fff); // empty tag: whole key
    expect(keySlot(b('{}foo'))).not.toBe(keySlot(b('foo')));
    expect(keySlot(b('x{a}'))).toBe(keySlot(b('a')));
    expect(keySlot(b('x{a'))).toBe(crc16(b('x{a')) & 0x3fff); // no closing brace
    expect(keySlot(b('}{a}'))).toBe(keySlot(b('a'))); // a '}' before the '{' does not count
    expect(keySlot(Buffer.from([0xff, 0x7b, 0x00, 0xfe, 0x7d]))).toBe(crc16(Buffer.from([0x00, 0xfe])) & 0x3fff);
  });

  it('sends the 16384 two-byte keys 0x0000..0x3fff to 16384 distinct slots', () => {
    // CRC16 is a linear bijection on 16-bit messages, so these keys must hit every slot exactly
    // once; a wrong table entry or mask shows up as a collision.
    const seen = new Set<number>();
    for (let i = 0; i < SLOT_COUNT; i++) seen.add(keySlot(Buffer.from([i >> 8, i & 0xff])));
    expect(seen.size).toBe(SLOT_COUNT);
  });

  it('spreads string keys over every slot', () => {
    const counts = new Uint32Array(SLOT_COUNT);
    const perSlot = 20;
    for (let i = 0; i < SLOT_COUNT * perSlot; i++) counts[keySlot(b(`user:${i}`))]!++;
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThan(perSlot * 3);
  });
});

const redisServerPath = findRedisServer();

describe.skipIf(redisServerPath === undefined)(
  `keySlot vs redis-server CLUSTER KEYSLOT${redisServerPath === undefined ? ' (skipped: redis-server is not installed)' : ''}`,
  () => {
    let server: ChildProcess | undefined;
    let client: Redis | undefined;
    let dir = '';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ringkv-keyslot-'));
      const port = await freePort();
      const busPort = await freePort();
      server = spawn(redisServerPath!, [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes',
        '--cluster-port', String(busPort),
        '--cluster-config-file', join(dir, 'nodes.conf'),
        '--save', '',
        '--appendonly', 'no',
        '--dir', dir,
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      await waitForReady(server);
      client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
    });

    afterAll(async () => {
      client?.disconnect();
      if (server !== undefined && server.exitCode === null) {
        const exited = new Promise((resolve) => server!.once('exit', resolve));
        server.kill('SIGKILL');
        await exited;
      }
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    it('agrees on ~2000 pseudo-random binary keys', async () => {
      const keys = randomKeys(2000, 0x5eed);
      const pipeline = client!.pipeline();
      for (const key of keys) pipeline.cluster('KEYSLOT', key);
      const replies = (await pipeline.exec())!;
      const mismatches = keys.flatMap((key, i) => {
        const [err, slot] = replies[i]!;
        if (err) throw err;
        return slot === keySlot(key) ? [] : [{ key: key.toString('hex'), redis: slot, ours: keySlot(key) }];
      });
      expect(mismatches).toEqual([]);
    });
  },
);

function findRedisServer(): string | undefined {
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Keys of 0–24 bytes, a third of them braces, so tags, empty tags and unclosed tags all occur. */
function randomKeys(count: number, seed: number): Buffer[] {
  const next = mulberry32(seed);
  const keys: Buffer[] = [];
  for (let k = 0; k < count; k++) {
    const key = Buffer.alloc(Math.floor(next() * 25));
    for (let i = 0; i < key.length; i++) {
      const r = next();
      key[i] = r < 0.17 ? 0x7b : r < 0.34 ? 0x7d : Math.floor(next() * 256);
    }
    keys.push(key);
  }
  return keys;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function waitForReady(proc: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}
