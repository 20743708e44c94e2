/**
 * The number reader of cjson.decode (src/scripting/json-decode.ts), which follows glibc's strtod as
 * Redis's lua-cjson calls it. Expected values are what redis-server 7.0's cjson.decode gives.
 */
import { describe, expect, it } from 'vitest';
import { strtod } from '../../src/scripting/json-decode.js';

const read = (s: string): [number, number] | undefined => {
  const r = strtod(Buffer.from(s, 'latin1'), 0);
  return r && [r.value, r.end];
};

describe('cjson strtod', () => {
  it('reads decimal numerals as strtod does, stopping where it stops', () => {
    expect(read('1.')).toEqual([1, 2]);
    expect(read('00.5e1')).toEqual([5, 6]);
    expect(read('0.5e')).toEqual([0.5, 3]);
    expect(read('1e+')).toEqual([1, 1]);
    expect(read('+5')).toEqual([5, 2]);
    expect(read('1E400')).toEqual([Infinity, 5]);
    expect(read('-')).toBeUndefined();
    expect(read('.')).toBeUndefined();
    expect(read('- 1')).toBeUndefined();
  });

  it('reads hexadecimal numerals with fraction and binary exponent', () => {
    expect(read('0x10')).toEqual([16, 4]);
    expect(read('-0x1p4')).toEqual([-16, 6]);
    expect(read('0x1.8p1')).toEqual([3, 7]);
    expect(read('0X1P-2')).toEqual([0.25, 6]);
    expect(read('0x.8')).toEqual([0.5, 4]);
    expect(read('0x1p-1074')).toEqual([5e-324, 9]);
    expect(read('0xffffffffffffffffffff')![0]).toBe(2 ** 80);
    expect(read('0x')).toEqual([0, 1]);
    expect(read('0xg')).toEqual([0, 1]);
    expect(read('0x1p')).toEqual([1, 3]);
  });

  it('reads inf, infinity and nan in any case, nan with an optional (chars) suffix', () => {
    expect(read('inf')).toEqual([Infinity, 3]);
    expect(read('-Infinity')).toEqual([-Infinity, 9]);
    expect(read('INFINIT')).toEqual([Infinity, 3]);
    expect(read('NaN')![1]).toBe(3);
    expect(read('nan(123)')![1]).toBe(8);
    expect(read('nan(1 2)')![1]).toBe(3);
    expect(Number.isNaN(read('nan')![0])).toBe(true);
  });
});
