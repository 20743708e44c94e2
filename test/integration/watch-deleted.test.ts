/**
 * Goal: WATCH of a deleted key is not broken by the purge of its tombstone, as Redis keeps such a
 * transaction running, while a watched key deleted by another client still aborts EXEC after its
 * tombstone is gone. Method: one real standalone node (tombstones are dropped at its checkpoint,
 * every 5 s); two ioredis clients; a wait past two checkpoints between WATCH and EXEC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { startNode, type NodeProcess } from '../helpers/server.js';

let node: NodeProcess;
let a: Redis;
let b: Redis;
beforeAll(async () => {
  node = await startNode({ args: ['--appendfsync', 'no'] });
  a = new Redis({ port: node.port });
  b = new Redis({ port: node.port });
});
afterAll(async () => {
  a?.disconnect();
  b?.disconnect();
  await node?.stop();
});

describe('WATCH across a tombstone purge', () => {
  it('keeps a transaction on a key deleted before WATCH, aborts one on a key deleted after it', async () => {
    await a.set('wd:gone', '1');
    await a.del('wd:gone');
    await a.watch('wd:gone');
    await b.set('wd:live', '1');
    const watcher = new Redis({ port: node.port });
    try {
      await watcher.watch('wd:live');
      await b.del('wd:live');
      // Two checkpoints: both tombstones are purged from the store.
      await new Promise((r) => setTimeout(r, 11_000));
      expect(await a.multi().set('wd:gone', '2').exec()).toEqual([[null, 'OK']]);
      expect(await watcher.multi().set('wd:live', '2').exec()).toBeNull();
      expect(await a.get('wd:live')).toBeNull();
    } finally {
      watcher.disconnect();
    }
  }, 30_000);
});
