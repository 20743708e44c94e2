/**
 * Goal: a data directory written before collections were stored per element opens with its data
 * intact: whole-value hashes become per-element hashes (fields, TTL, TYPE, HLEN) and user keys
 * starting with 0xFF, which the new layout escapes, still read back under their own names. Method:
 * write the old records with the storage layer directly, start a real node on the directory, read
 * everything with a real client, restart, read again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { Store } from '../../src/storage/store.js';
import { ValueType } from '../../src/storage/types.js';
import { keySlot } from '../../src/cluster/slot.js';
import { startNode, tempDir, type NodeProcess } from '../helpers/server.js';

const nodes: NodeProcess[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
});

function version(n: number): Buffer {
  const v = Buffer.alloc(16);
  v.writeUIntBE(Date.now() - 1000 + n, 0, 6);
  return v;
}

describe('data directories from before the per-element layout', () => {
  it('are migrated on start', async () => {
    const dir = tempDir();
    const store = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0 });
    const hash = new Map<string, Buffer>([['a', Buffer.from('1')], ['b', Buffer.from('two')], ['\u00ff\u0001', Buffer.from('x')]]);
    const expiresAt = Date.now() + 3_600_000;
    store.put(keySlot(Buffer.from('h')), Buffer.from('h'), { version: version(1), clock: [], type: ValueType.LegacyHash, expiresAt, value: hash });
    const ff = Buffer.from([0xff, 0x01, 0x41]);
    store.put(keySlot(ff), ff, { version: version(2), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from('ff-value') });
    const ffHash = Buffer.from([0xff, 0xff]);
    store.put(keySlot(ffHash), ffHash, { version: version(3), clock: [], type: ValueType.LegacyHash, expiresAt: 0, value: new Map([['f', Buffer.from('v')]]) });
    store.put(keySlot(Buffer.from('s')), Buffer.from('s'), { version: version(4), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from('plain') });
    await new Promise<void>((resolve) => store.afterDurable(() => resolve()));
    await store.close();

    const node = await startNode({ dir });
    nodes.push(node);
    const check = async (): Promise<void> => {
      const r = new Redis({ port: node.port });
      try {
        expect(await r.type('h')).toBe('hash');
        expect(await r.hlen('h')).toBe(3);
        expect(await r.hget('h', 'b')).toBe('two');
        expect((await r.hgetBuffer('h', Buffer.from([0xff, 0x01])))?.toString()).toBe('x');
        expect(await r.pttl('h')).toBeGreaterThan(3_000_000);
        expect((await r.getBuffer(ff))?.toString()).toBe('ff-value');
        expect((await r.hgetBuffer(ffHash, 'f'))?.toString()).toBe('v');
        expect(await r.get('s')).toBe('plain');
        expect(await r.dbsize()).toBe(4);
        const keys = (await r.keysBuffer('*')).map((k) => k.toString('hex')).sort();
        expect(keys).toEqual([Buffer.from('h'), ff, ffHash, Buffer.from('s')].map((k) => k.toString('hex')).sort());
        expect(await r.hset('h', 'c', '3')).toBe(1);
        expect(await r.hlen('h')).toBe(4);
      } finally {
        r.disconnect();
      }
    };
    await check();
    expect(await node.stop()).toBe(0);
    await node.restart();
    const r = new Redis({ port: node.port });
    expect(await r.hlen('h')).toBe(4);
    expect(await r.hget('h', 'c')).toBe('3');
    expect((await r.getBuffer(ff))?.toString()).toBe('ff-value');
    r.disconnect();
  });
});
