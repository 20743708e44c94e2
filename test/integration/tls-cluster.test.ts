/**
 * Goal: with tls-cluster, nodes form a cluster over a mutually authenticated TLS bus; what CLUSTER
 * SLOTS / NODES / SHARDS and MOVED announce is the port the asking client can use (TLS ports to TLS
 * clients, plain ports to plain ones, as Redis 7.0); ioredis's Cluster over TLS follows MOVED;
 * cluster-proxy relays over the TLS bus; and a node whose certificate comes from another CA stays
 * out, with the refusal logged once, in one line.
 * Method: four real node processes with certificates made by the openssl command line; clients over
 * real TLS handshakes; membership read from CLUSTER INFO of the nodes themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { freePort, startNode, type NodeProcess } from '../helpers/server.js';
import { clusterInfo, waitForCluster } from '../helpers/cluster.js';
import { fingerprintOf, TestPki, type Authority, type CertPair } from '../helpers/tls-certs.js';
import { tlsExchange, tlsOptions, tlsPeerFingerprint } from '../helpers/tls-client.js';
import { keySlot } from '../../src/cluster/slot.js';

const SECRET = 'tls-cluster-secret';

let pki: TestPki;
let ca: Authority;
let client: CertPair;
const nodeCerts: CertPair[] = [];
const nodes: NodeProcess[] = [];
const tlsPorts: number[] = [];

/** Distinct free ports whose +10000 companions are free and collide with nothing drawn before. */
async function distinctPorts(n: number, taken: number[]): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    const all = [...taken, ...out];
    if (!all.some((q) => q === p || q === p + 10000 || q + 10000 === p)) out.push(p);
  }
  return out;
}

function nodeArgs(tlsPort: number, pair: CertPair, caCert: string, seeds: string): string[] {
  return [
    '--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', '--appendfsync', 'everysec', '--cluster-secret', SECRET,
    '--tls-port', String(tlsPort), '--tls-cluster', 'yes', '--tls-cert-file', pair.cert, '--tls-key-file', pair.key,
    '--tls-ca-cert-file', caCert, '--cluster-seeds', seeds, '--loglevel', 'notice',
  ];
}

beforeAll(async () => {
  pki = new TestPki();
  ca = pki.authority('cluster-ca');
  client = pki.leaf(ca, 'client');
  const plain = await distinctPorts(3, []);
  tlsPorts.push(...(await distinctPorts(3, plain)));
  // Seeds name TLS ports: the bus listens on tls-port + 10000 under tls-cluster, as in Redis.
  const seeds = tlsPorts.map((p) => `127.0.0.1:${p}`).join(' ');
  for (let i = 0; i < 3; i++) nodeCerts.push(pki.leaf(ca, `node${i}`));
  const started = await Promise.allSettled(plain.map((port, i) => startNode({ port, args: nodeArgs(tlsPorts[i]!, nodeCerts[i]!, ca.cert, seeds) })));
  for (const r of started) if (r.status === 'fulfilled') nodes.push(r.value);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  await waitForCluster(plain, 3);
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => (n.proc.exitCode === null && n.proc.signalCode === null ? n.stop() : null)));
});

const tlsClient = (port: number): Redis => new Redis({ port, host: '127.0.0.1', tls: tlsOptions({ ca: ca.cert, client }), retryStrategy: () => null });

