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

/** One cjson module's settings (cjson.encode_max_depth() and the rest; 0/1 for off/on). */
export interface CjsonConfig {
  sparseConvert: number;
  sparseRatio: number;
  sparseSafe: number;
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  /** 0 refuses NaN/Inf, 1 writes nan/inf, 2 writes null. */
  encodeInvalidNumbers: number;
  /** 1 reads what strtod reads (hex, inf, nan, leading zeros, '+'), 0 strict JSON numbers. */
  decodeInvalidNumbers: number;
  numberPrecision: number;
  keepBuffer: number;
}

/** Lua 5.1's LUAI_MAXCSTACK: the stack slots a C function may hold, which bounds cjson's nesting. */
export const LUAI_MAXCSTACK = 8000;

const SIMPLE_ESCAPES: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const hexValue = (c: number | undefined): number => {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
};
const startsWithCI = (b: Buffer, at: number, word: string): boolean =>
  b.length - at >= word.length && b.subarray(at, at + word.length).toString('latin1').toLowerCase() === word;

/**
 * glibc's strtod (C locale) at `at`: decimal, hexadecimal (0x…, p exponent), inf/infinity and
 * nan/nan(chars), with a sign; the value and where it stopped, or undefined when nothing converts.
 */
export function strtod(b: Buffer, at: number): { value: number; end: number } | undefined {
  let i = at;
  let sign = 1;
  if (b[i] === 0x2b || b[i] === 0x2d) {
    if (b[i] === 0x2d) sign = -1;
    i++;
  }
  if (startsWithCI(b, i, 'inf')) return { value: sign * Infinity, end: startsWithCI(b, i, 'infinity') ? i + 8 : i + 3 };
  if (startsWithCI(b, i, 'nan')) {
    let end = i + 3;
    if (b[end] === 0x28) {
      let j = end + 1;
      while (j < b.length && (isDigit(b[j]) || hexValue(b[j]) >= 0 || (b[j]! | 0x20) >= 0x61 && (b[j]! | 0x20) <= 0x7a || b[j] === 0x5f)) j++;
      if (b[j] === 0x29) end = j + 1;
    }
    return { value: NaN, end };
  }
  if (b[i] === 0x30 && (b[i + 1]! | 0x20) === 0x78 && (hexValue(b[i + 2]) >= 0 || (b[i + 2] === 0x2e && hexValue(b[i + 3]) >= 0))) {
    return hexFloat(b, i + 2, sign);
  }
  const start = i;
  let digits = 0;
  while (isDigit(b[i])) { i++; digits++; }
  if (b[i] === 0x2e) {
    i++;
    while (isDigit(b[i])) { i++; digits++; }
  }
  if (digits === 0) return undefined;
  if ((b[i]! | 0x20) === 0x65) {
    let j = i + 1;
    if (b[j] === 0x2b || b[j] === 0x2d) j++;
    if (isDigit(b[j])) {
      while (isDigit(b[j])) j++;
      i = j;
    }
  }
  // JS reads a decimal numeral correctly rounded, as glibc does ("5." and "00.5" included).
  return { value: sign * Number(b.subarray(start, i).toString('latin1')), end: i };
}

function hexFloat(b: Buffer, at: number, sign: number): { value: number; end: number } {
  let i = at;
  let mantissa = 0n;
  let exp = 0;
  while (hexValue(b[i]) >= 0) mantissa = mantissa * 16n + BigInt(hexValue(b[i++]));
  if (b[i] === 0x2e) {
    i++;
    while (hexValue(b[i]) >= 0) { mantissa = mantissa * 16n + BigInt(hexValue(b[i++])); exp -= 4; }
  }
  if ((b[i]! | 0x20) === 0x70) {
    let j = i + 1;
    let esign = 1;
    if (b[j] === 0x2b || b[j] === 0x2d) { if (b[j] === 0x2d) esign = -1; j++; }
    if (isDigit(b[j])) {
      let e = 0;
      while (isDigit(b[j])) { e = Math.min(e * 10 + (b[j++]! - 0x30), 1e6); }
      exp += esign * e;
      i = j;
    }
  }
  // Keep 64 significant bits (plus a sticky bit) so the conversion to a double rounds once.
  const bits = mantissa.toString(2).length;
  if (bits > 64) {
    const drop = BigInt(bits - 64);
    const sticky = (mantissa & ((1n << drop) - 1n)) !== 0n ? 1n : 0n;
    mantissa = (mantissa >> drop) | sticky;
    exp += Number(drop);
  }
  const half = Math.trunc(exp / 2);
  return { value: sign * Number(mantissa) * 2 ** half * 2 ** (exp - half), end: i };
}

