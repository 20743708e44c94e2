import { lauxlib, lua, type LuaState } from './fengari-api.js';

/**
 * coroutine.wrap as a JS function over the sandbox's pause-aware coroutine.resume (sandbox.ts
 * prelude). A Lua wrapper would be tail-called by `return g()` and take the caller's frame with
 * it, so an error would lose the position Lua 5.1's C auxwrap puts in front of it (and the
 * "script: …, on @user_script:N." tail); a JS function, like auxwrap, leaves the caller's frame
 * in place. It calls resume with a continuation, so a pause passed up through it can yield.
 */
export function installCoroutineWrap(L: LuaState): void {
  lua.lua_getglobal(L, 'coroutine');
  const lib = lua.lua_gettop(L);
  lua.lua_getfield(L, lib, 'resume');
  lua.lua_getfield(L, lib, 'create');
  lua.lua_pushjsclosure(L, wrap, 2);
  lua.lua_setfield(L, lib, 'wrap');
  lua.lua_pop(L, 1);
}

/** coroutine.wrap(f); upvalues: resume, create. */
function wrap(L: LuaState): number {
  lauxlib.luaL_checktype(L, 1, lua.LUA_TFUNCTION);
  lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
  lua.lua_pushvalue(L, lua.lua_upvalueindex(2));
  lua.lua_pushvalue(L, 1);
  lua.lua_call(L, 1, 1);
  lua.lua_pushjsclosure(L, wrapped, 2);
  return 1;
}

/** The function wrap returns; upvalues: resume, the coroutine. */
function wrapped(L: LuaState): number {
  const n = lua.lua_gettop(L);
  lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
  lua.lua_pushvalue(L, lua.lua_upvalueindex(2));
  lua.lua_rotate(L, 1, 2);
  lua.lua_callk(L, n + 1, lua.LUA_MULTRET, 0, finish);
  return finish(L, lua.LUA_OK, 0);
}

/** resume's results: the values after `true`, or its error raised again with the caller's position in front of a string. */
function finish(L: LuaState, _status: number, _ctx: number): number {
  if (lua.lua_toboolean(L, 1)) return lua.lua_gettop(L) - 1;
  if (lua.lua_type(L, 2) === lua.LUA_TSTRING) {
    lauxlib.luaL_where(L, 1);
    lua.lua_insert(L, 2);
    lua.lua_concat(L, 2);
  }
  return lua.lua_error(L);
}
