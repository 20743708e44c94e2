/**
 * Goal: MIGRATE is atomic for the keys it moves against other clients: a write acknowledged while
 * a MIGRATE is under way is never lost. Each acknowledged write ends up either at the target (it
 * came before the move) or at the source (it came after, on a key created anew there). On one node
 * and on a 3-node cluster, to a redis-server target and to another ringkv.
 * Method: for each round a fresh pair of keys sharing a slot (a set and a string); writer clients
 * (several connections, each with many commands in flight on the one connection) SADD unique
 * members and APPEND unique tokens to them without pause; in the middle of that a MIGRATE moves
 * both keys; then every member and token a writer saw acknowledged must be found in the union of
 * the target's and the source's values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, Cluster } from 'ioredis';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { keySlot } from '../../src/cluster/slot.js';

const ROUNDS = 6;
const WRITERS = 4;
/** Commands each writer keeps in flight on its one connection. */
const IN_FLIGHT = 8;
const BEFORE_MS = 250;
const AFTER_MS = 150;

type Client = Redis | Cluster;

interface Acked {
  members: Set<string>;
  tokens: Set<string>;
  errors: string[];
}

/** Writers hammering `setKey` and `strKey` until `stop` resolves; what each was told succeeded. */
function hammer(clients: Client[], setKey: string, strKey: string, stop: Promise<void>): { acked: Acked; done: Promise<void> } {
  const acked: Acked = { members: new Set(), tokens: new Set(), errors: [] };
  let running = true;
  void stop.then(() => (running = false));
  const lane = async (c: Client, w: number, lane: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const id = `w${w}l${lane}n${i}`;
      try {
        if (i % 2 === 0) {
          await c.sadd(setKey, id);
          acked.members.add(id);
        } else {
          await c.append(strKey, `${id},`);
          acked.tokens.add(id);
        }
      } catch (err) {
        // Not acknowledged: it may or may not have happened, nothing to check.
        acked.errors.push((err as Error).message);
      }
    }
  };
  const done = Promise.all(clients.flatMap((c, w) => Array.from({ length: IN_FLIGHT }, (_, l) => lane(c, w, l)))).then(() => undefined);
  return { acked, done };
}

