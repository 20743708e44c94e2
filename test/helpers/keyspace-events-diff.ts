/**
 * Runs commands one at a time on a server with keyspace notifications on, and collects, per
 * command, its reply and the notifications it caused: a listener connection is subscribed to
 * every `__keyspace@0__` / `__keyevent@0__` channel and to a sentinel channel the command
 * connection publishes on after each command, so everything before the sentinel belongs to
 * that command (same node, so delivery order is publication order).
 */
import { RespConn, show } from './resp-conn.js';

export interface CommandEvents {
  reply: string;
  /** `channel message`, in the order they were published (Redis's order is compared exactly). */
  events: string[];
}

export async function collectEvents(port: number, flags: string, commands: readonly string[][]): Promise<CommandEvents[]> {
  const cmd = await RespConn.connect(port);
  const listener = await RespConn.connect(port);
  try {
    if (show(await cmd.call('CONFIG', 'SET', 'notify-keyspace-events', flags)) !== '+OK') throw new Error('CONFIG SET notify-keyspace-events failed');
    await listener.pipeline([['PSUBSCRIBE', '__key*__:*'], ['SUBSCRIBE', 'sentinel']]);
    const out: CommandEvents[] = [];
    for (let i = 0; i < commands.length; i++) {
      const [reply] = await cmd.pipeline([commands[i]!, ['PUBLISH', 'sentinel', String(i)]]);
      const events: string[] = [];
      for (;;) {
        const [m] = await listener.read(1, 10000);
        const parts = m!.t === 'array' || m!.t === 'push' ? m!.v.map((x) => (x.t === 'bulk' ? x.v.toString('latin1') : show(x))) : [show(m!)];
        if (parts[0] === 'message' && parts[1] === 'sentinel') {
          if (parts[2] !== String(i)) throw new Error(`sentinel ${parts[2]} while waiting for ${i}`);
          break;
        }
        events.push(parts[0] === 'pmessage' ? `${parts[2]} ${parts[3]}` : parts.join(' '));
      }
      out.push({ reply: show(reply!), events });
    }
    return out;
  } finally {
    cmd.close();
    listener.close();
  }
}

