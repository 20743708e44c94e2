import { lauxlib, lua, type LuaState } from './fengari-api.js';
import { formatChar, formatFloat, formatInteger, quote51, scanItem } from './lua-format.js';

/** Where the engine's own string.format is kept. */
const ORIGINAL = 'ringkv.string.format';

/**
 * string.format as Lua 5.1 has it. This wrapper walks the format as Lua 5.1 does, checks every
 * argument in order with 5.1's errors, formats the number, `%c` and `%q` items itself as glibc's
 * sprintf does (lua-format.ts; fengari printed `%f` of 2 as "2" and knew no `%G`), and hands
 * fengari's own string.format the rest (`%s`) with each item it formatted replaced by a plain `%s`
 * of the result, so argument positions stay as written. Every error is raised here, where Lua 5.1 raises it, so its message
 * names the script's line.
 */
export function openFormat(L: LuaState): void {
  lua.lua_getglobal(L, 'string');
  lua.lua_getfield(L, -1, 'format');
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ORIGINAL);
  lua.lua_pushjsfunction(L, format51);
  lua.lua_setfield(L, -2, 'format');
  lua.lua_pop(L, 1);
}

function format51(L: LuaState): number {
  const fmt = lauxlib.luaL_checkstring(L, 1);
  const top = lua.lua_gettop(L);
  const out: number[] = [];
  const replaced = new Map<number, Uint8Array>();
  let arg = 1;
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i]!;
    if (c !== 0x25) {
      out.push(c);
      i++;
      continue;
    }
    if (fmt[i + 1] === 0x25) {
      out.push(0x25, 0x25);
      i += 2;
      continue;
    }
    if (++arg > top) lauxlib.luaL_argerror(L, arg, 'no value');
    const item = scanItem(fmt, i + 1);
    if ('error' in item) return lauxlib.luaL_error(L, item.error);
    const text = fmt.subarray(i, item.end);
    i = item.end;
    switch (item.conversion) {
      case 'd': case 'i': case 'o': case 'u': case 'x': case 'X':
        replaced.set(arg, Buffer.from(formatInteger(item, lauxlib.luaL_checknumber(L, arg)), 'latin1'));
        out.push(0x25, 0x73);
        break;
      case 'c':
        replaced.set(arg, formatChar(item, lauxlib.luaL_checknumber(L, arg)));
        out.push(0x25, 0x73);
        break;
      case 'q':
        replaced.set(arg, quote51(lauxlib.luaL_checkstring(L, arg)));
        out.push(0x25, 0x73);
        break;
      case 'e': case 'E': case 'f': case 'g': case 'G':
        replaced.set(arg, Buffer.from(formatFloat(item, lauxlib.luaL_checknumber(L, arg)), 'latin1'));
        out.push(0x25, 0x73);
        break;
      case 's':
        // Lua 5.1 takes strings and numbers only (5.3 prints any value).
        lauxlib.luaL_checkstring(L, arg);
        out.push(...text);
        break;
      default:
        // Lua 5.1 knows no %a / %A; `%%` keeps luaL_error's own formatting off the option.
        return lauxlib.luaL_error(L, `invalid option '%%${item.conversion === '%' ? '%%' : item.conversion}' to 'format'`);
    }
  }
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, ORIGINAL);
  lua.lua_pushstring(L, Uint8Array.from(out));
  for (let a = 2; a <= top; a++) {
    const r = replaced.get(a);
    if (r !== undefined) lua.lua_pushstring(L, r);
    else lua.lua_pushvalue(L, a);
  }
  lua.lua_call(L, top, 1);
  return 1;
}
