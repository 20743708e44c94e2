import { lauxlib, lua, type LuaState } from './fengari-api.js';
import { toCInt } from './lua-random.js';
import { pushBytes, raiseAt, setFunction, toBytes } from './lua-bytes.js';

const NESTING_MAX = 16;

function header(out: number[], small: number, smallMax: number, codes: [number, number, number], n: number): void {
  if (n <= smallMax) out.push(small | n);
  else if (codes[0] !== 0 && n <= 0xff) out.push(codes[0], n);
  else if (n <= 0xffff) out.push(codes[1], n >> 8, n & 0xff);
  else out.push(codes[2], (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

function packNumber(n: number, out: number[]): void {
  // As Redis: any whole number an int64 holds, -2^63 included, packs as an integer.
  if (Number.isInteger(n) && n >= -(2 ** 63) && n < 2 ** 63) {
    const b = Buffer.alloc(9);
    if (n >= 0) {
      if (n < 128) return void out.push(n);
      if (n < 0x100) return void out.push(0xcc, n);
      if (n < 0x10000) { b[0] = 0xcd; b.writeUInt16BE(n, 1); return void out.push(...b.subarray(0, 3)); }
      if (n < 0x100000000) { b[0] = 0xce; b.writeUInt32BE(n, 1); return void out.push(...b.subarray(0, 5)); }
      b[0] = 0xcf; b.writeBigUInt64BE(BigInt(n), 1); return void out.push(...b);
    }
    if (n >= -32) return void out.push(n & 0xff);
    if (n >= -128) return void out.push(0xd0, n & 0xff);
    if (n >= -32768) { b[0] = 0xd1; b.writeInt16BE(n, 1); return void out.push(...b.subarray(0, 3)); }
    if (n >= -(2 ** 31)) { b[0] = 0xd2; b.writeInt32BE(n, 1); return void out.push(...b.subarray(0, 5)); }
    b[0] = 0xd3; b.writeBigInt64BE(BigInt(n), 1); return void out.push(...b);
  }
  const b = Buffer.alloc(9);
  // A NaN fails lua_cmsgpack's float round-trip test, so it is a double; scripts make NaN as x86
  // does (0/0), with the sign bit set, which is what Redis writes.
  if (Number.isNaN(n)) return void out.push(0xcb, 0xff, 0xf8, 0, 0, 0, 0, 0, 0);
  if (Math.fround(n) === n) {
    b[0] = 0xca; b.writeFloatBE(n, 1); return void out.push(...b.subarray(0, 5));
  }
  b[0] = 0xcb; b.writeDoubleBE(n, 1); out.push(...b);
}

/** lua_cmsgpack's test: a table is an array when its keys are exactly 1..n. */
function arraySize(L: LuaState, idx: number): number {
  let max = 0;
  let count = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx)) {
    lua.lua_pop(L, 1);
    const k = lua.lua_type(L, -1) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -1) : NaN;
    if (!Number.isInteger(k) || k < 1) {
      lua.lua_pop(L, 1);
      return -1;
    }
    if (k > max) max = k;
    count++;
  }
  return max === count ? max : -1;
}

function packValue(L: LuaState, idx: number, level: number, out: number[]): void {
  const t = lua.lua_type(L, idx);
  if (t === lua.LUA_TSTRING) {
    const s = toBytes(L, idx)!;
    header(out, 0xa0, 31, [0xd9, 0xda, 0xdb], s.length);
    for (const byte of s) out.push(byte);
  } else if (t === lua.LUA_TNUMBER) packNumber(lua.lua_tonumber(L, idx), out);
  else if (t === lua.LUA_TBOOLEAN) out.push(lua.lua_toboolean(L, idx) ? 0xc3 : 0xc2);
  else if (t === lua.LUA_TTABLE && level < NESTING_MAX) {
    lua.lua_checkstack(L, 4);
    const abs = lua.lua_absindex(L, idx);
    const n = arraySize(L, abs);
    if (n >= 0) {
      header(out, 0x90, 15, [0, 0xdc, 0xdd], n);
      for (let i = 1; i <= n; i++) {
        lua.lua_rawgeti(L, abs, i);
        packValue(L, -1, level + 1, out);
        lua.lua_pop(L, 1);
      }
      return;
    }
    let pairs = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, abs)) { lua.lua_pop(L, 1); pairs++; }
    header(out, 0x80, 15, [0, 0xde, 0xdf], pairs);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, abs)) {
      packValue(L, -2, level + 1, out);
      packValue(L, -1, level + 1, out);
      lua.lua_pop(L, 1);
    }
  } else out.push(0xc0);
}

