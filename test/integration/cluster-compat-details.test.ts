/**
 * Goal: details found by Redis's own test suite on one node hold in a 3-node cluster too: a blocked
 * XREADGROUP is answered -UNBLOCKED when its stream is deleted and -NOGROUP... when its group goes;
 * time stands still inside EXEC (a key that expires while the transaction runs is still read);
 * a setting's old name is the same setting on each node; a script's caught error (pcall) is
 * counted once in errorstats where it ran; BCAST tracking sends one message per prefix.
 * Method: a real 3-node cluster (N=3, W=2, R=2); each key's primary found from CLUSTER SLOTS and
 * driven with raw connections (pipelined where the scenario allows), as Redis Cluster clients do.
 */
import { describe, expect, it } from 'vitest';
import { clusterForBlock } from '../helpers/cluster.js';
import { primaryPort } from '../helpers/node-facts.js';
import { RespConn, show } from '../helpers/resp-conn.js';

describe('Redis 7.0 details in a 3-node cluster', () => {
  const c = clusterForBlock(3, ['--appendfsync', 'no']);

  it('a blocked XREADGROUP is answered -UNBLOCKED when its stream is deleted', async () => {
    const key = '{xg}stream';
    const port = await primaryPort(c.ports[0]!, key);
    const admin = await RespConn.connect(port);
    const waiter = await RespConn.connect(port);
    try {
      expect(await admin.pipelineText([['DEL', key], ['XGROUP', 'CREATE', key, 'g', '$', 'MKSTREAM']])).toEqual([':0', '+OK']);
      const blocked = waiter.pipelineText([['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', key, '>']]);
      await new Promise((r) => setTimeout(r, 300));
      expect(await admin.pipelineText([['DEL', key]])).toEqual([':1']);
      expect(await blocked).toEqual(['-UNBLOCKED the stream key no longer exists']);
    } finally {
      admin.close();
      waiter.close();
    }
  });

  it('time stands still within EXEC', async () => {
    const key = '{ex}k';
    const port = await primaryPort(c.ports[0]!, key);
    const conn = await RespConn.connect(port);
    try {
      const replies = await conn.pipelineText([['MULTI'], ['SET', key, 'v', 'PX', '5'], ['DEBUG', 'SLEEP', '0.05'], ['GET', key], ['EXEC'], ['GET', key]]);
      expect(replies).toEqual(['+OK', '+QUEUED', '+QUEUED', '+QUEUED', '[+OK +OK "v"]', 'nil']);
    } finally {
      conn.close();
    }
  });

  it('an old setting name is the same setting on each node, and a caught script error is counted once', async () => {
    for (const port of c.ports) {
      const conn = await RespConn.connect(port);
      try {
        expect(await conn.pipelineText([
          ['CONFIG', 'SET', 'hash-max-ziplist-entries', '7'], ['CONFIG', 'GET', 'hash-max-listpack-entries'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '512'],
          ['CONFIG', 'GET', 'hash-max-ziplist-entries'],
        ])).toEqual(['+OK', '["hash-max-listpack-entries" "7"]', '+OK', '["hash-max-ziplist-entries" "512"]']);
      } finally {
        conn.close();
      }
    }
    const key = '{sc}k';
    const port = await primaryPort(c.ports[0]!, key);
    const conn = await RespConn.connect(port);
    try {
      await conn.pipelineText([['CONFIG', 'RESETSTAT']]);
      const replies = await conn.pipelineText([
        ['SET', key, 'str'],
        ['EVAL', "local t = redis.pcall('LPUSH', KEYS[1], 'x') return t['err']", '1', key],
        ['INFO', 'errorstats'],
      ]);
      expect(replies[1]).toBe('"WRONGTYPE Operation against a key holding the wrong kind of value"');
      expect(replies[2]).toContain('errorstat_WRONGTYPE:count=1');
    } finally {
      conn.close();
    }
  });

  it('a huge negative count of random picks is stopped at the client\'s output limit; the node keeps serving', async () => {
    const key = '{rp}h';
    const port = await primaryPort(c.ports[0]!, key);
    const conn = await RespConn.connect(port);
    try {
      await conn.pipelineText([['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1000000 0 0'], ['HSET', key, 'a', 'b']]);
      // Coordinated by the slot's primary: the run stops at the limit instead of building a
      // billion picks (one node closes the client; a coordinated run answers this error).
      let reply: string[];
      try {
        reply = await conn.pipelineText([['HRANDFIELD', key, '-999999999'], ['PING']]);
      } catch {
        reply = ['closed'];
      }
      expect(reply[0] === 'closed' || reply[0] === '-ERR reply exceeds the client output buffer limit', JSON.stringify(reply)).toBe(true);
    } finally {
      conn.close();
    }
    const after = await RespConn.connect(port);
    try {
      expect(await after.pipelineText([['HRANDFIELD', key, '-3'], ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0']])).toEqual(['["a" "a" "a"]', '+OK']);
    } finally {
      after.close();
    }
  });

  it('BCAST tracking sends one invalidation per prefix, also for keys changed in one command', async () => {
    const keys = ['{bc}p:1', '{bc}q:1'];
    const port = await primaryPort(c.ports[0]!, keys[0]!);
    const tracker = await RespConn.connect(port);
    const writer = await RespConn.connect(port);
    try {
      expect(await tracker.pipelineText([['HELLO', '3'], ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', '{bc}p', 'PREFIX', '{bc}q']]).then((r) => r[1])).toBe('+OK');
      expect(await writer.pipelineText([['MSET', keys[0]!, '1', keys[1]!, '2']])).toEqual(['+OK']);
      const frames = (await tracker.read(2)).map(show).sort();
      expect(frames).toEqual(['["invalidate" ["{bc}p:1"]]', '["invalidate" ["{bc}q:1"]]']);
    } finally {
      tracker.close();
      writer.close();
    }
  });
});
