/**
 * More raw RESP pipelines, each in one write, for what a connection's order must also cover: error
 * replies in the middle, multi-key commands, transactions that fail or are discarded, connection
 * state commands between keyed ones, a redirect in the middle, QUIT, RESET, WATCH/UNWATCH, WAIT,
 * RESP3 inside a transaction, and a pipeline of 4,500 commands alternating between two slots.
 * Expected replies are Redis 7.0's (checked by pipeline-reference.test.ts).
 */
import { expect } from 'vitest';
import { anyOrder, expectReplies, mapText, tx, withConn, type RawCase } from './raw-pipeline-cases.js';
import { RespConn, show } from './resp-conn.js';

const NOT_INT = '-ERR value is not an integer or out of range';
const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value';

export const rawEdgeCases: RawCase[] = [
  {
    // Goal: an error reply in a pipeline neither stops nor reorders what follows. Method: INCR on
    // a non-number, a hash command on a string, INCRBY with a bad argument, between dependent writes.
    name: 'error replies in the middle of a dependent pipeline',
    async run(t) {
      const k = '{raw-err}k';
      await withConn(t.portFor([k]), async (conn) => {
        const got = await conn.pipelineText([['SET', k, 'abc'], ['INCR', k], ['APPEND', k, 'd'], ['HSET', k, 'f', 'v'], ['GET', k], ['SET', k, '5'], ['INCRBY', k, 'x'], ['INCR', k], ['GET', k]]);
        expectReplies(got, ['+OK', NOT_INT, ':4', WRONGTYPE, '"abcd"', '+OK', NOT_INT, ':6', '"6"']);
      });
    },
  },
  {
    // Goal: hash commands see the ones before them on the same hash. Method: HSET, HINCRBY, HDEL,
    // HEXISTS, HSETNX, HGET, HLEN, HMGET, HSTRLEN, DEL, HLEN in one write.
    name: 'dependent hash commands in one write',
    async run(t) {
      const h = '{raw-hash}h';
      await withConn(t.portFor([h]), async (conn) => {
        const got = await conn.pipelineText([
          ['DEL', h], ['HSET', h, 'a', '1', 'b', 'xy'], ['HINCRBY', h, 'a', '2'], ['HDEL', h, 'a'], ['HEXISTS', h, 'a'], ['HSETNX', h, 'a', 'new'],
          ['HSETNX', h, 'a', 'newer'], ['HGET', h, 'a'], ['HLEN', h], ['HMGET', h, 'a', 'b', 'c'], ['HSTRLEN', h, 'b'], ['HINCRBY', h, 'b', '1'], ['DEL', h], ['HLEN', h],
        ]);
        expectReplies(got, [/^:[01]$/, ':2', ':3', ':1', ':0', ':1', ':0', '"new"', ':2', '["new" "xy" nil]', ':2', '-ERR hash value is not an integer', ':1', ':0']);
      });
    },
  },
  {
    // Goal: expiry options that depend on the key's current TTL see the commands before them.
    // Method: SET … EX then a plain SET (drops the TTL), EXPIRE NX twice, EXPIRE GT/LT, GETEX
    // PERSIST, SET … KEEPTTL, each followed by TTL, one write.
    name: 'TTL-dependent expiry options in one write',
    async run(t) {
      const k = '{raw-expopt}k';
      await withConn(t.portFor([k]), async (conn) => {
        const got = await conn.pipelineText([
          ['SET', k, 'v', 'EX', '100'], ['SET', k, 'w'], ['TTL', k], ['EXPIRE', k, '100', 'NX'], ['EXPIRE', k, '200', 'NX'], ['TTL', k],
          ['EXPIRE', k, '50', 'GT'], ['EXPIRE', k, '300', 'GT'], ['TTL', k], ['EXPIRE', k, '400', 'LT'], ['EXPIRE', k, '150', 'LT'], ['TTL', k],
          ['GETEX', k, 'PERSIST'], ['TTL', k], ['SET', k, 'x', 'EX', '70'], ['SET', k, 'y', 'KEEPTTL'], ['TTL', k], ['GET', k],
        ]);
        expectReplies(got, ['+OK', '+OK', ':-1', ':1', ':0', /^:(99|100)$/, ':0', ':1', /^:(299|300)$/, ':0', ':1', /^:(149|150)$/, '"w"', ':-1', '+OK', '+OK', /^:(69|70)$/, '"y"']);
      });
    },
  },
  {
    // Goal: multi-key commands of one slot see the writes before them. Method: MSET, MGET, DEL,
    // EXISTS, RENAME, COPY, MSETNX over keys of one hash tag, one write.
    name: 'multi-key commands of one slot in one write',
    async run(t) {
      const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((x) => `{raw-mk}${x}`) as [string, string, string, string, string];
      await withConn(t.portFor([a]), async (conn) => {
        const got = await conn.pipelineText([
          ['DEL', a, b, c, d, e], ['MSET', a, '1', b, '2'], ['MGET', a, b, c], ['DEL', a, c], ['EXISTS', a, b, b], ['RENAME', b, c], ['GET', c],
          ['COPY', c, d], ['MGET', b, c, d], ['MSETNX', d, 'x', e, 'y'], ['GET', e], ['MSETNX', e, 'y'], ['MGET', d, e],
        ]);
        expectReplies(got, [/^:\d$/, '+OK', '["1" "2" nil]', ':1', ':2', '+OK', '"2"', ':1', '[nil "2" "2"]', ':0', 'nil', ':1', '["2" "y"]']);
      });
    },
  },
  {
    // Goal: failed and discarded transactions in one write leave the right state for the commands
    // after them. Method: a runtime error inside EXEC, an unknown command while queueing
    // (EXECABORT), a DISCARD, and EXEC without MULTI.
    name: 'transactions with errors, EXECABORT and DISCARD in one write',
    async run(t) {
      const k = '{raw-txerr}k';
      await withConn(t.portFor([k]), async (conn) => {
        const got = await conn.pipelineText([
          ...tx(['SET', k, 'x'], ['INCR', k], ['GET', k]), ['GET', k],
          ...tx(['SET', k, 'y'], ['NOSUCHCMD']), ['GET', k],
          ['MULTI'], ['SET', k, 'z'], ['DISCARD'], ['GET', k], ['EXEC'],
        ]);
        expectReplies(got, [
          '+OK', '+QUEUED', '+QUEUED', '+QUEUED', `[+OK ${NOT_INT} "x"]`, '"x"',
          '+OK', '+QUEUED', "-ERR unknown command 'NOSUCHCMD', with args beginning with: ", '-EXECABORT Transaction discarded because of previous errors.', '"x"',
          '+OK', '+QUEUED', '+OK', '"x"', '-ERR EXEC without MULTI',
        ]);
      });
    },
  },
  {
    // Goal: connection-state commands between keyed ones keep their place. Method: CLIENT SETNAME /
    // GETNAME, ECHO, PING and WAIT between dependent writes, one write.
    name: 'connection commands (CLIENT SETNAME/GETNAME, ECHO, WAIT) between keyed ones',
    async run(t) {
      const k = '{raw-conn}k';
      await withConn(t.portFor([k]), async (conn) => {
        const got = await conn.pipelineText([
          ['SET', k, '1'], ['CLIENT', 'SETNAME', 'n1'], ['GET', k], ['CLIENT', 'GETNAME'], ['ECHO', 'hi'], ['INCR', k],
          ['CLIENT', 'SETNAME', 'n2'], ['WAIT', '0', '0'], ['INCR', k], ['CLIENT', 'GETNAME'], ['PING'], ['GET', k],
        ]);
        expectReplies(got, ['+OK', '+OK', '"1"', '"n1"', '"hi"', ':2', '+OK', /^:\d+$/, ':3', '"n2"', '+PONG', '"3"']);
      });
    },
  },
  {
    // Goal: KEYS, which reads the node's own keyspace, sees the writes before it in the same write.
    // Method: SET, KEYS, DEL, KEYS on the owner (a proxy entry node lists only its own keys).
    name: 'KEYS after a write and after a delete in the same write',
    kinds: ['owner', 'standalone'],
    async run(t) {
      const k = '{raw-keys}k';
      await withConn(t.portFor([k]), async (conn) => {
        expectReplies(await conn.pipelineText([['SET', k, '1'], ['KEYS', k], ['DEL', k], ['KEYS', k]]), ['+OK', `["${k}"]`, ':1', '[]']);
      });
    },
  },
  {
    // Goal: a redirect in the middle of a pipeline answers only that command; the others run in
    // order around it, as on a Redis Cluster node. Method: a key of another node between
    // dependent commands on an own key, one write.
    name: 'a MOVED reply in the middle of a pipeline',
    kinds: ['owner'],
    async run(t) {
      const k = '{raw-moved}k';
      const port = t.portFor([k]);
      const foreign = t.foreign!(port, 'raw-moved-');
      await withConn(port, async (conn) => {
        const got = await conn.pipelineText([['SET', k, '1'], ['SET', foreign.key, 'x'], ['INCR', k], ['GET', foreign.key], ['GET', k]]);
        expectReplies(got, ['+OK', foreign.moved, ':2', foreign.moved, '"2"']);
      });
    },
  },
  {
    // Goal: QUIT answers after everything before it, closes the connection, and nothing sent after
    // it runs. Method: SET/GET/QUIT/SET in one write; a second connection reads the key.
    name: 'QUIT in the middle of a write',
    async run(t) {
      const k = '{raw-quit}k';
      const conn = await RespConn.connect(t.portFor([k]));
      try {
        conn.send([['SET', k, '1'], ['GET', k], ['QUIT'], ['SET', k, '2']]);
        // Three replies come, then the close.
        expectReplies((await conn.read(3)).map(show), ['+OK', '"1"', '+OK']);
        expect(await conn.closedWithin(5000)).toBe(true);
      } finally {
        conn.close();
      }
      await withConn(t.portFor([k]), async (check) => {
        expectReplies(await check.pipelineText([['GET', k]]), ['"1"']);
      });
    },
  },
  {
    // Goal: a protocol error after pipelined commands answers them all first, then the error,
    // then closes; and the commands before it took effect. Method: SET/INCR/GET followed by a
    // malformed bulk length in the same write; a second connection reads the key.
    name: 'a protocol error after pipelined commands in the same write',
    async run(t) {
      const k = '{raw-proto}k';
      const conn = await RespConn.connect(t.portFor([k]));
      try {
        conn.send([['SET', k, '1'], ['INCR', k], ['GET', k]], Buffer.from('*1\r\n$x\r\n'));
        expectReplies((await conn.read(4)).map(show), ['+OK', ':2', '"2"', '-ERR Protocol error: invalid bulk length']);
        expect(await conn.closedWithin(5000)).toBe(true);
      } finally {
        conn.close();
      }
      await withConn(t.portFor([k]), async (check) => {
        expectReplies(await check.pipelineText([['GET', k]]), ['"2"']);
      });
    },
  },
  {
    // Goal: RESET inside a transaction drops it and the commands after RESET run plainly.
    // Method: MULTI/SET/RESET/GET/INCR in one write.
    name: 'RESET in the middle of a transaction',
    async run(t) {
      const k = '{raw-reset}k';
      await withConn(t.portFor([k]), async (conn) => {
        const got = await conn.pipelineText([['SET', k, '1'], ['MULTI'], ['SET', k, 'r'], ['RESET'], ['GET', k], ['INCR', k], ['EXEC']]);
        expectReplies(got, ['+OK', '+OK', '+QUEUED', '+RESET', '"1"', ':2', '-ERR EXEC without MULTI']);
      });
    },
  },
  {
    // Goal: UNWATCH in a write forgets the keys WATCHed before it, so a later change does not abort.
    // Method: WATCH two keys of one slot, UNWATCH, change one, MULTI/GET/EXEC, one write.
    name: 'WATCH, UNWATCH, a change, then a transaction in one write',
    async run(t) {
      const [a, b] = ['{raw-unwatch}a', '{raw-unwatch}b'];
      await withConn(t.portFor([a]), async (conn) => {
        const got = await conn.pipelineText([['SET', a, '0'], ['WATCH', a, b], ['UNWATCH'], ['SET', a, 'changed'], ...tx(['GET', a], ['SET', b, 'set']), ['GET', b]]);
        expectReplies(got, ['+OK', '+OK', '+OK', '+OK', '+OK', '+QUEUED', '+QUEUED', '["changed" +OK]', '"set"']);
      });
    },
  },
  {
    // Goal: a transaction after HELLO 3 in the same write answers in RESP3 inside EXEC's array.
    // Method: HELLO 3, MULTI/HSET/HGETALL/EXEC, HGETALL, one write.
    name: 'RESP3 transaction: HELLO 3 then MULTI/HSET/HGETALL/EXEC in one write',
    async run(t) {
      const h = '{raw-resp3tx}h';
      const fg = [['f', 'v'], ['g', 'w']] as const;
      await withConn(t.portFor([h]), async (conn) => {
        const got = await conn.pipelineText([['DEL', h], ['HELLO', '3'], ...tx(['HSET', h, 'f', 'v']), ...tx(['HSET', h, 'g', 'w'], ['HGETALL', h], ['GET', `${h}-none`]), ['HGETALL', h]]);
        expect(got[1]).toMatch(/^\{"server": /);
        expectReplies([got[0]!, ...got.slice(2)], [/^:[01]$/, '+OK', '+QUEUED', '[:1]', '+OK', '+QUEUED', '+QUEUED', '+QUEUED', anyOrder(fg, (o) => `[:1 ${mapText(o)} nil]`), anyOrder(fg, mapText)]);
      });
    },
  },
  {
    // Goal: a CROSSSLOT error in a pipeline answers only that command. Method: MGET and DEL over
    // two slots between dependent commands on one of them, one write.
    name: 'a CROSSSLOT reply in the middle of a pipeline',
    kinds: ['owner', 'proxy'],
    async run(t) {
      const [a, b] = ['{raw-cross-a}k', '{raw-cross-b}k'];
      await withConn(t.portFor([a]), async (conn) => {
        const got = await conn.pipelineText([['SET', a, '1'], ['MGET', a, b], ['INCR', a], ['DEL', a, b], ['GET', a]]);
        const cross = "-CROSSSLOT Keys in request don't hash to the same slot";
        expectReplies(got, ['+OK', cross, ':2', cross, '"2"']);
      });
    },
  },
  {
    // Goal: a transaction that queued a command for another node's slot is aborted at EXEC, and
    // the commands after it run. Method: MULTI, SET on an own key, SET on a foreign key (MOVED),
    // EXEC (EXECABORT), GET, one write.
    name: 'a MOVED command queued in a transaction makes EXEC abort',
    kinds: ['owner'],
    async run(t) {
      const k = '{raw-txmoved}k';
      const port = t.portFor([k]);
      const foreign = t.foreign!(port, 'raw-txmoved-');
      await withConn(port, async (conn) => {
        const got = await conn.pipelineText([['SET', k, 'before'], ...tx(['SET', k, 'in-tx'], ['SET', foreign.key, 'x']), ['GET', k]]);
        expectReplies(got, ['+OK', '+OK', '+QUEUED', foreign.moved, '-EXECABORT Transaction discarded because of previous errors.', '"before"']);
      });
    },
  },
  {
    // Goal: a client that closes its connection with thousands of commands still queued leaves the
    // node serving, and the key with the count of a prefix of those commands. Method: 20,000 INCRs
    // in one write, the socket destroyed right after; then, on a new connection, the value must
    // settle and the next INCR must add exactly one.
    name: 'a connection closed with 20,000 commands in flight',
    async run(t) {
      const k = '{raw-abandon}k';
      const port = t.portFor([k]);
      await withConn(port, async (conn) => {
        expectReplies(await conn.pipelineText([['DEL', k]]), [/^:[01]$/]);
      });
      const doomed = await RespConn.connect(port);
      doomed.send(Array.from({ length: 20000 }, () => ['INCR', k]));
      await new Promise((r) => setTimeout(r, 20));
      doomed.close();
      await withConn(port, async (conn) => {
        // Settled: the same value on three reads in a row, 300 ms apart (a loaded machine can stall
        // the node's work on the abandoned commands for a few hundred ms).
        let last = '';
        let same = 0;
        for (let i = 0; i < 150 && same < 3; i++) {
          await new Promise((r) => setTimeout(r, 300));
          const [now] = await conn.pipelineText([['GET', k]]);
          same = now === last ? same + 1 : 0;
          last = now!;
        }
        const n = last === 'nil' ? 0 : Number(JSON.parse(last));
        expect(n).toBeGreaterThanOrEqual(0);
        expect(n).toBeLessThanOrEqual(20000);
        expectReplies(await conn.pipelineText([['INCR', k], ['PING']]), [`:${n + 1}`, '+PONG']);
      });
    },
  },
  {
    // Goal: WATCH of a key in one slot guards a transaction on another slot of the same node, as
    // Redis Cluster allows (only the queued commands must share a slot). Method: WATCH a, MULTI,
    // SET b, EXEC, untouched then touched by a second client.
    name: 'WATCH on one slot guarding a transaction on another slot of the same node',
    kinds: ['owner', 'standalone'],
    async run(t) {
      const { port, keys: [a, b] } = t.keysTogether('raw-watchx-', 2);
      await withConn(port, async (conn) => {
        expectReplies(await conn.pipelineText([['SET', a!, '0'], ['WATCH', a!], ...tx(['SET', b!, '1']), ['GET', b!]]), ['+OK', '+OK', '+OK', '+QUEUED', '[+OK]', '"1"']);
        expectReplies(await conn.pipelineText([['WATCH', a!]]), ['+OK']);
        await withConn(port, async (other) => {
          expectReplies(await other.pipelineText([['SET', a!, 'changed']]), ['+OK']);
        });
        expectReplies(await conn.pipelineText([...tx(['SET', b!, '2']), ['GET', b!]]), ['+OK', '+QUEUED', 'nil[]', '"1"']);
      });
    },
  },
  {
    // Goal: order holds for a pipeline longer than the server keeps in flight per connection
    // (4,096 deferred replies). Method: 2,250 INCRs on each of two keys of different slots,
    // alternating (4,500 commands in one write); each key's replies must count 1..2250.
    name: '4,500 INCRs alternating between two slots in one write',
    async run(t) {
      const { port, keys: [a, b] } = t.keysTogether('raw-long-', 2);
      const cmds: string[][] = [];
      for (let i = 0; i < 2250; i++) cmds.push(['INCR', a!], ['INCR', b!]);
      await withConn(port, async (conn) => {
        const got = await conn.pipelineText([['DEL', a!], ['DEL', b!], ...cmds], 90000);
        const wrong = got.slice(2).flatMap((g, i) => (g === `:${Math.floor(i / 2) + 1}` ? [] : [`#${i} ${cmds[i]!.join(' ')} gave ${g}`]));
        expect(wrong.slice(0, 5)).toEqual([]);
      });
    },
  },
];
