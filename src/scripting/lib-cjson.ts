import { lauxlib, lua, luaString, type LuaState } from './fengari-api.js';
import { formatG } from './fengari-api.js';
import { pushBytes, raiseAt, setFunction, toBytes } from './lua-bytes.js';
import { decodeJson, JSON_NULL_REF, LUAI_MAXCSTACK, type CjsonConfig } from './json-decode.js';
import { toCInt } from './lua-random.js';

/** cjson.null: a light userdata, as lua-cjson's (compares equal only to itself). */
export const JSON_NULL = Object.freeze({ cjsonNull: true });
JSON_NULL_REF.value = JSON_NULL;

function lua51TypeName(t: number): string {
  return t === lua.LUA_TNIL ? 'nil' : t === lua.LUA_TBOOLEAN ? 'boolean' : t === lua.LUA_TTABLE ? 'table' : t === lua.LUA_TFUNCTION ? 'function' : 'userdata';
}

/** lua-cjson 2.1.0's defaults, which Redis 7.0 keeps. */
function defaultConfig(): CjsonConfig {
  return {
    sparseConvert: 0, sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000,
    encodeInvalidNumbers: 0, decodeInvalidNumbers: 1, numberPrecision: 14, keepBuffer: 1,
  };
}

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

/** A C `int max = k` store of a double k >= 1: x86 gives INT_MIN for one past the int range. */
const storeInt = (k: number): number => (k < 2 ** 31 ? k : -(2 ** 31));

/**
 * lua-cjson's array test: only integer keys >= 1 (n > 0, else an object); a sparse one (max
 * index past ratio × count and past `safe`) is an error, or an object with encode_sparse_array's convert.
 */
function arrayLength(L: LuaState, idx: number, cfg: CjsonConfig): number {
  let max = 0;
  let count = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx)) {
    lua.lua_pop(L, 1);
    const k = lua.lua_type(L, -1) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -1) : 0;
    if (k === 0 || !(Math.floor(k) === k && k >= 1)) {
      lua.lua_pop(L, 1);
      return -1;
    }
    if (k > max) max = storeInt(k);
    count++;
  }
  if (cfg.sparseRatio > 0 && max > count * cfg.sparseRatio && max > cfg.sparseSafe) {
    if (!cfg.sparseConvert) raiseAt(L, 'Cannot serialise table: excessively sparse array');
    return -1;
  }
  return max;
}

function typeName(L: LuaState, idx: number): string {
  return Buffer.from(lua.lua_typename(L, lua.lua_type(L, idx))).toString('latin1');
}

/** json_append_number: "%.<precision>g", with encode_invalid_numbers deciding NaN and ±Inf. */
function encodeNumber(L: LuaState, idx: number, cfg: CjsonConfig, out: Buffer[]): void {
  const n = lua.lua_tonumber(L, idx);
  if (!Number.isFinite(n)) {
    if (cfg.encodeInvalidNumbers === 0) raiseAt(L, 'Cannot serialise number: must not be NaN or Inf');
    // Mode 2 writes null; mode 1 writes "nan" itself (printf could give "-nan") and inf as printf does.
    if (cfg.encodeInvalidNumbers === 2) return void out.push(Buffer.from('null'));
    if (Number.isNaN(n)) return void out.push(Buffer.from('nan'));
  }
  out.push(Buffer.from(formatG(n, cfg.numberPrecision), 'latin1'));
}

/** A table being written: array elements 1..len, or the pairs lua_next gives. */
interface EncodeFrame {
  abs: number;
  /** Array length, or -1 for an object. */
  len: number;
  /** Elements written so far (the last one is still on the stack above the table). */
  written: number;
  depth: number;
  /** The C frame's slot count where this table's values sit. */
  childSlots: number;
}

/**
 * Appends the value at `idx`: a scalar, or a table's opening bracket with its frame added for
 * encode's loop (which keeps deep tables off the JS call stack). `depth` counts the tables around
 * it; `slots` is how many stack slots lua-cjson's C frame holds there (the argument, then 1 per
 * enclosing array and 2 per enclosing object): it checks 3 more fit in Lua 5.1's 8000, so deep
 * nesting fails where Redis's does.
 */
