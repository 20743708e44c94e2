/**
 * Goal: scripts get byte-for-byte the replies Redis 7.0 gives: the Lua→RESP conversion table in
 * RESP2 and RESP3, redis.call errors, the sandbox, Lua 5.1 number printing, cjson/cmsgpack/bit/struct,
 * FUNCTION LOAD errors. Method: the same raw RESP commands go to a redis-server 7 on a free port and
 * to a ringkv node; the raw reply bytes are compared. Skipped without redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort, hasBinary, startNode, type NodeProcess } from '../helpers/server.js';
import { mulberry32 as rng } from '../sim/prng.js';

/** Index just past one complete RESP reply starting at `i`, or -1 when more bytes are needed. */
function replyEnd(b: Buffer, i: number): number {
  if (i >= b.length) return -1;
  const eol = b.indexOf('\r\n', i);
  if (eol < 0) return -1;
  const type = String.fromCharCode(b[i]!);
  const n = Number(b.subarray(i + 1, eol).toString());
  let at = eol + 2;
  if (type === '$' || type === '=') return n < 0 ? at : at + n + 2 <= b.length ? at + n + 2 : -1;
  if (type === '*' || type === '~' || type === '%' || type === '>') {
    const items = type === '%' ? 2 * n : n;
    for (let k = 0; k < items; k++) {
      at = replyEnd(b, at);
      if (at < 0) return -1;
    }
    return at;
  }
  return at;
}

/** One connection that sends a command and resolves with its raw reply bytes. */
class RawConn {
  private buf = Buffer.alloc(0);
  private waiting: ((b: Buffer) => void) | undefined;
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      const end = replyEnd(this.buf, 0);
      if (end >= 0 && this.waiting) {
        const reply = this.buf.subarray(0, end);
        this.buf = this.buf.subarray(end);
        const w = this.waiting;
        this.waiting = undefined;
        w(reply);
      }
    });
  }
  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }
  /** Sends one command; a Buffer argument goes as its bytes (a string one as UTF-8). */
  send(args: Array<string | Buffer>): Promise<Buffer> {
    const parts = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const bytes = typeof a === 'string' ? Buffer.from(a) : a;
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
    }
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.sock.write(Buffer.concat(parts));
    });
  }
  close(): void {
    this.sock.destroy();
  }
}

const e = (script: string, ...rest: string[]): string[] => ['eval', script, ...(rest.length ? rest : ['0'])];

/** Lua 5.1 behaviours 5.3 changed: error() positions, unpack's C-stack limit, Redis's math.random, pairs order. */
const LUA51_CASES: string[][] = [
  // error() puts the position in front of a number message too, and takes a C int level.
  e('error(12)'), e('error(12.5)'), e('error(12, 0)'), e('error(12, 2)'), e("error('x', 1.5)"), e("error('x', '2')"), e("error('x', 'a')"),
  e('local function f() error(7, 2) end f()'), e('local ok, e = pcall(error, 12) return e'), e('local ok, e = pcall(function() error(12) end) return e'),
  e('local ok, e = pcall(function() error(12, 2) end) return e'), e('local ok, e = pcall(error) return tostring(e)'), e('error(true)'), e('error()'),
  // unpack: at most 8000 stack slots, its arguments included.
  e('local t = {} for i = 1, 7999 do t[i] = i end return #{unpack(t)}'), e('local t = {} for i = 1, 8000 do t[i] = i end return #{unpack(t)}'),
  e('local t = {} for i = 1, 10000 do t[i] = i end return #{unpack(t)}'), e('local t = {} for i = 1, 100000 do t[i] = i end return #{unpack(t)}'),
  e("return select('#', unpack({}, 1, 7997))"), e("return select('#', unpack({}, 1, 7998))"), e("return select('#', unpack({}, -5, -3))"),
  e('return select(\'#\', unpack({}, -2^31, 2^31 - 1))'), e('return unpack()'), e("return unpack({}, 'a')"), e('return {unpack({1, 2, 3}, nil, 2)}'),
  // math.random is Redis's lrand48-style generator, one sequence for the process, never reseeded between scripts.
  e('return math.random(100)'), e('return {math.random(100), math.random(5, 10), math.random(1, 1)}'), e('return tostring(math.random())'),
  e('math.randomseed(42) return math.random(1000)'), e('return math.random(100)'), e('math.randomseed(1.5) return math.random(1000)'),
  e('math.randomseed(-1) return {math.random(1000), math.random(-5, -1), math.random(3.9)}'), e('math.randomseed(2^40) return math.random(1000)'),
  e('return math.random(0)'), e('return math.random(2, 1)'), e('return math.random(1, 2, 3)'), e("return math.random('a')"), e('return math.random(2^40)'),
  e('return math.random(-2^31, 2^31 - 1)'), e('math.randomseed() return 1'), e("math.randomseed('x') return 1"), e('return math.random(100)'),
  // pairs/next visit 1..n first, in order, as Lua 5.1's array part.
  e('local r = {} for k in pairs({1, 2, 3, x = 1}) do r[#r + 1] = tostring(k) end return r'),
  e('local r = {} for k in pairs({1, 2, nil, 4}) do r[#r + 1] = tostring(k) end return r'),
  e('local t = {} t[3] = 3 t[2] = 2 t[1] = 1 t.a = 1 local r = {} for k in pairs(t) do r[#r + 1] = tostring(k) end return r'),
  e('local t = {1, 2, 3, x = 1} local r = {} for k in pairs(t) do t[k] = nil r[#r + 1] = tostring(k) end return r'),
  e("local t = {a = 1, 1, 2} return {tostring(next(t)), tostring(next(t, 2))}"), e('return next({}, 1)'), e('return cmsgpack.pack({1, a = 2})'),
];

/**
 * lua-cjson 2.1.0 as Redis bundles it: configuration functions (each module, cjson.new()'s too, keeps
 * its own settings for the life of the Lua state, so cases here use cjson.new() or put the global
 * setting back), strtod numbers, nesting bounded by Lua 5.1's C stack, and 1..n before other keys.
 */
