/**
 * Goal: DEBUG DIGEST and DEBUG DIGEST-VALUE give redis-server 7.0's digests for the same data, of
 * every type in every encoding, also after a restart; DEBUG PROTOCOL sends Redis's bytes in RESP2
 * and RESP3; DEBUG HELP is Redis's text for the subcommands ringkv has.
 * Method: one ringkv node beside one redis-server (DEBUG enabled there); seeded commands build the
 * same data on both (test/helpers/digest-data.ts), then digests are compared key by key and whole;
 * and a 3-node cluster filled through ioredis Cluster, pipelined, twelve slots at once, whose three
 * node digests xor to redis-server's;
 * replies of DEBUG PROTOCOL and HELP are compared as raw bytes. redis-server missing fails the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { rawExchange, startNode, type NodeProcess } from '../helpers/server.js';
import { encodeCommand, RespConn, show, type Reply } from '../helpers/resp-conn.js';
import { digestData, type Cmd } from '../helpers/digest-data.js';
import { diffSeeds } from '../helpers/differential/suite.js';
import { Prng } from '../sim/prng.js';
import { replyFrames } from '../../src/protocol/reply-frames.js';
import { Cluster } from 'ioredis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { keySlot } from '../helpers/slot-map.js';

const ZEROS = '0'.repeat(40);

let ref: RedisReference | undefined;
let node: NodeProcess | undefined;
let redisConn: RespConn;
let ringConn: RespConn;

beforeAll(async () => {
  expect(haveRedisServer, 'redis-server must be installed: it is the reference these tests compare with').toBe(true);
  const started = await Promise.allSettled([startRedisServer(['--enable-debug-command', 'yes']), startNode({ args: ['--appendfsync', 'no'] })]);
  if (started[0].status === 'fulfilled') ref = started[0].value;
  if (started[1].status === 'fulfilled') node = started[1].value;
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  expect(ref!.version.startsWith('7.0.'), `the reference is Redis 7.0, found ${ref!.version}`).toBe(true);
  [redisConn, ringConn] = await Promise.all([RespConn.connect(ref!.ports[0]!), RespConn.connect(node!.port)]);
}, 60_000);

afterAll(async () => {
  redisConn?.close();
  ringConn?.close();
  await Promise.allSettled([ref?.stop(), node?.stop()]);
});

function keyNames(r: Reply): string[] {
  if (r.t !== 'array') throw new Error(`expected an array, got ${show(r)}`);
  return r.v.map((k) => (k.t === 'bulk' ? k.v.toString('latin1') : show(k))).sort();
}

function text(r: Reply): string {
  if (r.t !== 'simple') throw new Error(`expected a status reply, got ${show(r)}`);
  return r.v;
}

async function both(...argv: Cmd): Promise<[Reply, Reply]> {
  return Promise.all([redisConn.call(...argv), ringConn.call(...argv)]);
}

/** Sends the commands to both in pipelines of 500 and fails on the first reply that differs. */
async function build(commands: Cmd[]): Promise<void> {
  for (let i = 0; i < commands.length; i += 500) {
    const batch = commands.slice(i, i + 500);
    const [want, got] = await Promise.all([redisConn.pipelineText(batch), ringConn.pipelineText(batch)]);
    for (let j = 0; j < batch.length; j++) {
      expect(got[j], `reply to ${batch[j]!.map(String).join(' ').slice(0, 200)}`).toBe(want[j]);
    }
  }
}

