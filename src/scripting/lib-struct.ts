import { lauxlib, lua, luaString, type LuaState } from './fengari-api.js';
import { pushBytes, raiseAt, setFunction } from './lua-bytes.js';

/**
 * Roberto Ierusalimschy's `struct` library as Redis 7.0 bundles it (deps/lua/src/lua_struct.c),
 * for x86-64: native little endian, long and size_t of 8 bytes, MAXALIGN 8, integers up to 32
 * bytes held in a 64-bit unsigned long. The format is read one option at a time, as the C code
 * does, so an error names the same argument and comes at the same point.
 */

const MAXINTSIZE = 32;
const MAXALIGN = 8;
const INT_MAX = 2 ** 31 - 1;

interface Header { little: boolean; align: number }
/** A format string being read; `at` is the next byte. */
interface Fmt { s: Uint8Array; at: number }

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isp2 = (x: number): boolean => x > 0 && (x & (x - 1)) === 0;

/** getnum: the decimal number at the format's position, or `df` when there is none. */
function getnum(L: LuaState, f: Fmt, df: number): number {
  if (!isDigit(f.s[f.at])) return df;
  let a = 0;
  do {
    const d = f.s[f.at]! - 0x30;
    if (a > Math.floor(INT_MAX / 10) || a * 10 > INT_MAX - d) raiseAt(L, 'integral size overflow');
    a = a * 10 + d;
    f.at++;
  } while (isDigit(f.s[f.at]));
  return a;
}

/** optsize: the bytes an option takes (0 for control options, 's' and unknown ones). */
function optsize(L: LuaState, opt: number, f: Fmt): number {
  switch (String.fromCharCode(opt)) {
    case 'B': case 'b': return 1;
    case 'H': case 'h': return 2;
    case 'L': case 'l': case 'T': case 'd': return 8;
    case 'f': return 4;
    case 'x': return 1;
    case 'c': return getnum(L, f, 1);
    case 'i': case 'I': {
      const sz = getnum(L, f, 4);
      if (sz > MAXINTSIZE) raiseAt(L, `integral size ${sz} is larger than limit of ${MAXINTSIZE}`);
      return sz;
    }
    default: return 0;
  }
}

/** gettoalign: padding before an item of `size` at offset `len` (C size_t arithmetic on a non-power-of-2 size too). */
function gettoalign(len: number, h: Header, opt: number, size: number): number {
  if (size === 0 || opt === 0x63) return 0;
  if (size > h.align) size = h.align;
  return (size - (len & (size - 1))) & (size - 1);
}

/** controloptions: ' ', '<', '>', '!n'; anything else is an invalid option. */
function controlOptions(L: LuaState, opt: number, f: Fmt, h: Header): void {
  switch (opt) {
    case 0x20: return;
    case 0x3e: h.little = false; return;
    case 0x3c: h.little = true; return;
    case 0x21: {
      const a = getnum(L, f, MAXALIGN);
      if (!isp2(a)) raiseAt(L, `alignment ${a} is not a power of 2`);
      h.align = a;
      return;
    }
    default:
      lauxlib.luaL_argerror(L, 1, Buffer.concat([Buffer.from("invalid format option '"), Buffer.from([opt]), Buffer.from("'")]));
  }
}

/** A C `(Uinttype)` of a number as x86-64 gcc converts it (through long for negatives). */
function toUint64(n: number): bigint {
  const TWO63 = 2 ** 63;
  if (Number.isNaN(n)) return 1n << 63n;
  if (n < 0) return n <= -TWO63 ? 1n << 63n : BigInt.asUintN(64, BigInt(Math.trunc(n)));
  if (n < TWO63) return BigInt(Math.trunc(n));
  return n < 2 * TWO63 ? BigInt(Math.trunc(n)) : 0n;
}