const CJSON_CASES: string[][] = [
  e('return {cjson._NAME, cjson._VERSION}'), e("local t = {} for k, v in pairs(cjson) do t[#t + 1] = k .. ':' .. type(v) end table.sort(t) return t"),
  e('return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), cjson.encode_keep_buffer(), cjson.decode_invalid_numbers()}'),
  e('return {cjson.encode_sparse_array()}'), e('return {cjson.encode_invalid_numbers()}'),
  e('local r = {cjson.encode_max_depth(5)} cjson.encode_max_depth(1000) return r'),
  e('local c = cjson.new() return {c._NAME, c._VERSION, c.encode_max_depth(), type(c.new), c == cjson, c.encode({1, 2}), c.null == cjson.null}'),
  e('local c = cjson.new() c.x = 1 return c.x'),
  ...['encode_max_depth(0)', 'encode_max_depth(1, 2)', "encode_max_depth('x')", 'encode_max_depth(2.5)', "encode_max_depth('3')", 'encode_max_depth(2^31)',
    'encode_max_depth(2^32 + 5)', 'encode_max_depth(nil)', 'encode_max_depth({})', 'decode_max_depth(0)', 'encode_number_precision(15)', 'encode_number_precision(0)',
    'encode_number_precision(3)', 'encode_sparse_array(true, 3, 5)', "encode_sparse_array('x')", 'encode_sparse_array(true, -1)', 'encode_sparse_array(nil, nil, 7)',
    "encode_sparse_array('on')", "encode_sparse_array('off', 0)", 'encode_sparse_array(1)', "encode_sparse_array(true, 2.5, '3')", "encode_sparse_array(true, 'x')",
    'encode_sparse_array(true, 2, 10, 4)', "encode_invalid_numbers('null')", 'encode_invalid_numbers(true)', "encode_invalid_numbers('x')", 'encode_invalid_numbers(1)',
    "encode_invalid_numbers('on')", "encode_invalid_numbers('off')", 'decode_invalid_numbers(false)', "decode_invalid_numbers('null')", 'encode_keep_buffer(false)',
    "encode_keep_buffer('on')", 'encode_keep_buffer(1)', 'encode_keep_buffer({})', "encode_keep_buffer('maybe')"].map((call) => e(`local c = cjson.new() return {c.${call}}`)),
  e('local c = cjson.new() return c:encode_max_depth(0)'), e('return cjson.new(1)'),
  // The decoder reads numbers with strtod: hex, inf/nan, '+', leading zeros, "1." (decode_invalid_numbers, on by default).
  ...["'0x10'", "'-0x1p4'", "'0x1.8p1'", "'0X1P-2'", "'[0x.8]'", "'01'", "'[1.]'", "'5.'", "'00.5e1'", "'+5'", "'+'", "'-'", "'- 1'", "'inf'", "'-Infinity'", "'INFINITY'",
    "'[infx]'", "'[infinit]'", "'[nanx]'", "'[nan(1 2)]'", "'Infx'", "'nul'", "'Nul'", "'.5'", "'1e'", "'1e+'", "'1E400'", "'4.9e-325'", "'0x1p-1074'",
    "'0xffffffffffffffffffff'", "'1234567890123456789012345'", "'[0x]'", "'[0xg]'", "'[0x.]'", "'{\"a\":0x10}'", "'\\0a'", "'a\\0'", "'1\\0'", "'[1]\\0x'",
    "'\"a\\0b\"'", "'\"ab\\\\'", "'\"\\\\ud800\"'", "'\"\\\\udc00\"'", "'\"\\\\ud800\\\\u0041\"'", "'\"\\\\u00\"'"].map((json) => e(`local v = cjson.decode(${json}) return type(v) == 'number' and tostring(v) or v`)),
  ...["'0x10'", "'[1, -0x10]'", "'NaN'", "'nan'", "'-inf'", "'01'", "'+1'", "'-'", "'-a'", "'1.'"].map((json) => e(`local c = cjson.new() c.decode_invalid_numbers(false) return c.decode(${json})`)),
  // Encoding settings take effect.
  e('local c = cjson.new() c.encode_sparse_array(true) return c.encode({[1] = 1, [20] = 2})'),
  e('local c = cjson.new() c.encode_sparse_array(false, 0) return c.encode({[1] = 1, [12] = 2})'),
  e('local c = cjson.new() c.encode_sparse_array(false, 1) return c.encode({[1] = 1, [12] = 2})'),
  e('local c = cjson.new() c.encode_sparse_array(false, 1, 3) return c.encode({[1] = 1, [5] = 2})'),
  e('local c = cjson.new() c.encode_sparse_array(true, 1, 3) return c.encode({[1] = 1, [5] = 2})'),
  e('return cjson.encode({[1] = 1, [3] = 3, [5] = 5, [7] = 7, [9] = 9, [11] = 11, [13] = 13})'), e('return cjson.encode({[1] = 1, [11] = 2})'),
  e('local c = cjson.new() c.encode_number_precision(3) return c.encode({1/3, 12345, 1e20, 0.1, [5] = 2/3})'),
  e('local c = cjson.new() c.encode_number_precision(1) return c.encode({a = 1/3})'), e('local c = cjson.new() c.encode_number_precision(5) return c.encode({[1/3] = 1})'),
  e('local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({0/0, 1/0, -1/0, -(0/0)})'),
  e("local c = cjson.new() c.encode_invalid_numbers('null') return c.encode({0/0, 1/0, -1/0})"),
  e("local c = cjson.new() c.encode_invalid_numbers('null') return c.encode({[1/0] = 1})"), e('local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({[1/0] = 1})'),
  e('return cjson.encode(0/0)'), e('return cjson.encode(coroutine.create(function() end))'), e('return cjson.encode({[true] = 1})'), e('return cjson.encode({[2^40] = 1})'),
  // Nesting: the configured depth, and Lua 5.1's 8000-slot C stack (1 slot per array level, 2 per object level).
  e('local c = cjson.new() c.encode_max_depth(2) return c.encode({{1}})'), e('local c = cjson.new() c.encode_max_depth(2) return c.encode({{{1}}})'),
  e('local c = cjson.new() c.encode_max_depth(2) return c.encode({a = {b = {}}})'), e('local c = cjson.new() c.decode_max_depth(2) return c.decode(\'[[1]]\')[1][1]'),
  e("local c = cjson.new() c.decode_max_depth(2) return c.decode('[[[1]]]')"), e("local c = cjson.new() c.decode_max_depth(2) return c.decode(' {\"a\":{\"b\":{}}}')"),
  ...[7996, 7997, 9000].map((n) => e(`local c = cjson.new() c.encode_max_depth(20000) local t = {} for i = 1, ${n} do t = {t} end return #c.encode(t)`)),
  ...[3998, 3999].map((n) => e(`local c = cjson.new() c.encode_max_depth(20000) local t = {} for i = 1, ${n} do t = {a = t} end return #c.encode(t)`)),
  ...[7998, 7999, 9000].map((n) => e(`local c = cjson.new() c.decode_max_depth(20000) return #c.decode(string.rep('[', ${n}) .. string.rep(']', ${n}))`)),
  ...[3999, 4000].map((n) => e(`local c = cjson.new() c.decode_max_depth(20000) return c.decode(string.rep('{"a":', ${n}) .. '1' .. string.rep('}', ${n})) ~= nil`)),
  e('local t = {} for i = 1, 1000 do t = {t} end return #cjson.encode(t)'), e('local t = {} for i = 1, 999 do t = {t} end return #cjson.encode(t)'),
  e("return #cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000))"), e("return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))"),
  // Keys 1..n come first, as from Lua 5.1's array part.
  e('return cjson.encode({1, a = 2})'), e('return cjson.encode({1, 2, 3, x = 1})'), e('local t = {} t.a = 1 t[1] = 1 return cjson.encode(t)'),
  e('local t = {} t[1] = 1 t.a = 1 t[2] = 2 return cjson.encode(t)'), e('local t = {} t[2] = 2 t[1] = 1 t.a = 1 return cjson.encode(t)'),
  e('return cjson.encode({1, 2, nil, a = 1})'), e("return cjson.encode({{1, 2, k = 'v'}, {x = {3, 4, y = 5}}})"),
];

