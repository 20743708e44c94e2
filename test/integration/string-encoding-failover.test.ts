/**
 * Goal: a string's form (what OBJECT ENCODING reports) travels with its value to every replica: it
 * is the same when the survivors answer after the coordinator that wrote it was killed, and a value
 * written while a node was down reaches that node (hints, anti-entropy) with its form.
 * Method: a real 3-node cluster (N=3, W=2, R=2, fsync always); strings made raw (APPEND, SETRANGE,
 * SETBIT), text (INCRBYFLOAT) and int (SET) through ioredis Cluster; kill -9 the keys' coordinator;
 * read OBJECT ENCODING through the survivors; write one more raw string; restart the node and,
 * once it serves the slot again, read every encoding through it.
 */
import { describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { clusterForBlock, waitForNodeState } from '../helpers/cluster.js';
import { primaryPort } from '../helpers/node-facts.js';

const EXPECTED: Record<string, string> = {
  '{sef}appended': 'raw',
  '{sef}ranged': 'raw',
  '{sef}bits': 'raw',
  '{sef}float': 'embstr',
  '{sef}int': 'int',
  '{sef}long': 'raw',
};

async function retrying<T>(fn: () => Promise<T>, ms = 30000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline || !/TRYAGAIN|MOVED|CLUSTERDOWN|NOREPLICAS|ECONNREFUSED|Connection|All|closed/i.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('string encodings across a coordinator change', () => {
  const c = clusterForBlock(3, ['--appendfsync', 'always']);

  it('survivors and the returning node report the encodings the writes made', async () => {
    const owner = await primaryPort(c.ports[0]!, '{sef}int');
    const victim = c.nodes.find((n) => n.port === owner)!;
    const survivors = c.ports.filter((p) => p !== owner);
    const client = new Cluster(c.ports.map((port) => ({ host: '127.0.0.1', port })), { clusterRetryStrategy: () => 100, retryDelayOnFailover: 100 });
    client.on('error', () => undefined);
    try {
      await client.set('{sef}appended', '12');
      await client.append('{sef}appended', '3');
      await client.set('{sef}ranged', 'ab');
      await client.setrange('{sef}ranged', 1, 'c');
      await client.setbit('{sef}bits', 5, 1);
      await client.set('{sef}float', '1');
      await client.incrbyfloat('{sef}float', '2');
      await client.set('{sef}int', '42');
      const encodings = (keys: string[], via: Redis | Cluster): Promise<Array<string | null>> =>
        Promise.all(keys.map((k) => via.call('OBJECT', 'ENCODING', k) as Promise<string | null>));
      const before = Object.keys(EXPECTED).filter((k) => k !== '{sef}long');
      expect(await encodings(before, client)).toEqual(before.map((k) => EXPECTED[k]));

      await victim.kill9();
      await waitForNodeState(survivors[0]!, owner, 'fail', 20000);
      expect(await retrying(() => encodings(before, client))).toEqual(before.map((k) => EXPECTED[k]));
      // Written while the node is down: it gets it later, form included.
      await retrying(() => client.set('{sef}long', 'x'));
      await retrying(() => client.append('{sef}long', 'y'));

      await victim.restart();
      await waitForNodeState(survivors[0]!, owner, 'ok', 20000);
      const back = Date.now() + 30000;
      while ((await primaryPort(survivors[0]!, '{sef}int')) !== owner && Date.now() < back) await new Promise((r) => setTimeout(r, 200));
      const direct = new Redis({ port: owner });
      direct.on('error', () => undefined);
      try {
        const keys = Object.keys(EXPECTED);
        expect(await retrying(() => encodings(keys, direct))).toEqual(keys.map((k) => EXPECTED[k]));
      } finally {
        direct.disconnect();
      }
    } finally {
      client.disconnect();
    }
  }, 120000);
});