function appendValue(L: LuaState, idx: number, cfg: CjsonConfig, depth: number, slots: number, out: Buffer[], frames: EncodeFrame[]): void {
  const t = lua.lua_type(L, idx);
  if (t === lua.LUA_TSTRING) return encodeString(toBytes(L, idx)!, out);
  if (t === lua.LUA_TNUMBER) return encodeNumber(L, idx, cfg, out);
  if (t === lua.LUA_TBOOLEAN) return void out.push(Buffer.from(lua.lua_toboolean(L, idx) ? 'true' : 'false'));
  if (t === lua.LUA_TNIL || (t === lua.LUA_TLIGHTUSERDATA && lua.lua_touserdata(L, idx) === JSON_NULL)) return void out.push(Buffer.from('null'));
  if (t !== lua.LUA_TTABLE) raiseAt(L, `Cannot serialise ${typeName(L, idx)}: type not supported`);
  depth++;
  if (depth > cfg.encodeMaxDepth || slots + 3 > LUAI_MAXCSTACK) raiseAt(L, `Cannot serialise, excessive nesting (${depth})`);
  lua.lua_checkstack(L, 4);
  const abs = lua.lua_absindex(L, idx);
  const len = arrayLength(L, abs, cfg);
  const array = len > 0;
  out.push(Buffer.from(array ? '[' : '{'));
  frames.push({ abs, len: array ? len : -1, written: 0, depth, childSlots: slots + (array ? 1 : 2) });
}

function encodeValue(L: LuaState, cfg: CjsonConfig, out: Buffer[]): void {
  const frames: EncodeFrame[] = [];
  appendValue(L, 1, cfg, 0, 1, out, frames);
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    // The previous element (an array's value, an object's value above its key) is done.
    if (f.written > 0) lua.lua_pop(L, 1);
    else if (f.len < 0) lua.lua_pushnil(L);
    if (f.len > 0) {
      if (f.written === f.len) {
        out.push(Buffer.from(']'));
        frames.pop();
        continue;
      }
      if (f.written > 0) out.push(Buffer.from(','));
      f.written++;
      lua.lua_rawgeti(L, f.abs, f.written);
      appendValue(L, -1, cfg, f.depth, f.childSlots, out, frames);
      continue;
    }
    if (!lua.lua_next(L, f.abs)) {
      out.push(Buffer.from('}'));
      frames.pop();
      continue;
    }
    if (f.written > 0) out.push(Buffer.from(','));
    f.written++;
    const kt = lua.lua_type(L, -2);
    if (kt === lua.LUA_TNUMBER) {
      out.push(Buffer.from('"'));
      encodeNumber(L, -2, cfg, out);
      out.push(Buffer.from('":'));
    } else if (kt === lua.LUA_TSTRING) {
      encodeString(toBytes(L, -2)!, out);
      out.push(Buffer.from(':'));
    } else raiseAt(L, `Cannot serialise ${typeName(L, -2)}: table key must be a number or string`);
    appendValue(L, -1, cfg, f.depth, f.childSlots, out, frames);
  }
}

/** json_arg_init: at most `n` arguments, padded with nils so each option can test for one. */
function argInit(L: LuaState, n: number): void {
  if (lua.lua_gettop(L) > n) lauxlib.luaL_argerror(L, n + 1, luaString('found too many arguments'));
  lua.lua_settop(L, n);
}

/** json_integer_option: sets from a C int argument in [min, max] (its error always names argument #1). */
function integerOption(L: LuaState, idx: number, get: () => number, set: (v: number) => void, min: number, max: number): void {
  if (lua.lua_type(L, idx) !== lua.LUA_TNIL) {
    const v = toCInt(lauxlib.luaL_checknumber(L, idx));
    if (!(min <= v && v <= max)) lauxlib.luaL_argerror(L, 1, luaString(`expected integer between ${min} and ${max}`));
    set(v);
  }
  lua.lua_pushinteger(L, get());
}

const BOOL_OPTIONS = ['off', 'on'];

/**
 * json_enum_option: a boolean (true means `boolTrue`) or one of the option names; answers a
 * boolean for off/on and the name otherwise.
 */