/** A command list over every family with keyspace events, including the cases that emit `del`. */
export const EVENT_COMMANDS: string[][] = [
  // strings
  ['SET', 's1', 'v'], ['SET', 's1', 'w'], ['SET', 's1', 'x', 'NX'], ['SET', 's1', 'y', 'XX', 'EX', '100'], ['SET', 's2', 'v', 'PX', '100000'],
  ['SET', 's2', 'v', 'KEEPTTL'], ['SET', 's3', 'a', 'GET'], ['SETNX', 's3', 'b'], ['SETNX', 's4', 'b'], ['SETEX', 's5', '100', 'v'], ['PSETEX', 's6', '100000', 'v'],
  ['MSET', 's7', '1', 's8', '2'], ['MSETNX', 's7', '1', 's9', '2'], ['MSETNX', 's10', '1', 's11', '2'], ['GETSET', 's1', 'z'], ['GETSET', 's12', 'z'],
  ['APPEND', 's1', 'more'], ['APPEND', 's13', 'new'], ['SETRANGE', 's1', '2', 'XY'], ['SETRANGE', 's14', '3', 'p'],
  ['INCR', 'n1'], ['DECR', 'n1'], ['INCRBY', 'n1', '5'], ['DECRBY', 'n1', '2'], ['INCRBYFLOAT', 'n1', '1.5'], ['INCR', 's1'],
  ['GETDEL', 's12'], ['GETDEL', 's12'], ['GETEX', 's7', 'EX', '100'], ['GETEX', 's7', 'PERSIST'], ['GETEX', 's8'], ['GETEX', 'nokey', 'EX', '5'],
  // keys
  ['DEL', 's1', 'nokey', 's2'], ['UNLINK', 's3', 's4'], ['EXPIRE', 's5', '1000'], ['PEXPIRE', 's6', '100000'], ['EXPIREAT', 's7', '99999999999'],
  ['PEXPIREAT', 's8', '99999999999999'], ['EXPIRETIME', 's8'], ['PEXPIRETIME', 's8'], ['TTL', 's5'], ['EXPIRE', 'nokey', '10'], ['EXPIRE', 's9', '10', 'NX'], ['EXPIRE', 's9', '10', 'NX'], ['PERSIST', 's9'], ['PERSIST', 's9'],
  ['EXPIRE', 's10', '-1'], ['PEXPIREAT', 's11', '1'], ['RENAME', 's13', 's13b'], ['RENAME', 's13b', 's14'], ['RENAMENX', 's14', 's5'], ['RENAMENX', 's14', 's15'],
  ['COPY', 's15', 's16'], ['COPY', 's15', 's16'], ['COPY', 's15', 's16', 'REPLACE'], ['SET', 'tmp', '1'], ['TOUCH', 'tmp'],
  // hashes
  ['HSET', 'h1', 'a', '1', 'b', '2'], ['HSET', 'h1', 'a', '1'], ['HSET', 'h1', 'a', '9'], ['HMSET', 'h1', 'c', '3'], ['HSETNX', 'h1', 'a', 'x'], ['HSETNX', 'h1', 'd', 'x'],
  ['HINCRBY', 'h1', 'n', '2'], ['HINCRBYFLOAT', 'h1', 'f', '1.5'], ['HDEL', 'h1', 'zz'], ['HDEL', 'h1', 'a', 'b'], ['HDEL', 'h1', 'c', 'd', 'n', 'f'], ['HINCRBY', 'h2', 'x', '1'],
  // lists
  ['LPUSH', 'l1', 'a', 'b'], ['RPUSH', 'l1', 'c'], ['LPUSHX', 'l1', 'x'], ['LPUSHX', 'l9', 'x'], ['RPUSHX', 'l1', 'y'], ['LINSERT', 'l1', 'BEFORE', 'a', 'q'],
  ['LINSERT', 'l1', 'BEFORE', 'zz', 'q'], ['LSET', 'l1', '0', 'first'], ['LREM', 'l1', '0', 'q'], ['LREM', 'l1', '0', 'zz'], ['LTRIM', 'l1', '0', '3'], ['LTRIM', 'l1', '0', '-1'],
  ['LPOP', 'l1'], ['RPOP', 'l1'], ['LPOP', 'l1', '5'], ['LPOP', 'l1'], ['RPUSH', 'l2', 'a', 'b', 'c'], ['RPOPLPUSH', 'l2', 'l3'], ['LMOVE', 'l2', 'l3', 'LEFT', 'RIGHT'],
  ['LMOVE', 'l2', 'l2', 'LEFT', 'LEFT'], ['LMOVE', 'l2', 'l3', 'RIGHT', 'LEFT'], ['LMPOP', '2', 'l9', 'l3', 'RIGHT', 'COUNT', '2'], ['LMPOP', '1', 'l3', 'LEFT'],
  ['RPUSH', 'l4', 'a'], ['LTRIM', 'l4', '1', '0'], ['BLPOP', 'l5', '0.01'], ['RPUSH', 'l5', 'x'], ['BLPOP', 'l5', '1'], ['RPUSH', 'l6', 'x', 'y'], ['BRPOP', 'l6', '1'],
  // sets
  ['SADD', 'st1', 'a', 'b', 'c'], ['SADD', 'st1', 'a'], ['SREM', 'st1', 'zz'], ['SREM', 'st1', 'a'], ['SMOVE', 'st1', 'st2', 'b'], ['SMOVE', 'st1', 'st2', 'zz'],
  ['SADD', 'st3', 'b', 'x'], ['SINTERSTORE', 'st4', 'st2', 'st3'], ['SUNIONSTORE', 'st5', 'st2', 'st3'], ['SDIFFSTORE', 'st6', 'st3', 'st2'], ['SINTERSTORE', 'st4', 'st1', 'st9'],
  ['SINTERSTORE', 'st9', 'st1', 'st8'], ['SADD', 'st7', 'only'], ['SPOP', 'st7'], ['SPOP', 'st6', '10'], ['SPOP', 'st6'], ['SMOVE', 'st1', 'st2', 'c'], ['SREM', 'st5', 'x', 'b'],
  // sorted sets
  ['ZADD', 'z1', '1', 'a', '2', 'b', '3', 'c'], ['ZADD', 'z1', '1', 'a'], ['ZADD', 'z1', 'NX', '5', 'a'], ['ZADD', 'z1', 'XX', '5', 'a'], ['ZADD', 'z1', 'INCR', '1', 'a'],
  ['ZADD', 'z1', 'GT', '0', 'b'], ['ZINCRBY', 'z1', '2', 'b'], ['ZINCRBY', 'z2', '2', 'b'], ['ZREM', 'z1', 'zz'], ['ZREM', 'z1', 'a'], ['ZADD', 'z1', '1', 'd', '2', 'e', '3', 'f'],
  ['ZREMRANGEBYSCORE', 'z1', '100', '200'], ['ZREMRANGEBYSCORE', 'z1', '0', '1'], ['ZREMRANGEBYRANK', 'z1', '0', '0'], ['ZADD', 'z3', '0', 'a', '0', 'b', '0', 'c'],
  ['ZREMRANGEBYLEX', 'z3', '[a', '[a'], ['ZREMRANGEBYLEX', 'z3', '[x', '[z'], ['ZPOPMIN', 'z1'], ['ZPOPMAX', 'z1', '1'], ['ZPOPMIN', 'z9'],
  ['ZUNIONSTORE', 'z4', '2', 'z1', 'z3'], ['ZINTERSTORE', 'z5', '2', 'z1', 'z3'], ['ZDIFFSTORE', 'z6', '1', 'z3'], ['ZRANGESTORE', 'z7', 'z3', '0', '-1'],
  ['ZRANGESTORE', 'z7', 'z9', '0', '-1'], ['ZMPOP', '2', 'z9', 'z3', 'MIN'], ['ZMPOP', '1', 'z3', 'MAX', 'COUNT', '5'], ['BZPOPMIN', 'z4', '1'], ['BZPOPMAX', 'z4', '1'],
  ['ZREMRANGEBYRANK', 'z6', '0', '-1'],
  // scripts notify as their commands do
  ['EVAL', "redis.call('set', KEYS[1], 'v'); redis.call('lpush', KEYS[2], 'a'); redis.call('del', KEYS[1]); return 1", '2', 'sc1', 'sc2'],
  ['EVAL', "return redis.pcall('incr', KEYS[1])", '1', 'sc2'],
  // wrong type and errors: no events
  ['LPUSH', 'st2', 'x'], ['HSET', 'l1', 'a', 'b'], ['INCR', 'h2'], ['RENAME', 'nokey', 'x'],
];

