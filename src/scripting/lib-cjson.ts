import { lua, luaString, type LuaState } from './fengari-api.js';
import { formatLuaNumber } from './fengari-api.js';
import { pushBytes, raiseAt, setFunction, toBytes } from './lua-bytes.js';
import { decodeJson, JSON_NULL_REF } from './json-decode.js';

/** cjson.null: a light userdata, as lua-cjson's (compares equal only to itself). */
export const JSON_NULL = Object.freeze({ cjsonNull: true });
JSON_NULL_REF.value = JSON_NULL;

function lua51TypeName(t: number): string {
  return t === lua.LUA_TNIL ? 'nil' : t === lua.LUA_TBOOLEAN ? 'boolean' : t === lua.LUA_TTABLE ? 'table' : t === lua.LUA_TFUNCTION ? 'function' : 'userdata';
}
const DEPTH_MAX = 1000;

const ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x2f: '\\/', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };

function encodeString(bytes: Buffer, out: Buffer[]): void {
  const parts: string[] = ['"'];
  let start = 0;
  const flush = (end: number): void => {
    if (end > start) parts.push(bytes.subarray(start, end).toString('latin1'));
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const esc = ESCAPES[b] ?? (b < 0x20 || b === 0x7f ? `\\u${b.toString(16).padStart(4, '0')}` : undefined);
    if (esc === undefined) continue;
    flush(i);
    parts.push(esc);
    start = i + 1;
  }
  flush(bytes.length);
  parts.push('"');
  out.push(Buffer.from(parts.join(''), 'latin1'));
}

/** lua-cjson's array test: keys 1..n only (n > 0); an empty table encodes as an object. */
function arrayLength(L: LuaState, idx: number): number {
  let max = 0;
  let count = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx)) {
    lua.lua_pop(L, 1);
    if (lua.lua_type(L, -1) !== lua.LUA_TNUMBER) {
      lua.lua_pop(L, 1);
      return -1;
    }
    const k = lua.lua_tonumber(L, -1);
    if (!Number.isInteger(k) || k < 1) {
      lua.lua_pop(L, 1);
      return -1;
    }
    if (k > max) max = k;
    count++;
  }
  if (max > 10 && max > count * 2) raiseAt(L, 'Cannot serialise table: excessively sparse array');
  return max;
}

function encodeValue(L: LuaState, idx: number, depth: number, out: Buffer[]): void {
  const t = lua.lua_type(L, idx);
  if (t === lua.LUA_TSTRING) return encodeString(toBytes(L, idx)!, out);
  if (t === lua.LUA_TNUMBER) {
    const n = lua.lua_tonumber(L, idx);
    if (!Number.isFinite(n)) raiseAt(L, 'Cannot serialise number: must not be NaN or Inf');
    out.push(Buffer.from(formatLuaNumber(n), 'latin1'));
    return;
  }
  if (t === lua.LUA_TBOOLEAN) return void out.push(Buffer.from(lua.lua_toboolean(L, idx) ? 'true' : 'false'));
  if (t === lua.LUA_TNIL || (t === lua.LUA_TLIGHTUSERDATA && lua.lua_touserdata(L, idx) === JSON_NULL)) return void out.push(Buffer.from('null'));
  if (t !== lua.LUA_TTABLE) raiseAt(L, `Cannot serialise ${typeName(t)}: type not supported`);
  if (depth > DEPTH_MAX) raiseAt(L, `Cannot serialise, excessive nesting (${depth})`);
  lua.lua_checkstack(L, 4);
  const abs = lua.lua_absindex(L, idx);
  const len = arrayLength(L, abs);
  if (len > 0) {
    out.push(Buffer.from('['));
    for (let i = 1; i <= len; i++) {
      if (i > 1) out.push(Buffer.from(','));
      lua.lua_rawgeti(L, abs, i);
      encodeValue(L, -1, depth + 1, out);
      lua.lua_pop(L, 1);
    }
    out.push(Buffer.from(']'));
    return;
  }
  out.push(Buffer.from('{'));
  let first = true;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, abs)) {
    const kt = lua.lua_type(L, -2);
    if (kt !== lua.LUA_TSTRING && kt !== lua.LUA_TNUMBER) raiseAt(L, `Cannot serialise ${typeName(kt)}: table key must be a number or string`);
    if (!first) out.push(Buffer.from(','));
    first = false;
    lua.lua_pushvalue(L, -2);
    encodeString(toBytes(L, -1)!, out);
    lua.lua_pop(L, 1);
    out.push(Buffer.from(':'));
    encodeValue(L, -1, depth + 1, out);
    lua.lua_pop(L, 1);
  }
  out.push(Buffer.from('}'));
}

function typeName(t: number): string {
  if (t === lua.LUA_TBOOLEAN) return 'boolean';
  if (t === lua.LUA_TTABLE) return 'table';
  if (t === lua.LUA_TFUNCTION) return 'function';
  return t === lua.LUA_TLIGHTUSERDATA ? 'lightuserdata' : 'userdata';
}

/** The `cjson` module: encode/decode as Redis's bundled lua-cjson (numbers as "%.14g", "/" escaped). */
export function openCjson(L: LuaState): void {
  lua.lua_createtable(L, 0, 4);
  setFunction(L, 'encode', (L2) => {
    if (lua.lua_gettop(L2) !== 1) raiseAt(L2, 'bad argument #1 to \'encode\' (expected 1 argument)');
    const out: Buffer[] = [];
    encodeValue(L2, 1, 0, out);
    pushBytes(L2, Buffer.concat(out));
    return 1;
  });
  setFunction(L, 'decode', (L2) => {
    if (lua.lua_gettop(L2) !== 1) raiseAt(L2, "bad argument #1 to 'decode' (expected 1 argument)");
    const text = toBytes(L2, 1);
    if (text === undefined) raiseAt(L2, "bad argument #1 to 'decode' (string expected, got " + lua51TypeName(lua.lua_type(L2, 1)) + ')');
    decodeJson(L2, text);
    return 1;
  });
  lua.lua_pushlightuserdata(L, JSON_NULL);
  lua.lua_setfield(L, -2, 'null');
  pushBytes(L, '2.1.0');
  lua.lua_setfield(L, -2, luaString('_VERSION'));
}
