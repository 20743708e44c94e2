import { createRequire } from 'node:module';
import { formatG } from '../core/format-g.js';
import { hexIntegerValue } from './lua-numerals.js';

/**
 * The subset of fengari's C-style API ringkv uses, typed. fengari ships no type declarations; its
 * functions mirror Lua 5.3's C API, with Lua strings as Uint8Array (byte-exact, so binary values
 * pass through scripts unchanged).
 */
export type LuaState = { readonly __luaState: unique symbol };
export type LuaJsFunction = (L: LuaState) => number;
type Idx = number;

/** lua_Debug as lua_getinfo fills it (the fields scripts' error positions need). */
export interface LuaDebug {
  what: Uint8Array | null;
  source: Uint8Array | null;
  currentline: number;
}

export interface LuaApi {
  LUA_REGISTRYINDEX: number;
  LUA_RIDX_GLOBALS: number;
  LUA_MULTRET: number;
  LUA_OK: number;
  LUA_YIELD: number;
  LUA_TNIL: number;
  LUA_TBOOLEAN: number;
  LUA_TLIGHTUSERDATA: number;
  LUA_TNUMBER: number;
  LUA_TSTRING: number;
  LUA_TTABLE: number;
  LUA_TFUNCTION: number;
  LUA_MASKCOUNT: number;
  lua_absindex(L: LuaState, i: Idx): number;
  lua_atnativeerror(L: LuaState, f: LuaJsFunction): void;
  lua_call(L: LuaState, nargs: number, nresults: number): void;
  lua_checkstack(L: LuaState, n: number): boolean;
  lua_concat(L: LuaState, n: number): void;
  lua_createtable(L: LuaState, narr: number, nrec: number): void;
  lua_error(L: LuaState): never;
  lua_getfield(L: LuaState, i: Idx, k: string | Uint8Array): number;
  lua_getglobal(L: LuaState, name: string | Uint8Array): number;
  lua_getmetatable(L: LuaState, i: Idx): boolean;
  lua_gettop(L: LuaState): number;
  lua_insert(L: LuaState, i: Idx): void;
  lua_isinteger(L: LuaState, i: Idx): boolean;
  lua_isnumber(L: LuaState, i: Idx): boolean;
  lua_isstring(L: LuaState, i: Idx): boolean;
  lua_isyieldable(L: LuaState): boolean;
  lua_newthread(L: LuaState): LuaState;
  lua_next(L: LuaState, i: Idx): boolean;
  lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: Idx): number;
  lua_pop(L: LuaState, n: number): void;
  lua_pushboolean(L: LuaState, b: boolean): void;
  lua_pushjsfunction(L: LuaState, f: LuaJsFunction): void;
  lua_tocfunction(L: LuaState, i: Idx): LuaJsFunction | null;
  lua_pushjsclosure(L: LuaState, f: LuaJsFunction, n: number): void;
  lua_rotate(L: LuaState, i: Idx, n: number): void;
  lua_callk(L: LuaState, nargs: number, nresults: number, ctx: number, k: (L: LuaState, status: number, ctx: number) => number): void;
  lua_pushinteger(L: LuaState, n: number): void;
  lua_pushlightuserdata(L: LuaState, p: object): void;
  lua_pushnil(L: LuaState): void;
  lua_pushnumber(L: LuaState, n: number): void;
  lua_pushstring(L: LuaState, s: Uint8Array): Uint8Array;
  lua_pushvalue(L: LuaState, i: Idx): void;
  lua_rawequal(L: LuaState, a: Idx, b: Idx): boolean;
  lua_rawget(L: LuaState, i: Idx): number;
  lua_rawgeti(L: LuaState, i: Idx, n: number): number;
  lua_rawgetp(L: LuaState, i: Idx, p: object): number;
  lua_rawsetp(L: LuaState, i: Idx, p: object): void;
  lua_rawlen(L: LuaState, i: Idx): number;
  lua_rawset(L: LuaState, i: Idx): void;
  lua_rawseti(L: LuaState, i: Idx, n: number): void;
  lua_remove(L: LuaState, i: Idx): void;
  lua_replace(L: LuaState, i: Idx): void;
  lua_resume(L: LuaState, from: LuaState | null, nargs: number): number;
  lua_setfield(L: LuaState, i: Idx, k: string | Uint8Array): void;
  lua_setglobal(L: LuaState, name: string | Uint8Array): void;
  lua_sethook(L: LuaState, f: ((L: LuaState, ar: unknown) => void) | null, mask: number, count: number): void;
  lua_setmetatable(L: LuaState, i: Idx): void;
  lua_status(L: LuaState): number;
  lua_settop(L: LuaState, i: Idx): void;
  lua_toboolean(L: LuaState, i: Idx): boolean;
  lua_tointeger(L: LuaState, i: Idx): number;
  lua_tonumber(L: LuaState, i: Idx): number;
  lua_tostring(L: LuaState, i: Idx): Uint8Array | null;
  lua_touserdata(L: LuaState, i: Idx): unknown;
  lua_type(L: LuaState, i: Idx): number;
  lua_typename(L: LuaState, t: number): Uint8Array;
  lua_upvalueindex(i: number): number;
  lua_yield(L: LuaState, n: number): void;
  lua_xmove(from: LuaState, to: LuaState, n: number): void;
  lua_getstack(L: LuaState, level: number, ar: LuaDebug): number;
  lua_getinfo(L: LuaState, what: string, ar: LuaDebug): number;
  lua_Debug: new () => LuaDebug;
  lua_setupvalue(L: LuaState, funcindex: Idx, n: number): Uint8Array | null;
}