describe('DEBUG DIGEST / DIGEST-VALUE against redis-server', () => {
  it('an empty dataset and a missing key digest to zeros', async () => {
    for (const conn of [redisConn, ringConn]) {
      expect(show(await conn.call('DEBUG', 'DIGEST'))).toBe(`+${ZEROS}`);
      expect(show(await conn.call('DEBUG', 'DIGEST-VALUE', 'nokey'))).toBe(`[+${ZEROS}]`);
      expect(show(await conn.call('DEBUG', 'DIGEST-VALUE'))).toBe('[]');
    }
  });

  it.each(diffSeeds([11, 12]))('seed %i: every key and the whole dataset digest as in Redis', async (seed) => {
    const data = digestData(new Prng(seed), `d${seed}`);
    await build(data.commands);

    const [refKeys, ringKeys] = await both('KEYS', `d${seed}:*`);
    expect(keyNames(ringKeys)).toEqual(keyNames(refKeys));

    for (const k of data.keys) {
      const [want, got] = await both('DEBUG', 'DIGEST-VALUE', k);
      const [type] = await both('TYPE', k);
      expect(show(got), `DIGEST-VALUE of ${k} (${show(type)})`).toBe(show(want));
    }
    const [wantAll, gotAll] = await both('DEBUG', 'DIGEST-VALUE', ...data.keys);
    expect(show(gotAll)).toBe(show(wantAll));

    const encodings = new Set<string>();
    for (const k of data.encoded) {
      const [want, got] = await both('OBJECT', 'ENCODING', k);
      expect(show(got), `OBJECT ENCODING ${k}`).toBe(show(want));
      encodings.add(show(got));
    }
    for (const e of ['"intset"', '"hashtable"', '"listpack"', '"skiplist"']) expect(encodings, `${e} among the encodings built`).toContain(e);

    // Redis's digest of an unordered type does not depend on the order it was filled in.
    for (const [a, b] of data.twins) {
      const r = await ringConn.call('DEBUG', 'DIGEST-VALUE', a, b);
      if (r.t !== 'array') throw new Error(show(r));
      const [da, db] = r.v.map(text);
      expect(da).not.toBe(ZEROS);
      // A twin may have been given a TTL the other lacks; compare the values only then.
      const persistent = (await ringConn.pipelineText([['TTL', a], ['TTL', b]])).map((t) => t === ':-1');
      if (persistent[0] === persistent[1]) expect(db, `${a} and ${b} hold the same value`).toBe(da);
    }

    const [want, got] = await both('DEBUG', 'DIGEST');
    expect(text(got)).not.toBe(ZEROS);
    expect(text(got)).toBe(text(want));
  }, 120_000);

  it('the digest is the same after the node restarts on its data directory', async () => {
    const before = text(await ringConn.call('DEBUG', 'DIGEST'));
    expect(before).toBe(text(await redisConn.call('DEBUG', 'DIGEST')));
    ringConn.close();
    await node!.stop();
    await node!.restart();
    ringConn = await RespConn.connect(node!.port);
    expect(text(await ringConn.call('DEBUG', 'DIGEST'))).toBe(before);
  }, 60_000);
});

/**
 * Raw replies to `commands` on one connection, after HELLO 3 when `proto` is 3: one Buffer per
 * command, holding any push frames that came before its reply.
 */
async function rawReplies(port: number, proto: 2 | 3, commands: Cmd[]): Promise<Buffer[]> {
  const all = [...(proto === 3 ? [['HELLO', '3']] : []), ...commands];
  const payload = Buffer.concat(all.map(encodeCommand));
  const answers = (data: Buffer): Buffer[] | undefined => {
    let frames;
    try {
      frames = replyFrames(data);
    } catch {
      return undefined;
    }
    if (frames.length === 0 || frames[frames.length - 1]!.end > data.length) return undefined;
    const out: Buffer[] = [];
    let start: number | undefined;
    for (const f of frames) {
      start ??= f.start;
      if (f.push) continue;
      out.push(data.subarray(start, f.end));
      start = undefined;
    }
    return out.length >= all.length ? out.slice(all.length - commands.length) : undefined;
  };
  const { data } = await rawExchange(port, payload, (d) => answers(d) !== undefined);
  const out = answers(data);
  if (out === undefined) throw new Error(`incomplete replies: ${JSON.stringify(data.toString('latin1'))}`);
  return out;
}

const PROTOCOL_TYPES = ['string', 'integer', 'double', 'bignum', 'null', 'array', 'set', 'map', 'attrib', 'push', 'verbatim', 'true', 'false'];

