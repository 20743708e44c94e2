import { lauxlib, lua, type LuaState } from './fengari-api.js';

/** Pushes bytes as a Lua string (a copy: fengari keeps the array it is given). */
export function pushBytes(L: LuaState, bytes: Buffer | Uint8Array | string): void {
  const copy = typeof bytes === 'string' ? new Uint8Array(Buffer.from(bytes, 'utf8')) : new Uint8Array(bytes);
  lua.lua_pushstring(L, copy);
}

/** The Lua string (or number, converted as Lua converts it) at `idx` as bytes; undefined otherwise. */
export function toBytes(L: LuaState, idx: number): Buffer | undefined {
  const t = lua.lua_type(L, idx);
  if (t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) return undefined;
  const s = lua.lua_tostring(L, idx);
  return s === null ? undefined : Buffer.from(s);
}

/** Sets `t[name] = f` for the table on top of the stack. */
export function setFunction(L: LuaState, name: string, f: (L: LuaState) => number): void {
  lua.lua_pushjsfunction(L, f);
  lua.lua_setfield(L, -2, name);
}

/** Raises a Lua error whose value is the string `message` (no position prefix). */
export function raise(L: LuaState, message: string): never {
  pushBytes(L, message);
  return lua.lua_error(L);
}

/** Raises `message` prefixed with the calling script's position ("user_script:3: "), as luaL_error does in a C library. */
export function raiseAt(L: LuaState, message: string): never {
  lauxlib.luaL_where(L, 1);
  const where = toBytes(L, -1)?.toString('latin1') ?? '';
  lua.lua_pop(L, 1);
  return raise(L, where + message);
}