export interface LauxApi {
  luaL_newstate(): LuaState;
  luaL_loadbuffer(L: LuaState, buff: Uint8Array, size: number | null, name: Uint8Array): number;
  luaL_checkstring(L: LuaState, arg: number): Uint8Array;
  luaL_checknumber(L: LuaState, arg: number): number;
  luaL_checkinteger(L: LuaState, arg: number): number;
  luaL_checktype(L: LuaState, arg: number, t: number): void;
  luaL_checkany(L: LuaState, arg: number): void;
  luaL_optinteger(L: LuaState, arg: number, def: number): number;
  luaL_optnumber(L: LuaState, arg: number, def: number): number;
  luaL_checkoption(L: LuaState, arg: number, def: Uint8Array | null, lst: Uint8Array[]): number;
  luaL_error(L: LuaState, fmt: string | Uint8Array, ...args: unknown[]): never;
  luaL_argerror(L: LuaState, arg: number, msg: string | Uint8Array): never;
  luaL_where(L: LuaState, level: number): void;
  luaL_ref(L: LuaState, t: Idx): number;
  luaL_unref(L: LuaState, t: Idx, ref: number): void;
  luaL_requiref(L: LuaState, name: Uint8Array, open: LuaJsFunction, glb: boolean): void;
  luaL_tolstring(L: LuaState, idx: Idx): Uint8Array;
}

export interface LualibApi {
  luaopen_base: LuaJsFunction;
  luaopen_table: LuaJsFunction;
  luaopen_string: LuaJsFunction;
  luaopen_math: LuaJsFunction;
  luaopen_debug: LuaJsFunction;
  luaopen_coroutine: LuaJsFunction;
}

/** A Lua value as fengari's VM helpers take it. */
type TValue = object;

interface LvmInternals {
  tointeger(o: TValue): number | false;
  tonumber(o: TValue): number | false;
}

interface LobjectInternals {
  luaO_str2num(s: Uint8Array, o: { setfltvalue(n: number): void; setivalue(n: number): void }): number;
  luaO_tostring(L: LuaState, obj: { ttisinteger(): boolean; value: number; setsvalue(s: unknown): void }): void;
}

/** Fengari's table: a Map of entries chained in insertion order (f = first, n = next). */
interface TableEntry { key: { type: number; value: unknown; ttisinteger(): boolean; ttisdeadkey(): boolean }; value: unknown; n?: TableEntry }
interface FengariTable { strong: Map<unknown, TableEntry>; f?: TableEntry; [ARRAY_RUN]?: number }
interface LtableInternals {
  luaH_next(L: { stack: TableEntry['key'][] }, t: FengariTable, keyI: number): boolean;
  luaH_getn(t: FengariTable): number;
}
/** Where a traversal remembers the length of the table's 1..n run it visits first. */
const ARRAY_RUN = Symbol('arrayRun');

type Fengari = { lua: LuaApi; lauxlib: LauxApi; lualib: LualibApi; to_luastring(s: string): Uint8Array };

// Bound by loadFengari() before the first Lua state exists (sandbox.ts): the engine is about a
// sixth of what a node loads at start, and a node that never runs a script need not pay for it.
export let lua: LuaApi;
export let lauxlib: LauxApi;
export let lualib: LualibApi;
export let luaString: Fengari['to_luastring'];
let lobject: LobjectInternals;
let lvm: LvmInternals;
let lstring: { luaS_bless(L: LuaState, s: Uint8Array): unknown };
let fengari: Fengari | undefined;

/** Loads fengari and patches its numbers on first use; every later call returns at once. */
export function loadFengari(): void {
  if (fengari !== undefined) return;
  const require = createRequire(import.meta.url);
  const loaded = require('fengari') as Fengari;
  lobject = require('fengari/src/lobject.js') as LobjectInternals;
  lvm = require('fengari/src/lvm.js') as LvmInternals;
  lstring = require('fengari/src/lstring.js') as { luaS_bless(L: LuaState, s: Uint8Array): unknown };
  lua = loaded.lua;
  lauxlib = loaded.lauxlib;
  lualib = loaded.lualib;
  luaString = loaded.to_luastring;
  fengari = loaded;
  patchNumbers();
  patchTableOrder(require('fengari/src/ltable.js') as LtableInternals);
}

