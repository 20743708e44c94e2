/**
 * Goal: function libraries are cluster-wide. FUNCTION LOAD, DELETE, FLUSH and RESTORE on one node
 * reach every node; two nodes loading different libraries at once keep both; a node that was down
 * during a change and a node that joins later get the libraries; they survive restarts.
 * Method: a real 3-node cluster, plain ioredis clients on single nodes (no client-side fan-out) and an
 * ioredis Cluster for FCALL, one node stopped and restarted, a fourth node started later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { startNode } from '../helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const lib = (name: string, fn: string, body = "return redis.call('incrby', keys[1], args[1])"): string =>
  `#!lua name=${name}\nredis.register_function('${fn}', function(keys, args) ${body} end)`;

async function libraryNames(port: number): Promise<string[]> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const list = (await r.call('FUNCTION', 'LIST')) as unknown[][];
    return list.map((entry) => String(entry[1])).sort();
  } finally {
    r.disconnect();
  }
}

async function everywhere(ports: number[], names: string[]): Promise<void> {
  for (const port of ports) await eventually(`libraries ${names.join(',')} on ${port}`, async () => JSON.stringify(await libraryNames(port)) === JSON.stringify([...names].sort()));
}

describe('function libraries in a cluster', () => {
  let c: TestCluster;
  const admins: Redis[] = [];
  const admin = (i: number): Redis => admins[i]!;
  beforeAll(async () => {
    c = await startCluster(3);
    for (const port of c.ports) admins.push(new Redis({ port }));
  }, 60_000);
  afterAll(async () => {
    for (const a of admins) a.disconnect();
    await c?.stop();
  });

  it('FUNCTION LOAD on one node reaches every node; FCALL works through a cluster client', async () => {
    expect(await admin(0).call('FUNCTION', 'LOAD', lib('shared', 'sincr'))).toBe('shared');
    await everywhere(c.ports, ['shared']);
    const cluster = new Cluster([{ host: '127.0.0.1', port: c.ports[1]! }]);
    try {
      for (let i = 0; i < 12; i++) expect(await cluster.fcall('sincr', 1, `fc:${i}`, 5)).toBe(5);
    } finally {
      cluster.disconnect();
    }
    // Loading it again unchanged on another node is not an error (cluster clients send it to every node).
    expect(await admin(2).call('FUNCTION', 'LOAD', lib('shared', 'sincr'))).toBe('shared');
    await expect(admin(2).call('FUNCTION', 'LOAD', lib('shared', 'sincr', 'return 1'))).rejects.toThrow("ERR Library 'shared' already exists");
  });

  it('REPLACE and DELETE on one node reach every node; concurrent loads of two libraries on two nodes keep both', async () => {
    await admin(1).call('FUNCTION', 'LOAD', 'REPLACE', lib('shared', 'sincr', 'return 42'));
    for (const a of admins) await eventually('replaced body', async () => (await a.fcall('sincr', 0)) === 42);
    await Promise.all([admin(0).call('FUNCTION', 'LOAD', lib('left', 'lfn')), admin(2).call('FUNCTION', 'LOAD', lib('right', 'rfn'))]);
    await everywhere(c.ports, ['left', 'right', 'shared']);
    await admin(2).call('FUNCTION', 'DELETE', 'shared');
    await everywhere(c.ports, ['left', 'right']);
    await expect(admin(0).fcall('sincr', 0)).rejects.toThrow('ERR Function not found');
  });

  it('a node that was down during a change gets it after its restart; FLUSH and RESTORE spread too', async () => {
    const dump = (await admin(0).callBuffer('FUNCTION', 'DUMP')) as Buffer;
    admin(2).disconnect();
    await c.nodes[2]!.stop();
    await admin(0).call('FUNCTION', 'LOAD', lib('whiledown', 'wfn'));
    await everywhere(c.ports.slice(0, 2), ['left', 'right', 'whiledown']);
    await c.nodes[2]!.restart();
    admins[2] = new Redis({ port: c.ports[2]! });
    await everywhere(c.ports, ['left', 'right', 'whiledown']);
    await admin(1).call('FUNCTION', 'FLUSH');
    await everywhere(c.ports, []);
    await admin(2).call('FUNCTION', 'RESTORE', dump);
    await everywhere(c.ports, ['left', 'right']);
  }, 90_000);

  it('a node that joins later gets the libraries', async () => {
    const d = await startNode({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', '--cluster-seeds', `127.0.0.1:${c.ports[0]}`, '--appendfsync', 'everysec'] });
    try {
      await everywhere([d.port], ['left', 'right']);
    } finally {
      await d.stop();
    }
  }, 90_000);
});
