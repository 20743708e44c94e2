/**
 * Raw RESP pipelines with byte-exact expected replies, shared by the cluster, the cluster-proxy and
 * the redis-server reference runs: every case writes its commands in one write on one connection,
 * as pipelining clients do, and states Redis 7.0's replies in `show`'s text form. A case only needs
 * to know which port may take a set of keys on one connection (`RawTarget`).
 */
import { expect } from 'vitest';
import { RespConn } from './resp-conn.js';
import { asRespText, generateSteps } from './string-model.js';
import { Prng } from '../sim/prng.js';

export interface RawTarget {
  /** owner: a cluster node that serves the keys; proxy: a cluster-proxy node that relays them; standalone: one server. */
  kind: 'owner' | 'proxy' | 'standalone';
  /** Owner targets: a key the node at `port` does not serve, and the MOVED error a command on it gets there. */
  foreign?(port: number, prefix: string): { key: string; moved: string };
  /** A port whose connection may take commands on all of `keys` (the slot owner, or any node under cluster-proxy). */
  portFor(keys: string[]): number;
  /** `count` keys in different slots that one connection to the returned port may mix. */
  keysTogether(prefix: string, count: number): { port: number; keys: string[] };
  /** Every node's port, for a second client on another node. */
  ports: number[];
}

export interface RawCase {
  name: string;
  /** Target kinds the case applies to; all when absent. */
  kinds?: Array<RawTarget['kind']>;
  run(target: RawTarget, seed: number): Promise<void>;
}

/** Compares rendered replies with expectations; a RegExp entry matches a reply whose value may vary (TTL). */
export function expectReplies(got: string[], want: Array<string | RegExp>, context = ''): void {
  const comparable = want.map((w, i) => (w instanceof RegExp ? (got[i] !== undefined && w.test(got[i]!) ? got[i] : String(w)) : w));
  expect(got, context).toEqual(comparable);
}

/**
 * A reply text that holds a hash's fields in any order: `render` writes the reply around one order
 * of `pairs` (a hash in the hashtable layout has no order to promise, as in Redis).
 */
