import { lauxlib, lua, type LuaState } from './fengari-api.js';
import { raise, toBytes } from './lua-bytes.js';
import { FUNCTION_FLAGS } from './shebang.js';

/** Receives what redis.register_function registers while FUNCTION LOAD runs a library. */
export type Registrar = (name: string, fnRef: number, flags: string[], description: string | undefined) => void;

/**
 * redis.register_function(name, fn) or redis.register_function{function_name=…, callback=…,
 * flags={…}, description=…}, with Redis 7.0's argument errors.
 */
export function registerFunction(L: LuaState, register: Registrar | undefined): number {
  if (register === undefined) raise(L, 'redis.register_function can only be called on FUNCTION LOAD command');
  let name: Buffer | undefined;
  let flags: string[] = [];
  let description: string | undefined;
  if (lua.lua_gettop(L) === 2) {
    name = toBytes(L, 1);
    if (lua.lua_type(L, 1) !== lua.LUA_TSTRING || name === undefined) raise(L, 'first argument to redis.register_function must be a string');
    if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) raise(L, 'second argument to redis.register_function must be a function');
    lua.lua_pushvalue(L, 2);
  } else if (lua.lua_gettop(L) === 1 && lua.lua_type(L, 1) === lua.LUA_TTABLE) {
    let fnAt = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, 1)) {
      const key = lua.lua_type(L, -2) === lua.LUA_TSTRING ? toBytes(L, -2)!.toString('latin1') : '';
      if (key === 'function_name') name = toBytes(L, -1);
      else if (key === 'callback' && lua.lua_type(L, -1) === lua.LUA_TFUNCTION) {
        lua.lua_pushvalue(L, -1);
        lua.lua_insert(L, 2);
        fnAt = 2;
        lua.lua_pop(L, 1);
        continue;
      } else if (key === 'description') description = toBytes(L, -1)?.toString('utf8');
      else if (key === 'flags') flags = readFlags(L, lua.lua_gettop(L));
      else raise(L, 'unknown argument given to redis.register_function');
      lua.lua_pop(L, 1);
    }
    if (name === undefined) raise(L, 'redis.register_function must get a function name argument');
    if (fnAt === 0) raise(L, 'redis.register_function must get a callback argument');
    lua.lua_pushvalue(L, fnAt);
  } else raise(L, 'wrong number of arguments to redis.register_function');
  const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  register(name!.toString('latin1'), ref, flags, description);
  return 0;
}

function readFlags(L: LuaState, idx: number): string[] {
  if (lua.lua_type(L, idx) !== lua.LUA_TTABLE) raise(L, 'flags argument to redis.register_function must be a table representing function flags');
  const out: string[] = [];
  for (let j = 1; lua.lua_rawgeti(L, idx, j) !== lua.LUA_TNIL; j++) {
    const f = toBytes(L, -1)?.toString('latin1');
    lua.lua_pop(L, 1);
    if (f === undefined || !FUNCTION_FLAGS.includes(f)) raise(L, 'unknown flag given');
    out.push(f);
  }
  lua.lua_pop(L, 1);
  return out;
}
