/**
 * Goal: hashes written before fields carried insertion stamps (metadata without the order part,
 * field records holding the value alone) still read on a node that orders hashes: values intact,
 * fields in byte order (the oldest, all alike), new fields added after them, changed fields kept
 * in place, and that order kept across a restart; a hashtable of that age reads and takes writes.
 * Method: a real node creates its data directory and stops; the records of such hashes are written
 * into it with the storage layer directly, as that layout had them; the node starts on it and is
 * read and written with a real client, restarted, read again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Store } from '../../src/storage/store.js';
import { ValueType } from '../../src/storage/types.js';
import { keySlot } from '../../src/cluster/slot.js';
import { encodeMeta } from '../../src/collections/meta-codec.js';
import { elementKey, elementPrefix, ElementKind, GENERATION_BYTES, memberPosition, recordKey } from '../../src/collections/record-keys.js';
import { startNode, type NodeProcess } from '../helpers/server.js';

const nodes: NodeProcess[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
});

function version(n: number): Buffer {
  const v = Buffer.alloc(16);
  v.writeUIntBE(Date.now() - 1000 + n, 0, 6);
  return v;
}

/** Writes `fields` as a hash of the unstamped layout. */
function putOldHash(store: Store, key: string, fields: Array<[string, string]>, large: boolean, n: number): void {
  const k = Buffer.from(key);
  const slot = keySlot(k);
  const v = version(n);
  const generation = Buffer.from(v.subarray(0, GENERATION_BYTES));
  const prefix = elementPrefix(ElementKind.Member, k, generation);
  for (const [f, value] of fields) {
    store.put(slot, elementKey(prefix, memberPosition(Buffer.from(f))), { version: v, clock: [], type: ValueType.Element, expiresAt: 0, value: Buffer.from(value) });
  }
  const meta = encodeMeta({ generation, size: fields.length, head: 0, tail: 0, large, extra: undefined }, false);
  store.put(slot, recordKey(k), { version: v, clock: [], type: ValueType.Hash, expiresAt: 0, value: meta });
}

describe('hashes written before insertion stamps', () => {
  it('read in byte order, take new fields after the old ones, and keep that order across a restart', async () => {
    const node = await startNode({ args: ['--appendfsync', 'always'] });
    nodes.push(node);
    expect(await node.stop()).toBe(0);
    const store = await Store.open({ dir: node.dir, appendfsync: 'always', tombstoneGraceMs: 0 });
    putOldHash(store, 'old', [['c', '3'], ['a', '1'], ['b', '2']], false, 1);
    const bigFields = Array.from({ length: 130 }, (_, i): [string, string] => [`g${i}`, `v${i}`]);
    putOldHash(store, 'oldbig', bigFields, true, 2);
    await new Promise<void>((resolve) => store.afterDurable(() => resolve()));
    await store.close();

    await node.restart();
    const r = new Redis({ port: node.port });
    try {
      expect(await r.hkeys('old')).toEqual(['a', 'b', 'c']);
      expect(await r.hvals('old')).toEqual(['1', '2', '3']);
      expect(await r.hget('old', 'c')).toBe('3');
      expect(await r.object('ENCODING', 'old')).toBe('listpack');
      expect(await r.dbsize()).toBe(2);
      const p = r.pipeline();
      p.hset('old', 'z', '26');
      p.hset('old', 'a', 'changed');
      p.hdel('old', 'b');
      p.hset('old', 'b', 'back');
      p.hincrby('old', 'c', 4);
      p.hgetall('old');
      p.hkeys('old');
      p.hlen('old');
      const replies = ((await p.exec()) ?? []).map(([err, v]) => (err ? err.message : v));
      expect(replies).toEqual([1, 0, 1, 1, 7, { a: 'changed', c: '7', z: '26', b: 'back' }, ['a', 'c', 'z', 'b'], 4]);

      // The hashtable stays as it was: its values read as written and it takes new fields.
      expect(await r.object('ENCODING', 'oldbig')).toBe('hashtable');
      expect(await r.hget('oldbig', 'g7')).toBe('v7');
      expect(await r.hset('oldbig', 'g200', 'x', 'g7', 'seven')).toBe(1);
      const big = await r.hgetall('oldbig');
      expect(Object.keys(big).length).toBe(131);
      expect(big.g7).toBe('seven');
      expect(big.g129).toBe('v129');
      expect(big.g200).toBe('x');
    } finally {
      r.disconnect();
    }

    expect(await node.stop()).toBe(0);
    await node.restart();
    const again = new Redis({ port: node.port });
    try {
      expect(await again.hkeys('old')).toEqual(['a', 'c', 'z', 'b']);
      expect(await again.hget('old', 'a')).toBe('changed');
      expect(await again.hlen('oldbig')).toBe(131);
      expect(await again.hget('oldbig', 'g200')).toBe('x');
      expect(await again.dbsize()).toBe(2);
    } finally {
      again.disconnect();
    }
  }, 30000);
});