function enumOption(L: LuaState, idx: number, get: () => number, set: (v: number) => void, options: string[] = BOOL_OPTIONS): void {
  if (lua.lua_type(L, idx) !== lua.LUA_TNIL) {
    if (lua.lua_type(L, idx) === lua.LUA_TBOOLEAN) set(lua.lua_toboolean(L, idx) ? 1 : 0);
    else set(lauxlib.luaL_checkoption(L, idx, null, options.map((o) => luaString(o))));
  }
  const v = get();
  if (v === 0 || v === 1) lua.lua_pushboolean(L, v === 1);
  else pushBytes(L, options[v]!);
}

/**
 * Pushes a `cjson` module as Redis's bundled lua-cjson 2.1.0: encode/decode and the configuration
 * functions, all sharing one configuration, which lasts as long as the Lua state (so a script that
 * changes it changes it for later scripts, as in Redis); `new` makes a module with its own.
 */
function pushCjson(L: LuaState): void {
  const cfg = defaultConfig();
  lua.lua_createtable(L, 0, 13);
  setFunction(L, 'encode', (L2) => {
    if (lua.lua_gettop(L2) !== 1) lauxlib.luaL_argerror(L2, 1, luaString('expected 1 argument'));
    const out: Buffer[] = [];
    encodeValue(L2, cfg, out);
    pushBytes(L2, Buffer.concat(out));
    return 1;
  });
  setFunction(L, 'decode', (L2) => {
    if (lua.lua_gettop(L2) !== 1) lauxlib.luaL_argerror(L2, 1, luaString('expected 1 argument'));
    const text = toBytes(L2, 1);
    if (text === undefined) raiseAt(L2, "bad argument #1 to 'decode' (string expected, got " + lua51TypeName(lua.lua_type(L2, 1)) + ')');
    decodeJson(L2, text, cfg);
    return 1;
  });
  setFunction(L, 'encode_sparse_array', (L2) => {
    argInit(L2, 3);
    enumOption(L2, 1, () => cfg.sparseConvert, (v) => { cfg.sparseConvert = v; });
    integerOption(L2, 2, () => cfg.sparseRatio, (v) => { cfg.sparseRatio = v; }, 0, 2 ** 31 - 1);
    integerOption(L2, 3, () => cfg.sparseSafe, (v) => { cfg.sparseSafe = v; }, 0, 2 ** 31 - 1);
    return 3;
  });
  setFunction(L, 'encode_max_depth', (L2) => {
    argInit(L2, 1);
    integerOption(L2, 1, () => cfg.encodeMaxDepth, (v) => { cfg.encodeMaxDepth = v; }, 1, 2 ** 31 - 1);
    return 1;
  });
  setFunction(L, 'decode_max_depth', (L2) => {
    argInit(L2, 1);
    integerOption(L2, 1, () => cfg.decodeMaxDepth, (v) => { cfg.decodeMaxDepth = v; }, 1, 2 ** 31 - 1);
    return 1;
  });
  setFunction(L, 'encode_number_precision', (L2) => {
    argInit(L2, 1);
    integerOption(L2, 1, () => cfg.numberPrecision, (v) => { cfg.numberPrecision = v; }, 1, 14);
    return 1;
  });
  // The encode buffer is an allocation detail of the C library: the setting is kept and reported only.
  setFunction(L, 'encode_keep_buffer', (L2) => {
    argInit(L2, 1);
    enumOption(L2, 1, () => cfg.keepBuffer, (v) => { cfg.keepBuffer = v; });
    return 1;
  });
  setFunction(L, 'encode_invalid_numbers', (L2) => {
    argInit(L2, 1);
    enumOption(L2, 1, () => cfg.encodeInvalidNumbers, (v) => { cfg.encodeInvalidNumbers = v; }, ['off', 'on', 'null']);
    return 1;
  });
  setFunction(L, 'decode_invalid_numbers', (L2) => {
    argInit(L2, 1);
    enumOption(L2, 1, () => cfg.decodeInvalidNumbers, (v) => { cfg.decodeInvalidNumbers = v; });
    return 1;
  });
  setFunction(L, 'new', (L2) => {
    pushCjson(L2);
    return 1;
  });
  lua.lua_pushlightuserdata(L, JSON_NULL);
  lua.lua_setfield(L, -2, 'null');
  pushBytes(L, 'cjson');
  lua.lua_setfield(L, -2, '_NAME');
  pushBytes(L, '2.1.0');
  lua.lua_setfield(L, -2, '_VERSION');
}

/** The `cjson` global of a script state. */
export function openCjson(L: LuaState): void {
  pushCjson(L);
}
