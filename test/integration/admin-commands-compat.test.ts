/**
 * Goal: the introspection and admin commands tools and test suites call answer as redis-server 7.0
 * does, byte for byte in RESP2 and RESP3, error texts included: COMMAND DOCS / LIST / COUNT /
 * INFO, FUNCTION, MEMORY, MODULE and COMMAND HELP, MODULE, LOLWUT, MOVE, and the replication
 * commands (REPLICAOF, SLAVEOF, FAILOVER, SYNC, PSYNC, REPLCONF), each with Redis's arity, flags,
 * key specs and ACL categories in COMMAND INFO.
 * Method: one ringkv node beside three redis-servers: a default one; one with `databases 1` (ringkv
 * has database 0 only) and MODULE and DEBUG enabled (so it answers for a library it cannot load
 * instead of refusing MODULE itself, and runs DEBUG); one in cluster mode (the replication
 * commands' texts). Replies are
 * compared as raw bytes, one frame per command; where Redis's order comes from its hash tables
 * (command names, subcommands) they are compared as sorted sets, over what both servers implement.
 * redis-server or redis-cli missing fails the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBinary, rawExchange, run, startNode, type NodeProcess } from '../helpers/server.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { encodeCommand, RespConn, show, type Reply } from '../helpers/resp-conn.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { primaryPort } from '../helpers/node-facts.js';
import { replyFrames } from '../../src/protocol/reply-frames.js';
import { RINGKV_VERSION } from '../../src/commands/version.js';

type Argv = Array<string | number>;
type Proto = 2 | 3;
/** A reference redis-server, by its port. */
type Server = { port: number };

const END = '__replies_end__';
const END_FRAME = Buffer.from(`$${END.length}\r\n${END}\r\n`);

/** The raw bytes of each command's reply, the commands sent in one write on a fresh connection. */
async function rawReplies(port: number, commands: Argv[], proto: Proto): Promise<Buffer[]> {
  const all = [...(proto === 3 ? [['HELLO', '3']] : []), ...commands, ['ECHO', END]];
  const { data } = await rawExchange(port, Buffer.concat(all.map(encodeCommand)), (d) => d.length >= END_FRAME.length && d.subarray(-END_FRAME.length).equals(END_FRAME), 20_000);
  const frames = replyFrames(data).map((f) => data.subarray(f.start, f.end));
  return frames.slice(proto === 3 ? 1 : 0, -1);
}

/** Printable form of raw replies for a readable diff. */
const text = (bufs: Buffer[]): string[] => bufs.map((b) => b.toString('latin1'));

/** Decoded replies, after HELLO 3 when asked. */
async function decoded(port: number, commands: Argv[], proto: Proto): Promise<Reply[]> {
  const c = await RespConn.connect(port);
  try {
    return await c.pipeline(proto === 3 ? [['HELLO', '3'], ...commands] : commands).then((r) => r.slice(proto === 3 ? 1 : 0));
  } finally {
    c.close();
  }
}

const strings = (r: Reply): string[] => {
  if (r.t !== 'array' && r.t !== 'set') throw new Error(`not an array: ${show(r)}`);
  return r.v.map((x) => (x.t === 'bulk' ? x.v.toString() : show(x)));
};

/** The RESP3 map's entries by key text. */
const entries = (r: Reply): Array<[string, Reply]> => {
  if (r.t !== 'map') throw new Error(`not a map: ${show(r)}`);
  return r.v.map(([k, v]) => [k.t === 'bulk' ? k.v.toString() : show(k), v]);
};

const PROTOS: Proto[] = [2, 3];