describe('DEBUG PROTOCOL and HELP against redis-server', () => {
  it.each([2, 3] as const)('DEBUG PROTOCOL <type> in RESP%i: the same bytes', async (proto) => {
    const commands: Cmd[] = [
      ...PROTOCOL_TYPES.map((t) => ['DEBUG', 'PROTOCOL', t]),
      ['DEBUG', 'PROTOCOL', 'MAP'], ['DEBUG', 'protocol', 'bogus'], ['DEBUG', 'PROTOCOL'], ['DEBUG', 'PROTOCOL', 'string', 'x'],
      ['DEBUG', 'DIGEST', 'x'], ['DEBUG', 'DIGEST-VALUE'], ['DEBUG', 'HELP', 'x'],
      // Every subcommand's argument count is DEBUG's own check, with one text for it and for an unknown name.
      ['DEBUG', 'nosuch'], ['DEBUG', 'Sleep'], ['DEBUG', 'object'], ['DEBUG', 'LOG'], ['DEBUG', 'set-active-expire'], ['DEBUG', 'change-repl-id', 'x'],
      ['DEBUG'], ['COMMAND', 'INFO', 'debug'], ['COMMAND', 'GETKEYS', 'debug', 'object', 'k'],
    ];
    const [want, got] = await Promise.all([rawReplies(ref!.ports[0]!, proto, commands), rawReplies(node!.port, proto, commands)]);
    for (let i = 0; i < commands.length; i++) {
      expect(JSON.stringify(got[i]!.toString('latin1')), commands[i]!.join(' ')).toBe(JSON.stringify(want[i]!.toString('latin1')));
    }
  });

  it('DEBUG OBJECT describes a key whose time is up but that is not removed yet, as redis-server', async () => {
    const commands: Cmd[] = [
      ['DEBUG', 'SET-ACTIVE-EXPIRE', '0'], ['SET', 'dob', 'v', 'PX', '1'], ['DEBUG', 'SLEEP', '0.02'], ['DEBUG', 'OBJECT', 'dob'],
      ['EXISTS', 'dob'], ['DEBUG', 'OBJECT', 'dob'], ['DEBUG', 'OBJECT', 'nosuchkey'], ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'],
    ];
    // The description's numbers are Redis's internals: its first word says whether the key was found.
    const shape = (r: Buffer): string => r.toString('latin1').replace(/^\+Value at:.*\r\n$/, '+Value at:…');
    const [want, got] = await Promise.all([rawReplies(ref!.ports[0]!, 2, commands), rawReplies(node!.port, 2, commands)]);
    expect(got.map(shape)).toEqual(want.map(shape));
    expect(got.map(shape)[3]).toBe('+Value at:…');
  });

  it('DEBUG POPULATE fills the same keys and values, skips existing ones, refuses bad counts and sizes', async () => {
    const commands: Cmd[] = [
      ['FLUSHALL'], ['DEBUG', 'POPULATE', '3', 'pk', '5'], ['MGET', 'pk:0', 'pk:1', 'pk:2'], ['SET', 'key:5', 'old'], ['DEBUG', 'POPULATE', '7'],
      ['GET', 'key:5'], ['GET', 'key:6'], ['DBSIZE'], ['DEBUG', 'POPULATE', '2', 'z', '0'], ['GET', 'z:1'], ['DEBUG', 'POPULATE', '1', 'pad', '12'], ['GET', 'pad:0'],
      ['DEBUG', 'POPULATE', 'x'], ['DEBUG', 'POPULATE', '-1'], ['DEBUG', 'POPULATE', '1', 'a', '-3'], ['DEBUG', 'POPULATE', '1', 'a', '1', '2'], ['DEBUG', 'POPULATE', '0'],
      ['DEBUG', 'POPULATE', '1000', 'many'], ['DBSIZE'], ['FLUSHALL'],
    ];
    const [want, got] = await Promise.all([rawReplies(ref!.ports[0]!, 2, commands), rawReplies(node!.port, 2, commands)]);
    for (let i = 0; i < commands.length; i++) {
      expect(JSON.stringify(got[i]!.toString('latin1')), commands[i]!.join(' ')).toBe(JSON.stringify(want[i]!.toString('latin1')));
    }
  });

  it('DEBUG HELP: Redis 7.0 entries, in its order, of the subcommands ringkv has', async () => {
    const supported = ['AOF-FLUSH-SLEEP', 'CHANGE-REPL-ID', 'DIGEST', 'DIGEST-VALUE', 'ERROR', 'LOG', 'LOADAOF', 'OBJECT', 'POPULATE', 'PROTOCOL', 'RELOAD', 'SET-ACTIVE-EXPIRE',
      'QUICKLIST-PACKED-THRESHOLD', 'SET-SKIP-CHECKSUM-VALIDATION', 'SLEEP', 'STRINGMATCH-TEST', 'LISTPACK', 'QUICKLIST', 'PAUSE-CRON', 'REPLYBUFFER', 'HELP'];
    for (const proto of [2, 3] as const) {
      const [[want], [got]] = await Promise.all([rawReplies(ref!.ports[0]!, proto, [['DEBUG', 'HELP']]), rawReplies(node!.port, proto, [['DEBUG', 'HELP']])]);
      // Redis's reply is an array of status lines: a header, then one entry per subcommand (its
      // usage line, then indented lines).
      const lines = want!.toString('latin1').split('\r\n').slice(1, -1);
      const entries: string[][] = [];
      for (const line of lines.slice(1)) {
        if (line.startsWith('+ ')) entries[entries.length - 1]!.push(line);
        else entries.push([line]);
      }
      const kept = [lines[0]!, ...entries.filter((e) => supported.includes(e[0]!.slice(1).split(' ')[0]!)).flat()];
      expect(kept.length).toBeGreaterThan(supported.length);
      expect(got!.toString('latin1')).toBe(`*${kept.length}\r\n${kept.join('\r\n')}\r\n`);
    }
  });
});

