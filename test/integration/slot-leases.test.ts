/**
 * Goal: read-modify-write commands have one coordinator per slot (the lease holder), so no
 * increment is lost or applied twice when that coordinator pauses and another takes over, and
 * increments resume on the pausing node's slots once its lease ran out. Method: a real 3-node
 * cluster with a short lease, ioredis Cluster workers each keeping INCRs in flight on counters
 * spread over the nodes, SIGSTOP of one node for longer than the node timeout, SIGCONT, then every
 * counter compared with the increments its clients saw acknowledged and those that failed
 * (an error leaves the outcome unknown: applied or not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { startCluster, waitForNodeState, type TestCluster } from '../helpers/cluster.js';
import { infoField, primaryPort } from '../helpers/node-facts.js';
import { RespConn, show } from '../helpers/resp-conn.js';

describe('slot leases under a paused coordinator', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3, ['--cluster-lease-ms', '1000']);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('every counter equals its acknowledged increments, give or take the ones whose outcome was unknown', async () => {
    const client = new Cluster(c.ports.map((port) => ({ host: '127.0.0.1', port })), {
      clusterRetryStrategy: () => 100,
      retryDelayOnFailover: 100,
      retryDelayOnTryAgain: 100,
      // ioredis would send again the commands in flight on a connection it drops (the paused node's),
      // and the paused node still runs them from its socket buffer when it resumes: that client
      // resend would count twice. Off, an interrupted command is an unknown outcome, as the checks assume.
      redisOptions: { commandTimeout: 1500, connectTimeout: 500, autoResendUnfulfilledCommands: false },
    });
    client.on('error', () => undefined);
    const counters = Array.from({ length: 12 }, (_, i) => `counter:${i}`);
    const acked = new Map(counters.map((k) => [k, 0]));
    const unknown = new Map(counters.map((k) => [k, 0]));
    const ackedAt: number[] = [];
    let stop = false;
    const workers = counters.flatMap((key) => [0, 1].map(async () => {
      while (!stop) {
        try {
          // Pipelined: an INCR and an INCRBY 2 per round trip, as apps batch.
          const res = await client.pipeline().incr(key).incrby(key, 2).exec();
          for (const [i, [err]] of (res ?? []).entries()) {
            const by = i === 0 ? 1 : 2;
            if (err) unknown.set(key, unknown.get(key)! + by);
            else {
              acked.set(key, acked.get(key)! + by);
              ackedAt.push(Date.now());
            }
          }
        } catch {
          unknown.set(key, unknown.get(key)! + 3);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }));
    await new Promise((r) => setTimeout(r, 1500));
    const victim = c.nodes[1]!;
    victim.proc.kill('SIGSTOP');
    const pausedAt = Date.now();
    await waitForNodeState(c.ports[0]!, victim.port, 'fail', 20000);
    await new Promise((r) => setTimeout(r, 2500));
    victim.proc.kill('SIGCONT');
    const resumedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2500));
    stop = true;
    await Promise.all(workers);

    // Every slot, the paused node's included, took increments again before it came back.
    const during = ackedAt.filter((t) => t > pausedAt && t < resumedAt).length;
    expect(during, 'increments acknowledged while a node was paused').toBeGreaterThan(100);
    for (const key of counters) {
      const value = Number(await client.get(key));
      expect(value, `${key}: no acknowledged increment lost`).toBeGreaterThanOrEqual(acked.get(key)!);
      expect(value, `${key}: no increment applied twice`).toBeLessThanOrEqual(acked.get(key)! + unknown.get(key)!);
    }
    client.disconnect();
  }, 90000);
});

/**
 * Goal: a read-modify-write whose lease ran out while it waited (the coordinator stalled past the
 * lease) is run again under the lease taken anew instead of answering TRYAGAIN, and counts once.
 * Method: a 3-node cluster with a 200 ms lease; on the slot's primary, INCRs on one connection
 * while another connection's DEBUG SLEEP 0.4 blocks the node with the INCRs' quorum reads in
 * flight; every INCR must answer the next integer, and INFO must count the jobs run again.
 */
describe('a lease that runs out under a running command', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3, ['--cluster-lease-ms', '200']);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  it('runs the command again under a new lease: no TRYAGAIN, each increment applied once', async () => {
    const key = 'lease:retry';
    const port = await primaryPort(c.ports[0]!, key);
    const conn = await RespConn.connect(port);
    const sleeper = await RespConn.connect(port);
    try {
      expect(show(await conn.call('SET', key, '0'))).toBe('+OK');
      const got: string[] = [];
      for (let round = 0; round < 8; round++) {
        // Take (or renew) the lease, then put an INCR in flight and stall the node behind it.
        got.push(show(await conn.call('INCR', key)));
        const pending = conn.pipelineText([['INCR', key], ['INCR', key]], 10000);
        await new Promise((r) => setImmediate(r));
        await sleeper.call('DEBUG', 'SLEEP', '0.4');
        got.push(...(await pending));
      }
      expect(got).toEqual(Array.from({ length: got.length }, (_, i) => `:${i + 1}`));
      expect(await infoField(port, 'ringkv_lease_retries')).toBeGreaterThan(0);
    } finally {
      conn.close();
      sleeper.close();
    }
  }, 60000);
});