/** lua-cmsgpack 0.4.0: unpack_one / unpack_limit return the next offset (-1 at the end) before the objects. */
const CMSGPACK_CASES: string[][] = [
  ...['', ', 1', ', 2', ', 3', ', 0', ', -1', ', 1.5', ", 'x'", ', 10', ', 1, 2'].map((rest) => e(`return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3)${rest})}`)),
  ...[', 2', ', 2, 2', ', 0', ', -1', ', 5', '', ', 1, 5', ", 'a'", ', 2, -1', ', 1, 3'].map((rest) => e(`return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3)${rest})}`)),
  e("return {cmsgpack.unpack_limit(cmsgpack.pack('a', {1, 2}), 1, 2)}"), e("return {cmsgpack.unpack_one(cmsgpack.pack('abc', 'de'), 1)}"),
  e("return {cmsgpack.unpack_one('')}"), e('return {cmsgpack.unpack_one()}'), e('return {cmsgpack.unpack_one({})}'), e("return {cmsgpack.unpack_one('\\217')}"),
  e('return {cmsgpack.unpack()}'), e('return {cmsgpack.unpack({})}'), e('return {cmsgpack.unpack(1)}'), e("return {cmsgpack.unpack('\\193')}"),
  e('return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}'),
  e("local t = {} for k, v in pairs(cmsgpack) do t[#t + 1] = k .. ':' .. type(v) end table.sort(t) return t"),
  e('return cmsgpack.pack(0/0)'), e('local s = cmsgpack.pack(1, 2, 3) local off, r = 0, {} repeat local v off, v = cmsgpack.unpack_one(s, off) r[#r + 1] = v until off == -1 return r'),
];

/** Redis's lua_struct.c on x86-64: '!' alignment, size's refusals, unpack's 'c0' and bounds, C integer conversions. */
const STRUCT_CASES: string[][] = [
  e("return struct.pack('!4 b i',1,2)"),
  e("return struct.pack('! b d',1,2)"),
  e("return struct.pack('!2 b i',1,2)"),
  e("return struct.pack('!3 b i',1,2)"),
  e("return struct.pack('!16 b i8 h',1,2,3)"),
  e("return struct.pack('!4 b i3',1,2)"),
  e("return struct.pack('!4 b c3',1,'abc')"),
  e("return struct.pack('!4 b s i', 1, 'ab', 3)"),
  e("return struct.size('s')"),
  e("return struct.size('c0')"),
  e("return struct.size('!4 b i')"),
  e("return struct.size('b z')"),
  e("return struct.size('i3')"),
  e("return struct.size('i33')"),
  e("return struct.size('i99999999999')"),
  e("return struct.size('c')"),
  e("return struct.size('T l L h d f x')"),
  e("return struct.unpack('I4','ab')"),
  e("return struct.unpack('c0','abc')"),
  e("return {struct.unpack('Bc0','\\2ab')}"),
  e("return {struct.unpack('Bc0','\\5ab')}"),
  e("return {struct.unpack('i', struct.pack('i', -5))}"),
  e("return {struct.unpack('>i3', struct.pack('>i3', -5))}"),
  e("return {struct.unpack('<i16', struct.pack('<i16', -5))}"),
  e("return struct.pack('<i16', -5)"),
  e("return struct.pack('<i10', 2^63)"),
  e("return struct.pack('<I8', 2^64)"),
  e("return struct.pack('<I8', -1)"),
  e("return struct.pack('<i8', 0/0)"),
  e("return struct.pack('<i8', -2^70)"),
  e("return struct.pack('<I4', 2^33 + 7)"),
  e("return struct.pack('<i2', 1.9)"),
  e("return struct.pack('<i2', -1.9)"),
  e("return {struct.unpack('<I8', '\\255\\255\\255\\255\\255\\255\\255\\255')}"),
  e("return {struct.unpack('<i8', '\\255\\255\\255\\255\\255\\255\\255\\127')}"),
  e("return struct.pack('c5', 'ab')"),
  e("return struct.pack('c0', 'abc')"),
  e("return struct.pack('c2', 'abc')"),
  e("return struct.pack('s', 'a\\0b')"),
  e("return {struct.unpack('s', 'abc')}"),
  e("return {struct.unpack('s s', 'ab\\0cd\\0')}"),
  e("return {struct.unpack('b', 'a', 0)}"),
  e("return {struct.unpack('b', 'a', 2)}"),
  e("return {struct.unpack('b', 'a', 3)}"),
  e("return {struct.unpack('b', 'ab', 2)}"),
  e("return {struct.unpack('b', 'ab', 1.5)}"),
  e("return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}"),
  e("return {struct.unpack('x b', 'ab')}"),
  e("return {struct.unpack('f d', struct.pack('f d', 1.5, 2.25))}"),
  e("return {struct.unpack('>f >d', struct.pack('>f >d', 1.5, 2.25))}"),
  e("return struct.pack('b z', 1)"),
  e("return struct.pack('b')"),
  e("return struct.pack('!5 b')"),
  e("return struct.pack('!0 b', 1)"),
  e("return struct.pack('i33', 1)"),
  e("return struct.pack('f', 'x')"),
  e("return struct.pack('c', 1)"),
  e("return struct.pack('c', {})"),
  e("return struct.pack()"),
  e("return struct.unpack('b')"),
  e("return struct.unpack('b', {})"),
  e("return {struct.unpack('c0 c0', '\\1a')}"),
  e("return {struct.unpack('b c0', '\\1a', 1)}"),
  e("return {struct.unpack('c1 c0', '\\1a')}"),
  e("return {struct.unpack('B c0', '\\255a')}"),
  e("return {struct.unpack('d c0', struct.pack('d c1', 1.5, 'a'))}"),
  e("local t = {} for k, v in pairs(struct) do t[#t+1] = k end table.sort(t) return t"),
  e("return struct.pack('>T', 5)"),
  e("return struct.pack('!8 b T', 5, 6)"),
  e("return struct.pack(' ', 5)"),
  e("return struct.pack('>', 5)"),
  e("return struct.pack('bbbbb', 1, 2, 3, 4, 5)"),
  e("return struct.pack('!4 h b i', 1, 2, 3)"),
  e("return struct.size('!4 h b i')"),
  e("return struct.size('!4 b !2 i')"),
  e("return {struct.unpack('i', 'abcd', -1)}"),
];