/**
 * Makes fengari's Lua 5.3 read and print numbers as Redis's Lua 5.1 does, for every path at once
 * (lexer, tonumber, string coercion, tostring, concatenation, string.format %s):
 * - numerals and numeric strings become floats: Lua 5.1 has only doubles, and fengari's integers are
 *   32-bit, so `tonumber(ARGV[1]) * 1000` on a timestamp would wrap instead of staying exact, and
 *   `0x100000000` would be 0 (lua-numerals.ts);
 * - whole floats print without ".0" (`tostring(3.0)` is "3", `"k:" .. 10/2` is "k:5") with "%.14g",
 *   so key names a script builds are the ones it builds under Redis;
 * - a library function's integer argument drops a fraction instead of refusing it.
 * Both hooks replace exports fengari's own modules call through (`lobject.luaO_…`); the version is
 * pinned and `checkLua51Numbers` proves the patch took effect when the engine starts.
 */
function patchNumbers(): void {
  const str2num = lobject.luaO_str2num;
  lobject.luaO_str2num = (s, o) => {
    let value = 0;
    const probe = { setfltvalue: (n: number) => { value = n; }, setivalue: (n: number) => { value = n; } };
    const used = str2num(s, probe);
    // Fengari keeps a hexadecimal integer modulo 2^32; Lua 5.1 reads it whole, as a double.
    if (used !== 0) o.setfltvalue(hexIntegerValue(s) ?? value);
    return used;
  };
  lobject.luaO_tostring = (L, obj) => {
    obj.setsvalue(lstring.luaS_bless(L, luaString(formatLuaNumber(obj.value))));
  };
  // The integer a library function takes (a position, a count): Lua 5.1 casts the number, dropping
  // its fraction, where 5.3 refuses it ("number has no integer representation"), so
  // string.sub(s, 1, #s / 2) works. Only the C API converts through this export (lua_tointegerx);
  // the VM's own table keys and loops do not.
  const tointeger = lvm.tointeger;
  lvm.tointeger = (o) => {
    const n = tointeger(o);
    if (n !== false) return n;
    const d = lvm.tonumber(o);
    if (d === false || !Number.isFinite(d)) return false;
    // Fengari's integers are 32-bit; Lua 5.1's positions are 64-bit, so a larger one is clamped,
    // which a position past either end of a string or table means anyway.
    return Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), Math.trunc(d)));
  };
}

/**
 * Makes next/pairs (and lua_next, so cjson and cmsgpack) visit a table's keys 1..n first, in
 * order, then the rest, as Lua 5.1 does when 1..n sit in the array part. Fengari walks its Map in
 * insertion order, and a constructor stores its list backwards, so `pairs({1, 2, 3})` gave 3, 2, 1
 * and `cjson.encode({1, a=2})` put "a" first where Redis puts "1" first. n is the border Lua's #
 * finds, taken when a traversal starts (next(t, nil)); a traversal may clear fields but not add
 * any, so the run stays the same until it ends.
 */
function patchTableOrder(ltable: LtableInternals): void {
  const next = ltable.luaH_next;
  const inRun = (key: TableEntry['key'], n: number): boolean =>
    key.ttisinteger() && (key.value as number) >= 1 && (key.value as number) <= n;
  ltable.luaH_next = (L, t, keyI) => {
    const key = L.stack[keyI]!;
    let after: number;
    let n: number;
    if (key.type === lua.LUA_TNIL) {
      n = t[ARRAY_RUN] = ltable.luaH_getn(t);
      after = 0;
    } else {
      n = t[ARRAY_RUN] ??= ltable.luaH_getn(t);
      const v = key.value;
      after = typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= n ? v : -1;
    }
    if (after >= 0) {
      // Inside the run: the next present index, else the first entry outside the run.
      for (let i = after + 1; i <= n; i++) {
        const e = t.strong.get(i);
        if (e) return set(L, keyI, e);
      }
      let e = t.f;
      while (e && (e.key.ttisdeadkey() || inRun(e.key, n))) e = e.n;
      return e ? set(L, keyI, e) : false;
    }
    // Outside the run: insertion order, passing over the run's keys.
    for (;;) {
      if (!next(L, t, keyI)) return false;
      if (!inRun(L.stack[keyI]!, n)) return true;
    }
  };
  const set = (L: { stack: TableEntry['key'][] }, keyI: number, e: TableEntry): true => {
    (L.stack[keyI] as unknown as { setfrom(v: unknown): void }).setfrom(e.key);
    (L.stack[keyI + 1] as unknown as { setfrom(v: unknown): void }).setfrom(e.value);
    return true;
  };
}

/** Lua 5.1's `%.14g` of a number, with nan/inf spelled as glibc prints them. */
export function formatLuaNumber(n: number): string {
  // x86 produces 0/0 with the sign bit set, and glibc prints it "-nan"; JS cannot see a NaN's sign.
  if (Number.isNaN(n)) return '-nan';
  return formatG(n, 14);
}

export { formatG };
