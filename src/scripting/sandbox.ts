import { installCoroutineWrap } from './coroutine-wrap.js';
import { keepHooksThroughPcall } from './pcall-hooks.js';
import { lauxlib, loadFengari, lua, lualib, luaString, type LuaState } from './fengari-api.js';
import { pushBytes, raise, raiseAt } from './lua-bytes.js';
import { openBit } from './lib-bit.js';
import { openCjson } from './lib-cjson.js';
import { openCmsgpack } from './lib-cmsgpack.js';
import { openFormat } from './lib-format.js';
import { openStruct } from './lib-struct.js';
import { strtoulValue } from './lua-numerals.js';
import { lrand48, LRAND48_MAX, srand48, toCInt } from './lua-random.js';

/** Registry field holding the table where the visible globals really live. */
/**
 * Registry key of the table the globals proxy reads: a light userdata, so the lookup on every
 * global access hashes an object identity rather than converting and interning a string.
 */
const HIDDEN_GLOBALS = { name: 'ringkv.globals' };
const READONLY = 'ringkv.readonly';

/**
 * Lua 5.1 names Redis scripts use that 5.3 dropped, the globals Redis removes, the message handler
 * that gives errors their "script: …, on @user_script:N." tail (Redis's __redis__err__handler), and
 * Redis 7's pcall, which hands an error table's `err` text to the script as a string.
 */
const PRELUDE = `
local getinfo, type, tostring = debug.getinfo, type, tostring
-- Numbers print as Lua 5.1 prints them also through tostring and string.format('%s').
debug.setmetatable(0, {__tostring = function(n) return n .. '' end})
local rawpcall, tpack, tunpack = pcall, table.pack, table.unpack
unpack = table.unpack
loadstring = function(s, name) return load(s, name, 't') end
table.setn = function() end
table.pack, table.unpack, table.move = nil, nil, nil
math.mod = math.fmod
math.maxinteger, math.mininteger, math.tointeger, math.type, math.ult = nil, nil, nil, nil, nil
string.gfind = string.gmatch
string.pack, string.unpack, string.packsize = nil, nil, nil
gcinfo = function() return math.floor(collectgarbage('count')) end
_VERSION = 'Lua 5.1'
print, dofile, loadfile, require, rawlen, utf8, package, debug = nil, nil, nil, nil, nil, nil, nil, nil
-- A coroutine the script made is paused by the busy-threshold hook as the script's own thread is:
-- the pause is passed up through each resume to the script's thread, which yields to the event
-- loop, and the coroutine then goes on where it stopped (hook_pause: taken once, set to pass on).
local co_resume, co_yield, co_isyieldable = coroutine.resume, coroutine.yield, coroutine.isyieldable
local hook_pause = __ringkv_hook_pause
__ringkv_hook_pause = nil
coroutine.resume = function(co, ...)
  local r = tpack(co_resume(co, ...))
  while r[1] and r.n == 1 and hook_pause() do
    if co_isyieldable() then
      hook_pause(true)
      co_yield()
    end
    r = tpack(co_resume(co))
  end
  return tunpack(r, 1, r.n)
end
pcall = function(f, ...)
  local r = tpack(rawpcall(f, ...))
  if not r[1] and type(r[2]) == 'table' and type(r[2].err) == 'string' then return false, r[2].err end
  return tunpack(r, 1, r.n)
end
__redis__err__handler = function(err)
  -- The erring line is the first one not in a C/JS function or in this prelude's compatibility wrappers.
  local level = 2
  local i = getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.what == 'J' or i.source == '=prelude') do
    level = level + 1
    i = getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
`;

function isReadonly(L: LuaState, idx: number): boolean {
  const abs = lua.lua_absindex(L, idx);
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, READONLY);
  lua.lua_pushvalue(L, abs);
  lua.lua_rawget(L, -2);
  const yes = lua.lua_toboolean(L, -1);
  lua.lua_pop(L, 2);
  return yes;
}

/** Raised with the position of the script line that did it, as Redis's patched VM does. */
function readonlyError(L: LuaState): never {
  return lauxlib.luaL_error(L, luaString('Attempt to modify a readonly table'));
}

