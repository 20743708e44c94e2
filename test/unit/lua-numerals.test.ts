/**
 * Numerals as Redis's Lua 5.1 reads them (src/scripting/lua-numerals.ts): hexadecimal integers as
 * strtod rounds them, tonumber(s, base) as strtoul. Expected values are what redis-server 7.0 gives.
 */
import { describe, expect, it } from 'vitest';
import { hexIntegerValue, strtoulValue } from '../../src/scripting/lua-numerals.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('hexIntegerValue', () => {
  it('reads hexadecimal integers whole, beyond 32 bits, rounding past 53', () => {
    expect(hexIntegerValue(b('0x100000000'))).toBe(4294967296);
    expect(hexIntegerValue(b('0xffffffff'))).toBe(4294967295);
    expect(hexIntegerValue(b('  -0XfF  '))).toBe(-255);
    expect(hexIntegerValue(b('0x20000000000001'))).toBe(2 ** 53);
    expect(hexIntegerValue(b('0x7fffffffffffffff'))).toBe(2 ** 63);
    expect(hexIntegerValue(b('0x10\0'))).toBe(16);
  });
  it('leaves every other form to the engine', () => {
    for (const s of ['10', '0x', '0x1p4', '0x1.8', '1e5', '0xfg', 'x10', '']) expect(hexIntegerValue(b(s)), s).toBeUndefined();
  });
});

describe('strtoulValue', () => {
  it('reads digits of the base, a sign, a 0x prefix in base 16, spaces around', () => {
    expect(strtoulValue(b('ffffffffff'), 16)).toBe(1099511627775);
    expect(strtoulValue(b(' +7f '), 16)).toBe(127);
    expect(strtoulValue(b('0xff'), 16)).toBe(255);
    expect(strtoulValue(b('zz'), 36)).toBe(1295);
    expect(strtoulValue(b('7f\0zz'), 16)).toBe(127);
  });
  it('wraps a negative modulo 2^64 and saturates at 2^64 - 1', () => {
    expect(strtoulValue(b('-ff'), 16)).toBe(2 ** 64 - 255);
    expect(strtoulValue(b('-0'), 16)).toBe(0);
    expect(strtoulValue(b('ffffffffffffffffffff'), 16)).toBe(2 ** 64);
  });
  it('answers nil for no digit or a character after them', () => {
    for (const [s, base] of [['', 16], ['12', 2], ['0x', 16], ['0xg', 16], ['ff', 10], ['1.5', 16]] as const) expect(strtoulValue(b(s), base), s).toBeUndefined();
  });
});
