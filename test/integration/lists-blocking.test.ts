/**
 * Goal: blocking list pops behave as in Redis 7.0 for real clients: a waiting BLPOP is served by
 * another client's push, FIFO among waiters, timeouts (and 0 = forever), BLMOVE, no blocking inside
 * MULTI, CLIENT UNBLOCK, a closed connection stops waiting, later commands on the blocked
 * connection wait for it; in a 3-node cluster a client blocked at the slot's primary is woken by a
 * push sent through another node (ioredis and redis-py), a job queue pops every job exactly once,
 * and a client whose slot moves away gets MOVED.
 * Method: real node processes, ioredis (standalone and Cluster) and redis-py, INFO blocked_clients
 * to know when a client is blocked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedClients, nodeWithClients, untilBlocked } from '../helpers/blocked.js';
import Redis, { Cluster } from 'ioredis';
import { run } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { slotMap } from '../helpers/slot-map.js';
import { PYTHON, redisPyMissing } from '../helpers/redis-py.js';

describe('blocking list pops on one node', () => {
  const setup = nodeWithClients();
  const client = setup.client;
  const node = { get port(): number { return setup.port(); } };

  it('BLPOP waits until another client pushes, then gets the element', async () => {
    const a = client();
    const b = client();
    const popped = a.blpop('q1', 0);
    await untilBlocked(node.port, 1);
    expect(await b.rpush('q1', 'x')).toBe(1);
    expect(await popped).toEqual(['q1', 'x']);
    expect(await b.exists('q1')).toBe(0);
    expect(await blockedClients(node.port)).toBe(0);
  });

  it('three blocked clients are served in the order they blocked', async () => {
    const waiters = [client(), client(), client()];
    const results: Array<Promise<[string, string] | null>> = [];
    for (let i = 0; i < 3; i++) {
      results.push(waiters[i]!.brpop('fifo', 'other', 0));
      await untilBlocked(node.port, i + 1);
    }
    await client().lpush('fifo', 'j1', 'j2', 'j3');
    // BRPOP takes from the tail: j1 was pushed first, so it is the first out.
    expect(await Promise.all(results)).toEqual([['fifo', 'j1'], ['fifo', 'j2'], ['fifo', 'j3']]);
  });

  it('a timeout answers null after about that long; timeout 0 waits for a late push', async () => {
    const a = client();
    const start = Date.now();
    expect(await a.blpop('never', 0.3)).toBeNull();
    const took = Date.now() - start;
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(3000);
    const b = client();
    const popped = b.blpop('late', 0);
    await new Promise((r) => setTimeout(r, 500));
    await client().rpush('late', 'finally');
    expect(await popped).toEqual(['late', 'finally']);
  });

  it('BLMOVE and BRPOPLPUSH move the pushed element to the destination', async () => {
    const a = client();
    const moved = a.blmove('src', 'dst', 'LEFT', 'RIGHT', 0);
    await untilBlocked(node.port, 1);
    await client().rpush('src', 'm1', 'm2');
    expect(await moved).toBe('m1');
    const again = client().brpoplpush('empty-src', 'dst', 0);
    await untilBlocked(node.port, 1);
    await client().rpush('empty-src', 'm3');
    expect(await again).toBe('m3');
    expect(await client().lrange('dst', 0, -1)).toEqual(['m3', 'm1']);
    expect(await client().lrange('src', 0, -1)).toEqual(['m2']);
  });

  it('inside MULTI a blocking pop answers at once, as its non-blocking form', async () => {
    const a = client();
    const start = Date.now();
    const res = await a.multi().blpop('nothing', 0).blmove('nothing', 'd', 'LEFT', 'LEFT', 0).blmpop(0, 1, 'nothing', 'LEFT').exec();
    expect(res).toEqual([[null, null], [null, null], [null, null]]);
    expect(Date.now() - start).toBeLessThan(2000);
  });

  it('CLIENT UNBLOCK ends a wait as a timeout, or with the UNBLOCKED error', async () => {
    const a = client();
    const id = Number(await a.client('ID'));
    const waiting = a.blpop('unblock-me', 0);
    await untilBlocked(node.port, 1);
    const admin = client();
    expect(await admin.client('LIST', 'ID', id)).toContain(' flags=b ');
    expect(await admin.client('UNBLOCK', id)).toBe(1);
    expect(await waiting).toBeNull();
    const again = a.blpop('unblock-me', 0).then(() => 'answered', (err: Error) => err.message);
    await untilBlocked(node.port, 1);
    expect(await admin.client('UNBLOCK', id, 'ERROR')).toBe(1);
    expect(await again).toBe('UNBLOCKED client unblocked via CLIENT UNBLOCK');
    expect(await admin.client('UNBLOCK', id)).toBe(0);
  });

  it('a closed connection stops waiting: a later push stays in the list', async () => {
    const a = new Redis({ port: node.port });
    void a.blpop('abandoned', 0).catch(() => undefined);
    await untilBlocked(node.port, 1);
    a.disconnect();
    await untilBlocked(node.port, 0);
    const b = client();
    await b.rpush('abandoned', 'kept');
    expect(await b.lrange('abandoned', 0, -1)).toEqual(['kept']);
  });

  it('commands sent after a blocked command on its connection wait for it', async () => {
    const a = client();
    const order: string[] = [];
    const popped = a.blpop('held', 0).then((v) => order.push(`blpop:${v?.[1]}`));
    const echoed = a.echo('after').then((v) => order.push(`echo:${v}`));
    await untilBlocked(node.port, 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(order).toEqual([]);
    await client().rpush('held', 'v');
    await Promise.all([popped, echoed]);
    expect(order).toEqual(['blpop:v', 'echo:after']);
  });
});

describe('blocking list pops in a 3-node cluster', () => {
  let c: TestCluster;
  const clients: Array<Redis | Cluster> = [];
  beforeAll(async () => {
    // cluster-proxy lets a plain client push through any node; blocking commands still get MOVED.
    c = await startCluster(3, ['--cluster-proxy', 'yes']);
  }, 60000);
  afterAll(async () => {
    for (const x of clients) x.disconnect();
    await c?.stop();
  });
  const cluster = (): Cluster => {
    const x = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }], { enableReadyCheck: true });
    // The last test takes a node off the ring: clients still connected to it report that.
    x.on('error', () => undefined);
    clients.push(x);
    return x;
  };

  it('a client blocked at the primary is woken by a push sent through another node', async () => {
    const map = await slotMap(c.ports[0]!);
    const key = 'cq1';
    const owner = map.ownerOf(key);
    const blocked = cluster();
    const popped = blocked.blpop(key, 0);
    await untilBlocked(owner, 1);
    const via = new Redis({ port: map.notOwnerOf(key, c.ports) });
    via.on('error', () => undefined);
    clients.push(via);
    expect(await via.rpush(key, 'hello')).toBe(1);
    expect(await popped).toEqual([key, 'hello']);
    expect(await via.llen(key)).toBe(0);
  });

  it.skipIf(redisPyMissing !== undefined)('the same through redis-py RedisCluster', async () => {
    const map = await slotMap(c.ports[0]!);
    const key = 'pyq';
    const script = [
      'import json, sys, threading, time, redis',
      'from redis.cluster import RedisCluster',
      'rc = RedisCluster(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)',
      'out = {}',
      't = threading.Thread(target=lambda: out.update(v=rc.blpop([sys.argv[3]], timeout=20)))',
      't.start()',
      'deadline = time.time() + 10',
      'owner = redis.Redis(port=int(sys.argv[4]), decode_responses=True)',
      'while int(owner.info("clients")["blocked_clients"]) < 1 and time.time() < deadline: time.sleep(0.02)',
      'redis.Redis(port=int(sys.argv[2]), decode_responses=True).rpush(sys.argv[3], "from-py")',
      't.join()',
      'print(json.dumps(out["v"]))',
    ].join('\n');
    const r = await run(PYTHON, ['-c', script, String(c.ports[0]), String(map.notOwnerOf(key, c.ports)), key, String(map.ownerOf(key))], undefined, 40000);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([key, 'from-py']);
  }, 45000);

  it('job queue: 4 producers push 2,000 jobs, 4 consumers BRPOP them; each job is popped exactly once', async () => {
    const queue = '{jobs}queue';
    const producers = Array.from({ length: 4 }, () => cluster());
    const consumers = Array.from({ length: 4 }, () => cluster());
    const seen: string[] = [];
    let stop = false;
    const consume = async (x: Cluster): Promise<void> => {
      while (!stop) {
        const got = await x.brpop(queue, 1);
        if (got !== null) seen.push(got[1]);
      }
    };
    const running = consumers.map(consume);
    // One LPUSH per job, each producer's 500 sent without waiting (ioredis pipelines them).
    await Promise.all(producers.map((p, i) => Promise.all(Array.from({ length: 500 }, (_, j) => p.lpush(queue, `job-${i}-${j}`)))));
    const deadline = Date.now() + 60000;
    while (seen.length < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await Promise.all(running);
    expect(seen.length).toBe(2000);
    expect(new Set(seen).size).toBe(2000);
    expect(await producers[0]!.llen(queue)).toBe(0);
  }, 90000);

  it('a client blocked on a slot that moves away gets MOVED', async () => {
    const map = await slotMap(c.ports[0]!);
    // A key on a node that will leave, blocked on directly at that node.
    const leaving = c.ports[2]!;
    const [key] = map.keysOn(leaving, 'moving', 1);
    const direct = new Redis({ port: leaving, maxRetriesPerRequest: 0 });
    direct.on('error', () => undefined);
    clients.push(direct);
    const waiting = direct.blpop(key!, 0);
    await untilBlocked(leaving, 1);
    await direct.duplicate().call('RINGKV.LEAVE').catch(() => undefined);
    await expect(waiting).rejects.toThrow(/^MOVED \d+ 127\.0\.0\.1:\d+$/);
  }, 60000);
});