/** Every client has had a write acknowledged (a cluster client has its slot map, the slots take writes). */
async function ready(clients: Client[], key: string): Promise<void> {
  const deadline = Date.now() + 30000;
  for (const c of clients) {
    for (;;) {
      try {
        await c.set(key, 'ready');
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  }
}

function tokensOf(v: string | null): string[] {
  return v === null ? [] : v.split(',').filter((t) => t !== '');
}

/**
 * ROUNDS migrations of a fresh key pair under load. `source` sends MIGRATE (a connection to the
 * node serving the keys' slot), `readSource` reads what stayed behind.
 */
async function migrateUnderLoad(opts: {
  writers: Client[];
  migrateVia: (key: string) => Promise<Redis>;
  readSource: Client;
  target: Redis;
  targetPort: number;
  label: string;
}): Promise<{ atTarget: number; atSource: number; acked: number }> {
  let atTarget = 0;
  let atSource = 0;
  let ackedTotal = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const tag = `{${opts.label}r${r}}`;
    const setKey = `${tag}set`;
    const strKey = `${tag}str`;
    await ready(opts.writers, `${tag}ready`);
    const via = await opts.migrateVia(setKey);
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const load = hammer(opts.writers, setKey, strKey, stopped);
    let answer: unknown;
    try {
      // The load is under way (some writes acknowledged, for at least BEFORE_MS) before the move.
      const deadline = Date.now() + 15000;
      await new Promise((res) => setTimeout(res, BEFORE_MS));
      while (load.acked.members.size < 20 && load.acked.errors.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(load.acked.errors, `round ${r}: writes refused before the MIGRATE`).toEqual([]);
      expect(load.acked.members.size, `round ${r}: too few writes went through before the MIGRATE`).toBeGreaterThanOrEqual(20);
      answer = await via.call('MIGRATE', '127.0.0.1', String(opts.targetPort), '', '0', '5000', 'KEYS', setKey, strKey);
      await new Promise((res) => setTimeout(res, AFTER_MS));
    } finally {
      // The writers always stop, also when the round failed.
      stop();
      await load.done;
    }
    expect(answer, `round ${r}`).toBe('OK');
    const acked = load.acked;
    expect(acked.errors, `round ${r}: writes refused`).toEqual([]);
    const [tSet, sSet, tStr, sStr] = await Promise.all([
      opts.target.smembers(setKey), opts.readSource.smembers(setKey), opts.target.get(strKey), opts.readSource.get(strKey),
    ]);
    const members = new Set([...tSet, ...sSet]);
    const tokens = new Set([...tokensOf(tStr), ...tokensOf(sStr)]);
    const lostMembers = [...acked.members].filter((m) => !members.has(m));
    const lostTokens = [...acked.tokens].filter((t) => !tokens.has(t));
    expect(lostMembers, `round ${r}: acknowledged SADDs found nowhere`).toEqual([]);
    expect(lostTokens, `round ${r}: acknowledged APPENDs found nowhere`).toEqual([]);
    // Nothing appears twice: a write is at one side only.
    expect(tSet.filter((m) => sSet.includes(m)), `round ${r}: members on both sides`).toEqual([]);
    atTarget += tSet.length + tokensOf(tStr).length;
    atSource += sSet.length + tokensOf(sStr).length;
    ackedTotal += acked.members.size + acked.tokens.size;
  }
  return { atTarget, atSource, acked: ackedTotal };
}

describe.skipIf(!haveRedisServer)('MIGRATE under concurrent writers, from one node', () => {
  let ref: RedisReference;
  let source: NodeProcess;
  let targetNode: NodeProcess;
  const clients: Redis[] = [];
  beforeAll(async () => {
    [ref, source, targetNode] = await Promise.all([startRedisServer(), startNode(), startNode()]);
  }, 60000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await Promise.allSettled([source?.stop(), targetNode?.stop(), ref?.stop()]);
  });
  const client = (port: number): Redis => {
    const c = new Redis({ port });
    clients.push(c);
    return c;
  };

  for (const kind of ['redis-server', 'ringkv'] as const) {
    it(`loses no acknowledged write, to a ${kind} target`, async () => {
      const targetPort = kind === 'redis-server' ? ref.ports[0]! : targetNode.port;
      const writers = Array.from({ length: WRITERS }, () => client(source.port));
      const admin = client(source.port);
      const totals = await migrateUnderLoad({
        writers, migrateVia: async () => admin, readSource: admin, target: client(targetPort), targetPort, label: `one${kind}`,
      });
      // The load really overlapped the moves: writes landed on both sides.
      expect(totals.atTarget).toBeGreaterThan(0);
      expect(totals.atSource).toBeGreaterThan(0);
      expect(totals.atTarget + totals.atSource).toBe(totals.acked);
    }, 60000);
  }
});

describe.skipIf(!haveRedisServer)('MIGRATE under concurrent writers, from a 3-node cluster', () => {
  let cluster: TestCluster;
  let ref: RedisReference;
  let targetNode: NodeProcess;
  const clients: Client[] = [];
  beforeAll(async () => {
    [cluster, ref, targetNode] = await Promise.all([startCluster(3), startRedisServer(), startNode()]);
  }, 90000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await Promise.allSettled([cluster?.stop(), ref?.stop(), targetNode?.stop()]);
  });

  for (const kind of ['redis-server', 'ringkv'] as const) {
    it(`loses no acknowledged write, to a ${kind} target`, async () => {
      const targetPort = kind === 'redis-server' ? ref.ports[0]! : targetNode.port;
      const cc = (): Cluster => {
        const c = new Redis.Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
        clients.push(c);
        return c;
      };
      const writers = Array.from({ length: WRITERS }, cc);
      const reader = cc();
      const target = new Redis({ port: targetPort });
      clients.push(target);
      // MIGRATE goes to the node serving the keys' slot, as a cluster client sends any keyed command.
      const migrateVia = async (key: string): Promise<Redis> => {
        await reader.cluster('SLOTS');
        const slot = keySlot(Buffer.from(key));
        const node = reader.nodes('master').find((n) => reader.slots[slot]?.includes(`${n.options.host}:${n.options.port}`));
        if (node === undefined) throw new Error(`no node serves slot ${slot}`);
        return node;
      };
      const totals = await migrateUnderLoad({ writers, migrateVia, readSource: reader, target, targetPort, label: `clu${kind}` });
      expect(totals.atTarget).toBeGreaterThan(0);
      expect(totals.atSource).toBeGreaterThan(0);
      expect(totals.atTarget + totals.atSource).toBe(totals.acked);
    }, 90000);
  }
});