describe('a 3-node cluster with tls-cluster yes', () => {
  it('forms without a TLS complaint in any log', () => {
    for (const n of nodes) expect(n.output()).not.toMatch(/TLS refused|TLS link before accepting|refused a peer/);
  });

  it('announces TLS ports to TLS clients and plain ports to plain clients', async () => {
    const secure = tlsClient(tlsPorts[0]!);
    const plain = new Redis({ port: nodes[0]!.port, host: '127.0.0.1' });
    try {
      const slotPorts = (slots: unknown): Set<number> => new Set((slots as Array<[number, number, [string, number]]>).map((r) => r[2][1]));
      expect([...slotPorts(await secure.cluster('SLOTS'))].sort()).toEqual([...tlsPorts].sort());
      expect([...slotPorts(await plain.cluster('SLOTS'))].sort()).toEqual(nodes.map((n) => n.port).sort());
      const nodesText = (await secure.cluster('NODES')) as string;
      for (const p of tlsPorts) expect(nodesText).toContain(`127.0.0.1:${p}@${p + 10000}`);
      const plainText = (await plain.cluster('NODES')) as string;
      for (const [i, n] of nodes.entries()) expect(plainText).toContain(`127.0.0.1:${n.port}@${tlsPorts[i]! + 10000}`);
      // SHARDS gives both, as Redis 7.0 does: port (plain) and tls-port.
      const shards = (await plain.call('CLUSTER', 'SHARDS')) as unknown[][];
      const described = shards.map((s) => {
        const node = ((s[3] as unknown[])[0]) as unknown[];
        const at = (k: string): unknown => node[node.indexOf(k) + 1];
        return `${String(at('port'))}/${String(at('tls-port'))}`;
      });
      expect(described.sort()).toEqual(nodes.map((n, i) => `${n.port}/${tlsPorts[i]}`).sort());
    } finally {
      secure.disconnect();
      plain.disconnect();
    }
  });

  it('MOVED names the TLS port for a TLS client and the plain port for a plain one', async () => {
    // A key whose slot node 0 is not the primary of.
    const secure = tlsClient(tlsPorts[0]!);
    let key = '';
    let movedTls = '';
    try {
      for (let i = 0; i < 200 && movedTls === ''; i++) {
        key = `moved:${i}`;
        const r = await secure.get(key).catch((e: Error) => e.message);
        if (typeof r === 'string' && r.startsWith('MOVED')) movedTls = r;
      }
    } finally {
      secure.disconnect();
    }
    expect(movedTls).toMatch(new RegExp(`^MOVED ${keySlot(Buffer.from(key))} 127\\.0\\.0\\.1:(${tlsPorts.join('|')})$`));
    const target = Number(movedTls.split(':').pop());
    const plain = new Redis({ port: nodes[0]!.port, host: '127.0.0.1' });
    const plainMoved = await plain.get(key).catch((e: Error) => e.message).finally(() => plain.disconnect());
    expect(plainMoved).toBe(`MOVED ${keySlot(Buffer.from(key))} 127.0.0.1:${nodes[tlsPorts.indexOf(target)]!.port}`);
  });

  it('ioredis Cluster over TLS writes and reads keys of every node through MOVED', async () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: tlsPorts[1]! }], {
      redisOptions: { tls: tlsOptions({ ca: ca.cert, client }) },
      slotsRefreshTimeout: 5000,
    });
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `tls-cluster:${i}`);
      await Promise.all(keys.map((k, i) => cluster.set(k, `v${i}`)));
      expect(await Promise.all(keys.map((k) => cluster.get(k)))).toEqual(keys.map((_, i) => `v${i}`));
      // A cluster pipeline is per slot: keys of one hash tag.
      const pipe = cluster.pipeline();
      for (let i = 0; i < 50; i++) pipe.set(`{tagged}:${i}`, `t${i}`);
      for (let i = 0; i < 50; i++) pipe.get(`{tagged}:${i}`);
      expect((await pipe.exec())!.slice(50).map(([, v]) => v)).toEqual(Array.from({ length: 50 }, (_, i) => `t${i}`));
      // Every node's TLS port served some of them: the slots are spread over all three.
      const owners = new Set(cluster.nodes('master').map((n) => n.options.port));
      expect([...owners].sort()).toEqual([...tlsPorts].sort());
    } finally {
      cluster.disconnect();
    }
  });

  it('cluster-proxy relays over the TLS bus', async () => {
    const admin = tlsClient(tlsPorts[2]!);
    try {
      await admin.config('SET', 'cluster-proxy', 'yes');
      const keys = Array.from({ length: 60 }, (_, i) => `proxied:${i}`);
      // A raw TLS connection to one node, no redirects followed: every key is answered there.
      const payload = keys.map((k, i) => `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${String(i).length}\r\n${i}\r\n`).join('') +
        keys.map((k) => `*2\r\n$3\r\nGET\r\n$${k.length}\r\n${k}\r\n`).join('');
      const r = await tlsExchange(tlsPorts[2]!, { ca: ca.cert, client }, payload, (d) => (d.match(/\r\n/g) ?? []).length >= keys.length * 3);
      const lines = r.data.split('\r\n');
      expect(lines.slice(0, keys.length)).toEqual(keys.map(() => '+OK'));
      const values = lines.slice(keys.length).filter((l) => !l.startsWith('$'));
      expect(values.slice(0, keys.length)).toEqual(keys.map((_, i) => String(i)));
    } finally {
      await admin.config('SET', 'cluster-proxy', 'no');
      admin.disconnect();
    }
  });

  it('CONFIG SET of a new certificate: the client port and the bus present it to new connections; the cluster keeps working', async () => {
    const fresh = pki.leaf(ca, 'node0-renewed');
    const admin = tlsClient(tlsPorts[0]!);
    const busPort = tlsPorts[0]! + 10000;
    try {
      // The bus port speaks TLS and presents the node's certificate to a client the CA signed.
      expect(await tlsPeerFingerprint(busPort, { ca: ca.cert, client })).toBe(fingerprintOf(nodeCerts[0]!.cert));
      expect(await admin.config('SET', 'tls-cert-file', fresh.cert, 'tls-key-file', fresh.key)).toBe('OK');
      expect((await tlsExchange(tlsPorts[0]!, { ca: ca.cert, client }, 'PING\r\n')).fingerprint).toBe(fingerprintOf(fresh.cert));
      expect(await tlsPeerFingerprint(busPort, { ca: ca.cert, client })).toBe(fingerprintOf(fresh.cert));
      const refused = await admin.config('SET', 'tls-key-file', nodeCerts[1]!.key).catch((e: Error) => e.message);
      expect(refused).toMatch(/Unable to update TLS configuration: .*does not match/);
      expect(await admin.ping()).toBe('PONG');
      expect(await clusterInfo(nodes[0]!.port)).toContain('cluster_state:ok');
      const cluster = new Cluster([{ host: '127.0.0.1', port: tlsPorts[0]! }], { redisOptions: { tls: tlsOptions({ ca: ca.cert, client }) } });
      try {
        const keys = Array.from({ length: 60 }, (_, i) => `renewed:${i}`);
        await Promise.all(keys.map((k) => cluster.set(k, k)));
        expect(await Promise.all(keys.map((k) => cluster.get(k)))).toEqual(keys);
      } finally {
        cluster.disconnect();
      }
    } finally {
      admin.disconnect();
    }
  });

  it('a node whose certificate another CA signed stays out, and the refusal is logged once', async () => {
    const otherCa = pki.authority('rogue-ca');
    const [port] = await distinctPorts(1, [...nodes.map((n) => n.port), ...tlsPorts]);
    const [tlsPort] = await distinctPorts(1, [port!, ...nodes.map((n) => n.port), ...tlsPorts]);
    // It trusts the cluster's CA (so it accepts the seed), but its own certificate is the rogue CA's.
    const rogue = await startNode({ port: port!, args: nodeArgs(tlsPort!, pki.leaf(otherCa, 'rogue'), ca.cert, `127.0.0.1:${tlsPorts[0]}`) });
    nodes.push(rogue);
    const refusal = 'cluster bus refused a peer: its TLS certificate is not signed by tls-ca-cert-file';
    // Wait until the seed has refused it (the log says so), then let it retry for a while.
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && !nodes[0]!.output().includes(refusal)) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2000));
    const refusalLines = nodes[0]!.output().split('\n').filter((l) => l.includes(refusal));
    expect(refusalLines, nodes[0]!.output().slice(-2000)).toHaveLength(1);
    expect(refusalLines[0], rogue.output().slice(-3000)).toContain("127.0.0.1:");
    expect(refusalLines[0]).toMatch(/(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT).*issuer rogue-ca/);
    // The refused node says it too, once, pointing at the certificate.
    const rogueLines = rogue.output().split('\n').filter((l) => l.includes('cluster bus peer closed the TLS link before accepting it'));
    expect(rogueLines, rogue.output().slice(-2000)).toHaveLength(1);
    for (const n of nodes.slice(0, 3)) expect(await clusterInfo(n.port)).toContain('cluster_known_nodes:3\r\n');
    expect(await clusterInfo(rogue.port)).toContain('cluster_known_nodes:1\r\n');
    await rogue.stop();
  });
});
