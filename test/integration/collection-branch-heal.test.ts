/**
 * Goal: a set whose replicas hold two histories (a write of unknown outcome kept by its old
 * coordinator alone, the next coordinator's acknowledged write beside it) reads consistently —
 * SCARD equal to what SMEMBERS lists — and its replicas end up holding the same set again.
 * Anti-entropy brings each side's records to the other, which marks the set suspect on every
 * replica; no replica can then serve as a complete copy, and the coordinator falls back to merging
 * the replicas' members, whose count differs from what the metadata says.
 * Method: a real 3-node cluster (1 s leases). The slot's primary A adds a member while the two
 * other nodes are stopped (SIGSTOP): NOREPLICAS, kept on A alone. A is stopped in turn until it is
 * declared failed; the next coordinator adds another member. A resumes; anti-entropy runs. Then
 * SCARD and SMEMBERS through the cluster, a write, and each node's own copy (READONLY, R=1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitForNodeState, type TestCluster } from '../helpers/cluster.js';
import { primaryPort, primaryPortOtherThan } from '../helpers/node-facts.js';
import { RespConn, show, type Reply } from '../helpers/resp-conn.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The members of an SMEMBERS reply, sorted. */
function memberList(r: Reply | undefined): string[] {
  if (r?.t !== 'array') throw new Error(`not an array: ${r === undefined ? 'no reply' : show(r)}`);
  return r.v.map((m) => (m.t === 'bulk' ? m.v.toString() : show(m))).sort();
}

/** The set as one node holds it, read locally (no quorum, no repair): SCARD and the sorted members. */
async function localCopy(port: number, key: string): Promise<{ card: string; members: string[] }> {
  const conn = await RespConn.connect(port);
  try {
    const [, , card, members] = await conn.pipeline([['READONLY'], ['RINGKV.CONSISTENCY', 'R', '1'], ['SCARD', key], ['SMEMBERS', key]]);
    return { card: show(card!), members: memberList(members) };
  } finally {
    conn.close();
  }
}

describe('a set whose replicas hold two histories', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3, ['--cluster-lease-ms', '1000', '--anti-entropy-interval-ms', '300']);
  }, 60000);
  afterAll(async () => {
    for (const n of c?.nodes ?? []) n.proc.kill('SIGCONT');
    await c?.stop();
  });

  it('counts what it lists, and its replicas converge after the next write', async () => {
    const key = 'branch:set';
    const pA = await primaryPort(c.ports[0]!, key);
    const a = c.nodes.find((n) => n.port === pA)!;
    const others = c.nodes.filter((n) => n !== a);
    const conn = await RespConn.connect(pA);
    try {
      expect(show(await conn.call('SADD', key, 'a', 'b', 'c'))).toBe(':3');
      // A holds the slot's lease now; with the others stopped its next write reaches only itself.
      for (const n of others) n.proc.kill('SIGSTOP');
      const failed = show(await conn.call('SADD', key, 'only-on-a'));
      expect(failed).toMatch(/^-NOREPLICAS /);
    } finally {
      conn.close();
      for (const n of others) n.proc.kill('SIGCONT');
    }
    // A stops; the others take the slot (and its lease) and add a member A never sees.
    a.proc.kill('SIGSTOP');
    try {
      await waitForNodeState(others[0]!.port, pA, 'fail', 20000);
      const pB = await primaryPortOtherThan(others[0]!.port, key, pA);
      const b = await RespConn.connect(pB);
      try {
        let added = '';
        for (let i = 0; i < 40 && added !== ':1'; i++) {
          added = show(await b.call('SADD', key, 'after-a'));
          if (added !== ':1') await sleep(250);
        }
        expect(added).toBe(':1');
      } finally {
        b.close();
      }
    } finally {
      a.proc.kill('SIGCONT');
    }
    await waitForNodeState(others[0]!.port, pA, 'ok', 20000);
    // Anti-entropy rounds carry each side's records to the other.
    await sleep(3000);

    const p = await primaryPort(c.ports[0]!, key);
    const conn2 = await RespConn.connect(p);
    try {
      const [card, members] = await conn2.pipeline([['SCARD', key], ['SMEMBERS', key]]);
      const listed = memberList(members);
      // The member of unknown outcome may be there or not; the acknowledged ones must be.
      expect(listed).toEqual(expect.arrayContaining(['a', 'after-a', 'b', 'c']));
      expect(show(card!), `SCARD against SMEMBERS ${listed.join(',')}`).toBe(`:${listed.length}`);
      expect(show(await conn2.call('SADD', key, 'later'))).toBe(':1');
    } finally {
      conn2.close();
    }
    // Every replica holds the same set, counted right, once the write healed them.
    let copies: Array<{ card: string; members: string[] }> = [];
    for (let i = 0; i < 40; i++) {
      copies = await Promise.all(c.ports.map((port) => localCopy(port, key)));
      const same = copies.every((x) => JSON.stringify(x) === JSON.stringify(copies[0]));
      if (same && copies[0]!.card === `:${copies[0]!.members.length}`) break;
      await sleep(250);
    }
    expect(copies.map((x) => x.card), JSON.stringify(copies)).toEqual(copies.map((x) => `:${x.members.length}`));
    expect(new Set(copies.map((x) => JSON.stringify(x))).size, JSON.stringify(copies)).toBe(1);
    expect(copies[0]!.members).toEqual(expect.arrayContaining(['a', 'after-a', 'b', 'c', 'later']));
  }, 90000);
});