function putInteger(n: number, size: number, little: boolean): Buffer {
  let value = toUint64(n);
  const out = Buffer.alloc(size);
  for (let k = 0; k < size; k++) {
    out[little ? k : size - 1 - k] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/** getinteger: bytes into a 64-bit unsigned long (wider sizes keep the last 8 shifted in), sign-extended for lower-case options. */
function getInteger(b: Uint8Array, at: number, little: boolean, signed: boolean, size: number): number {
  let l = 0n;
  for (let i = 0; i < size; i++) l = BigInt.asUintN(64, (l << 8n) | BigInt(b[at + (little ? size - 1 - i : i)]!));
  if (!signed) return Number(l);
  const mask = BigInt.asUintN(64, ~0n << BigInt((size * 8 - 1) & 63));
  if (l & mask) l |= mask;
  return Number(BigInt.asIntN(64, l));
}

const format = (L: LuaState): Fmt => ({ s: lauxlib.luaL_checkstring(L, 1), at: 0 });

function pack(L: LuaState): number {
  const f = format(L);
  const h: Header = { little: true, align: 1 };
  let arg = 2;
  let total = 0;
  // The C code pushes a nil to separate its arguments from its buffer: the first missing argument is "nil".
  lua.lua_pushnil(L);
  const parts: Buffer[] = [];
  while (f.at < f.s.length) {
    const opt = f.s[f.at++]!;
    let size = optsize(L, opt, f);
    const pad = gettoalign(total, h, opt, size);
    total += pad;
    if (pad > 0) parts.push(Buffer.alloc(pad));
    switch (String.fromCharCode(opt)) {
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
        parts.push(putInteger(lauxlib.luaL_checknumber(L, arg++), size, h.little));
        break;
      case 'x':
        parts.push(Buffer.alloc(1));
        break;
      case 'f': case 'd': {
        const n = lauxlib.luaL_checknumber(L, arg++);
        const b = Buffer.alloc(size);
        if (size === 4) (h.little ? b.writeFloatLE(n) : b.writeFloatBE(n));
        else (h.little ? b.writeDoubleLE(n) : b.writeDoubleBE(n));
        parts.push(b);
        break;
      }
      case 'c': case 's': {
        const s = Buffer.from(lauxlib.luaL_checkstring(L, arg++));
        if (size === 0) size = s.length;
        // The C code checks after moving past the argument, so it names the next one.
        if (s.length < size) lauxlib.luaL_argerror(L, arg, luaString('string too short'));
        parts.push(s.subarray(0, size));
        if (opt === 0x73) {
          parts.push(Buffer.alloc(1));
          size++;
        }
        break;
      }
      default: controlOptions(L, opt, f, h);
    }
    total += size;
  }
  pushBytes(L, Buffer.concat(parts));
  return 1;
}

function unpack(L: LuaState): number {
  const f = format(L);
  const data = lauxlib.luaL_checkstring(L, 2);
  const ld = data.length;
  // pos is a size_t in C: offset 0 is refused; a negative offset wraps to a huge position, which
  // the length checks below refuse (kept negative here, with the same low bits for alignment).
  const offset = lua.lua_type(L, 3) <= 0 ? 1 : Math.trunc(lauxlib.luaL_checknumber(L, 3));
  if (offset === 0) lauxlib.luaL_argerror(L, 3, luaString('offset must be 1 or greater'));
  let pos = offset - 1;
  const h: Header = { little: true, align: 1 };
  lua.lua_settop(L, 2);
  let n = 0;
  const fits = (size: number): boolean => pos >= 0 && size <= ld && pos <= ld - size;
  while (f.at < f.s.length) {
    const opt = f.s[f.at++]!;
    let size = optsize(L, opt, f);
    pos += gettoalign(pos, h, opt, size);
    if (!fits(size)) lauxlib.luaL_argerror(L, 2, luaString('data string too short'));
    lua.lua_checkstack(L, 2);
    switch (String.fromCharCode(opt)) {
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
        lua.lua_pushnumber(L, getInteger(data, pos, h.little, opt >= 0x61, size));
        n++;
        break;
      case 'x':
        break;
      case 'f': case 'd': {
        const b = Buffer.from(data.subarray(pos, pos + size));
        lua.lua_pushnumber(L, size === 4 ? (h.little ? b.readFloatLE() : b.readFloatBE()) : (h.little ? b.readDoubleLE() : b.readDoubleBE()));
        n++;
        break;
      }
      case 'c': {
        if (size === 0) {
          // 'c0' takes its length from the value just read, which it replaces.
          if (n === 0 || !lua.lua_isnumber(L, -1)) raiseAt(L, "format 'c0' needs a previous size");
          const len = lua.lua_tonumber(L, -1);
          lua.lua_pop(L, 1);
          n--;
          size = len >= 0 ? Math.trunc(len) : Infinity;
          if (!fits(size)) lauxlib.luaL_argerror(L, 2, luaString('data string too short'));
        }
        pushBytes(L, data.subarray(pos, pos + size));
        n++;
        break;
      }
      case 's': {
        const e = Buffer.from(data).indexOf(0, pos);
        if (e < 0) raiseAt(L, 'unfinished string in data');
        size = e - pos + 1;
        pushBytes(L, data.subarray(pos, e));
        n++;
        break;
      }
      default: controlOptions(L, opt, f, h);
    }
    pos += size;
  }
  lua.lua_pushnumber(L, pos + 1);
  return n + 1;
}

function size(L: LuaState): number {
  const f = format(L);
  const h: Header = { little: true, align: 1 };
  let pos = 0;
  while (f.at < f.s.length) {
    const opt = f.s[f.at++]!;
    const sz = optsize(L, opt, f);
    pos += gettoalign(pos, h, opt, sz);
    if (opt === 0x73) lauxlib.luaL_argerror(L, 1, luaString("option 's' has no fixed size"));
    else if (opt === 0x63 && sz === 0) lauxlib.luaL_argerror(L, 1, luaString("option 'c0' has no fixed size"));
    // Letters the library does not know take no room here (pack and unpack refuse them).
    const alnum = (opt >= 0x30 && opt <= 0x39) || ((opt | 0x20) >= 0x61 && (opt | 0x20) <= 0x7a);
    if (!alnum) controlOptions(L, opt, f, h);
    pos += sz;
  }
  lua.lua_pushnumber(L, pos);
  return 1;
}

/** The `struct` module: pack, unpack, size. */
export function openStruct(L: LuaState): void {
  lua.lua_createtable(L, 0, 3);
  setFunction(L, 'pack', pack);
  setFunction(L, 'unpack', unpack);
  setFunction(L, 'size', size);
}