export function anyOrder(pairs: ReadonlyArray<readonly [string, string]>, render: (ordered: ReadonlyArray<readonly [string, string]>) => string): RegExp {
  const perms = (xs: ReadonlyArray<readonly [string, string]>): Array<Array<readonly [string, string]>> =>
    xs.length <= 1 ? [[...xs]] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
  const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^(?:${perms(pairs).map((o) => escape(render(o))).join('|')})$`);
}

/** A RESP3 map reply text of `pairs`, as RespConn prints it. */
export const mapText = (ordered: ReadonlyArray<readonly [string, string]>): string => `{${ordered.map(([k, v]) => `"${k}": "${v}"`).join(', ')}}`;
/** A RESP2 flat array reply text of `pairs`. */
export const flatText = (ordered: ReadonlyArray<readonly [string, string]>): string => `[${ordered.map(([k, v]) => `"${k}" "${v}"`).join(' ')}]`;

export async function withConn<T>(port: number, fn: (conn: RespConn) => Promise<T>): Promise<T> {
  const conn = await RespConn.connect(port);
  try {
    const result = await fn(conn);
    // Nothing may arrive that no command asked for (a reply drawn out of its place would).
    expect(await conn.strayReplies(50)).toEqual([]);
    return result;
  } finally {
    conn.close();
  }
}

export const tx = (...cmds: string[][]): string[][] => [['MULTI'], ...cmds, ['EXEC']];

export const rawPipelineCases: RawCase[] = [
  {
    // Goal: each command sees the ones before it on the same key. Method: the reported sequence
    // on key `c`, in one write, exact replies.
    name: 'SET/GET/SET/GET/INCR/GET/DEL/GET on one key in one write',
    async run(t) {
      await withConn(t.portFor(['c']), async (conn) => {
        const got = await conn.pipelineText([['SET', 'c', '1'], ['GET', 'c'], ['SET', 'c', '2'], ['GET', 'c'], ['INCR', 'c'], ['GET', 'c'], ['DEL', 'c'], ['GET', 'c']]);
        expectReplies(got, ['+OK', '"1"', '+OK', '"2"', ':3', '"3"', ':1', 'nil']);
      });
    },
  },
  {
    // Goal: expiry commands see the write before them and the TTL reads see the expiry.
    // Method: SET, EXPIRE, TTL, PERSIST, TTL, PEXPIRE, PTTL, SET … KEEPTTL, PTTL, DEL, EXISTS in one write.
    name: 'expiry commands pipelined after the write they apply to',
    async run(t) {
      const k = 'raw:ttl';
      await withConn(t.portFor([k]), async (conn) => {
        const got = await conn.pipelineText([['SET', k, 'v'], ['EXPIRE', k, '100'], ['TTL', k], ['PERSIST', k], ['TTL', k], ['PEXPIRE', k, '50000'], ['PTTL', k], ['SET', k, 'w', 'KEEPTTL'], ['PTTL', k], ['DEL', k], ['EXISTS', k], ['TTL', k]]);
        expectReplies(got, ['+OK', ':1', /^:(99|100)$/, ':1', ':-1', ':1', /^:(49\d\d\d|50000)$/, '+OK', /^:(49\d\d\d|50000)$/, ':1', ':0', ':-2']);
      });
    },
  },
  {
    // Goal: a transaction in one write with commands after it: EXEC answers with exactly its own
    // queued commands, and the later commands run after it, outside it. Method: MULTI/SET/GET/EXEC/GET/PING.
    name: 'MULTI/SET/GET/EXEC/GET/PING in one write',
    async run(t) {
      const k = '{raw-tx}k';
      await withConn(t.portFor([k]), async (conn) => {
        const got = await conn.pipelineText([...tx(['SET', k, 'v'], ['GET', k]), ['GET', k], ['PING']]);
        expectReplies(got, ['+OK', '+QUEUED', '+QUEUED', '[+OK "v"]', '"v"', '+PONG']);
      });
    },
  },
  {
    // Goal: two transactions back to back in one write, one per slot, as @keyv/redis setMany and
    // cache-manager mset send them. Method: MULTI/SET/EXEC twice, then GET of both keys, one write.
    name: 'two transactions on two slots in one write',
    async run(t) {
      const { port, keys: [a, b] } = t.keysTogether('raw-two-', 2);
      await withConn(port, async (conn) => {
        const got = await conn.pipelineText([...tx(['SET', a!, 'va']), ...tx(['SET', b!, 'vb']), ['GET', a!], ['GET', b!]]);
        expectReplies(got, ['+OK', '+QUEUED', '[+OK]', '+OK', '+QUEUED', '[+OK]', '"va"', '"vb"']);
      });
    },
  },
  {
    // Goal: ten transactions in one write each run whole and in order. Method: three slots (one
    // hash tag each) take turns; every transaction INCRs its slot's counter, APPENDs to its slot's
    // string and reads the counter back, so each EXEC's array tells how many ran before it.
    name: 'ten transactions over three slots in one write run whole and in order',
    async run(t) {
      const { port, keys } = t.keysTogether('raw-ten-', 3);
      // `{k}n` hashes as `k`, so each group's keys share the slot of one of the keys above.
      const groups = keys.map((k) => ({ n: `{${k}}n`, s: `{${k}}s`, count: 0, len: 0 }));
      await withConn(port, async (conn) => {
        const cmds: string[][] = [];
        const want: string[] = [];
        for (let i = 1; i <= 10; i++) {
          const g = groups[i % groups.length]!;
          g.count++;
          g.len += `${i},`.length;
          cmds.push(...tx(['INCR', g.n], ['APPEND', g.s, `${i},`], ['GET', g.n]));
          want.push('+OK', '+QUEUED', '+QUEUED', '+QUEUED', `[:${g.count} :${g.len} "${g.count}"]`);
        }
        for (const g of groups) {
          cmds.push(['GET', g.n], ['STRLEN', g.s]);
          want.push(`"${g.count}"`, `:${g.len}`);
        }
        cmds.push(['PING']);
        want.push('+PONG');
        expectReplies(await conn.pipelineText(cmds), want);
      });
    },
  },
  {
    // Goal: WATCH sees a change another client makes between WATCH and EXEC: EXEC answers a null
    // array and nothing of the transaction runs. Method: A WATCHes, a second client B SETs the
    // key, then A sends MULTI/SET/EXEC/GET in one write.
    name: 'WATCH, a concurrent change from another client, then EXEC in one write',
    async run(t) {
      const k = '{raw-watch}w';
      const port = t.portFor([k]);
      await withConn(port, async (a) => {
        expectReplies(await a.pipelineText([['SET', k, 'start'], ['WATCH', k], ['GET', k]]), ['+OK', '+OK', '"start"']);
        await withConn(t.portFor([k]), async (b) => {
          expectReplies(await b.pipelineText([['SET', k, 'theirs']]), ['+OK']);
        });
        expectReplies(await a.pipelineText([...tx(['SET', k, 'mine']), ['GET', k]]), ['+OK', '+QUEUED', 'nil[]', '"theirs"']);
      });
    },
  },
  {
    // Goal: WATCH ordering inside one write: a transaction whose watched key nobody touched runs;
    // one whose key the same connection changed after WATCH (Redis counts its own writes too) does
    // not. Method: both sequences, each in one write.
    name: 'WATCH/MULTI/EXEC in one write, untouched and touched by the same connection',
    async run(t) {
      const k = '{raw-watch2}w';
      await withConn(t.portFor([k]), async (conn) => {
        const untouched = await conn.pipelineText([['DEL', k], ['WATCH', k], ...tx(['INCR', k], ['INCR', k]), ['GET', k]]);
        expectReplies(untouched, [/^:[01]$/, '+OK', '+OK', '+QUEUED', '+QUEUED', '[:1 :2]', '"2"']);
        const touched = await conn.pipelineText([['SET', k, '0'], ['WATCH', k], ['SET', k, 'x'], ...tx(['SET', k, 'y']), ['GET', k]]);
        expectReplies(touched, ['+OK', '+OK', '+OK', '+OK', '+QUEUED', 'nil[]', '"x"']);
      });
    },
  },
  {
    // Goal: HELLO 3 switches the protocol for exactly the commands after it in the same write, and
    // HELLO 2 back: HGETALL answers a map in RESP3 and a flat array in RESP2. Method: one write.
    name: 'RESP3: HELLO 3 and HGETALL in one pipelined write, then HELLO 2',
    async run(t) {
      const h = '{raw-resp3}h';
      const two = [['f1', 'a'], ['f2', 'b']] as const;
      const three = [...two, ['f3', 'c']] as const;
      await withConn(t.portFor([h]), async (conn) => {
        const got = await conn.pipelineText([
          ['DEL', h], ['HELLO', '3'], ['HSET', h, 'f1', 'a', 'f2', 'b'], ['HGETALL', h], ['HSET', h, 'f3', 'c'], ['HGETALL', h],
          ['GET', `${h}-missing`], ['HELLO', '2'], ['HGETALL', h], ['DEL', h], ['HGETALL', h],
        ]);
        expect(got[1]).toMatch(/^\{"server": .*"proto": :3/);
        expect(got[7]).toMatch(/^\["server" .*"proto" :2/);
        expectReplies([got[0]!, ...got.slice(2, 7), ...got.slice(8)], [
          /^:[01]$/, ':2', anyOrder(two, mapText), ':1', anyOrder(three, mapText), 'nil', anyOrder(three, flatText), ':1', '[]',
        ]);
      });
    },
  },
  {
    // Goal: a long pipeline of dependent commands over several slots, with key-less commands mixed
    // in, answers as the sequential model says. Method: 400 seeded model steps over 6 keys in 6
    // slots plus a PING after every 25th, in one write.
    name: 'a 400-command seeded pipeline over six slots in one write matches the sequential model',
    async run(t, seed) {
      const { port, keys } = t.keysTogether('raw-model-', 6);
      const steps = generateSteps(new Prng(seed), keys, 400);
      const cmds: string[][] = [];
      const want: string[] = [];
      steps.forEach((s, i) => {
        cmds.push(s.argv);
        want.push(asRespText(s.expect));
        if (i % 25 === 24) {
          cmds.push(['PING']);
          want.push('+PONG');
        }
      });
      await withConn(port, async (conn) => {
        const got = await conn.pipelineText(cmds);
        const first = got.findIndex((g, i) => g !== want[i]);
        expect(first < 0 ? 'all match' : `#${first} ${cmds[first]!.join(' ')} gave ${got[first]}, want ${want[first]}`, `seed ${seed}`).toBe('all match');
      });
    },
  },
];
