import type { ReplyWriter } from '../protocol/reply-writer.js';
import { formatG, lua, luaString, type LuaState } from './fengari-api.js';
import { pushBytes, toBytes } from './lua-bytes.js';
import type { RespValue } from './resp-reply.js';

/** C's (long long) cast of a double as Redis relies on it: out-of-range and NaN give INT64_MIN on x86. */
function toInt64(n: number): bigint {
  if (!Number.isFinite(n) || Math.abs(n) >= 2 ** 63) return -9223372036854775808n;
  return BigInt(Math.trunc(n));
}

/** Spaces for CR and LF, as Redis does with status and error texts a script returns. */
function oneLine(b: Buffer): string {
  return b.toString('utf8').replace(/[\r\n]/g, ' ');
}

/** Redis's `%.17g` double reply (RESP3 `,` or a RESP2 bulk). */
function writeDouble(out: ReplyWriter, d: number): void {
  // x86 makes 0/0 with the sign bit set and glibc prints it "-nan" (JS cannot see a NaN's sign; see formatLuaNumber).
  const text = Number.isNaN(d) ? '-nan' : formatG(d, 17);
  if (out.proto === 3) out.raw(Buffer.from(`,${text}\r\n`, 'latin1'));
  else out.bulk(text);
}

/** Deepest nesting of a script's reply: where Redis's stack limit would answer, well before the JS stack ends. */
const NESTING_MAX = 1000;

/** Field names as Lua strings, made once: fengari converts a JS string on every lookup otherwise. */
const FIELD_NAMES = new Map<string, Uint8Array>();

/**
 * The table's own field, read raw as Redis 7.0 does: a metamethod here would run unprotected, and
 * an error in it (a script returning _G, whose guard refuses unknown names) would end the process.
 */
export function rawField(L: LuaState, idx: number, name: string): number {
  let key = FIELD_NAMES.get(name);
  if (key === undefined) FIELD_NAMES.set(name, (key = luaString(name)));
  const table = lua.lua_absindex(L, idx);
  lua.lua_pushstring(L, key);
  return lua.lua_rawget(L, table);
}

/** An error table's text as its reply: addReplyErrorFormat trims trailing newlines, then makes the rest spaces. */
function errorLine(raw: Buffer): string {
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
  return oneLine(raw.subarray(0, end));
}

/** Whether the table at `idx` is an error a command call made, already counted in INFO errorstats. */
export function statsCounted(L: LuaState, idx: number): boolean {
  const counted = rawField(L, idx, 'ignore_error_stats_update') === lua.LUA_TBOOLEAN && lua.lua_toboolean(L, -1);
  lua.lua_pop(L, 1);
  return counted;
}

/** A script's result when it is an error table ({err = "..."}): its reply text, and whether it was counted. */
export function topLevelError(L: LuaState, idx: number): { message: string; counted: boolean } | undefined {
  const abs = lua.lua_absindex(L, idx);
  if (lua.lua_type(L, abs) !== lua.LUA_TTABLE) return undefined;
  if (rawField(L, abs, 'err') !== lua.LUA_TSTRING) {
    lua.lua_pop(L, 1);
    return undefined;
  }
  const message = errorLine(toBytes(L, -1)!);
  lua.lua_pop(L, 1);
  return { message, counted: statsCounted(L, abs) };
}

/**
 * Writes the Lua value at `idx` as the script's reply, by Redis 7.0's table (luaReplyToRedisReply):
 * strings are bulks, numbers integers (truncated), true :1, false and nil null; a table is an error
 * ({err}), a status ({ok}), a double, big number, map, set or verbatim string under RESP3 names,
 * otherwise an array of its items up to the first nil. `scriptResp` is what redis.setresp chose.
 */