/** Pushes READONLY[proxy] (the table a read-only proxy stands for) for the proxy at `idx`. */
function pushProxied(L: LuaState, idx: number): void {
  const abs = lua.lua_absindex(L, idx);
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, READONLY);
  lua.lua_pushvalue(L, abs);
  lua.lua_rawget(L, -2);
  lua.lua_remove(L, -2);
}

/** __index of a proxy whose unknown fields are errors (Redis's text for globals, also used for the load-time `redis`). */
function strictIndex(L: LuaState): number {
  pushProxied(L, 1);
  lua.lua_pushvalue(L, 2);
  lua.lua_rawget(L, -2);
  if (lua.lua_type(L, -1) === lua.LUA_TNIL) {
    const name = lua.lua_type(L, 2) === lua.LUA_TSTRING ? Buffer.from(lua.lua_tostring(L, 2)!).toString('latin1') : '?';
    lauxlib.luaL_error(L, luaString(`Script attempted to access nonexistent global variable '${name.replace(/%/g, '%%')}'`));
  }
  return 1;
}

/**
 * Replaces the table on top of the stack with an empty proxy whose reads go to it and whose writes
 * fail; with `strict`, reading a field it lacks is an error too.
 */
function pushReadonlyProxy(L: LuaState, strict = false): void {
  const real = lua.lua_gettop(L);
  lua.lua_createtable(L, 0, 0);
  const proxy = lua.lua_gettop(L);
  lua.lua_createtable(L, 0, 4);
  if (strict) lua.lua_pushjsfunction(L, strictIndex);
  else lua.lua_pushvalue(L, real);
  lua.lua_setfield(L, -2, '__index');
  lua.lua_pushjsfunction(L, readonlyError);
  lua.lua_setfield(L, -2, '__newindex');
  lua.lua_pushjsfunction(L, (L2) => {
    lua.lua_getglobal(L2, 'next');
    pushProxied(L2, 1);
    lua.lua_pushnil(L2);
    return 3;
  });
  lua.lua_setfield(L, -2, '__pairs');
  lua.lua_setmetatable(L, proxy);
  // Remember proxy -> real (for reads and pairs) and mark the proxy read-only (rawset/setmetatable refuse it).
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, READONLY);
  lua.lua_pushvalue(L, proxy);
  lua.lua_pushvalue(L, real);
  lua.lua_rawset(L, -3);
  lua.lua_pop(L, 1);
  lua.lua_remove(L, real);
}

/** What FUNCTION LOAD's code sees, as Redis 7.0: only `redis`, with only these fields. */
const LOAD_API = ['register_function', 'log', 'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING', 'REDIS_VERSION', 'REDIS_VERSION_NUM'];
const LOAD_GLOBALS = 'ringkv.loadglobals';

/** Builds the load-time globals from the full `redis` table (call after protectGlobals). */
function createLoadGlobals(L: LuaState): void {
  lua.lua_rawgetp(L, lua.LUA_REGISTRYINDEX, HIDDEN_GLOBALS);
  lua.lua_getfield(L, -1, 'redis');
  pushProxied(L, -1);
  const redis = lua.lua_gettop(L);
  lua.lua_createtable(L, 0, LOAD_API.length);
  for (const name of LOAD_API) {
    lua.lua_getfield(L, redis, name);
    lua.lua_setfield(L, -2, name);
  }
  // Only FUNCTION LOAD's code has it: a function calling it when run finds nil, as in Redis 7.0.
  lua.lua_pushnil(L);
  lua.lua_setfield(L, redis, 'register_function');
  pushReadonlyProxy(L, true);
  lua.lua_createtable(L, 0, 1);
  lua.lua_insert(L, -2);
  lua.lua_setfield(L, -2, 'redis');
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, LOAD_GLOBALS);
  lua.lua_pop(L, 3);
}

