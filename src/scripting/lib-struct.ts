import { lauxlib, lua, type LuaState } from './fengari-api.js';
import { pushBytes, raiseAt, setFunction, toBytes } from './lua-bytes.js';

interface Item { code: string; size: number }

/** Parses a struct format: endianness marks (< > ! =) and items b B h H i I l L T f d s x c with sizes. */
function parse(L: LuaState, fmt: string, fn: string): { little: boolean; items: Item[] } {
  let little = true;
  const items: Item[] = [];
  for (let i = 0; i < fmt.length; i++) {
    const code = fmt[i]!;
    let digits = '';
    while (i + 1 < fmt.length && /[0-9]/.test(fmt[i + 1]!)) digits += fmt[++i];
    const n = digits === '' ? undefined : Number(digits);
    switch (code) {
      case '<': case '=': little = true; break;
      case '>': little = false; break;
      case '!': case ' ': break;
      case 'b': case 'B': items.push({ code, size: 1 }); break;
      case 'h': case 'H': items.push({ code, size: 2 }); break;
      case 'i': case 'I': items.push({ code, size: n ?? 4 }); break;
      case 'l': case 'L': case 'T': items.push({ code, size: 8 }); break;
      case 'f': items.push({ code, size: 4 }); break;
      case 'd': items.push({ code, size: 8 }); break;
      case 'x': items.push({ code, size: 1 }); break;
      case 's': items.push({ code, size: 0 }); break;
      case 'c': items.push({ code, size: n ?? 1 }); break;
      default: raiseAt(L, `bad argument #1 to '${fn}' (invalid format option '${code}')`);
    }
  }
  return { little, items };
}

function writeInt(value: number, size: number, little: boolean): Buffer {
  const out = Buffer.alloc(size);
  let v = BigInt.asUintN(size * 8, BigInt(Math.trunc(value)));
  for (let k = 0; k < size; k++) {
    out[little ? k : size - 1 - k] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function readInt(b: Buffer, at: number, size: number, little: boolean, signed: boolean): number {
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[little ? at + k : at + size - 1 - k]!);
  return Number(signed ? BigInt.asIntN(size * 8, v) : v);
}

/** Roberto Ierusalimschy's `struct` library as Redis bundles it: pack, unpack, size. */
export function openStruct(L: LuaState): void {
  lua.lua_createtable(L, 0, 3);
  setFunction(L, 'pack', (L2) => {
    const { little, items } = parse(L2, toBytes(L2, 1)?.toString('latin1') ?? raiseAt(L2, 'bad argument #1 to \'pack\' (string expected)'), 'pack');
    const parts: Buffer[] = [];
    let arg = 2;
    for (const it of items) {
      if (it.code === 'x') { parts.push(Buffer.alloc(1)); continue; }
      if (it.code === 's' || it.code === 'c') {
        const s = toBytes(L2, arg++) ?? raiseAt(L2, `bad argument #${arg - 1} to 'pack' (string expected)`);
        if (it.code === 's') parts.push(s, Buffer.alloc(1));
        else { const fixed = Buffer.alloc(it.size); s.copy(fixed, 0, 0, it.size); parts.push(fixed); }
        continue;
      }
      const n = lauxlib.luaL_checknumber(L2, arg++);
      if (it.code === 'f' || it.code === 'd') {
        const b = Buffer.alloc(it.size);
        if (it.code === 'f') (little ? b.writeFloatLE(n) : b.writeFloatBE(n)); else (little ? b.writeDoubleLE(n) : b.writeDoubleBE(n));
        parts.push(b);
      } else parts.push(writeInt(n, it.size, little));
    }
    pushBytes(L2, Buffer.concat(parts));
    return 1;
  });
  setFunction(L, 'unpack', (L2) => {
    const { little, items } = parse(L2, toBytes(L2, 1)?.toString('latin1') ?? raiseAt(L2, 'bad argument #1 to \'unpack\' (string expected)'), 'unpack');
    const data = toBytes(L2, 2) ?? raiseAt(L2, 'bad argument #2 to \'unpack\' (string expected)');
    let pos = lauxlib.luaL_optinteger(L2, 3, 1) - 1;
    let pushed = 0;
    for (const it of items) {
      lua.lua_checkstack(L2, 2);
      if (it.code === 's') {
        const end = data.indexOf(0, pos);
        if (end < 0) raiseAt(L2, 'unfinished string in data');
        pushBytes(L2, data.subarray(pos, end));
        pos = end + 1;
        pushed++;
        continue;
      }
      if (pos + it.size > data.length) raiseAt(L2, 'data string too short');
      if (it.code === 'x') { pos += 1; continue; }
      if (it.code === 'c') pushBytes(L2, data.subarray(pos, pos + it.size));
      else if (it.code === 'f') lua.lua_pushnumber(L2, little ? data.readFloatLE(pos) : data.readFloatBE(pos));
      else if (it.code === 'd') lua.lua_pushnumber(L2, little ? data.readDoubleLE(pos) : data.readDoubleBE(pos));
      else lua.lua_pushnumber(L2, readInt(data, pos, it.size, little, it.code === it.code.toLowerCase()));
      pos += it.size;
      pushed++;
    }
    lua.lua_pushnumber(L2, pos + 1);
    return pushed + 1;
  });
  setFunction(L, 'size', (L2) => {
    const { items } = parse(L2, toBytes(L2, 1)?.toString('latin1') ?? raiseAt(L2, 'bad argument #1 to \'size\' (string expected)'), 'size');
    lua.lua_pushnumber(L2, items.reduce((n, it) => n + it.size, 0));
    return 1;
  });
}