/** Reads that look up keys, for key-miss events (class m). */
export const MISS_COMMANDS: string[][] = [
  ['SET', 'present', 'v'], ['GET', 'present'], ['GET', 'absent'], ['MGET', 'absent', 'present', 'absent2'], ['STRLEN', 'absent'], ['HGET', 'absent', 'f'],
  ['LRANGE', 'absent', '0', '-1'], ['SMEMBERS', 'absent'], ['ZRANGE', 'absent', '0', '-1'], ['EXISTS', 'absent'], ['TYPE', 'absent'], ['TTL', 'absent'], ['GETRANGE', 'absent', '0', '1'],
];

/**
 * Key misses of write commands and of peeks: Redis publishes `keymiss` for a read lookup
 * (lookupKeyRead*) of a missing key whatever the command's flags — a write command's sources, SET
 * … GET's old value, PFMERGE's destination too — and none for a write lookup (LMOVE's source,
 * SMOVE, RENAME) or a lookup without notification (OBJECT, MEMORY USAGE). Also errors after a
 * lookup (XREADGROUP's NOGROUP, WRONGTYPE on a later source) and the order against the write.
 */
export const SOURCE_MISS_COMMANDS: string[][] = [
  ['GETDEL', 'nokey'], ['GETEX', 'nokey'], ['GETEX', 'nokey', 'EX', '5'], ['GETEX', 'nokey', 'PERSIST'], ['GETSET', 'gs', 'v'],
  ['SET', 'sg', 'v', 'GET'], ['SET', 'sg', 'w', 'XX', 'GET'], ['SET', 'sg2', 'v', 'XX', 'GET'], ['SET', 'sg3', 'v', 'EX', '100', 'GET'],
  ['SET', 'bsrc', 'x'], ['BITOP', 'AND', 'bd', 'nokey'], ['BITOP', 'OR', 'bd', 'bsrc', 'nokey', 'nokey2'], ['BITOP', 'AND', 'bd', 'nokey'], ['BITOP', 'NOT', 'bd', 'nokey'],
  ['BITFIELD', 'bf', 'GET', 'u8', '0'], ['BITFIELD', 'bf', 'SET', 'u8', '0', '1'], ['BITFIELD', 'bf2', 'INCRBY', 'u8', '0', '1', 'GET', 'u8', '0'],
  ['RPUSH', 'sl', '3', '1', '2'], ['SORT', 'nokey'], ['SORT', 'nokey', 'STORE', 'sd'], ['SORT', 'sl', 'BY', 'w_*', 'GET', 'h_*->f', 'STORE', 'sd'],
  ['SORT', 'sl', 'BY', 'nosort', 'GET', '#', 'GET', 'h_*'], ['SORT_RO', 'sl', 'BY', 'w_*', 'LIMIT', '0', '1', 'GET', 'h_*'],
  ['SADD', 'sa', 'x'], ['SINTERSTORE', 'sd1', 'nokey'], ['SINTERSTORE', 'sd1', 'sa', 'nokey', 'nokey2'], ['SUNIONSTORE', 'sd2', 'nokey', 'sa'],
  ['SDIFFSTORE', 'sd3', 'nokey', 'sa'], ['SDIFFSTORE', 'sd3', 'sa', 'nokey'], ['SDIFFSTORE', 'sd3', 'nokey', 'nokey2'],
  ['ZADD', 'za', '1', 'x'], ['ZINTERSTORE', 'zd', '2', 'za', 'nokey'], ['ZUNIONSTORE', 'zd', '2', 'nokey', 'za'], ['ZDIFFSTORE', 'zd2', '2', 'za', 'nokey'],
  ['ZRANGESTORE', 'zd3', 'nokey', '0', '-1'], ['ZRANGESTORE', 'zd2', 'nokey', '0', '-1'],
  ['GEOADD', 'g', '13.361389', '38.115556', 'a'], ['GEOSEARCHSTORE', 'gd', 'nokey', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km'],
  ['GEORADIUS', 'nokey', '15', '37', '200', 'km', 'STORE', 'gd'], ['GEORADIUS', 'nokey', '15', '37', '200', 'km'], ['GEORADIUSBYMEMBER', 'nokey', 'a', '200', 'km', 'STORE', 'gd'],
  ['COPY', 'nokey', 'cd'], ['COPY', 'sa', 'cd'],
  ['PFADD', 'hll', 'a'], ['PFMERGE', 'hd', 'nokey'], ['PFMERGE', 'hd2'], ['PFMERGE', 'hll', 'nokey'], ['PFMERGE', 'hd3', 'hll'], ['PFCOUNT', 'nokey'], ['PFCOUNT', 'hll', 'nokey'],
  ['LCS', 'nokey', 'nokey2'], ['XREAD', 'STREAMS', 'nokey', 'nokey2', '0', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'nokey', '>'],
  ['XADD', 'xs', '1-1', 'f', 'v'], ['XGROUP', 'CREATE', 'xs', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'xs', 'nokey', '>', '>'],
  ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'nokey', 'xs', '>', '>'], ['XREAD', 'STREAMS', 'xs', 'nokey', '0', '0'],
  ['XINFO', 'STREAM', 'nokey'], ['XINFO', 'GROUPS', 'nokey'], ['XPENDING', 'nokey', 'g'], ['XCLAIM', 'nokey', 'g', 'c', '0', '1-1'], ['XAUTOCLAIM', 'nokey', 'g', 'c', '0', '0'], ['XACK', 'nokey', 'g', '1-1'],
  // Write lookups: no miss.
  ['RPOPLPUSH', 'nokey', 'd'], ['LMOVE', 'nokey', 'd', 'LEFT', 'RIGHT'], ['SMOVE', 'nokey', 'd', 'x'], ['RENAME', 'nokey', 'x'], ['RENAMENX', 'nokey', 'x'],
  ['LPOP', 'nokey'], ['SPOP', 'nokey'], ['ZPOPMIN', 'nokey'], ['LMPOP', '1', 'nokey', 'LEFT'], ['HDEL', 'nokey', 'f'], ['XADD', 'nokey', 'NOMKSTREAM', '*', 'f', 'v'],
  // Lookups without notification: no miss; the other key commands do miss.
  ['OBJECT', 'ENCODING', 'nokey'], ['OBJECT', 'FREQ', 'nokey'], ['OBJECT', 'IDLETIME', 'nokey'], ['OBJECT', 'REFCOUNT', 'nokey'], ['MEMORY', 'USAGE', 'nokey'],
  ['TYPE', 'nokey'], ['TTL', 'nokey'], ['PTTL', 'nokey'], ['EXPIRETIME', 'nokey'], ['EXISTS', 'nokey', 'nokey'], ['DUMP', 'nokey'], ['TOUCH', 'nokey'],
  // An error after the lookups it made.
  ['SET', 'wt', '1'], ['SINTERSTORE', 'sd4', 'nokey', 'wt'], ['SINTERSTORE', 'sd4', 'wt', 'nokey'], ['SUNIONSTORE', 'sd4', 'nokey', 'wt'], ['PFMERGE', 'hd4', 'nokey', 'wt'],
  ['GETEX', 'nokey', 'EX', 'abc'], ['SET', 'nokey', 'v', 'GET', 'NX', 'XX'], ['LCS', 'nokey', 'sa'],
  ['XAUTOCLAIM', 'nokey', 'g', 'c', 'abc', '0'], ['XAUTOCLAIM', 'nokey', 'g', 'c', '0', '0', 'COUNT', '0'], ['XCLAIM', 'nokey', 'g', 'c', 'abc', '1-1'], ['XPENDING', 'nokey', 'g', '-', '+', 'abc'],
  ['EVAL', "return redis.pcall('sinterstore', 'd', 'nokey', 'nokey2')", '0'],
];

