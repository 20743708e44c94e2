import { lauxlib, lua, type LuaState } from './fengari-api.js';
import { raise, toBytes } from './lua-bytes.js';
import { FUNCTION_FLAGS } from './shebang.js';

/**
 * Receives what redis.register_function registers while FUNCTION LOAD runs a library; returns an
 * error text when the name is refused, which the call raises (so the load stops there, as in Redis).
 */
export type Registrar = (name: string, fnRef: number, flags: string[], description: string | undefined) => string | undefined;

/** Lua 5.1's lua_isstring: a string, or a number (which converts). */
function stringArg(L: LuaState, idx: number): Buffer | undefined {
  const t = lua.lua_type(L, idx);
  return t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER ? toBytes(L, idx) : undefined;
}

/**
 * redis.register_function(name, fn) or redis.register_function{function_name=…, callback=…,
 * flags={…}, description=…}, with Redis 7.0's argument errors (function_lua.c): named keys match
 * without regard to case, names and descriptions may be numbers.
 */
export function registerFunction(L: LuaState, register: Registrar | undefined): number {
  if (register === undefined) raise(L, 'redis.register_function can only be called on FUNCTION LOAD command');
  const argc = lua.lua_gettop(L);
  if (argc < 1 || argc > 2) raise(L, 'wrong number of arguments to redis.register_function');
  let name: Buffer | undefined;
  let flags: string[] = [];
  let description: string | undefined;
  if (argc === 2) {
    name = stringArg(L, 1);
    if (name === undefined) raise(L, 'first argument to redis.register_function must be a string');
    if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) raise(L, 'second argument to redis.register_function must be a function');
    lua.lua_pushvalue(L, 2);
  } else {
    if (lua.lua_type(L, 1) !== lua.LUA_TTABLE) raise(L, 'calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).');
    let fnAt = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, 1)) {
      const keyType = lua.lua_type(L, -2);
      if (keyType !== lua.LUA_TSTRING && keyType !== lua.LUA_TNUMBER) raise(L, 'named argument key given to redis.register_function is not a string');
      // lua_next must see the key as it is: read a number key from a copy.
      lua.lua_pushvalue(L, -2);
      const key = toBytes(L, -1)!.toString('latin1').toLowerCase();
      lua.lua_pop(L, 1);
      if (key === 'function_name') {
        name = stringArg(L, -1);
        if (name === undefined) raise(L, 'function_name argument given to redis.register_function must be a string');
      } else if (key === 'description') {
        const d = stringArg(L, -1);
        if (d === undefined) raise(L, 'description argument given to redis.register_function must be a string');
        description = d.toString('utf8');
      } else if (key === 'callback') {
        if (lua.lua_type(L, -1) !== lua.LUA_TFUNCTION) raise(L, 'callback argument given to redis.register_function must be a function');
        lua.lua_pushvalue(L, -1);
        lua.lua_insert(L, 2);
        fnAt = 2;
      } else if (key === 'flags') flags = readFlags(L, lua.lua_gettop(L));
      else raise(L, 'unknown argument given to redis.register_function');
      lua.lua_pop(L, 1);
    }
    if (name === undefined) raise(L, 'redis.register_function must get a function name argument');
    if (fnAt === 0) raise(L, 'redis.register_function must get a callback argument');
    lua.lua_pushvalue(L, fnAt);
  }
  const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  const refused = register(name!.toString('latin1'), ref, flags, description);
  if (refused !== undefined) {
    lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, ref);
    raise(L, refused);
  }
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