describe('DEBUG DIGEST on a 3-node cluster against redis-server', () => {
  let cluster: TestCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('each node digests the keys of its slots: the three digests xor to redis-server\'s, and every key digests as there', async () => {
    cluster = await startCluster(3, ['--appendfsync', 'no']);
    await redisConn.call('FLUSHALL');
    const client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    try {
      // Twelve groups, each on one slot (multi-key commands stay legal), four on each node's slots
      // (the ring is random: twelve fixed tags leave a node without keys in about 2% of runs);
      // every group goes as pipelines of 200, all groups at once.
      const owner = new Map<number, number>();
      for (const [from, to, [, port]] of await client.cluster('SLOTS')) {
        for (let s = from; s <= to; s++) owner.set(s, port);
      }
      const tags: string[] = [];
      const perNode = new Map<number, number>();
      for (let i = 0; tags.length < 12; i++) {
        const tag = `{dg${i}}`;
        const port = owner.get(keySlot(tag))!;
        if ((perNode.get(port) ?? 0) >= 4) continue;
        perNode.set(port, (perNode.get(port) ?? 0) + 1);
        tags.push(tag);
      }
      const groups = tags.map((tag, g) => digestData(new Prng(7100 + g), tag));
      await Promise.all(groups.map(async (data) => {
        const reference = await RespConn.connect(ref!.ports[0]!);
        try {
          for (let i = 0; i < data.commands.length; i += 200) {
            const batch = data.commands.slice(i, i + 200);
            const [want, got] = await Promise.all([reference.pipelineText(batch), client.pipeline(batch.map(([name, ...args]) => ['call', name, ...args])).exec()]);
            got!.forEach(([err], j) => expect(err === null, `${batch[j]!.map(String).join(' ').slice(0, 120)}: ${String(err)} (redis: ${want[j]})`).toBe(!want[j]!.startsWith('-')));
          }
        } finally {
          reference.close();
        }
      }));
      const primary = new Map<number, number>();
      for (const [from, to, [, port]] of await client.cluster('SLOTS')) {
        for (let s = from; s <= to; s++) primary.set(s, port);
      }
      const conns = new Map(await Promise.all(cluster.ports.map(async (p) => [p, await RespConn.connect(p)] as const)));
      try {
        const want = text(await redisConn.call('DEBUG', 'DIGEST'));
        // Each node digests the slots its own table makes it primary of: while a table changes (a
        // node suspected for a moment on a loaded machine) a slot may be counted twice or not at
        // all, so the digests are read again until the tables agree, for a few seconds.
        let xor = Buffer.alloc(20);
        const holding = new Set<number>();
        for (let attempt = 0; attempt < 20; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 500));
          xor = Buffer.alloc(20);
          holding.clear();
          for (const [port, conn] of conns) {
            const d = Buffer.from(text(await conn.call('DEBUG', 'DIGEST')), 'hex');
            if (!d.equals(Buffer.alloc(20))) holding.add(port);
            xor = Buffer.from(xor.map((b, i) => b ^ d[i]!));
          }
          if (xor.toString('hex') === want) break;
        }
        // Each non-empty digest mixes in the db index once: an odd number of them xor to one.
        expect(holding.size, 'nodes holding keys').toBe(3);
        expect(xor.toString('hex')).toBe(want);
        for (const data of groups) {
          const slot = (await client.cluster('KEYSLOT', data.keys[0]!)) as number;
          const conn = conns.get(primary.get(slot)!)!;
          const [want, got] = await Promise.all([redisConn.call('DEBUG', 'DIGEST-VALUE', ...data.keys), conn.call('DEBUG', 'DIGEST-VALUE', ...data.keys)]);
          expect(show(got), `keys of ${data.keys[0]}`).toBe(show(want));
        }
      } finally {
        for (const c of conns.values()) c.close();
      }
    } finally {
      client.disconnect();
    }
  }, 120_000);
});
