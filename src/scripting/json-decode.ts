import { lua, type LuaState } from './fengari-api.js';
import { pushBytes, raiseAt } from './lua-bytes.js';

/** lua-cjson's token names, which its error messages print. */
type TokenType = 'T_OBJ_BEGIN' | 'T_OBJ_END' | 'T_ARR_BEGIN' | 'T_ARR_END' | 'T_STRING' | 'T_NUMBER' | 'T_BOOLEAN' | 'T_NULL' | 'T_COLON' | 'T_COMMA' | 'T_END' | 'T_ERROR';

interface Token {
  type: TokenType;
  /** Byte offset where the token starts (messages print it + 1). */
  index: number;
  bytes?: Buffer;
  number?: number;
  bool?: boolean;
  error?: string;
}

const NESTING_MAX = 1000;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/;
const SIMPLE_ESCAPES: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };

/**
 * The JSON decoder of Redis's lua-cjson, byte-exact on strings (no UTF-8 round trip) and with its
 * error texts ("Expected comma or array end but found T_END at character 5").
 */
class Decoder {
  private pos = 0;
  constructor(private readonly L: LuaState, private readonly text: Buffer) {}

  private next(): Token {
    const b = this.text;
    while (this.pos < b.length && (b[this.pos] === 0x20 || b[this.pos] === 0x09 || b[this.pos] === 0x0a || b[this.pos] === 0x0d)) this.pos++;
    const index = this.pos;
    if (index >= b.length) return { type: 'T_END', index };
    const c = b[index]!;
    const single: Record<number, TokenType> = { 0x7b: 'T_OBJ_BEGIN', 0x7d: 'T_OBJ_END', 0x5b: 'T_ARR_BEGIN', 0x5d: 'T_ARR_END', 0x2c: 'T_COMMA', 0x3a: 'T_COLON' };
    if (single[c]) {
      this.pos++;
      return { type: single[c]!, index };
    }
    if (c === 0x22) return this.string(index);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const m = NUMBER.exec(b.subarray(index, index + 512).toString('latin1'));
      if (!m) return { type: 'T_ERROR', index, error: 'invalid number' };
      this.pos += m[0].length;
      return { type: 'T_NUMBER', index, number: Number(m[0]) };
    }
    for (const [word, type, bool] of [['true', 'T_BOOLEAN', true], ['false', 'T_BOOLEAN', false], ['null', 'T_NULL', false]] as const) {
      if (b.subarray(index, index + word.length).toString('latin1') === word) {
        this.pos += word.length;
        return { type, index, bool };
      }
    }
    return { type: 'T_ERROR', index, error: 'invalid token' };
  }

  private string(index: number): Token {
    const b = this.text;
    const out: number[] = [];
    let i = index + 1;
    for (;;) {
      // lua-cjson reports string errors where it stopped, not where the string began.
      if (i >= b.length) return { type: 'T_ERROR', index: i, error: 'unexpected end of string' };
      const c = b[i]!;
      if (c === 0x22) break;
      if (c !== 0x5c) {
        out.push(c);
        i++;
        continue;
      }
      const e = b[i + 1];
      if (e === undefined) return { type: 'T_ERROR', index: i + 1, error: 'unexpected end of string' };
      if (e === 0x75) {
        let code = this.hex4(i + 2);
        let used = 6;
        if (code >= 0xd800 && code <= 0xdbff && b[i + 6] === 0x5c && b[i + 7] === 0x75) {
          const low = this.hex4(i + 8);
          if (low >= 0xdc00 && low <= 0xdfff) {
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            used = 12;
          }
        }
        if (code < 0 || (code >= 0xd800 && code <= 0xdfff)) return { type: 'T_ERROR', index: i, error: 'invalid unicode escape code' };
        out.push(...Buffer.from(String.fromCodePoint(code), 'utf8'));
        i += used;
        continue;
      }
      const mapped = SIMPLE_ESCAPES[e];
      if (mapped === undefined) return { type: 'T_ERROR', index: i, error: 'invalid escape code' };
      out.push(mapped);
      i += 2;
    }
    this.pos = i + 1;
    return { type: 'T_STRING', index, bytes: Buffer.from(out) };
  }

  private hex4(at: number): number {
    const s = this.text.subarray(at, at + 4).toString('latin1');
    return /^[0-9a-fA-F]{4}$/.test(s) ? parseInt(s, 16) : -1;
  }

  private fail(expected: string, token: Token): never {
    const found = token.type === 'T_ERROR' ? token.error! : token.type;
    return raiseAt(this.L, `Expected ${expected} but found ${found} at character ${token.index + 1}`);
  }

  /** Pushes the value starting with `token`. */
  value(token: Token, depth: number): void {
    const L = this.L;
    lua.lua_checkstack(L, 4);
    switch (token.type) {
      case 'T_STRING': return pushBytes(L, token.bytes!);
      case 'T_NUMBER': return lua.lua_pushnumber(L, token.number!);
      case 'T_BOOLEAN': return lua.lua_pushboolean(L, token.bool!);
      case 'T_NULL': return lua.lua_pushlightuserdata(L, JSON_NULL_REF.value);
      case 'T_OBJ_BEGIN':
      case 'T_ARR_BEGIN':
        if (depth + 1 > NESTING_MAX) raiseAt(L, `Found too many nested data structures (${depth + 1}) at character ${token.index + 1}`);
        return token.type === 'T_OBJ_BEGIN' ? this.object(depth + 1) : this.array(depth + 1);
      default: return this.fail('value', token);
    }
  }

  private object(depth: number): void {
    const L = this.L;
    lua.lua_createtable(L, 0, 0);
    let token = this.next();
    if (token.type === 'T_OBJ_END') return;
    for (;;) {
      if (token.type !== 'T_STRING') this.fail('object key string', token);
      pushBytes(L, token.bytes!);
      const colon = this.next();
      if (colon.type !== 'T_COLON') this.fail('colon', colon);
      this.value(this.next(), depth);
      lua.lua_rawset(L, -3);
      token = this.next();
      if (token.type === 'T_OBJ_END') return;
      if (token.type !== 'T_COMMA') this.fail('comma or object end', token);
      token = this.next();
    }
  }

  private array(depth: number): void {
    const L = this.L;
    lua.lua_createtable(L, 0, 0);
    let token = this.next();
    if (token.type === 'T_ARR_END') return;
    for (let i = 1; ; i++) {
      this.value(token, depth);
      lua.lua_rawseti(L, -2, i);
      token = this.next();
      if (token.type === 'T_ARR_END') return;
      if (token.type !== 'T_COMMA') this.fail('comma or array end', token);
      token = this.next();
    }
  }

  decode(): void {
    this.value(this.next(), 0);
    const end = this.next();
    if (end.type !== 'T_END') this.fail('the end', end);
  }
}

/** Set by lib-cjson: the light userdata standing for JSON null. */
export const JSON_NULL_REF: { value: object } = { value: {} };

export function decodeJson(L: LuaState, text: Buffer): void {
  new Decoder(L, text).decode();
}
