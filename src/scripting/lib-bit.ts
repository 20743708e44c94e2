import { lauxlib, lua, type LuaState } from './fengari-api.js';
import { pushBytes, setFunction } from './lua-bytes.js';

/** LuaBitOp's `bit` module as Redis bundles it: 32-bit two's complement operations. */
export function openBit(L: LuaState): void {
  const arg = (L2: LuaState, i: number): number => {
    const n = lauxlib.luaL_checknumber(L2, i);
    // LuaBitOp normalises through a 2^52+2^51 addition: the low 32 bits of the rounded number.
    return Number.isFinite(n) ? Number(BigInt.asIntN(32, BigInt(Math.round(n)))) : 0;
  };
  const fold = (op: (a: number, b: number) => number) => (L2: LuaState) => {
    const n = lua.lua_gettop(L2);
    let acc = arg(L2, 1);
    for (let i = 2; i <= n; i++) acc = op(acc, arg(L2, i));
    lua.lua_pushnumber(L2, acc | 0);
    return 1;
  };
  const shift = (op: (a: number, b: number) => number) => (L2: LuaState) => {
    lua.lua_pushnumber(L2, op(arg(L2, 1), arg(L2, 2) & 31) | 0);
    return 1;
  };
  lua.lua_createtable(L, 0, 12);
  setFunction(L, 'tobit', (L2) => { lua.lua_pushnumber(L2, arg(L2, 1)); return 1; });
  setFunction(L, 'bnot', (L2) => { lua.lua_pushnumber(L2, ~arg(L2, 1)); return 1; });
  setFunction(L, 'band', fold((a, b) => a & b));
  setFunction(L, 'bor', fold((a, b) => a | b));
  setFunction(L, 'bxor', fold((a, b) => a ^ b));
  setFunction(L, 'lshift', shift((a, b) => a << b));
  setFunction(L, 'rshift', shift((a, b) => a >>> b));
  setFunction(L, 'arshift', shift((a, b) => a >> b));
  setFunction(L, 'rol', shift((a, b) => (a << b) | (a >>> (32 - b))));
  setFunction(L, 'ror', shift((a, b) => (a >>> b) | (a << (32 - b))));
  setFunction(L, 'bswap', (L2) => {
    const a = arg(L2, 1);
    lua.lua_pushnumber(L2, ((a >>> 24) | ((a >> 8) & 0xff00) | ((a & 0xff00) << 8) | (a << 24)) | 0);
    return 1;
  });
  setFunction(L, 'tohex', (L2) => {
    const a = arg(L2, 1);
    let n = lua.lua_type(L2, 2) <= 0 ? 8 : arg(L2, 2);
    const upper = n < 0;
    if (upper) n = -n;
    if (n > 8) n = 8;
    let hex = (a >>> 0).toString(16).padStart(8, '0').slice(8 - n);
    if (upper) hex = hex.toUpperCase();
    pushBytes(L2, hex);
    return 1;
  });
}