/**
 * The JSON decoder of Redis's lua-cjson, byte-exact on strings (no UTF-8 round trip) and with its
 * error texts ("Expected comma or array end but found T_END at character 5").
 */
class Decoder {
  private pos = 0;
  constructor(private readonly L: LuaState, private readonly text: Buffer, private readonly cfg: CjsonConfig) {}

  private next(): Token {
    const b = this.text;
    while (this.pos < b.length && (b[this.pos] === 0x20 || b[this.pos] === 0x09 || b[this.pos] === 0x0a || b[this.pos] === 0x0d)) this.pos++;
    const index = this.pos;
    // lua-cjson reads a C string: a zero byte ends the input.
    if (index >= b.length || b[index] === 0) return { type: 'T_END', index };
    const c = b[index]!;
    const single: Record<number, TokenType> = { 0x7b: 'T_OBJ_BEGIN', 0x7d: 'T_OBJ_END', 0x5b: 'T_ARR_BEGIN', 0x5d: 'T_ARR_END', 0x2c: 'T_COMMA', 0x3a: 'T_COLON' };
    if (single[c]) {
      this.pos++;
      return { type: single[c]!, index };
    }
    if (c === 0x22) return this.string(index);
    if (c === 0x2d || isDigit(c)) {
      if (!this.cfg.decodeInvalidNumbers && this.invalidNumber(index)) return { type: 'T_ERROR', index, error: 'invalid number' };
      return this.number(index);
    }
    for (const [word, type, bool] of [['true', 'T_BOOLEAN', true], ['false', 'T_BOOLEAN', false], ['null', 'T_NULL', false]] as const) {
      if (b.subarray(index, index + word.length).toString('latin1') === word) {
        this.pos += word.length;
        return { type, index, bool };
      }
    }
    // Only the characters lua-cjson routes to its number reader: '+', inf/Infinity, nan/NaN.
    if (this.cfg.decodeInvalidNumbers && (c === 0x2b || c === 0x69 || c === 0x49 || c === 0x6e || c === 0x4e) && this.invalidNumber(index)) return this.number(index);
    return { type: 'T_ERROR', index, error: 'invalid token' };
  }

  /** json_is_invalid_number: what strict JSON refuses but strtod reads ('+', hex, leading zeros, inf, nan). */
  private invalidNumber(at: number): boolean {
    const b = this.text;
    let p = at;
    if (b[p] === 0x2b) return true;
    if (b[p] === 0x2d) p++;
    if (b[p] === 0x30) {
      const c2 = b[p + 1];
      return c2 !== undefined && ((c2 | 0x20) === 0x78 || isDigit(c2));
    }
    if (b[p] === undefined || b[p]! <= 0x39) return false;
    return startsWithCI(b, p, 'inf') || startsWithCI(b, p, 'nan');
  }

  private number(index: number): Token {
    const r = strtod(this.text, index);
    if (r === undefined) return { type: 'T_ERROR', index, error: 'invalid number' };
    this.pos = r.end;
    return { type: 'T_NUMBER', index, number: r.value };
  }