describe('admin and introspection commands vs redis-server 7.0', () => {
  let node: NodeProcess | undefined;
  let plain: Server | undefined;
  let oneDb: Server | undefined;
  let clustered: Server | undefined;
  let refs: RedisReference[] = [];
  /** Names (commands and `container|sub`) each server implements, from COMMAND LIST. */
  let ours: Set<string>;
  let theirs: Set<string>;

  beforeAll(async () => {
    expect(haveRedisServer && hasBinary('redis-cli'), 'redis-server and redis-cli must be installed: they are the reference these tests compare with').toBe(true);
    const [started, ...references] = await Promise.allSettled([
      startNode({ args: ['--appendfsync', 'no', '--enable-module-command', 'yes'] }),
      startRedisServer(),
      startRedisServer(['--databases', '1', '--enable-module-command', 'yes', '--enable-debug-command', 'yes']),
      startRedisServer(['--cluster-enabled', 'yes']),
    ]);
    if (started.status === 'fulfilled') node = started.value;
    refs = references.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const s of [started, ...references]) if (s.status === 'rejected') throw s.reason;
    [plain, oneDb, clustered] = refs.map((r) => ({ port: r.ports[0]! }));
    for (const r of refs) expect(r.version.startsWith('7.0.'), `the reference is Redis 7.0, found ${r.version}`).toBe(true);
    const [a, b] = await Promise.all([decoded(node!.port, [['COMMAND', 'LIST']], 2), decoded(plain!.port, [['COMMAND', 'LIST']], 2)]);
    ours = new Set(strings(a[0]!));
    theirs = new Set(strings(b[0]!));
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([node?.stop(), ...refs.map((r) => r.stop())]);
  });

  /** Sends the same commands to ringkv and to `ref` and expects the same bytes per reply. */
  /**
   * Waits until neither server runs or has scheduled a background save or AOF rewrite: one that
   * a previous run scheduled inside EXEC makes the next BGSAVE or BGREWRITEAOF answer "already in
   * progress" on whichever server is still busy with it.
   */
  async function noBackgroundWork(ports: number[]): Promise<void> {
    for (const port of ports) {
      for (let i = 0; i < 200; i++) {
        const [info] = await rawReplies(port, [['INFO', 'persistence']], 2);
        if (!/(rdb_bgsave_in_progress|aof_rewrite_in_progress|aof_rewrite_scheduled):1/.test(info!.toString())) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async function sameBytes(ref: Server, commands: Argv[], proto: Proto): Promise<void> {
    const [expected, got] = await Promise.all([rawReplies(ref.port, commands, proto), rawReplies(node!.port, commands, proto)]);
    expect(text(got), `RESP${proto}`).toEqual(text(expected));
  }

  describe('COMMAND DOCS', () => {
    it.each(PROTOS)('GET, SET, CLIENT KILL, XADD, ZADD, DEBUG and lookups of odd names: same bytes (RESP%i)', async (proto) => {
      await sameBytes(plain!, [
        ['COMMAND', 'DOCS', 'get'], ['COMMAND', 'DOCS', 'SET'], ['COMMAND', 'DOCS', 'client|kill'], ['COMMAND', 'DOCS', 'xadd'],
        ['COMMAND', 'DOCS', 'zadd'], ['COMMAND', 'DOCS', 'debug'], ['COMMAND', 'DOCS', 'get', 'nosuch', 'Get', 'get|x', 'client|', 'CLIENT|KILL|x', '|kill', 'Client|Kill'],
        ['COMMAND', 'DOCS', 'nosuch'], ['COMMAND', 'DOCS', 'lolwut', 'move', 'replicaof', 'failover', 'module|load', 'function|help', 'memory|help'],
      ], proto);
    });

    it.each(PROTOS)('every command and subcommand both implement, one by one: same bytes (RESP%i)', async (proto) => {
      // Containers' subcommand maps follow hash-table order in Redis; they are compared below.
      const [docs] = await decoded(plain!.port, [['COMMAND', 'DOCS']], 3);
      const containers = new Set(entries(docs!).filter(([, d]) => entries(d).some(([k]) => k === 'subcommands')).map(([n]) => n));
      const names = [...ours].filter((n) => theirs.has(n) && !containers.has(n)).sort();
      expect(names.length).toBeGreaterThan(300);
      await sameBytes(plain!, names.map((n) => ['COMMAND', 'DOCS', n]), proto);
    });

    it('containers: the same docs, subcommands compared by name over those both implement', async () => {
      const normal = (r: Reply): string => {
        const [[, doc]] = entries(r) as [[string, Reply]];
        return entries(doc).map(([k, v]) => {
          if (k !== 'subcommands') return `${k}=${show(v)}`;
          const subs = entries(v).filter(([n]) => ours.has(n) && theirs.has(n)).sort(([a], [b]) => (a < b ? -1 : 1));
          return `subcommands={${subs.map(([n, d]) => `${n}: ${show(d)}`).join(', ')}}`;
        }).join('\n');
      };
      const [docs] = await decoded(plain!.port, [['COMMAND', 'DOCS']], 3);
      const names = entries(docs!).filter(([n, d]) => ours.has(n) && entries(d).some(([k]) => k === 'subcommands')).map(([n]) => n).sort();
      expect(names).toContain('client');
      expect(names).toContain('module');
      const commands = names.map((n) => ['COMMAND', 'DOCS', n]);
      const [expected, got] = await Promise.all([decoded(plain!.port, commands, 3), decoded(node!.port, commands, 3)]);
      expect(got.map(normal)).toEqual(expected.map(normal));
    });

    it('without names: every ringkv command documented, the same names for what both implement', async () => {
      const [[ourDocs, ourCount], [theirDocs]] = await Promise.all([
        decoded(node!.port, [['COMMAND', 'DOCS'], ['COMMAND', 'COUNT']], 3),
        decoded(plain!.port, [['COMMAND', 'DOCS']], 3),
      ]);
      const ourNames = entries(ourDocs!).map(([n]) => n);
      const theirNames = entries(theirDocs!).map(([n]) => n);
      expect(show(ourCount!)).toBe(`:${ourNames.length}`);
      expect(ourNames.filter((n) => theirs.has(n)).sort()).toEqual(theirNames.filter((n) => ours.has(n)).sort());
      // ringkv's own commands carry hand-written docs.
      for (const own of ['ringkv.consistency', 'ringkv.digest', 'ringkv.leave']) expect(ourNames).toContain(own);
    });

    it('redis-cli --no-raw prints the same docs for GET', async () => {
      const [expected, got] = await Promise.all([
        run('redis-cli', ['-p', String(plain!.port), '--no-raw', 'command', 'docs', 'get']),
        run('redis-cli', ['-p', String(node!.port), '--no-raw', 'command', 'docs', 'get']),
      ]);
      expect(got.code).toBe(0);
      expect(got.stdout).toContain('"Get the value of a key"');
      expect(got.stdout).toBe(expected.stdout);
    });
  });

  describe('COMMAND LIST and COUNT', () => {
    it('lists subcommands as container|sub; the same names for what both implement', async () => {
      expect(ours).toContain('client|kill');
      expect(ours).toContain('module|list');
      const [ourAll] = await decoded(node!.port, [['COMMAND']], 2);
      const expectedOurs: string[] = [];
      const walk = (e: Reply): void => {
        if (e.t !== 'array') return;
        expectedOurs.push((e.v[0] as { v: Buffer }).v.toString());
        const subs = e.v[9];
        if (subs?.t === 'array') subs.v.forEach(walk);
      };
      if (ourAll!.t === 'array') ourAll!.v.forEach(walk);
      expect([...ours].sort()).toEqual(expectedOurs.sort());
    });

    it.each([
      ['PATTERN', 'client*'], ['PATTERN', '*|*'], ['PATTERN', 'CLIENT|K*'], ['ACLCAT', 'dangerous'], ['ACLCAT', 'SCRIPTING'],
      ['ACLCAT', 'connection'], ['ACLCAT', 'nosuch'], ['MODULE', 'nosuch'],
    ])('FILTERBY %s %s: the same names for what both implement', async (kind, arg) => {
      const command = ['COMMAND', 'LIST', 'FILTERBY', kind, arg];
      const [[a], [b]] = await Promise.all([decoded(node!.port, [command], 2), decoded(plain!.port, [command], 2)]);
      const got = strings(a!).filter((n) => theirs.has(n)).sort();
      const expected = strings(b!).filter((n) => ours.has(n)).sort();
      expect(got).toEqual(expected);
      if (kind === 'PATTERN' && arg === '*|*') expect(got).toContain('client|kill');
    });

    it.each(PROTOS)('COUNT counts top-level commands as Redis; errors are the same bytes (RESP%i)', async (proto) => {
      const [[count], [theirCount]] = await Promise.all([decoded(node!.port, [['COMMAND', 'COUNT']], proto), decoded(plain!.port, [['COMMAND', 'COUNT']], proto)]);
      expect(show(count!)).toBe(`:${[...ours].filter((n) => !n.includes('|')).length}`);
      expect(show(theirCount!)).toBe(`:${[...theirs].filter((n) => !n.includes('|')).length}`);
      await sameBytes(plain!, [
        ['COMMAND', 'LIST', 'FILTERBY', 'nosuch', 'x'], ['COMMAND', 'LIST', 'x'], ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN'],
        ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'x', 'y'], ['COMMAND', 'COUNT', 'x'], ['COMMAND', 'DOCS', 'nosuch', 'nosuch2'],
      ], proto);
    });
  });

  describe('HELP texts', () => {
    it.each(PROTOS)('FUNCTION, MEMORY, MODULE and COMMAND HELP: same bytes (RESP%i)', async (proto) => {
      await sameBytes(plain!, [
        ['FUNCTION', 'HELP'], ['MEMORY', 'HELP'], ['MODULE', 'HELP'], ['COMMAND', 'HELP'], ['function', 'help', 'x'], ['MEMORY', 'HELP', 'x'],
        ['ACL', 'HELP'], ['CLIENT', 'HELP'], ['OBJECT', 'HELP'], ['CONFIG', 'HELP'], ['SLOWLOG', 'HELP'], ['PUBSUB', 'HELP'],
      ], proto);
    });

    it('CLUSTER HELP: Redis Cluster\'s lines, without the subcommands ringkv does not answer', async () => {
      const [theirs] = await decoded(clustered!.port, [['CLUSTER', 'HELP']], 2);
      const [mine] = await decoded(node!.port, [['CLUSTER', 'HELP']], 2);
      const lines = (r: Reply | undefined): string[] => (r?.t === 'array' ? r.v.map((x) => (x.t === 'simple' ? x.v : `not a status line: ${x.t}`)) : []);
      const dropped = new Set(['BUMPEPOCH', 'SET-CONFIG-EPOCH', 'LINKS']);
      const expected: string[] = [];
      let keep = true;
      for (const l of lines(theirs)) {
        if (!l.startsWith('    ')) keep = !dropped.has(l.split(' ')[0]!);
        if (keep) expected.push(l);
      }
      expect(expected.length).toBeGreaterThan(40);
      expect(lines(mine)).toEqual(expected);
    });
  });

  describe('MODULE', () => {
    it.each(PROTOS)('LIST is empty; LOAD, LOADEX, UNLOAD and their arity errors: same bytes (RESP%i)', async (proto) => {
      await sameBytes(oneDb!, [
        ['MODULE', 'LIST'], ['MODULE', 'UNLOAD', 'nosuch'], ['MODULE', 'LOAD', '/nonexistent.so'], ['MODULE', 'LOAD', '/nonexistent.so', 'a', 'b'],
        ['MODULE', 'LOADEX', '/nonexistent.so'], ['MODULE', 'LOADEX', '/nonexistent.so', 'CONFIG', 'a', 'b', 'ARGS', 'x'], ['MODULE', 'LOAD'],
        ['MODULE', 'UNLOAD'], ['MODULE', 'UNLOAD', 'a', 'b'], ['MODULE', 'LIST', 'x'], ['MODULE', 'nosuch'], ['MODULE'],
      ], proto);
    });

    it('the failed load is explained in the log the error points to', () => {
      expect(node!.output()).toContain('ringkv does not load Redis modules');
    });
  });

  describe('LOLWUT', () => {
    it.each(PROTOS)('a text reply whose last line names the version; VERSION checked as Redis checks it (RESP%i)', async (proto) => {
      for (const argv of [['LOLWUT'], ['LOLWUT', 'VERSION', '5'], ['LOLWUT', 'VERSION', '6', '1', '1', '1'], ['lolwut', 'foo']]) {
        const [[ourReply], [theirReply]] = await Promise.all([rawReplies(node!.port, [argv], proto), rawReplies(plain!.port, [argv], proto)]);
        const shape = proto === 3 ? /^=\d+\r\ntxt:[^]*?(\S+) ver\. (\S+)\n\r\n$/ : /^\$\d+\r\n[^]*?(\S+) ver\. (\S+)\n\r\n$/;
        expect(theirReply!.toString(), 'the shape Redis answers').toMatch(shape);
        const m = shape.exec(ourReply!.toString());
        expect(m?.slice(1), ourReply!.toString()).toEqual(['ringkv', RINGKV_VERSION]);
      }
      await sameBytes(plain!, [['LOLWUT', 'VERSION', 'x'], ['LOLWUT', 'VERSION', '01'], ['LOLWUT', 'VERSION', '99999999999999999999']], proto);
    });
  });

  describe('MOVE', () => {
    it.each(PROTOS)('answers as Redis with one database, the key left in place (RESP%i)', async (proto) => {
      await sameBytes(oneDb!, [
        ['SET', 'mk', 'v'], ['MOVE', 'mk', '1'], ['MOVE', 'mk', '0'], ['MOVE', 'mk', 'x'], ['MOVE', 'mk'], ['MOVE', 'mk', '1', '2'],
        ['MOVE', 'nokey', '0'], ['MOVE', 'nokey', '1'], ['MOVE', 'mk', '-1'], ['MOVE', 'mk', '01'], ['MOVE', 'mk', '9999999999'],
        ['MOVE', 'mk', '-9999999999'], ['MOVE', 'mk', '99999999999999999999'], ['MULTI'], ['MOVE', 'mk', '1'], ['EXEC'],
        ['SELECT', '1'], ['GET', 'mk'], ['COMMAND', 'GETKEYSANDFLAGS', 'move', 'mk', '1'],
      ], proto);
    });
  });

  describe('replication commands', () => {
    it.each(PROTOS)('a standalone node answers REPLICAOF NO ONE and FAILOVER as a Redis master without replicas; arity and MULTI errors: same bytes (RESP%i)', async (proto) => {
      await sameBytes(plain!, [
        ['REPLICAOF', 'NO', 'ONE'], ['REPLICAOF'], ['REPLICAOF', 'a', 'b', 'c'], ['SLAVEOF', 'no', 'one'],
        ['SLAVEOF', 'a'], ['FAILOVER'], ['FAILOVER', 'TO', '127.0.0.1', '1'], ['FAILOVER', 'ABORT'], ['FAILOVER', 'x'], ['FAILOVER', 'FORCE'],
        ['FAILOVER', 'TIMEOUT', '-1'], ['FAILOVER', 'TIMEOUT', 'x'], ['FAILOVER', 'TO', 'a'], ['FAILOVER', 'ABORT', 'x'], ['FAILOVER', 'ABORT', 'FORCE'],
        ['SYNC', 'x'], ['PSYNC', 'a'], ['MULTI'], ['REPLICAOF', 'no', 'one'], ['EXEC'],
      ], proto);
    });

    it('the handshake of a Redis replica (REPLCONF listening-port, PSYNC without rdb-only) answers one clear error line', async () => {
      // SYNC and the RDB-only handshake send a backup file: test/integration/rdb-snapshot.test.ts.
      const got = text(await rawReplies(node!.port, [['REPLCONF', 'listening-port', '6380'], ['PSYNC', '?', '-1'], ['REPLCONF']], 2));
      expect(got).toEqual([
        '-ERR REPLCONF is not supported: ringkv nodes replicate among themselves, not to Redis replicas\r\n',
        '-ERR PSYNC is not supported: ringkv nodes replicate among themselves, not to Redis replicas\r\n',
        '+OK\r\n',
      ]);
    });
  });

  describe('COMMAND INFO of the commands added here', () => {
    // module|list carries Redis's nondeterministic_output_order tip, which ringkv sends for no command.
    const exact = ['lolwut', 'move', 'replicaof', 'slaveof', 'failover', 'sync', 'psync', 'replconf', 'module|help', 'module|load', 'module|loadex',
      'module|unload', 'memory|help', 'function|help', 'command|help', 'command|count'];

    it.each(PROTOS)('arity, flags, key specs and ACL categories: same bytes (RESP%i)', async (proto) => {
      await sameBytes(plain!, exact.map((n) => ['COMMAND', 'INFO', n]), proto);
    });

    it.each(PROTOS)('every command Redis has: the same tips and key specs (RESP%i)', async (proto) => {
      const [list] = await decoded(node!.port, [['COMMAND', 'LIST']], 2);
      const names = list!.t === 'array' ? list!.v.map((n) => (n.t === 'bulk' ? n.v.toString() : '')) : [];
      expect(names.length).toBeGreaterThan(200);
      // Tips and key specs, of the command and of each of its subcommands, by name.
      const parts = async (port: number): Promise<Map<string, string>> => {
        const replies = await decoded(port, names.map((n) => ['COMMAND', 'INFO', n]), proto);
        const out = new Map<string, string>();
        const walk = (entry: Reply): void => {
          if (entry.t !== 'array') return;
          out.set(show(entry.v[0]!), `${show(entry.v[7]!)} ${show(entry.v[8]!)}`);
          const subs = entry.v[9];
          if (subs !== undefined && (subs.t === 'array' || subs.t === 'set')) for (const s of subs.v) walk(s);
        };
        for (const r of replies) if (r.t === 'array' && r.v[0] !== undefined) walk(r.v[0]);
        return out;
      };
      const [ours, theirs] = await Promise.all([parts(node!.port), parts(plain!.port)]);
      const differ = [...ours].filter(([name, v]) => theirs.has(name) && theirs.get(name) !== v).map(([name, v]) => `${name}: ${v} vs ${theirs.get(name)}`);
      expect(differ).toEqual([]);
    });

    it.each(PROTOS)('GETKEYSANDFLAGS: each key with the flags of the key spec that finds it, SET and BITFIELD by their arguments (RESP%i)', async (proto) => {
      const asks: Argv[] = [
        ['set', 'k', 'v'], ['set', 'k', 'v', 'GET'], ['set', 'k', 'v', 'EX', '10', 'get'], ['bitfield', 'k', 'GET', 'u8', '0'],
        ['bitfield', 'k', 'GET', 'u8', '0', 'OVERFLOW', 'SAT', 'INCRBY', 'u8', '0', '1'], ['bitfield', 'k'], ['lmove', 'a', 'b', 'LEFT', 'RIGHT'],
        ['zunionstore', 'd', '2', 'a', 'b'], ['zunion', '2', 'a', 'b', 'WITHSCORES'], ['eval', 'return 1', '2', 'a', 'b', 'x'], ['fcall', 'f', '1', 'a'],
        ['xread', 'COUNT', '1', 'STREAMS', 'a', 'b', '0', '0'], ['xreadgroup', 'GROUP', 'g', 'c', 'STREAMS', 'a', '>'], ['sort', 'k', 'STORE', 'd'],
        ['migrate', 'h', '1', '', '0', '10', 'KEYS', 'a', 'b'], ['georadius', 'k', '0', '0', '1', 'km', 'STORE', 'd'], ['mset', 'a', '1', 'b', '2'],
        ['rename', 'a', 'b'], ['unlink', 'a', 'b'], ['getdel', 'k'], ['lmpop', '2', 'a', 'b', 'LEFT'], ['object', 'encoding', 'k'], ['memory', 'usage', 'k'],
        ['pfmerge', 'd', 'a', 'b'], ['smove', 'a', 'b', 'm'], ['blmove', 'a', 'b', 'LEFT', 'LEFT', '0'], ['xgroup', 'create', 'k', 'g', '$'],
      ];
      await sameBytes(plain!, asks.map((a) => ['COMMAND', 'GETKEYSANDFLAGS', ...a]), proto);
    });

    it('MODULE and MODULE LIST: the same fields but the tips', async () => {
      const fields = (r: Reply): string[] => {
        if (r.t !== 'array' || r.v[0]?.t !== 'array') throw new Error(show(r));
        const entry = r.v[0].v;
        const subs = entry[9]?.t === 'array' ? entry[9].v.map((s) => (s.t === 'array' ? show({ t: 'array', v: [...s.v.slice(0, 7), s.v[8]!] }) : '')).sort() : [];
        return [...entry.slice(0, 7).map(show), show(entry[8]!), ...subs];
      };
      for (const name of ['module', 'module|list']) {
        const [[a], [b]] = await Promise.all([decoded(node!.port, [['COMMAND', 'INFO', name]], 3), decoded(plain!.port, [['COMMAND', 'INFO', name]], 3)]);
        expect(fields(a!)).toEqual(fields(b!));
      }
    });
  });

  describe('CONFIG', () => {
    it.each(PROTOS)('GET answers an exact name as typed; SET names an immutable, protected or repeated one as typed (RESP%i)', async (proto) => {
      await sameBytes(oneDb!, [
        ['CONFIG', 'GET', 'MAXMEMORY'], ['CONFIG', 'GET', 'MaxMemory', 'maxmemory'], ['CONFIG', 'GET', 'nosuch'], ['CONFIG', 'GET', 'maxmemory-POLICY', 'nosuch'],
        ['CONFIG', 'SET', 'maxmemory', '1', 'MAXMEMORY', '2'], ['CONFIG', 'SET', 'Hz', 'abc', 'hz', '5'], ['CONFIG', 'SET', 'HZ', 'abc'],
        ['CONFIG', 'SET', 'IO-THREADS', '1'], ['CONFIG', 'SET', 'appendfilename', 'x'], ['CONFIG', 'SET', 'enable-debug-command', 'yes'],
        ['CONFIG', 'SET', 'Dir', '/tmp'], ['CONFIG', 'SET', 'dbfilename', 'x'], ['CONFIG', 'SET', 'nosuch', '1', 'io-threads', '1'],
        ['CONFIG', 'SET', 'io-threads', '1', 'nosuch', '1'], ['CONFIG', 'GET', 'maxmemory'],
      ], proto);
    });

    it.each(PROTOS)('save, hz and the encoding settings take and refuse what Redis does (RESP%i)', async (proto) => {
      await sameBytes(oneDb!, [
        ['CONFIG', 'SET', 'save', 'bogus'], ['CONFIG', 'SET', 'save', '900'], ['CONFIG', 'SET', 'save', '0 1'], ['CONFIG', 'SET', 'save', '900 -1'],
        ['CONFIG', 'SET', 'save', '900 1 300 10'], ['CONFIG', 'GET', 'save'], ['CONFIG', 'SET', 'save', ' 0900  01 '], ['CONFIG', 'GET', 'save'],
        ['CONFIG', 'SET', 'save', ''], ['CONFIG', 'GET', 'save'],
        ['CONFIG', 'SET', 'hz', '0'], ['CONFIG', 'GET', 'hz'], ['CONFIG', 'SET', 'hz', '100000'], ['CONFIG', 'GET', 'hz'], ['CONFIG', 'SET', 'hz', '-1'],
        ['CONFIG', 'SET', 'hz', '10'], ['CONFIG', 'SET', 'appendfsync', 'sometimes'], ['CONFIG', 'SET', 'maxclients', '0'],
        ['CONFIG', 'SET', 'hash-max-listpack-entries', 'x'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '-1'], ['CONFIG', 'SET', 'hash-max-listpack-value', '1k'],
        ['CONFIG', 'GET', 'hash-max-listpack-value'], ['CONFIG', 'SET', 'hash-max-listpack-value', '64'], ['CONFIG', 'SET', 'zset-max-ziplist-value', '-1'],
        ['CONFIG', 'SET', 'list-max-listpack-size', 'x'], ['CONFIG', 'SET', 'list-compress-depth', '-1'], ['CONFIG', 'SET', 'stream-node-max-bytes', 'x'],
        ['CONFIG', 'SET', 'stream-node-max-entries', '-1'], ['CONFIG', 'SET', 'activerehashing', 'maybe'], ['CONFIG', 'SET', 'lua-time-limit', 'x'],
        ['CONFIG', 'SET', 'busy-reply-threshold', '-1'], ['CONFIG', 'SET', 'lazyfree-lazy-user-del', '1'],
        ['CONFIG', 'GET', 'lazyfree-lazy-eviction'], ['CONFIG', 'SET', 'lazyfree-lazy-expire', 'x'], ['CONFIG', 'SET', 'lazyfree-lazy-server-del', 'no'],
        ['CONFIG', 'GET', 'replica-lazy-flush'], ['CONFIG', 'SET', 'dynamic-hz', 'no'], ['CONFIG', 'GET', 'dynamic-hz'], ['CONFIG', 'SET', 'dynamic-hz', 'yes'],
        ['CONFIG', 'SET', 'rdbcompression', 'maybe'], ['CONFIG', 'GET', 'rdbchecksum'], ['CONFIG', 'SET', 'rdbchecksum', 'yes'],
        ['CONFIG', 'SET', 'always-show-logo', 'no'], ['CONFIG', 'SET', 'set-proc-title', 'yes'],
      ], proto);
    });

    it.each(PROTOS)('an old name (hash-max-ziplist-entries, lua-time-limit …) is the same setting as its new one (RESP%i)', async (proto) => {
      await sameBytes(oneDb!, [
        ['CONFIG', 'SET', 'hash-max-ziplist-entries', '3'], ['CONFIG', 'GET', 'hash-max-listpack-entries'], ['CONFIG', 'GET', 'HASH-MAX-ZIPLIST-ENTRIES'],
        ['CONFIG', 'SET', 'zset-max-listpack-value', '10'], ['CONFIG', 'GET', 'zset-max-ziplist-value'],
        ['CONFIG', 'SET', 'list-max-ziplist-size', '5'], ['CONFIG', 'GET', 'list-max-listpack-size'],
        ['CONFIG', 'SET', 'lua-time-limit', '4000'], ['CONFIG', 'GET', 'busy-reply-threshold'],
        ['CONFIG', 'SET', 'hash-max-ziplist-entries', '1', 'hash-max-listpack-entries', '2'],
        // The limit set under the old name is the one the encoding follows.
        ['DEL', 'h', 'z'], ['HSET', 'h', 'a', '1', 'b', '2', 'c', '3'], ['OBJECT', 'ENCODING', 'h'], ['HSET', 'h', 'd', '4'], ['OBJECT', 'ENCODING', 'h'],
        ['ZADD', 'z', '1', 'short'], ['OBJECT', 'ENCODING', 'z'], ['ZADD', 'z', '2', 'longer-than-10'], ['OBJECT', 'ENCODING', 'z'],
        ['CONFIG', 'SET', 'hash-max-ziplist-entries', '512', 'zset-max-ziplist-value', '64', 'list-max-ziplist-size', '-2', 'lua-time-limit', '5000'], ['DEL', 'h', 'z'],
      ], proto);
      // Hidden debugging knobs answer to their exact name only; appendonly yes is taken.
      await sameBytes(oneDb!, [
        ['CONFIG', 'SET', 'rdb-key-save-delay', '100'], ['CONFIG', 'GET', 'rdb-key-save-delay'], ['CONFIG', 'GET', 'rdb-key-save-*'],
        ['CONFIG', 'SET', 'key-load-delay', 'x'], ['CONFIG', 'SET', 'watchdog-period', '-1'], ['CONFIG', 'SET', 'use-exit-on-panic', 'maybe'],
        ['CONFIG', 'SET', 'loading-process-events-interval-bytes', '1'], ['CONFIG', 'SET', 'rdb-key-save-delay', '0'],
        ['CONFIG', 'SET', 'appendonly', 'yes'], ['CONFIG', 'SET', 'appendonly', 'maybe'], ['CONFIG', 'SET', 'appendonly', 'no'], ['CONFIG', 'GET', 'appendonly'],
        // Replication, AOF and defragmenter settings tools set: Redis's kinds, ranges and defaults.
        ['CONFIG', 'GET', 'repl-backlog-size'], ['CONFIG', 'SET', 'repl-backlog-size', '0'], ['CONFIG', 'SET', 'sanitize-dump-payload', 'bad'],
        ['CONFIG', 'SET', 'sanitize-dump-payload', 'yes'], ['CONFIG', 'GET', 'sanitize-dump-payload'], ['CONFIG', 'SET', 'sanitize-dump-payload', 'no'],
        ['CONFIG', 'SET', 'active-defrag-cycle-min', '0'], ['CONFIG', 'GET', 'slave-priority'], ['CONFIG', 'SET', 'repl-ping-slave-period', '0'],
        ['CONFIG', 'SET', 'oom-score-adj', 'bad'], ['CONFIG', 'GET', 'auto-aof-rewrite-min-size'], ['CONFIG', 'SET', 'aof-use-rdb-preamble', 'no'],
        ['CONFIG', 'SET', 'aof-use-rdb-preamble', 'yes'], ['CONFIG', 'GET', 'repl-diskless-load'], ['CONFIG', 'GET', 'tracking-table-max-keys'],
      ], proto);
      // A pattern lists both names of each setting, as Redis's CONFIG GET does.
      const names = async (port: number): Promise<string[]> => {
        const [r] = await decoded(port, [['CONFIG', 'GET', '*-max-*']], 2);
        return r!.t === 'array' ? r!.v.filter((_, i) => i % 2 === 0).map(show).sort() : [show(r!)];
      };
      const [ours, theirs] = await Promise.all([names(node!.port), names(oneDb!.port)]);
      for (const n of ['"hash-max-listpack-entries"', '"hash-max-ziplist-entries"', '"zset-max-ziplist-value"', '"zset-max-listpack-value"']) {
        expect(ours).toContain(n);
        expect(theirs).toContain(n);
      }
    });

    it('every setting CONFIG GET * lists can be set back to its value, but those Redis itself keeps to start-up', async () => {
      // Which settings Redis keeps to start-up (or protects) is asked of redis-server itself: each
      // setting it lists is set back to its own value there. requirepass is left out (it changes AUTH).
      const settingsOf = async (port: number): Promise<string[]> => {
        const [all] = await decoded(port, [['CONFIG', 'GET', '*']], 2);
        return all!.t === 'array' ? all!.v.map((x) => (x.t === 'bulk' ? x.v.toString() : '')) : [];
      };
      const refusedOn = async (port: number, pairs: string[]): Promise<Set<string>> => {
        const sets: Argv[] = [];
        for (let i = 0; i < pairs.length; i += 2) if (pairs[i] !== 'requirepass') sets.push(['CONFIG', 'SET', pairs[i]!, pairs[i + 1]!]);
        const replies = await decoded(port, sets, 2);
        return new Set(replies.map((r, i) => (r.t === 'error' ? sets[i]![2]! : '')).filter((x) => x !== ''));
      };
      const theirs = await settingsOf(oneDb!.port);
      const redisKeeps = await refusedOn(oneDb!.port, theirs);
      expect(redisKeeps.has('daemonize') && redisKeeps.has('dir')).toBe(true);
      const ours = await settingsOf(node!.port);
      expect(ours.length).toBeGreaterThan(200);
      const weRefuse = await refusedOn(node!.port, ours);
      // Refused here exactly where Redis refuses (of the settings both list); ringkv's own are taken.
      const listedByRedis = new Set(theirs.filter((_, i) => i % 2 === 0));
      expect([...weRefuse].filter((n) => !redisKeeps.has(n) || !listedByRedis.has(n)).sort()).toEqual([]);
      expect([...redisKeeps].filter((n) => ours.includes(n) && !weRefuse.has(n)).sort()).toEqual([]);
      const [again] = await decoded(node!.port, [['CONFIG', 'GET', '*']], 2);
      expect(show(again!)).toBe(show({ t: 'array', v: ours.map((v) => ({ t: 'bulk', v: Buffer.from(v) })) } as never));
      // A start-up setting to another value is still refused.
      const [port] = await decoded(node!.port, [['CONFIG', 'SET', 'port', '1']], 2);
      expect(show(port!)).toContain("can't set immutable config");
    });

    it('commandstats count the commands a script runs, and calls refused before running as rejected_calls, as Redis', async () => {
      const read = async (port: number): Promise<string[]> => {
        const replies = await decoded(port, [
          ['CONFIG', 'RESETSTAT'], ['SET', 'cs:k', 'v'],
          ['EVAL', "redis.call('set', KEYS[1], 0) redis.call('expire', KEYS[1], 100) redis.pcall('incrby', KEYS[1], 'x') return redis.call('get', KEYS[1])", '1', 'cs:k'],
          ['GET'], ['GET', 'a', 'b'], ['CONFIG', 'GET'], ['CONFIG', 'NOSUCH'], ['MULTI'], ['SET', 'x'], ['DISCARD'],
          ['INFO', 'commandstats'],
        ], 2);
        const info = replies.at(-1)!;
        const t = info.t === 'bulk' || info.t === 'verbatim' ? info.v.toString() : show(info);
        // Times differ; calls, rejected and failed calls are compared (the INFO call itself is not counted yet).
        return t.split('\r\n').filter((l) => l.startsWith('cmdstat_')).map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, '')).sort();
      };
      const [ours, theirs] = await Promise.all([read(node!.port), read(oneDb!.port)]);
      expect(ours).toEqual(theirs);
      expect(ours).toContain('cmdstat_set:calls=2,rejected_calls=1,failed_calls=0');
    });

    it('a blocked command is one call whether it is served, times out or is unblocked, as Redis counts it', async () => {
      const read = async (port: number): Promise<string[]> => {
        const admin = await RespConn.connect(port);
        const waiter = await RespConn.connect(port);
        try {
          await admin.call('CONFIG', 'RESETSTAT');
          await admin.call('DEL', 'bl:q');
          // Served after a wait, timed out, and unblocked by CLIENT UNBLOCK.
          const served = waiter.call('BLPOP', 'bl:q', '0');
          while (!/blocked_clients:1\r\n/.test(show(await admin.call('INFO', 'clients')).replace(/\\r\\n/g, '\r\n'))) await new Promise((r) => setTimeout(r, 10));
          await admin.call('RPUSH', 'bl:q', 'a');
          await served;
          await waiter.call('BLPOP', 'bl:q', '0.05');
          const id = show(await waiter.call('CLIENT', 'ID')).replace(/^:/, '');
          const unblocked = waiter.call('BLPOP', 'bl:q', '0');
          while (!/blocked_clients:1\r\n/.test(show(await admin.call('INFO', 'clients')).replace(/\\r\\n/g, '\r\n'))) await new Promise((r) => setTimeout(r, 10));
          await admin.call('CLIENT', 'UNBLOCK', id);
          await unblocked;
          const t = show(await admin.call('INFO', 'commandstats')).replace(/\\r\\n/g, '\r\n');
          return t.split('\r\n').filter((l) => l.startsWith('cmdstat_blpop')).map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, ''));
        } finally {
          admin.close();
          waiter.close();
        }
      };
      const [ours, theirs] = [await read(node!.port), await read(oneDb!.port)];
      expect(ours).toEqual(theirs);
      expect(ours).toEqual(['cmdstat_blpop:calls=3,rejected_calls=0,failed_calls=1']);
    });

    it('RESETSTAT clears the INFO stats counters, errorstats and commandstats as Redis', async () => {
      const counters = ['total_commands_processed', 'keyspace_hits', 'keyspace_misses', 'total_error_replies', 'total_connections_received', 'expired_keys', 'evicted_keys', 'rejected_connections'];
      const read = async (port: number): Promise<string[]> => {
        const [info] = await decoded(port, [['GET', 'nokey'], ['SET', 'rk', 'v'], ['GET', 'rk'], ['INCR', 'rk'], ['CONFIG', 'RESETSTAT'], ['INFO', 'stats', 'errorstats', 'commandstats']], 2).then((r) => r.slice(-1));
        const t = info!.t === 'bulk' ? info!.v.toString() : show(info!);
        const fields = counters.map((c) => new RegExp(`\r\n${c}:(\\d+)\r\n`).exec(t)?.[1] ?? `${c} missing`);
        // Commandstats name a subcommand's calls differently (cmdstat_config|resetstat in Redis): only their count is compared.
        const errorstats = t.split('\r\n').filter((l) => l.startsWith('errorstat_'));
        const cmdstats = t.split('\r\n').filter((l) => l.startsWith('cmdstat_')).length;
        return [...fields, ...errorstats, `${cmdstats} cmdstat lines`];
      };
      const [ours, theirs] = await Promise.all([read(node!.port), read(oneDb!.port)]);
      expect(ours).toEqual(theirs);
      expect(ours.slice(0, 4)).toEqual(['1', '0', '0', '0']);
    });
  });

  describe('INFO', () => {
    const sectionsOf = (r: Reply): string[] => (r.t === 'bulk' || r.t === 'verbatim' ? r.v.toString() : '').split('\r\n').filter((l) => l.startsWith('# '));

    it('prints each section once, in Redis\'s order, whatever the order asked; default and all add to the names given', async () => {
      const asks: Argv[] = [['INFO', 'keyspace', 'server'], ['INFO', 'keyspace', 'KEYSPACE'], ['INFO', 'default', 'commandstats'], ['INFO', 'commandstats', 'default'],
        ['INFO', 'everything', 'bogus'], ['INFO', 'all'], ['INFO', 'bogus'], ['INFO', 'latencystats', 'errorstats', 'commandstats', 'cpu', 'clients']];
      const [ours, theirs] = await Promise.all([decoded(node!.port, asks, 2), decoded(oneDb!.port, asks, 2)]);
      // ringkv's own section closes `all` and `everything`.
      expect(ours.map((r) => sectionsOf(r).filter((h) => h !== '# Ringkv'))).toEqual(theirs.map(sectionsOf));
    });

    it('every field Redis prints per section is there, in the same form for the keyspace line', async () => {
      const fields = (r: Reply): Map<string, Map<string, string>> => {
        const out = new Map<string, Map<string, string>>();
        let section = new Map<string, string>();
        for (const l of (r.t === 'bulk' ? r.v.toString() : '').split('\r\n')) {
          if (l.startsWith('# ')) out.set(l.slice(2), (section = new Map()));
          else if (l.includes(':')) section.set(l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1));
        }
        return out;
      };
      const setup: Argv[] = [['SET', 'ik1', 'v'], ['SET', 'ik2', 'v', 'EX', '1000']];
      const [ours, theirs] = await Promise.all([decoded(node!.port, [...setup, ['INFO', 'default']], 2), decoded(oneDb!.port, [...setup, ['INFO', 'default']], 2)]);
      const mine = fields(ours.at(-1)!);
      // Script and function counts belong to the scripting engine, which INFO does not start.
      const notHere = new Set(['number_of_cached_scripts', 'number_of_functions', 'number_of_libraries']);
      for (const [name, theirFields] of fields(theirs.at(-1)!)) {
        if (name === 'Errorstats') continue;
        const missing = [...theirFields.keys()].filter((k) => !mine.get(name)?.has(k) && !notHere.has(k));
        expect(missing, `# ${name}`).toEqual([]);
      }
      const shape = (v: string | undefined): string | undefined => v?.replace(/\d+/g, 'N');
      expect(shape(mine.get('Keyspace')?.get('db0'))).toBe('keys=N,expires=N,avg_ttl=N');
      expect(shape(mine.get('Keyspace')?.get('db0'))).toBe(shape(fields(theirs.at(-1)!).get('Keyspace')?.get('db0')));
      await Promise.all([decoded(node!.port, [['DEL', 'ik1', 'ik2']], 2), decoded(oneDb!.port, [['DEL', 'ik1', 'ik2']], 2)]);
    });

    it('MEMORY STATS: Redis\'s fields, each of Redis\'s reply type (RESP3)', async () => {
      const kinds = (r: Reply): string[] => entries(r).map(([k, v]) => `${k}:${v.t}`);
      const setup: Argv[] = [['SET', 'msk', 'v'], ['MEMORY', 'STATS'], ['DEL', 'msk'], ['MEMORY', 'STATS']];
      const [ours, theirs] = await Promise.all([decoded(node!.port, setup, 3), decoded(oneDb!.port, setup, 3)]);
      expect(kinds(ours[1]!)).toEqual(kinds(theirs[1]!));
      expect(kinds(ours[3]!)).toEqual(kinds(theirs[3]!));
    });
  });

  describe('server commands with one database', () => {
    it.each(PROTOS)('SWAPDB, WAIT, BGSAVE arguments and in MULTI, SLOWLOG GET arity, HELLO\'s version range, COMMAND INFO and GETKEYS of odd names (RESP%i)', async (proto) => {
      await noBackgroundWork([oneDb!.port, node!.port]);
      await sameBytes(oneDb!, [
        ['SWAPDB', '0', '0'], ['SWAPDB', '0', '1'], ['SWAPDB', 'x', '1'], ['SWAPDB', '0', 'x'], ['SWAPDB', '-1', '0'], ['SWAPDB', '99999999999', '0'],
        ['WAIT', '0', 'x'], ['WAIT', '0', '-1'], ['WAIT', 'x', '0'], ['WAIT', '0', '0'], ['BGSAVE', 'x'], ['BGSAVE', 'a', 'b'],
        // Inside EXEC, Redis schedules a background save or AOF rewrite for after the transaction.
        ['MULTI'], ['BGSAVE'], ['BGREWRITEAOF'], ['EXEC'],
        ['SLOWLOG', 'GET', '1', '2'], ['HELLO', '99999999999999999999999'], ['HELLO', '-1'], ['HELLO', 'x'],
        ['COMMAND', 'INFO', 'nosuch'], ['COMMAND', 'INFO', 'get', 'nosuch', 'config|nosuch', 'config|get|x'],
        ['SET', 'gk', 'v'], ['COMMAND', 'GETKEYS', 'config', 'get', 'x'], ['COMMAND', 'GETKEYS', 'config', 'nosuch', 'x'], ['COMMAND', 'GETKEYS', 'object', 'encoding', 'gk'],
        ['COMMAND', 'GETKEYS', 'xinfo', 'stream', 'gk'], ['COMMAND', 'GETKEYS', 'memory', 'usage', 'gk'], ['COMMAND', 'GETKEYS', 'object', 'encoding'],
        ['COMMAND', 'GETKEYS', 'client', 'kill', 'x'], ['DEL', 'gk'], ['COMMAND', 'INFO', 'echo', 'select', 'hello', 'reset'],
      ], proto);
    });

    it.each(PROTOS)('DEBUG: numbers read as C reads them, RELOAD options, LISTPACK and QUICKLIST, ERROR, QUICKLIST-PACKED-THRESHOLD, PAUSE-CRON, REPLYBUFFER (RESP%i)', async (proto) => {
      await sameBytes(oneDb!, [
        ['SET', 'dk', 'a-string-value'], ['RPUSH', 'dl', 'a'], ['DEBUG', 'SLEEP', 'x'], ['DEBUG', 'SLEEP', '0.001'], ['DEBUG', 'SET-ACTIVE-EXPIRE', 'x'], ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'],
        ['DEBUG', 'QUICKLIST-PACKED-THRESHOLD', 'x'], ['DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '0'], ['DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '5gb'],
        ['DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '1gb'], ['DEBUG', 'RELOAD', 'bogus'], ['DEBUG', 'RELOAD', 'NOSAVE', 'x'],
        ['DEBUG', 'LISTPACK', 'nokey'], ['DEBUG', 'LISTPACK', 'dk'], ['DEBUG', 'LISTPACK', 'dl'], ['DEBUG', 'QUICKLIST', 'nokey'], ['DEBUG', 'QUICKLIST', 'dk'],
        ['DEBUG', 'QUICKLIST', 'dl'], ['DEBUG', 'QUICKLIST', 'dl', '1'], ['DEBUG', 'QUICKLIST', 'dl', '1', '2'], ['DEBUG', 'ERROR', 'FOO bar'], ['DEBUG', 'ERROR', 'plain'],
        ['DEBUG', 'SET-SKIP-CHECKSUM-VALIDATION', '1'], ['DEBUG', 'SET-SKIP-CHECKSUM-VALIDATION', '0'], ['DEBUG', 'AOF-FLUSH-SLEEP', '0'],
        ['DEBUG', 'STRINGMATCH-TEST'], ['DEBUG', 'STRINGMATCH-LEN'], ['DEBUG', 'PAUSE-CRON', '1'], ['DEBUG', 'PAUSE-CRON', '0'], ['DEBUG', 'PAUSE-CRON'],
        ['DEBUG', 'REPLYBUFFER', 'peak-reset-time', 'x'], ['DEBUG', 'REPLYBUFFER', 'PEAK-RESET-TIME', 'never'], ['DEBUG', 'REPLYBUFFER', 'peak-reset-time', 'reset'],
        ['DEBUG', 'REPLYBUFFER', 'resizing', '1'], ['DEBUG', 'REPLYBUFFER', 'foo', '1'], ['DEBUG', 'REPLYBUFFER', 'resizing'], ['DEL', 'dk', 'dl'],
        // RELOAD NOFLUSH loads the dump over what is there: refused once a function library would load twice.
        ['FUNCTION', 'FLUSH'], ['FLUSHALL'], ['DEBUG', 'RELOAD', 'NOFLUSH'], ['FUNCTION', 'LOAD', "#!lua name=rl\nredis.register_function('rl', function() return 1 end)"],
        ['DEBUG', 'RELOAD', 'NOFLUSH'], ['DEBUG', 'RELOAD', 'NOFLUSH', 'MERGE'], ['DEBUG', 'RELOAD'], ['FCALL', 'rl', '0'], ['FUNCTION', 'FLUSH'],
      ], proto);
    });
  });

  describe('on a 3-node cluster', () => {
    let cluster: TestCluster | undefined;
    afterAll(async () => {
      await cluster?.stop();
    });

    it.each(PROTOS)('pipelined at a key\'s primary: MOVE refused as in Redis Cluster, docs, help and refusals as in Redis (RESP%i)', async (proto) => {
      cluster ??= await startCluster(3, ['--appendfsync', 'no']);
      const primary = await primaryPort(cluster.ports[0]!, 'k');
      const asCluster: Argv[] = [['REPLICAOF', 'no', 'one'], ['SLAVEOF', 'no', 'one'], ['FAILOVER'], ['CLUSTER', 'HELP', 'x']];
      const asPlain: Argv[] = [['COMMAND', 'DOCS', 'get', 'move', 'client|kill'], ['MODULE', 'HELP'], ['CLIENT', 'HELP'], ['OBJECT', 'HELP'], ['COMMAND', 'INFO', 'move'], ['LOLWUT', 'VERSION', 'x']];
      const ours = await rawReplies(primary, [['SET', 'k', 'v'], ['MOVE', 'k', '1'], ['MOVE', 'k', '0'], ...asCluster, ...asPlain, ['GET', 'k']], proto);
      expect(text(ours.slice(0, 3))).toEqual(['+OK\r\n', '-ERR MOVE is not allowed in cluster mode\r\n', '-ERR MOVE is not allowed in cluster mode\r\n']);
      const [wantCluster, wantPlain] = await Promise.all([rawReplies(clustered!.port, asCluster, proto), rawReplies(plain!.port, asPlain, proto)]);
      expect(text(ours.slice(3, 3 + asCluster.length))).toEqual(text(wantCluster));
      expect(text(ours.slice(3 + asCluster.length, -1))).toEqual(text(wantPlain));
      expect(text(ours.slice(-1))).toEqual(['$1\r\nv\r\n']);
    }, 90_000);
  });
});