/** Scripts whose replies must match exactly (RESP2 connection). */
const RESP2_CASES: string[][] = [
  e("return {err='x y'}"), e("return redis.error_reply('no code')"), e("return redis.error_reply('-FOO bar')"),
  e("return redis.error_reply('X').err"), e("return {err='-X y'}"), e("return redis.status_reply('FINE')"),
  e("return {ok='a\\r\\nb'}"), e('return 3.99'), e('return -3.99'), e('return true'), e('return false'), e('return nil'),
  e('return {1,2,nil,4}'), e("return {1,'a',{2,3},false,true}"), e('return {a=1}'), e("return 'x' .. 10/2"),
  e('return tostring(10/3)'), e('return 2^53'), e('return 1e20'), e('return 0/0'), e('return math.huge'),
  e("return tostring(1e15) .. ' ' .. tostring(123456789012345678)"), e('return tostring(-0.0)'),
  e("return string.format('%d %s %5.2f', 3, 4.0, 1/3)"), e('return 2147483647 + 1'), e("return tonumber('0x10') + tonumber('  5  ')"),
  // Hexadecimal numerals are doubles in Lua 5.1 (BullMQ's priority scores are priority * 0x100000000
  // + counter), and tonumber with a base reads as strtoul: 64-bit, a negative wraps, saturates.
  e('return tostring(1 * 0x100000000 + 5 % 0x100000000)'), e('return {0x100000000, 0xffffffff, -0xffffffffff}'),
  e('return tostring(0x7fffffffffffffff) .. tostring(0x20000000000001)'), e("return tostring(tonumber('0x100000000'))"),
  e("return tostring('0x100000000' * 1) .. tostring(0x10p2)"),
  e("return {tostring(tonumber('ffffffffff', 16)), tostring(tonumber('-ff', 16)), tostring(tonumber('ffffffffffffffffffff', 16))}"),
  e("return {tostring(tonumber('1.5', 10)), tostring(tonumber('12', 2)), tostring(tonumber(15, 16)), tostring(tonumber('0xff', 16))}"),
  e("return {tostring(tonumber(' +7f ', 16)), tostring(tonumber('0x', 16)), tostring(tonumber('10', '16')), tostring(tonumber('10', 16.9))}"),
  e("return tonumber('10', 37)"), e("return tonumber('10', 'x')"), e('return tonumber()'), e('return tonumber({}, 16)'),
  // Lua 5.1's library where 5.3 differs: integer arguments drop a fraction (string.sub(s, 1, #s / 2)),
  // math.log takes no base; and a sample of the rest of the standard library.
  e("return string.sub('hello', 2.7, 4.2)"),
  e("return string.sub('hello', -2.5)"),
  e("return string.sub('hello', '2.5', 4)"),
  e("return {string.byte('hello', 1.9, 3.1)}"),
  e("return string.char(104.9, 105.2)"),
  e("return string.rep('ab', 2.9)"),
  e("return select(2.5, 'a', 'b', 'c')"),
  e("return {unpack({1, 2, 3}, 1.5, 2.5)}"),
  e("local t = {1, 2, 3} table.insert(t, 1.5, 'x') return t"),
  e("local t = {1, 2, 3} table.remove(t, 2.7) return t"),
  e("return table.concat({'a', 'b', 'c'}, ',', 1.2, 2.8)"),
  e("return {string.find('hello', 'l', 3.5)}"),
  e("return tostring(math.log(8, 2)) .. ' ' .. tostring(math.log(1))"),
  e("return tostring(math.log(0)) .. ' ' .. tostring(math.log(-1))"),
  e("local t = {} t[1.5] = 'a' t[1] = 'b' return {t[1.5], t[1]}"),
  e("return string.format('%5.1f', 2.25)"),
  e("return string.sub('hello', 2, 1e10)"),
  e("return math.random(1.5, 3.5) > 0"),
  e("return tostring(math.floor(3.7)) .. tostring(math.ceil(3.2)) .. tostring(math.max(1, 2.5))"),
  e("return tostring(-7 % 3) .. ' ' .. tostring(7 % -3) .. ' ' .. tostring(-7.5 % 2)"),
  e("return tostring(math.fmod(-7, 3)) .. tostring(math.huge) .. tostring(-math.huge)"),
  e("return string.sub('hello', 2.7, 4.2)"),
  e("return string.sub('hello', '2', '3')"),
  e("return table.concat({1, 2.5, 'x', 3}, ',')"),
  e("return select('#', 1, nil, 3)"),
  e("return {string.byte('abc', 1, -1)}"),
  e("return string.char(104, 105.0)"),
  e("return string.rep('ab', 3, ',')"),
  e("return string.find('a.b', '.', 1, true)"),
  e("return {string.find('hello world', 'o w')}"),
  e("return string.gsub('hello', 'l', '%%')"),
  e("return string.gsub('abc', '%w', '%0%0')"),
  e("return string.format('%s', 1e15) .. ' ' .. tostring(1e16) .. ' ' .. tostring(2^63)"),
  e("return tostring(0.1 + 0.2) .. ' ' .. tostring(100 / 3)"),
  e("return math.pi"),
  e("return tostring(math.sqrt(16)) .. tostring(math.abs(-3)) .. tostring(math.pow and math.pow(2, 10))"),
  e("return tostring(math.log(8, 2)) .. ' ' .. tostring(math.log10 and math.log10(1000))"),
  e("return type(math.mod) .. type(math.ldexp) .. type(math.frexp) .. type(string.gfind) .. type(table.setn)"),
  e("return tostring(#'abc') .. tostring(#{1, 2, 3})"),
  e("return {math.modf(3.7)}"),
  e("return tostring(select(-1, 1, 2, 3))"),
  e("return tostring(1e100)"),
  e("return tostring(2^31) .. ' ' .. tostring(-2^31) .. ' ' .. tostring(2^32 + 0.5)"),
  e("return string.format('%5.2s|', 'abc')"),
  e("return string.upper('a\u00e9') .. string.lower('ABC')"),
  e("return tostring(tonumber('  12  ')) .. tostring(tonumber('12a')) .. tostring(tonumber('1e'))"),
  e("return tostring(10 == '10') .. tostring('10' + 0 == 10)"),
  e("return tostring(next({}))"),
  e("local t = {} t[1.0] = 'a' t[2] = 'b' return #t"),
  e("local t = setmetatable({}, {__index = function(t, k) return k * 2 end}) return t[21]"),
  e("return type(getfenv) .. type(setfenv) .. type(newproxy) .. type(gcinfo) .. type(module)"),
  e("return type(load) .. type(rawlen) .. type(rawequal) .. type(xpcall) .. type(coroutine.wrap)"),
  // Coroutines: values through resume and yield, wrap's errors with the caller's position, dead ones.
  e("local g = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) return {g(1), g(5)}"),
  e("local g = coroutine.wrap(function() error('inner') end) return g()"),
  e("local g = coroutine.wrap(function() error({err='TABLE err'}) end) return g()"),
  e("local g = coroutine.wrap(function() return 1 end) g() return g()"),
  e("local co = coroutine.create(function() coroutine.yield() end) local a = {coroutine.resume(co)} local b = {coroutine.resume(co)} local c = {coroutine.resume(co)} return {tostring(a[1]), #a, tostring(b[1]), tostring(c[1]), c[2], coroutine.status(co)}"),
  e("return tostring(string.format('%d', 3) == '3')"),
  e("local a = {} for i = 1, 5 do a[#a + 1] = i * 1.5 end return table.concat(a, ' ')"),
  e("return cjson.encode({1.5, 2, 1e20, 0.1, -0})"),
  e("return cjson.encode({a = 3.0})"),
  e("return cmsgpack.unpack(cmsgpack.pack(4294967296))"),
  e("return tostring(cmsgpack.unpack(cmsgpack.pack(0.5)))"),
  e("return redis.sha1hex('')"),
  e("return string.format('%.14g', 2^53 + 1)"),
  e("return tostring(1/3 * 3 == 1)"),
  // string.format as Lua 5.1 and glibc's sprintf: integer items from a C long / unsigned long / int
  // cast of the double, doubles printed exactly (ties to even), %q quoting, 5.1's argument errors.
  e("return string.format('%d', 4294967296)"),
  e("return string.format('%d', 3.7)"),
  e("return string.format('%d', -3.7)"),
  e("return string.format('%x', 4294967296)"),
  e("return string.format('%X', 255.9)"),
  e("return string.format('%o', 8)"),
  e("return string.format('%c', 65.5)"),
  e("return string.format('%i', 12)"),
  e("return string.format('%u', -1)"),
  e("return string.format('%5d|%-5d|%05d', 42, 42, 42)"),
  e("return string.format('%d', 1e20)"),
  e("return string.format('%d', '12')"),
  e("return string.format('%d', 'x')"),
  e("return string.format('%.3d', 7)"),
  e("return string.format('%+d', 7)"),
  e("return string.format('%d', 0/0)"),
  e("return string.format('%d', 1/0)"),
  e("return string.format('%x', -1)"),
  e("return string.format('%d', 2^63)"),
  e("return string.format('%d', -2^63)"),
  e("return string.format('%s', nil)"),
  e("return string.format('%s', true)"),
  e("return string.format('%s', {})"),
  e("return string.format('%q', 1.5)"),
  e("return string.format('%q', 'a\\0b\\1c\"\\\\\\n\\r')"),
  e("return string.format('%q', nil)"),
  e("return string.format('%u', 1e20)"),
  e("return string.format('%u', -1e20)"),
  e("return string.format('%u', 0/0)"),
  e("return string.format('%u', 2^64)"),
  e("return string.format('%u', 2^63)"),
  e("return string.format('%u', -3.7)"),
  e("return string.format('%05c|%-3c|%3c', 65, 66, 67)"),
  e("return string.format('%c', 300)"),
  e("return string.format('%#o|%#x|%#X|%#x', 8, 255, 255, 0)"),
  e("return string.format('% d|%+5d|%-+5d|%+05d|%05.3d|% 05d', 7, 7, 7, 7, 7, -7)"),
  e("return string.format('%.0d|%5.0d|%#.0o', 0, 0, 0)"),
  e("return string.format('%a', 1)"),
  e("return string.format('%y', 1)"),
  e("return string.format('%d')"),
  e("return string.format('%d %d', 1)"),
  e("return string.format('%-----d', 1)"),
  e("return string.format('%------d', 1)"),
  e("return string.format('%123d', 1)"),
  e("return string.format('%1.123d', 1)"),
  e("return string.format('%10.3x', 255)"),
  e("return string.format('%i', -0.5)"),
  e("return string.format('%e %g %f', 1.5, 1e300, 2)"),
  e("return string.format('%5s|%-5s|%.2s', 'ab', 'ab', 'abc')"),
  e("return string.format('%s %s', 1.5, 10)"),
  e("return string.format('%%d %d%%', 5)"),
  e("return string.format('%c%c', 0, 104)"),
  e("return string.format('%3c|%-3c|', 0, 0)"),
  e("return string.format('%', 1)"),
  e("return string.format('%5%', 1)"),
  e("return string.format('%d', '0x10')"),
  e("return string.format('%5.1s|', 'abc')"),
  e("return string.format('%q', 'x\\0001')"),
  e("return string.format('%q', '\\t\\127\\200')"),
  e("return ('%d-%s'):format(1700000000123, 'k')"),
  e("return string.format('%.2f %5.1f %-8.3e %G', 3.14159, 2.5, 12345.678, 0.000001)"),
  e("return string.format('%s', string.rep('x', 150))"),
  e("return string.format('%d %s %d', 1, {}, 2)"),
  e("return string.format()"),
  e("return string.format(12, 1)"),
  e("return string.format('%f', 'abc')"),
  e("return string.format('%x', 3.99)"),
  e("return string.format('%5.3s|%.0s|', 'abcdef', 'x')"),
  e("return string.format('%#5x|%-#8o|', 26, 8)"),
  e("return string.format('%f|%.0f|%.0f|%.0f|%.1f|%#.0f', 2, 0.5, 1.5, 2.5, 0.05, 3)"),
  e("return string.format('%e|%E|%.0e|%#.0e|%.3e', 0, 123456, 5e-324, 1e100, 9.9995)"),
  e("return string.format('%g|%g|%g|%g|%g|%g', 100000, 1000000, 0.0001, 0.00001, 1e-300, 123456789)"),
  e("return string.format('%G|%#g|%.0g|%.1g|%.20g|%g', 1e-10, 1.5, 0.5, 15, 0.1, 0)"),
  e("return string.format('%f|%e|%g|%E|%G', 1/0, -1/0, 0/0, 1/0, 0/0)"),
  e("return string.format('%08.3f|%-8.2f|%+f|% f|%+08.2e|%010g', 3.14159, 2.5, 1, 1, -12.5, -0.5)"),
  e("return string.format('%f', 1e300)"),
  e("return string.format('%.15f|%.17g|%.99f', 0.1, 0.1, 1/3)"),
  e("return string.format('%f|%g|%e', -0.0, -0.0, -0.0)"),
  e("return string.format('%5.1f|%5.0e|%-10g|', 99.95, 95, 1e-5)"),
  e("return string.format('%g|%g|%g', 2^53, 2^63, 1e15)"),
  e("return string.format('%.3g|%.3g|%.3g|%#.3g', 99.95, 0.000123456, 1234567, 100)"),
  e("return string.format('%010f|%-010f|%010e', 1/0, 0/0, -1/0)"),
  e('return 7 % -3'), e('return {double=0.1}'), e('return {map={a=1}}'), e('return {set={a=true}}'), e("return {big_number='123'}"),
  e("return redis.pcall('nosuch')"), e("local ok, e = pcall(redis.call, 'nosuch') return e"), e("return redis.call('nosuch')"),
  e("return redis.call('get')"), e("return redis.pcall('get','a','b')"), e("return redis.call('eval','return 1','0')"),
  e("return redis.call()"), e("return redis.call('get', {})"), e("return redis.call('set', 'k', true)"),
  e("redis.call('set','h','v') return redis.call('incr','h')"), e("local t = redis.pcall('incr', 'h') return t.err"),
  e("return redis.call('set', 'k', 3.5)"), e("return redis.call('get', 'k')"), e("return redis.call('set', 'k', 1e20)"), e("return redis.call('get', 'k')"),
  e("return redis.call('get', KEYS[1])", '1', 'nokey'), e("return type(redis.call('get', KEYS[1]))", '1', 'nokey'),
  e('return #KEYS + #ARGV', '2', 'a', 'b', 'c'), e('return ARGV', '0', 'x', 'y'), e("return redis.call('ping')"),
  e("return redis.call('hgetall','nohash')"), e('return redis.setresp(4)'),
  e('x = 1'), e('return y'), e("print('x') return 1"), e('setmetatable(_G, nil)'), e("rawset(_G, 'x', 1) return x"),
  e('string.foo = 1 return 1'),
  e("getmetatable('').__index.upper = function() return 'changed' end return 1"), e("return ('a'):upper()"),
  e("getmetatable(string).__index.lower = function() return 'changed' end return 1"), e("return ('A'):lower()"),
  e('getmetatable(_G).__newindex = nil x = 1 return 1'), e("rawset(string, 'x', 1) return 1"), e('setmetatable(string, nil) return 1'),
  e('return {type(getmetatable(_G)), type(getmetatable(string)), type(getmetatable(\'\')), type(getmetatable(1))}'), e('local f = function() x = 5 end f()'), e("error('boom')"), e("error({err='MYERR boom'})"),
  e("error('a\\nb')"), e('return ('), e("local t = nil return t.x"), e('return _VERSION'),
  e("return {type(os), type(io), type(loadfile), type(dofile), type(require), type(debug), type(print)}"),
  e('return {type(unpack), type(loadstring), type(table.getn), type(math.mod), type(cjson), type(cmsgpack), type(bit), type(struct)}'),
  e('return table.getn({1,2,3}) + math.mod(7,3)'), e('return {unpack({1,2,3})}'), e("return loadstring('return 1')()"),
  e("return string.rep('x', 3, ',')"), e("return #string.rep('x', 2^31)"), e('return table.getn(nil)'), e("return math.pow('a', 2)"),
  e('return table.foreach(nil, 1)'), e("local acc = {} table.foreach({10,20,x=5}, function(k, v) acc[#acc+1] = v end) table.foreachi({1,2,3}, function(i, v) acc[#acc+1] = v * 10 if i == 2 then return 'stop' end end) table.sort(acc) return {acc, table.maxn({1,2,[10]=3}), table.foreachi({4,5}, function(i, v) if v == 5 then return i end end)}"),
  e('return {math.ldexp(0.5, 3), math.log10(1000), math.pow(2, 10), math.cosh(0), math.atan2(1, 1) * 4}'), e('return {math.frexp(10)}'), e("return select('#', 1, nil, 3)"), e('return math.floor(3.7) .. math.ceil(-0.5)'),
  e('local t = {} t[1.0] = \'a\' return t[1]'), e('return redis.sha1hex(\'\')'),
  e('return cjson.encode({1,2,{a=1}})'), e('return cjson.encode({})'), e("return cjson.encode({0.1, 1e20, 3, -0.5, 1/3})"),
  e("return cjson.encode('a\\1/b')"),
  ['eval', "return redis.error_reply(1)", '0'],
  ['eval', "return redis.error_reply()", '0'],
  ['eval', "return redis.status_reply()", '0'],
  ['eval', "return redis.sha1hex()", '0'],
  ['eval', "return redis.sha1hex(1)", '0'],
  ['eval', "redis.log()", '0'],
  ['eval', "redis.log('x', 'y')", '0'],
  ['eval', "redis.log(9, 'x')", '0'],
  ['eval', "redis.setresp()", '0'],
  ['eval', "redis.set_repl(9)", '0'],
  ['eval', "redis.set_repl()", '0'],
  ['eval', "return cjson.encode()", '0'],
  ['eval', "return cjson.decode('{')", '0'],
  ['eval', "return cjson.decode('[1,2')", '0'],
  ['eval', "return cjson.decode(1)", '0'],
  ['eval', "return cjson.encode(function() end)", '0'],
  ['eval', "return cjson.encode({[true]=1})", '0'],
  ['eval', "return cjson.encode({1,2,[20]=3})", '0'],
  ['eval', "return cmsgpack.pack()", '0'],
  ['eval', "return cmsgpack.unpack('\\217')", '0'],
  ['eval', "return struct.pack('z', 1)", '0'],
  ['eval', "return bit.tohex()", '0'],
  ['eval', "return redis.call('set', 'a', nil)", '0'],
  ['eval', "return redis.acl_check_cmd('get', 'x')", '0'],
  ['eval', "return redis.acl_check_cmd('nosuch')", '0'],
  ['eval', "return redis.breakpoint()", '0'],
  ['eval', "return tostring(nil) .. tostring(true)", '0'],
  ['eval', "return type(cjson.null)", '0'],
  ['eval', "return cjson.decode('null') == cjson.null", '0'],
  ['eval', "return cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\\\u00e9\\\\n\"}').c", '0'],
  ['eval', "return cjson.decode('[1,2] x')", '0'],
  ['eval', "return cjson.decode('{\"a\" 1}')", '0'],
  ['eval', "return cjson.decode('{\"a\":1,}')", '0'],
  ['eval', "return cjson.decode('[tru]')", '0'],
  ['eval', "return cjson.decode('\"\\\\q\"')", '0'],
  ['eval', "return cjson.decode('\"abc')", '0'],
  ['eval', "return cjson.decode('[-]')", '0'],
  ['eval', "return cjson.decode('')", '0'],
  ['eval', "return cjson.decode('  [1.5e3, -0, 1E-2]  ')[1]", '0'],
  ['eval', "return cjson.decode(nil)", '0'],
  ['eval', "return cjson.decode()", '0'], e('return cjson.decode(\'[1,2,null,{"a":true}]\')[4].a'),
  e("return cmsgpack.pack({1,2,'a'})"), e("return {cmsgpack.unpack(cmsgpack.pack({1,2,'a'},{x=1}))}"),
  e("return cmsgpack.pack(0.5, -1, 300, 70000, 5000000000, 'x', true, false, {a=1})"),
  e('return bit.band(0xff, 0x0f) .. bit.tohex(255) .. bit.lshift(1,31)'), e("return {bit.bor(1,2,4), bit.bxor(5,3), bit.bnot(0), bit.rshift(-1, 28), bit.arshift(-16, 2)}"),
  e("return struct.pack('>I2', 258)"), e("return {struct.unpack('>I2', 'ab')}"),
  e("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}"),
  e("#!lua flags=no-writes\nreturn redis.call('set','a','b')"), e('#!lua flags=bogus\nreturn 1'), ['eval_ro', '#!lua\nreturn 1', '0'],
  ['eval_ro', "return redis.call('set','a','b')", '0'],
  // A RESP3 attribute before a reply: the script sees the reply alone.
  ['debug', 'set-disable-deny-scripts', '1'], e("redis.setresp(3) return redis.call('debug', 'protocol', 'attrib')"),
  e("redis.setresp(3) return redis.call('debug', 'protocol', 'bignum')"), ['debug', 'set-disable-deny-scripts', '0'],
  // Commands Redis refuses in scripts (noscript).
  e("return redis.pcall('wait', 0, 0)"), e("return redis.pcall('cluster', 'reset')"),
  // May-replicate commands count as writes in a read-only script.
  ['eval_ro', "return redis.call('publish','ch','m')", '0'], e("#!lua flags=no-writes\nreturn redis.call('publish','ch','m')"),
  ['eval_ro', "return redis.call('pfcount','hll')", '0'], ['eval_ro', "return redis.pcall('spublish','ch','m')", '0'],
  ['evalsha', 'ffffffffffffffffffffffffffffffffffffffff', '0'], ['eval', 'return 1', '-1'], ['eval', 'return 1', '2', 'a'], ['eval', 'return 1', 'x'],
  ['script', 'load', 'return 1'], ['script', 'exists', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 'ffff'], ['evalsha', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', '0'],
  ['script', 'load', 'return ('], ['script', 'flush', 'bogus'], ['script', 'kill'], ['script', 'nosub'], ['function', 'kill'],
  ['function', 'load', 'return 1'], ['function', 'load', '#!lua\nreturn 1'], ['function', 'load', '#!foo name=x\nreturn 1'],
  ['function', 'load', '#!lua name=x foo=bar\nreturn 1'], ['function', 'load', '#!lua name=x\nreturn 1'],
  ['function', 'load', "#!lua name=x\nredis.register_function('f', function(keys, args) return keys[1] end)"],
  ['function', 'load', "#!lua name=x\nredis.register_function('f', function(keys, args) return keys[1] end)"],
  ['function', 'load', "#!lua name=y\nredis.register_function('f', function(keys, args) return 1 end)"],
  ['function', 'load', "#!lua name=y\nredis.register_function{function_name='g', callback=function(keys, args) return redis.call('set', keys[1], args[1]) end, flags={'no-writes'}, description='d'}"],
  ['function', 'load', '#!lua name=z\nreturn (('], ['function', 'load', "#!lua name=z\nredis.call('ping')"],
  ['function', 'load', "#!lua name=z\nerror('x')"], ['function', 'load', "#!lua name=z\nlocal s = string.format('%d', 1)"],
  ['function', 'load', "#!lua name=z\nredis.log(redis.LOG_NOTICE, 'loading')\nlocal v = redis.REDIS_VERSION\nredis.register_function('zf', function(keys, args) return {type(cjson), type(redis.call), redis.sha1hex('x')} end)"],
  ['fcall', 'zf', '0'], ['eval', "return redis.register_function", '0'],
  e('local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t'),
  e('local t = {} for k, v in pairs(_G) do t[#t+1] = k .. type(v) end table.sort(t) return t'),
  e('local t = {} for k in pairs(string) do t[#t+1] = k end table.sort(t) return t'),
  e('local t = {} for k in pairs(math) do t[#t+1] = k end table.sort(t) return t'),
  e('local t = {} for k in pairs(table) do t[#t+1] = k end table.sort(t) return t'), ['fcall', 'f', '1', 'k'], ['fcall', 'g', '1', 'k', 'v'], ['fcall', 'nosuch', '0'],
  ['fcall_ro', 'f', '1', 'k'], ['function', 'list', 'libraryname', 'x'], ['function', 'list', 'withcode', 'libraryname', 'y'], ['function', 'stats'],
  ['function', 'delete', 'nosuch'], ['function', 'delete', 'y'], ['function', 'flush'],
  ...LUA51_CASES,
  ...CJSON_CASES,
  ...CMSGPACK_CASES,
  ...STRUCT_CASES,
];

/** Conversions after HELLO 3 (and with redis.setresp(3) inside the script). */
const RESP3_CASES: string[][] = [
  e('return {double=3.5}'), e('return {map={a=1}}'), e('return {set={a=true}}'), e('return true'), e('return false'), e('return nil'),
  e("redis.setresp(3) return true"), e("redis.setresp(3) return false"), e("redis.setresp(3) return redis.call('ping')"),
  e("redis.setresp(3) local r = redis.call('get','nokey') return type(r)"), e("redis.setresp(3) return redis.call('hgetall', 'nohash')"),
  e("redis.call('hset','hh','f','v') redis.setresp(3) local r = redis.call('hgetall', 'hh') return r.map.f"),
  e("redis.setresp(3) return redis.call('hgetall', 'hh')"), e("return redis.call('hgetall', 'hh')"),
  // The verbatim format is always three bytes on the wire (cut or padded), or the reply's length lies.
  e("return {verbatim_string={format='txt', string='abc'}}"), e("return {verbatim_string={format='md', string=''}}"),
  e("return {verbatim_string={format='toolong', string='ab'}}"), e("return {verbatim_string={format='', string='x'}}"),
  e('return {double=0/0}'), e('return {double=1/0}'), e('return {double=-1/0}'),
];

/** Random Lua source for values scripts return or pass on: numbers of every shape, strings, booleans, nested tables with holes. */
function generator(seed: number) {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (n: number): number => Math.floor(rand() * n);
  const number = (): string => pick([
    () => String(int(2000001) - 1000000), () => `${int(1000)}/${1 + int(999)}`, () => `2^${int(70)}`, () => `-2^${int(64)}`,
    () => `1e${int(40) - 20}`, () => `${int(100)}.${int(1000)}`, () => `${int(10)}e${int(30)}`, () => '0.1', () => '1/3',
    () => `${int(2 ** 31)} * ${int(5000)}`, () => `math.floor(${int(100000)}/7)`, () => `2147483647 + ${int(10)}`,
  ])();
  const str = (): string => JSON.stringify(Array.from({ length: int(6) }, () => pick(['a', 'b', ' ', '/', '"', '\\', 'z', '9', '-', '\n'])).join(''));
  const value = (depth: number): string => {
    const kind = depth > 2 ? int(4) : int(8);
    switch (kind) {
      case 0: case 1: return number();
      case 2: return str();
      case 3: return pick(['true', 'false']);
      case 4: case 5: return `{${Array.from({ length: int(5) }, () => (rand() < 0.15 ? 'nil' : value(depth + 1))).join(', ')}}`;
      case 6: return pick([`{ok=${str()}}`, `{err=${str()}}`, `{double=${number()}}`, `{map={k=${value(depth + 1)}}}`, `{set={[${str()}]=true}}`]);
      default: return `{${str()}, x=${value(depth + 1)}}`;
    }
  };
  /** A value cjson and cmsgpack encode the same way in both (no table with two string keys: their order is the VM's). */
  const plain = (depth: number): string => {
    if (depth > 2 || rand() < 0.5) return pick([number, str, () => pick(['true', 'false'])])();
    return rand() < 0.8 ? `{${Array.from({ length: 1 + int(4) }, () => plain(depth + 1)).join(', ')}}` : `{k=${plain(depth + 1)}}`;
  };
  return (): string[] => pick([
    () => e(`return ${value(0)}`),
    () => e(`local n = ${number()} return {tostring(n), n .. '', string.format('%s', n)}`),
    () => e(`return cjson.encode(${plain(0)})`),
    () => e(`return cmsgpack.pack(${plain(0)})`),
    () => e(`return {cmsgpack.unpack(cmsgpack.pack(${plain(0)}))}`),
    () => e(`redis.call('set', KEYS[1], ${number()}) return redis.call('get', KEYS[1])`, '1', 'fuzz:key'),
    () => e(`redis.setresp(3) return ${value(0)}`),
    () => e(`return struct.unpack('>i4', struct.pack('>i4', ${int(2 ** 31)}))`),
    () => e(`return bit.tohex(bit.bxor(${int(2 ** 31)}, ${int(2 ** 31)}), ${1 + int(8)})`),
  ])();
}

const haveRedis = hasBinary('redis-server');

describe.skipIf(!haveRedis)('scripts against redis-server 7, byte for byte', () => {
  let redis: ChildProcess;
  let redisPort: number;
  let node: NodeProcess;
  beforeAll(async () => {
    redisPort = await freePort();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes'], { stdio: 'ignore' });
    node = await startNode();
    for (let i = 0; i < 100; i++) {
      const ok = await RawConn.open(redisPort).then((c) => (c.close(), true), () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 30000);
  afterAll(async () => {
    redis?.kill('SIGKILL');
    await node?.stop();
  });

  async function compare(cases: string[][], setup: string[][]): Promise<void> {
    const [a, b] = await Promise.all([RawConn.open(redisPort), RawConn.open(node.port)]);
    try {
      for (const c of [['flushall'], ['function', 'flush'], ['script', 'flush'], ...setup]) await Promise.all([a.send(c), b.send(c)]);
      const mismatches: string[] = [];
      for (const c of cases) {
        const [want, got] = [await a.send(c), await b.send(c)];
        if (!want.equals(got)) mismatches.push(`${JSON.stringify(c)}\n  redis:  ${JSON.stringify(want.toString('latin1'))}\n  ringkv: ${JSON.stringify(got.toString('latin1'))}`);
      }
      if (mismatches.length > 0) throw new Error(`${mismatches.length} replies differ:\n${mismatches.join('\n')}`);
    } finally {
      a.close();
      b.close();
    }
  }

  it('RESP2: conversions, errors, sandbox, libraries, SCRIPT and FUNCTION', async () => {
    await compare(RESP2_CASES, []);
  }, 30000);

  it('seeded random scripts: conversions, number printing, cjson, cmsgpack, struct, bit (RESP2 then RESP3)', async () => {
    const seed = Number(process.env.SCRIPT_FUZZ_SEED ?? Date.now() % 100000);
    const next = generator(seed);
    const cases = Array.from({ length: 300 }, next);
    try {
      await compare(cases, []);
      await compare(cases.slice(0, 100), [['hello', '3']]);
    } catch (err) {
      throw new Error(`SCRIPT_FUZZ_SEED=${seed}: ${(err as Error).message}`);
    }
  }, 60000);

  it('RESP3: doubles, maps, sets, booleans and null, with and without redis.setresp(3)', async () => {
    await compare(RESP3_CASES, [['hello', '3']].map((c) => c));
  }, 30000);

  it('FUNCTION LOAD errors, register_function arguments, FCALL names and numkeys, shebangs, DUMP/RESTORE bytes', async () => {
    await compare(FUNCTION_EDGE_CASES, []);
  }, 30000);

  it('a FUNCTION DUMP of either server restores on the other (a large library is LZF-compressed by Redis)', async () => {
    const [a, b] = await Promise.all([RawConn.open(redisPort), RawConn.open(node.port)]);
    const bulk = (reply: Buffer): Buffer => reply.subarray(reply.indexOf('\r\n') + 2, reply.length - 2);
    const big = `#!lua name=big\n-- ${'padding '.repeat(400)}\nredis.register_function('big', function() return 'big' end)`;
    try {
      for (const c of [['function', 'flush'], ['function', 'load', big], ['function', 'load', '#!lua name=small\nredis.register_function("small", function() return 2 end)']]) await Promise.all([a.send(c), b.send(c)]);
      const fromRedis = bulk(await a.send(['function', 'dump']));
      const fromRingkv = bulk(await b.send(['function', 'dump']));
      for (const [conn, payload] of [[a, fromRingkv], [b, fromRedis]] as const) {
        expect((await conn.send(['function', 'flush'])).toString()).toBe('+OK\r\n');
        expect((await conn.send(['function', 'restore', payload])).toString()).toBe('+OK\r\n');
        expect((await conn.send(['fcall', 'big', '0'])).toString()).toBe('$3\r\nbig\r\n');
        expect((await conn.send(['fcall', 'small', '0'])).toString()).toBe(':2\r\n');
      }
    } finally {
      a.close();
      b.close();
    }
  }, 30000);
});

const fl = (code: string): string[] => ['function', 'load', code];
const reg = (call: string): string[] => fl(`#!lua name=x\n${call}`);
/** FUNCTION and shebang edge cases, in order (a library some of them load is used by the next ones). */
const FUNCTION_EDGE_CASES: string[][] = [
  fl('#!lua name=lp\nwhile true do end'), fl('#!lua name=x name=y\nreturn 1'), fl('#!lua name=x'), fl('#!lua'), fl('#!LUA Name=up\nredis.register_function("up", function() return 1 end)'),
  fl('#!lua name=dup\nredis.register_function("a", function() return 1 end)\nredis.register_function("a", function() return 1 end)'),
  reg('redis.register_function("a-b", function() return 1 end)'), reg('redis.register_function("a")'), reg('redis.register_function()'),
  reg('redis.register_function{function_name="a"}'), reg('redis.register_function{FUNCTION_NAME="a", callback=function() return 1 end, flags={"bad"}}'),
  reg('redis.register_function{function_name="a", callback=function() return 1 end, foo=1}'), reg('redis.register_function{function_name={}, callback=function() return 1 end}'),
  reg('redis.register_function{function_name="a", callback=1}'), reg('redis.register_function{function_name="a", callback=function() end, description={}}'),
  reg('redis.register_function("a", 1)'), fl('#!lua name=n\nredis.register_function(1, function() return 7 end)'), ['fcall', '1', '0'],
  fl('#!lua name=cs\nredis.register_function("ab", function() return 1 end)'), ['fcall', 'AB', '0'], ['fcall', 'ab', 'x'], ['fcall', 'ab', '-1'], ['fcall', 'ab', '5'],
  fl('#!lua name=cs2\nredis.register_function("AB", function() return 2 end)'),
  // A function run by FCALL has no register_function; a returned table is read raw (_G's guard would throw).
  fl('#!lua name=inner\nredis.register_function("outer", function() return redis.register_function("x", function() return 1 end) end)\nredis.register_function("globals", function() return _G end)'),
  ['fcall', 'outer', '0'], ['fcall', 'globals', '0'], ['eval', 'return _G', '0'], ['eval', 'return {err=_G}', '0'],
  ['eval', "return setmetatable({}, {__index=function() error('no') end})", '0'],
  ['function', 'restore', 'abc'], ['function', 'restore', ''], ['function', 'list', 'libraryname'], ['function', 'flush', 'a', 'b'],
  ['function', 'restore', 'x', 'flush', 'y'], ['function', 'flush', 'bad'],
  // One library, so the payload does not depend on the order Redis's dict keeps several in.
  ['function', 'flush'], fl('#!lua name=one\nredis.register_function("one", function() return 1 end)'), ['function', 'dump'],
  ['function', 'restore', Buffer.from('f5c0010a00cdd2cd1ceb2f2ba6', 'hex').toString('latin1')],
  ...['#!lua', '#!lua flags=no-writes', '#!python\nreturn 1', '#!\nreturn 1', '#!LUA\nreturn 1', '#! lua\nreturn 1', '#!lua flags=no-writes,\nreturn 1',
    '#!lua flags=,no-writes\nreturn 1', '#!lua\tflags=no-writes\nreturn 1', '#!lua flags=\nreturn 2', '#!lua foo=bar\nreturn 2', '#!lua\r\nreturn 3'].map((b) => ['eval', b, '0']),
];