/** Runs `body` with only the load-time globals visible (FUNCTION LOAD), restoring the full set after. */
export function withLoadGlobals<T>(L: LuaState, body: () => T): T {
  lua.lua_rawgetp(L, lua.LUA_REGISTRYINDEX, HIDDEN_GLOBALS);
  const full = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, LOAD_GLOBALS);
  lua.lua_rawsetp(L, lua.LUA_REGISTRYINDEX, HIDDEN_GLOBALS);
  try {
    return body();
  } finally {
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, full);
    lua.lua_rawsetp(L, lua.LUA_REGISTRYINDEX, HIDDEN_GLOBALS);
    lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, full);
  }
}

/** Library tables scripts see read-only (Redis 7 makes them so). */
const LIBRARIES = ['string', 'math', 'table', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct', 'redis'];

/**
 * A Lua state laid out as Redis 7.0's script environment: base, table, string, math, coroutine,
 * cjson, cmsgpack, bit and struct; `redis` as `openRedis` builds it; no os/io/loadfile/dofile/print;
 * globals and library tables read-only, reading an unknown global an error.
 */
export function createSandbox(openRedis: (L: LuaState) => void, hookPause: (pass: boolean) => boolean): LuaState {
  loadFengari();
  const L = lauxlib.luaL_newstate();
  // A JS exception inside a library function (a bug, or an allocation the heap refuses) becomes a
  // script error instead of unwinding through the VM.
  lua.lua_atnativeerror(L, (L2) => {
    const err = lua.lua_touserdata(L2, 1);
    pushBytes(L2, `Internal error in the script engine: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  });
  for (const [name, open] of [
    ['_G', lualib.luaopen_base], ['table', lualib.luaopen_table], ['string', lualib.luaopen_string],
    ['math', lualib.luaopen_math], ['debug', lualib.luaopen_debug], ['coroutine', lualib.luaopen_coroutine],
  ] as const) {
    lauxlib.luaL_requiref(L, luaString(name), open, true);
    lua.lua_pop(L, 1);
  }
  lua.lua_pushnil(L);
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, '_LOADED');
  for (const [name, open] of [['cjson', openCjson], ['cmsgpack', openCmsgpack], ['bit', openBit], ['struct', openStruct], ['redis', openRedis]] as const) {
    open(L);
    lua.lua_setglobal(L, name);
  }
  // Before the prelude, which keeps the library's pcall for its own.
  keepHooksThroughPcall(L);
  lua.lua_pushjsfunction(L, (L2) => {
    lua.lua_pushboolean(L2, hookPause(lua.lua_toboolean(L2, 1)));
    return 1;
  });
  lua.lua_setglobal(L, '__ringkv_hook_pause');
  if (lauxlib.luaL_loadbuffer(L, luaString(PRELUDE), null, luaString('=prelude')) !== lua.LUA_OK) {
    throw new Error(`script prelude failed: ${Buffer.from(lua.lua_tostring(L, -1) ?? new Uint8Array()).toString()}`);
  }
  lua.lua_call(L, 0, 0);
  // coroutine.wrap over the prelude's coroutine.resume.
  installCoroutineWrap(L);
  openCompat(L);
  openFormat(L);
  lua.lua_createtable(L, 0, 0);
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, READONLY);
  guardRawAccess(L);
  protectGlobals(L);
  createLoadGlobals(L);
  return L;
}

/** Lua 5.1's LUAI_MAXCSTACK: the most stack slots a C function may use. */
const LUAI_MAXCSTACK = 8000;

/** Largest string string.rep builds (proto-max-bulk-len's default): beyond it a script could exhaust the heap. */
const REP_BYTES_MAX = 512 * 1024 * 1024;

/** Lua 5.1 functions 5.3 lacks or changed, written as C functions so their errors name the script's line. */
function openCompat(L: LuaState): void {
  // Lua 5.1's tonumber: no base or base 10 is the plain conversion; another base reads a string (a
  // number as its string) with strtoul (lua-numerals.ts). Fengari's wraps at 2^32.
  lua.lua_pushjsfunction(L, (L2) => {
    const base = lua.lua_type(L2, 2) <= 0 ? 10 : Math.trunc(lauxlib.luaL_checknumber(L2, 2));
    if (base === 10) {
      lauxlib.luaL_checkany(L2, 1);
      if (lua.lua_isnumber(L2, 1)) lua.lua_pushnumber(L2, lua.lua_tonumber(L2, 1));
      else lua.lua_pushnil(L2);
      return 1;
    }
    const s = lauxlib.luaL_checkstring(L2, 1);
    if (base < 2 || base > 36) lauxlib.luaL_argerror(L2, 2, 'base out of range');
    const n = strtoulValue(s, base);
    if (n === undefined) lua.lua_pushnil(L2);
    else lua.lua_pushnumber(L2, n);
    return 1;
  });
  lua.lua_setglobal(L, 'tonumber');
  // Lua 5.1's error: the position goes in front of any message lua_isstring accepts, so a number
  // too (5.3 only prefixes strings): error(12) is "user_script:1: 12". The level is a C int.
  lua.lua_pushjsfunction(L, (L2) => {
    const level = lua.lua_type(L2, 2) <= 0 ? 1 : toCInt(lauxlib.luaL_checknumber(L2, 2));
    lua.lua_settop(L2, 1);
    if (lua.lua_isstring(L2, 1) && level > 0) {
      lauxlib.luaL_where(L2, level);
      lua.lua_pushvalue(L2, 1);
      lua.lua_concat(L2, 2);
    }
    return lua.lua_error(L2);
  });
  lua.lua_setglobal(L, 'error');
  // Lua 5.1's unpack: raw length, C int bounds, and no more results than its C stack allows
  // (LUAI_MAXCSTACK 8000 slots, the arguments included), so unpack of 8000 elements fails in Redis.
  lua.lua_pushjsfunction(L, (L2) => {
    lauxlib.luaL_checktype(L2, 1, lua.LUA_TTABLE);
    let i = lua.lua_type(L2, 2) <= 0 ? 1 : toCInt(lauxlib.luaL_checknumber(L2, 2));
    const e = lua.lua_type(L2, 3) <= 0 ? toCInt(lua.lua_rawlen(L2, 1)) : toCInt(lauxlib.luaL_checknumber(L2, 3));
    if (i > e) return 0;
    const n = (e - i + 1) | 0; // C int arithmetic: a span past 2^31 wraps to <= 0
    if (n <= 0 || lua.lua_gettop(L2) + n > LUAI_MAXCSTACK || !lua.lua_checkstack(L2, n)) raiseAt(L2, 'too many results to unpack');
    for (; i <= e; i++) lua.lua_rawgeti(L2, 1, i);
    return n;
  });
  lua.lua_setglobal(L, 'unpack');
  // Redis's math.random / math.randomseed (lua-random.ts), with Lua 5.1's argument handling: the
  // number is drawn before the arguments are checked, bounds are C ints.
  lua.lua_getglobal(L, 'math');
  lua.lua_pushjsfunction(L, (L2) => {
    const r = (lrand48() % LRAND48_MAX) / LRAND48_MAX;
    switch (lua.lua_gettop(L2)) {
      case 0:
        lua.lua_pushnumber(L2, r);
        break;
      case 1: {
        const u = toCInt(lauxlib.luaL_checknumber(L2, 1));
        if (u < 1) lauxlib.luaL_argerror(L2, 1, luaString('interval is empty'));
        lua.lua_pushnumber(L2, Math.floor(r * u) + 1);
        break;
      }
      case 2: {
        const l = toCInt(lauxlib.luaL_checknumber(L2, 1));
        const u = toCInt(lauxlib.luaL_checknumber(L2, 2));
        if (l > u) lauxlib.luaL_argerror(L2, 2, luaString('interval is empty'));
        lua.lua_pushnumber(L2, Math.floor(r * ((u - l + 1) | 0)) + l);
        break;
      }
      default:
        raiseAt(L2, 'wrong number of arguments');
    }
    return 1;
  });
  lua.lua_setfield(L, -2, 'random');
  lua.lua_pushjsfunction(L, (L2) => {
    srand48(toCInt(lauxlib.luaL_checknumber(L2, 1)));
    return 0;
  });
  lua.lua_setfield(L, -2, 'randomseed');
  lua.lua_pop(L, 1);
  // Lua 5.1's math.log has no base argument (5.3's takes one): math.log(8, 2) is ln 8 in Redis.
  lua.lua_getglobal(L, 'math');
  lua.lua_pushjsfunction(L, (L2) => {
    lua.lua_pushnumber(L2, Math.log(lauxlib.luaL_checknumber(L2, 1)));
    return 1;
  });
  lua.lua_setfield(L, -2, 'log');
  lua.lua_pop(L, 1);
  lua.lua_getglobal(L, 'string');
  lua.lua_pushjsfunction(L, (L2) => {
    const s = lauxlib.luaL_checkstring(L2, 1);
    const n = lauxlib.luaL_checknumber(L2, 2);
    // Lua 5.1 takes the count as a C int: 2^31 wraps negative and gives "".
    const count = Number.isFinite(n) ? Number(BigInt.asIntN(32, BigInt(Math.trunc(n)))) : 0;
    if (count <= 0 || s.length === 0) {
      pushBytes(L2, Buffer.alloc(0));
      return 1;
    }
    if (s.length * count > REP_BYTES_MAX) raise(L2, 'string.rep: resulting string too large');
    const out = new Uint8Array(s.length * count);
    for (let k = 0; k < count; k++) out.set(s, k * s.length);
    lua.lua_pushstring(L2, out);
    return 1;
  });
  lua.lua_setfield(L, -2, 'rep');
  lua.lua_pop(L, 1);
  lua.lua_getglobal(L, 'table');
  lua.lua_pushjsfunction(L, (L2) => {
    lauxlib.luaL_checktype(L2, 1, lua.LUA_TTABLE);
    lua.lua_pushnumber(L2, lua.lua_rawlen(L2, 1));
    return 1;
  });
  lua.lua_setfield(L, -2, 'getn');
  lua.lua_pushjsfunction(L, (L2) => {
    lauxlib.luaL_checktype(L2, 1, lua.LUA_TTABLE);
    let max = 0;
    lua.lua_pushnil(L2);
    while (lua.lua_next(L2, 1)) {
      lua.lua_pop(L2, 1);
      if (lua.lua_type(L2, -1) === lua.LUA_TNUMBER) max = Math.max(max, lua.lua_tonumber(L2, -1));
    }
    lua.lua_pushnumber(L2, max);
    return 1;
  });
  lua.lua_setfield(L, -2, 'maxn');
  // table.foreach / foreachi: call f(k, v) per entry and stop at the first non-nil result, which is returned.
  lua.lua_pushjsfunction(L, (L2) => {
    lauxlib.luaL_checktype(L2, 1, lua.LUA_TTABLE);
    lauxlib.luaL_checktype(L2, 2, lua.LUA_TFUNCTION);
    lua.lua_pushnil(L2);
    while (lua.lua_next(L2, 1)) {
      lua.lua_pushvalue(L2, 2);
      lua.lua_pushvalue(L2, -3);
      lua.lua_pushvalue(L2, -3);
      lua.lua_call(L2, 2, 1);
      if (lua.lua_type(L2, -1) !== lua.LUA_TNIL) return 1;
      lua.lua_pop(L2, 2);
    }
    return 0;
  });
  lua.lua_setfield(L, -2, 'foreach');
  lua.lua_pushjsfunction(L, (L2) => {
    lauxlib.luaL_checktype(L2, 1, lua.LUA_TTABLE);
    lauxlib.luaL_checktype(L2, 2, lua.LUA_TFUNCTION);
    const n = lua.lua_rawlen(L2, 1);
    for (let i = 1; i <= n; i++) {
      lua.lua_pushvalue(L2, 2);
      lua.lua_pushnumber(L2, i);
      lua.lua_rawgeti(L2, 1, i);
      lua.lua_call(L2, 2, 1);
      if (lua.lua_type(L2, -1) !== lua.LUA_TNIL) return 1;
      lua.lua_pop(L2, 1);
    }
    return 0;
  });
  lua.lua_setfield(L, -2, 'foreachi');
  lua.lua_pop(L, 1);
  lua.lua_getglobal(L, 'math');
  const math1 = (name: string, f: (x: number) => number): void => {
    lua.lua_pushjsfunction(L, (L2) => {
      lua.lua_pushnumber(L2, f(lauxlib.luaL_checknumber(L2, 1)));
      return 1;
    });
    lua.lua_setfield(L, -2, name);
  };
  const math2 = (name: string, f: (x: number, y: number) => number): void => {
    lua.lua_pushjsfunction(L, (L2) => {
      lua.lua_pushnumber(L2, f(lauxlib.luaL_checknumber(L2, 1), lauxlib.luaL_checknumber(L2, 2)));
      return 1;
    });
    lua.lua_setfield(L, -2, name);
  };
  math2('pow', (a, b) => a ** b);
  math2('atan2', Math.atan2);
  math2('ldexp', (m, e) => m * 2 ** Math.trunc(e));
  math1('log10', Math.log10);
  math1('cosh', Math.cosh);
  math1('sinh', Math.sinh);
  math1('tanh', Math.tanh);
  lua.lua_pushjsfunction(L, (L2) => {
    const x = lauxlib.luaL_checknumber(L2, 1);
    if (x === 0 || !Number.isFinite(x)) {
      lua.lua_pushnumber(L2, x);
      lua.lua_pushnumber(L2, 0);
      return 2;
    }
    let e = Math.floor(Math.log2(Math.abs(x))) + 1;
    let m = x / 2 ** e;
    if (Math.abs(m) >= 1) { m /= 2; e += 1; } else if (Math.abs(m) < 0.5) { m *= 2; e -= 1; }
    lua.lua_pushnumber(L2, m);
    lua.lua_pushnumber(L2, e);
    return 2;
  });
  lua.lua_setfield(L, -2, 'frexp');
  lua.lua_pop(L, 1);
}

/** rawset and setmetatable refuse read-only tables (they would bypass the proxies). */
function guardRawAccess(L: LuaState): void {
  for (const name of ['rawset', 'setmetatable']) {
    lua.lua_getglobal(L, name);
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_pushjsfunction(L, (L2) => {
      if (lua.lua_type(L2, 1) === lua.LUA_TTABLE && isReadonly(L2, 1)) raise(L2, 'Attempt to modify a readonly table');
      lua.lua_rawgeti(L2, lua.LUA_REGISTRYINDEX, ref);
      lua.lua_insert(L2, 1);
      lua.lua_call(L2, lua.lua_gettop(L2) - 1, lua.LUA_MULTRET);
      return lua.lua_gettop(L2);
    });
    lua.lua_setglobal(L, name);
  }
  // Numbers (whose metatable prints them as Lua 5.1) and the library proxies show no metatable, as in Redis.
  lua.lua_getglobal(L, 'getmetatable');
  const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  lua.lua_pushjsfunction(L, (L2) => {
    lauxlib.luaL_checkany(L2, 1);
    const t = lua.lua_type(L2, 1);
    if (t === lua.LUA_TNUMBER || (t === lua.LUA_TTABLE && isReadonly(L2, 1) && !isGlobals(L2, 1))) {
      lua.lua_pushnil(L2);
      return 1;
    }
    lua.lua_rawgeti(L2, lua.LUA_REGISTRYINDEX, ref);
    lua.lua_pushvalue(L2, 1);
    lua.lua_call(L2, 1, 1);
    return 1;
  });
  lua.lua_setglobal(L, 'getmetatable');
}

function isGlobals(L: LuaState, idx: number): boolean {
  const abs = lua.lua_absindex(L, idx);
  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
  const same = lua.lua_rawequal(L, abs, -1);
  lua.lua_pop(L, 1);
  return same;
}

/**
 * Moves every global into a hidden table and leaves the globals table empty behind a read-only
 * proxy metatable: chunks compiled later (scripts, loadstring) see the globals but cannot add or
 * replace one. KEYS and ARGV are set in the hidden table before each run.
 */
function protectGlobals(L: LuaState): void {
  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
  const g = lua.lua_gettop(L);
  lua.lua_createtable(L, 0, 64);
  const hidden = lua.lua_gettop(L);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, g)) {
    lua.lua_pushvalue(L, -2);
    lua.lua_insert(L, -2);
    lua.lua_rawset(L, hidden);
  }
  for (const name of LIBRARIES) {
    lua.lua_getfield(L, hidden, name);
    pushReadonlyProxy(L);
    lua.lua_setfield(L, hidden, name);
  }
  // Empty the real globals table; every read now goes through the hidden table.
  for (;;) {
    lua.lua_pushnil(L);
    if (!lua.lua_next(L, g)) break;
    lua.lua_pop(L, 1);
    lua.lua_pushnil(L);
    lua.lua_rawset(L, g);
  }
  lua.lua_pushvalue(L, g);
  lua.lua_setfield(L, hidden, '_G');
  lua.lua_pushvalue(L, hidden);
  lua.lua_rawsetp(L, lua.LUA_REGISTRYINDEX, HIDDEN_GLOBALS);
  // Metatable of the real globals table: reads from the hidden table, unknown names and writes fail.
  lua.lua_createtable(L, 0, 3);
  lua.lua_pushjsfunction(L, (L2) => {
    lua.lua_rawgetp(L2, lua.LUA_REGISTRYINDEX, HIDDEN_GLOBALS);
    lua.lua_pushvalue(L2, 2);
    lua.lua_rawget(L2, -2);
    if (lua.lua_type(L2, -1) === lua.LUA_TNIL) {
      const name = lua.lua_type(L2, 2) === lua.LUA_TSTRING ? Buffer.from(lua.lua_tostring(L2, 2)!).toString('latin1') : '?';
      lauxlib.luaL_error(L2, luaString(`Script attempted to access nonexistent global variable '${name.replace(/%/g, '%%')}'`));
    }
    return 1;
  });
  lua.lua_setfield(L, -2, '__index');
  lua.lua_pushjsfunction(L, readonlyError);
  lua.lua_setfield(L, -2, '__newindex');
  lua.lua_pushjsfunction(L, (L2) => {
    lua.lua_getglobal(L2, 'next');
    lua.lua_rawgetp(L2, lua.LUA_REGISTRYINDEX, HIDDEN_GLOBALS);
    lua.lua_pushnil(L2);
    return 3;
  });
  lua.lua_setfield(L, -2, '__pairs');
  guardMetatable(L);
  lua.lua_setmetatable(L, g);
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, READONLY);
  lua.lua_pushvalue(L, g);
  lua.lua_pushvalue(L, hidden);
  lua.lua_rawset(L, -3);
  lua.lua_pop(L, 1);
  // Strings index the read-only string library, and their metatable is read-only too.
  pushBytes(L, '');
  lua.lua_getmetatable(L, -1);
  lua.lua_getfield(L, hidden, 'string');
  lua.lua_setfield(L, -2, '__index');
  guardMetatable(L);
  lua.lua_pop(L, 4);
}

/**
 * Makes getmetatable return a read-only view of the metatable on top of the stack (left there):
 * a script could otherwise reach the real library tables or switch the globals' protection off
 * through it, and change what later scripts run.
 */
function guardMetatable(L: LuaState): void {
  const mt = lua.lua_gettop(L);
  lua.lua_pushvalue(L, mt);
  pushReadonlyProxy(L);
  lua.lua_setfield(L, mt, '__metatable');
}

/** Sets a global the script cannot set itself (KEYS, ARGV). Pops the value. */
export function setHiddenGlobal(L: LuaState, name: string): void {
  lua.lua_rawgetp(L, lua.LUA_REGISTRYINDEX, HIDDEN_GLOBALS);
  lua.lua_insert(L, -2);
  lua.lua_setfield(L, -2, name);
  lua.lua_pop(L, 1);
}

export { pushBytes };