/** Decodes one object at `pos.i`, pushing it; raises on truncated input. */
function unpackValue(L: LuaState, b: Buffer, pos: { i: number }): void {
  lua.lua_checkstack(L, 3);
  const need = (n: number): number => {
    if (pos.i + n > b.length) raiseAt(L, 'Missing bytes in input.');
    const at = pos.i;
    pos.i += n;
    return at;
  };
  const c = b[need(1)]!;
  const str = (len: number): void => { const at = need(len); pushBytes(L, b.subarray(at, at + len)); };
  const arr = (n: number): void => {
    lua.lua_createtable(L, n, 0);
    for (let i = 1; i <= n; i++) { unpackValue(L, b, pos); lua.lua_rawseti(L, -2, i); }
  };
  const map = (n: number): void => {
    lua.lua_createtable(L, 0, n);
    for (let i = 0; i < n; i++) { unpackValue(L, b, pos); unpackValue(L, b, pos); lua.lua_rawset(L, -3); }
  };
  if (c < 0x80) return lua.lua_pushnumber(L, c);
  if (c >= 0xe0) return lua.lua_pushnumber(L, c - 0x100);
  if ((c & 0xe0) === 0xa0) return str(c & 0x1f);
  if ((c & 0xf0) === 0x90) return arr(c & 0x0f);
  if ((c & 0xf0) === 0x80) return map(c & 0x0f);
  switch (c) {
    case 0xc0: return lua.lua_pushnil(L);
    case 0xc2: return lua.lua_pushboolean(L, false);
    case 0xc3: return lua.lua_pushboolean(L, true);
    case 0xcc: return lua.lua_pushnumber(L, b.readUInt8(need(1)));
    case 0xcd: return lua.lua_pushnumber(L, b.readUInt16BE(need(2)));
    case 0xce: return lua.lua_pushnumber(L, b.readUInt32BE(need(4)));
    case 0xcf: return lua.lua_pushnumber(L, Number(b.readBigUInt64BE(need(8))));
    case 0xd0: return lua.lua_pushnumber(L, b.readInt8(need(1)));
    case 0xd1: return lua.lua_pushnumber(L, b.readInt16BE(need(2)));
    case 0xd2: return lua.lua_pushnumber(L, b.readInt32BE(need(4)));
    case 0xd3: return lua.lua_pushnumber(L, Number(b.readBigInt64BE(need(8))));
    case 0xca: return lua.lua_pushnumber(L, b.readFloatBE(need(4)));
    case 0xcb: return lua.lua_pushnumber(L, b.readDoubleBE(need(8)));
    case 0xd9: case 0xc4: return str(b.readUInt8(need(1)));
    case 0xda: case 0xc5: return str(b.readUInt16BE(need(2)));
    case 0xdb: case 0xc6: return str(b.readUInt32BE(need(4)));
    case 0xdc: return arr(b.readUInt16BE(need(2)));
    case 0xdd: return arr(b.readUInt32BE(need(4)));
    case 0xde: return map(b.readUInt16BE(need(2)));
    case 0xdf: return map(b.readUInt32BE(need(4)));
    default: return raiseAt(L, 'Bad data format in input.');
  }
}

/**
 * mp_unpack_full: decodes up to `limit` objects from byte `offset` (limit and offset both 0: all of
 * them, returned alone); otherwise the offset of the next object (-1 when the input is used up)
 * comes first, then the objects.
 */
function unpackFull(L: LuaState, limit: number, offset: number): number {
  const s = Buffer.from(lauxlib.luaL_checkstring(L, 1));
  const all = limit === 0 && offset === 0;
  // The C code prints the input length where it says limit.
  if (offset < 0 || limit < 0) raiseAt(L, `Invalid request to unpack with offset of ${offset} and limit of ${s.length}.`);
  if (offset > s.length) raiseAt(L, `Start offset ${offset} greater than input length ${s.length}.`);
  const pos = { i: offset };
  let count = 0;
  while (pos.i < s.length && (all || count < limit)) {
    unpackValue(L, s, pos);
    count++;
  }
  if (all) return count;
  lua.lua_checkstack(L, 1);
  lua.lua_pushinteger(L, pos.i === s.length ? -1 : pos.i);
  lua.lua_insert(L, 2);
  return count + 1;
}

/** The `cmsgpack` module as Redis bundles lua-cmsgpack 0.4.0: pack(...), unpack(s), unpack_one(s [, offset]), unpack_limit(s, limit [, offset]). */
export function openCmsgpack(L: LuaState): void {
  lua.lua_createtable(L, 0, 8);
  setFunction(L, 'pack', (L2) => {
    const n = lua.lua_gettop(L2);
    if (n === 0) raiseAt(L2, "bad argument #0 to 'pack' (MessagePack pack needs input.)");
    const out: number[] = [];
    for (let i = 1; i <= n; i++) packValue(L2, i, 0, out);
    pushBytes(L2, Buffer.from(out));
    return 1;
  });
  // Arguments are C ints (luaL_checkinteger / luaL_optinteger into an int), read before the string.
  const optInt = (L2: LuaState, arg: number): number => (lua.lua_type(L2, arg) <= 0 ? 0 : toCInt(lauxlib.luaL_checknumber(L2, arg)));
  // Drops the arguments after the string (with none given, there is still "no value" to complain of).
  const keepFirst = (L2: LuaState): void => { if (lua.lua_gettop(L2) > 1) lua.lua_settop(L2, 1); };
  setFunction(L, 'unpack', (L2) => unpackFull(L2, 0, 0));
  setFunction(L, 'unpack_one', (L2) => {
    const offset = optInt(L2, 2);
    keepFirst(L2);
    return unpackFull(L2, 1, offset);
  });
  setFunction(L, 'unpack_limit', (L2) => {
    const limit = toCInt(lauxlib.luaL_checknumber(L2, 2));
    const offset = optInt(L2, 3);
    keepFirst(L2);
    return unpackFull(L2, limit, offset);
  });
  for (const [field, value] of [['_NAME', 'cmsgpack'], ['_VERSION', 'lua-cmsgpack 0.4.0'], ['_COPYRIGHT', 'Copyright (C) 2012, Salvatore Sanfilippo'], ['_DESCRIPTION', 'MessagePack C implementation for Lua']]) {
    pushBytes(L, value!);
    lua.lua_setfield(L, -2, field!);
  }
}