export function writeLuaValue(L: LuaState, idx: number, out: ReplyWriter, scriptResp: 2 | 3, depth = 0): void {
  // Redis's lua_checkstack(lua, 4) fails once a table is nested about 8,000 deep (Lua 5.1's
  // LUAI_MAXCSTACK), which a table that holds itself reaches: the error stands where the next level
  // would be. This conversion recurses on the JS stack, so it stops at a depth that stack holds.
  if (depth >= NESTING_MAX) return out.error('ERR reached lua stack limit');
  lua.lua_checkstack(L, 4);
  const abs = lua.lua_absindex(L, idx);
  const t = lua.lua_type(L, abs);
  if (t === lua.LUA_TSTRING) return out.bulk(toBytes(L, abs)!);
  if (t === lua.LUA_TNUMBER) return out.int(toInt64(lua.lua_tonumber(L, abs)));
  if (t === lua.LUA_TBOOLEAN) {
    const b = lua.lua_toboolean(L, abs);
    if (scriptResp === 2) return b ? out.int(1) : out.nullBulk();
    return out.bool(b);
  }
  if (t !== lua.LUA_TTABLE) return out.nullBulk();
  if (rawField(L, abs, 'err') === lua.LUA_TSTRING) {
    const msg = errorLine(toBytes(L, -1)!);
    lua.lua_pop(L, 1);
    return out.error(msg);
  }
  lua.lua_pop(L, 1);
  if (rawField(L, abs, 'ok') === lua.LUA_TSTRING) {
    const msg = oneLine(toBytes(L, -1)!);
    lua.lua_pop(L, 1);
    return out.simple(msg);
  }
  lua.lua_pop(L, 1);
  if (rawField(L, abs, 'double') === lua.LUA_TNUMBER) {
    const d = lua.lua_tonumber(L, -1);
    lua.lua_pop(L, 1);
    return writeDouble(out, d);
  }
  lua.lua_pop(L, 1);
  if (rawField(L, abs, 'big_number') === lua.LUA_TSTRING) {
    const text = oneLine(toBytes(L, -1)!);
    lua.lua_pop(L, 1);
    if (out.proto === 3) return out.raw(Buffer.from(`(${text}\r\n`));
    return out.bulk(text);
  }
  lua.lua_pop(L, 1);
  if (rawField(L, abs, 'map') === lua.LUA_TTABLE) {
    const map = lua.lua_gettop(L);
    let n = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, map)) { lua.lua_pop(L, 1); n++; }
    out.mapHeader(n);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, map)) {
      writeLuaValue(L, -2, out, scriptResp, depth + 1);
      writeLuaValue(L, -1, out, scriptResp, depth + 1);
      lua.lua_pop(L, 1);
    }
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  if (rawField(L, abs, 'set') === lua.LUA_TTABLE) {
    const set = lua.lua_gettop(L);
    let n = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, set)) { lua.lua_pop(L, 1); n++; }
    out.setHeader(n);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, set)) {
      lua.lua_pop(L, 1);
      writeLuaValue(L, -1, out, scriptResp, depth + 1);
    }
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  if (rawField(L, abs, 'verbatim_string') === lua.LUA_TTABLE) {
    const v = lua.lua_gettop(L);
    const format = rawField(L, v, 'format') === lua.LUA_TSTRING ? toBytes(L, -1)! : undefined;
    const text = rawField(L, v, 'string') === lua.LUA_TSTRING ? toBytes(L, -1)! : undefined;
    lua.lua_pop(L, 3);
    if (format !== undefined && text !== undefined) {
      if (out.proto === 3) {
        // Redis's addReplyVerbatim: the format is always 3 bytes, cut or padded with spaces.
        const ext = Buffer.alloc(3, 0x20);
        format.copy(ext, 0, 0, Math.min(3, format.indexOf(0) >= 0 ? format.indexOf(0) : format.length));
        out.raw(Buffer.from(`=${text.length + 4}\r\n${ext.toString('latin1')}:`, 'latin1'));
        out.raw(text);
        out.raw(Buffer.from('\r\n'));
      } else out.bulk(text);
      return;
    }
  } else lua.lua_pop(L, 1);
  const items: number[] = [];
  for (let j = 1; ; j++) {
    if (lua.lua_rawgeti(L, abs, j) === lua.LUA_TNIL) {
      lua.lua_pop(L, 1);
      break;
    }
    lua.lua_pop(L, 1);
    items.push(j);
  }
  out.arrayHeader(items.length);
  for (const j of items) {
    lua.lua_rawgeti(L, abs, j);
    writeLuaValue(L, -1, out, scriptResp, depth + 1);
    lua.lua_pop(L, 1);
  }
}

function pushTableWith(L: LuaState, name: string, push: () => void): void {
  lua.lua_createtable(L, 0, 1);
  push();
  lua.lua_setfield(L, -2, name);
}

/**
 * Pushes a command's reply as Lua sees it (Redis's redisProtocolToLuaType). RESP2: integers are
 * numbers, bulks strings, nulls false, status {ok=…}, errors {err=…}, arrays tables. RESP3 adds
 * {map=…}, {set=…}, {double=…}, {big_number=…}, {verbatim_string=…}, booleans, and nil for null.
 */
export function pushReply(L: LuaState, v: RespValue, scriptResp: 2 | 3): void {
  lua.lua_checkstack(L, 4);
  switch (v.kind) {
    case 'int': return lua.lua_pushnumber(L, v.value);
    case 'bulk': return pushBytes(L, v.value);
    case 'null': return scriptResp === 3 ? lua.lua_pushnil(L) : lua.lua_pushboolean(L, false);
    case 'status': return pushTableWith(L, 'ok', () => pushBytes(L, v.text));
    case 'error': return pushTableWith(L, 'err', () => pushBytes(L, v.text));
    case 'bool': return lua.lua_pushboolean(L, v.value);
    case 'double': return pushTableWith(L, 'double', () => lua.lua_pushnumber(L, v.value));
    case 'bignum': return pushTableWith(L, 'big_number', () => pushBytes(L, v.text));
    case 'verbatim':
      return pushTableWith(L, 'verbatim_string', () => {
        lua.lua_createtable(L, 0, 2);
        pushBytes(L, v.format);
        lua.lua_setfield(L, -2, 'format');
        pushBytes(L, v.text);
        lua.lua_setfield(L, -2, 'string');
      });
    case 'array':
      lua.lua_createtable(L, v.items.length, 0);
      v.items.forEach((item, i) => {
        pushReply(L, item, scriptResp);
        lua.lua_rawseti(L, -2, i + 1);
      });
      return;
    case 'set':
      return pushTableWith(L, 'set', () => {
        lua.lua_createtable(L, 0, v.items.length);
        for (const item of v.items) {
          pushReply(L, item, scriptResp);
          lua.lua_pushboolean(L, true);
          lua.lua_rawset(L, -3);
        }
      });
    case 'map':
      return pushTableWith(L, 'map', () => {
        lua.lua_createtable(L, 0, v.pairs.length);
        for (const [k, val] of v.pairs) {
          pushReply(L, k, scriptResp);
          pushReply(L, val, scriptResp);
          lua.lua_rawset(L, -3);
        }
      });
  }
}
