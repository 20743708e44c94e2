/**
 * Goal: SAVE, BGSAVE and LASTSAVE behave as backup scripts rely on: "BGSAVE, then wait until
 * LASTSAVE changes" ends; SAVE answers once the data is checkpointed; a second BGSAVE while one
 * runs is refused (or scheduled with SCHEDULE) with Redis's texts; INFO persistence counts saves
 * and changes since the last one; the pipelined replies are redis-server's, and every node of a
 * 3-node cluster saves on its own. Method: one node, ioredis, pipelines where the order within one
 * read matters; the same pipeline sent to redis-server; then per-node clients of a cluster.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterForBlock } from '../helpers/cluster.js';
import { haveRedisServer, startRedisServer } from '../helpers/redis-reference.js';
import { startNode, type NodeProcess } from '../helpers/server.js';

/** BGSAVE twice, BGSAVE SCHEDULE and SAVE in one read: every reply, errors as text. */
async function overlappingSaves(c: Redis): Promise<unknown[]> {
  const replies = await c.pipeline().bgsave().bgsave().call('BGSAVE', 'SCHEDULE').save().exec();
  return replies!.map(([err, v]) => (err ? `error: ${err.message}` : v));
}

/** Waits until `c` says no save runs. */
async function untilIdle(c: Redis): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!/rdb_bgsave_in_progress:0/.test(await c.info('persistence'))) {
    if (Date.now() > deadline) throw new Error('a save never ended');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)\\r?$`, 'm').exec(info)?.[1]?.trim();
}

describe('SAVE, BGSAVE and LASTSAVE', () => {
  let node: NodeProcess | undefined;
  let c: Redis;

  beforeAll(async () => {
    // Checkpoints only when asked: LASTSAVE then moves because of the commands alone.
    node = await startNode({ args: ['--appendfsync', 'no', '--checkpoint-interval-ms', '600000'] });
    c = new Redis({ port: node.port });
  }, 60_000);

  afterAll(async () => {
    c?.disconnect();
    await node?.stop();
  });

  it('BGSAVE: LASTSAVE moves once it is done, as a backup script waits for it', async () => {
    const p = c.pipeline();
    for (let i = 0; i < 5000; i++) p.set(`k:${i}`, 'v'.repeat(100));
    await p.exec();
    expect(Number(field(await c.info('persistence'), 'rdb_changes_since_last_save'))).toBeGreaterThanOrEqual(5000);
    const before = await c.lastsave();
    // LASTSAVE counts seconds: the save must end in a later one.
    await sleep(1100);
    expect(await c.bgsave()).toBe('Background saving started');
    const deadline = Date.now() + 10_000;
    while ((await c.lastsave()) === before) {
      if (Date.now() > deadline) throw new Error('LASTSAVE did not move after BGSAVE');
      await sleep(50);
    }
    const info = await c.info('persistence');
    expect(field(info, 'rdb_bgsave_in_progress')).toBe('0');
    expect(field(info, 'rdb_last_bgsave_status')).toBe('ok');
    expect(Number(field(info, 'rdb_saves'))).toBeGreaterThanOrEqual(1);
    expect(Number(field(info, 'rdb_last_save_time'))).toBe(await c.lastsave());
    expect(field(info, 'rdb_changes_since_last_save')).toBe('0');
  });

  it('SAVE answers once the writes before it are checkpointed', async () => {
    await c.set('after', '1');
    expect(field(await c.info('persistence'), 'rdb_changes_since_last_save')).not.toBe('0');
    const saves = Number(field(await c.info('persistence'), 'rdb_saves'));
    expect(await c.save()).toBe('OK');
    const info = await c.info('persistence');
    expect(field(info, 'rdb_changes_since_last_save')).toBe('0');
    expect(Number(field(info, 'rdb_saves'))).toBe(saves + 1);
  });

  it('refuses a second BGSAVE while one runs, with SCHEDULE too, and refuses SAVE meanwhile', async () => {
    await c.set('x', 'y');
    const saves = Number(field(await c.info('persistence'), 'rdb_saves'));
    const replies = await c.pipeline().bgsave().bgsave().call('BGSAVE', 'SCHEDULE').save().exec();
    expect(replies!.map(([err, v]) => (err ? `error: ${err.message}` : v))).toEqual([
      'Background saving started',
      'error: ERR Background save already in progress',
      'error: ERR Background save already in progress',
      'error: ERR Background save already in progress',
    ]);
    // One save in all.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const info = await c.info('persistence');
      if (Number(field(info, 'rdb_saves')) === saves + 1 && field(info, 'rdb_bgsave_in_progress') === '0') break;
      if (Date.now() > deadline) throw new Error(`the scheduled BGSAVE did not run: ${info}`);
      await sleep(20);
    }
  });
});

describe.skipIf(!haveRedisServer)('overlapping saves beside redis-server', () => {
  it('answers the same pipeline as redis-server does', async () => {
    const ref = await startRedisServer();
    const r = new Redis({ port: ref.ports[0] });
    const node = await startNode({ args: ['--appendfsync', 'no'] });
    const c = new Redis({ port: node.port });
    try {
      for (const x of [r, c]) await x.set('k', 'v');
      const expected = await overlappingSaves(r);
      expect(expected[0]).toBe('Background saving started');
      expect(await overlappingSaves(c)).toEqual(expected);
      await untilIdle(c);
    } finally {
      r.disconnect();
      c.disconnect();
      await Promise.all([ref.stop(), node.stop()]);
    }
  }, 60_000);
});

describe('SAVE and BGSAVE on every node of a 3-node cluster', () => {
  const cluster = clusterForBlock(3);

  it('each node saves its own data, and its LASTSAVE moves', async () => {
    const clients = cluster.ports.map((port) => new Redis({ port }));
    try {
      const before = await Promise.all(clients.map((c) => c.lastsave()));
      await sleep(1100);
      expect(await Promise.all(clients.map((c) => overlappingSaves(c)))).toEqual(clients.map(() => [
        'Background saving started',
        'error: ERR Background save already in progress',
        'error: ERR Background save already in progress',
        'error: ERR Background save already in progress',
      ]));
      for (const c of clients) await untilIdle(c);
      const after = await Promise.all(clients.map((c) => c.lastsave()));
      after.forEach((t, i) => expect(t).toBeGreaterThan(before[i]!));
      expect(await Promise.all(clients.map((c) => c.save()))).toEqual(['OK', 'OK', 'OK']);
    } finally {
      for (const c of clients) c.disconnect();
    }
  }, 90_000);
});