  private string(index: number): Token {
    const b = this.text;
    const out: number[] = [];
    let i = index + 1;
    for (;;) {
      // lua-cjson reports string errors where it stopped, not where the string began.
      if (i >= b.length || b[i] === 0) return { type: 'T_ERROR', index: i, error: 'unexpected end of string' };
      const c = b[i]!;
      if (c === 0x22) break;
      if (c !== 0x5c) {
        out.push(c);
        i++;
        continue;
      }
      const e = b[i + 1];
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

  /**
   * Pushes the value starting with `token`: a scalar (true), or an empty table for a container,
   * whose frame is added to `frames` for decode's loop to fill (false). The loop keeps deep input
   * off the JS call stack. `slots` is how many stack slots lua-cjson's C frame holds where this
   * value goes (the argument, 1 per enclosing array, 2 per enclosing object): a container needs 2
   * (array) or 3 (object) more within Lua 5.1's 8000, so deep input fails at the depth Redis's
   * does even when decode_max_depth allows more.
   */
  private pushValue(token: Token, depth: number, slots: number, frames: Frame[]): boolean {
    const L = this.L;
    switch (token.type) {
      case 'T_STRING': pushBytes(L, token.bytes!); return true;
      case 'T_NUMBER': lua.lua_pushnumber(L, token.number!); return true;
      case 'T_BOOLEAN': lua.lua_pushboolean(L, token.bool!); return true;
      case 'T_NULL': lua.lua_pushlightuserdata(L, JSON_NULL_REF.value); return true;
      case 'T_OBJ_BEGIN':
      case 'T_ARR_BEGIN': {
        const array = token.type === 'T_ARR_BEGIN';
        // The C code reports where its pointer is: just past the opening bracket.
        if (depth + 1 > this.cfg.decodeMaxDepth || slots + (array ? 2 : 3) > LUAI_MAXCSTACK) {
          raiseAt(L, `Found too many nested data structures (${depth + 1}) at character ${this.pos}`);
        }
        lua.lua_checkstack(L, 4);
        lua.lua_createtable(L, 0, 0);
        frames.push({ array, index: 0, depth: depth + 1, childSlots: slots + (array ? 1 : 2) });
        return false;
      }
      default: return this.fail('value', token);
    }
  }

  decode(): void {
    const L = this.L;
    // lua-cjson's guess at UTF-16/32 input: a zero in either of the first two bytes.
    if (this.text.length >= 2 && (this.text[0] === 0 || this.text[1] === 0)) raiseAt(L, 'JSON parser does not support UTF-16 or UTF-32');
    const frames: Frame[] = [];
    // `done`: the value on top of the stack is complete and belongs to the innermost open container.
    let done = this.pushValue(this.next(), 0, 1, frames);
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      const close = f.array ? 'T_ARR_END' : 'T_OBJ_END';
      let token: Token;
      if (done) {
        if (f.array) lua.lua_rawseti(L, -2, f.index);
        else lua.lua_rawset(L, -3);
        token = this.next();
        if (token.type === close) { frames.pop(); continue; }
        if (token.type !== 'T_COMMA') this.fail(f.array ? 'comma or array end' : 'comma or object end', token);
        token = this.next();
      } else {
        token = this.next();
        if (token.type === close) { frames.pop(); done = true; continue; }
      }
      if (f.array) f.index++;
      else {
        if (token.type !== 'T_STRING') this.fail('object key string', token);
        pushBytes(L, token.bytes!);
        const colon = this.next();
        if (colon.type !== 'T_COLON') this.fail('colon', colon);
        token = this.next();
      }
      done = this.pushValue(token, f.depth, f.childSlots, frames);
    }
    const end = this.next();
    if (end.type !== 'T_END') this.fail('the end', end);
  }
}

/** An array or object being filled: its table is on top of the Lua stack, under a pending key for an object. */
interface Frame {
  array: boolean;
  /** The array index the next element takes (1-based once the first arrives). */
  index: number;
  depth: number;
  /** The C frame's slot count where this container's values go. */
  childSlots: number;
}

/** Set by lib-cjson: the light userdata standing for JSON null. */
export const JSON_NULL_REF: { value: object } = { value: {} };

export function decodeJson(L: LuaState, text: Buffer, cfg: CjsonConfig): void {
  new Decoder(L, text, cfg).decode();
}
