import { lua, type LuaState } from './fengari-api.js';

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