/**
 * Orders Redis publishes in: `new` when the key is added, right before its own event (MSET, SMOVE's
 * destination after the source's `srem`), but RENAME's before `rename_from`; LMOVE and RPOPLPUSH
 * notify the destination's push before the source's pop.
 */
export const ORDER_COMMANDS: string[][] = [
  ['MSET', 'a', '1', 'b', '2'], ['MSET', 'c', '1', 'c', '2'], ['MSET', 'a', '0', 'd', '2'], ['MSETNX', 'e', '1', 'f', '2'], ['MSETNX', 'e', '1', 'g', '2'],
  ['RPUSH', 'l', 'a', 'b', 'c'], ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'], ['LMOVE', 'l', 'l2', 'RIGHT', 'LEFT'], ['RPOPLPUSH', 'l', 'l'], ['LMOVE', 'l', 'l', 'LEFT', 'RIGHT'],
  ['RPOPLPUSH', 'l', 'l3'], ['BLMOVE', 'l2', 'l4', 'LEFT', 'LEFT', '1'], ['BRPOPLPUSH', 'l2', 'l4', '1'],
  ['SADD', 's', 'x', 'y', 'z'], ['SMOVE', 's', 's2', 'x'], ['SMOVE', 's', 's2', 'y'], ['SMOVE', 's', 's2', 'z'], ['SMOVE', 's2', 's2', 'x'],
  ['SET', 'r', '1'], ['RENAME', 'r', 'r2'], ['SET', 'r3', '1'], ['RENAME', 'r2', 'r3'], ['RENAMENX', 'r3', 'r4'], ['COPY', 'r4', 'r5'], ['COPY', 'r4', 'r5', 'REPLACE'],
  ['SET', 'x', 'v', 'EX', '100', 'GET'], ['SET', 'x', 'w', 'EX', '100', 'GET'], ['ZADD', 'z', 'INCR', '1', 'm'], ['SINTERSTORE', 'sd', 's2'],
  ['EVAL', "redis.call('set', KEYS[1], '1'); redis.call('rpoplpush', KEYS[2], KEYS[3]); return 1", '3', 'ev1', 'l3', 'ev2'],
];
