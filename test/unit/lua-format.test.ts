/**
 * Lua 5.1's string.format items (src/scripting/lua-format.ts), as glibc's sprintf prints them on
 * x86-64. Expected values are what redis-server 7.0 answers; scripting-diff.test.ts compares many
 * more with a running redis-server.
 */
import { describe, expect, it } from 'vitest';
import { formatChar, formatFloat, formatInteger, quote51, scanItem, toLong, toUnsignedLong, type FormatItem } from '../../src/scripting/lua-format.js';

function item(spec: string): FormatItem {
  const r = scanItem(Buffer.from(`%${spec}`, 'latin1'), 1);
  if ('error' in r) throw new Error(r.error);
  return r;
}

describe('scanItem', () => {
  it('reads flags, two digits of width and of precision, and the conversion', () => {
    expect(item('-+05.3d')).toMatchObject({ flags: '-+0', width: 5, precision: 3, conversion: 'd' });
    expect(item('.f')).toMatchObject({ precision: 0, conversion: 'f' });
    expect(scanItem(Buffer.from('%------d'), 1)).toEqual({ error: 'invalid format (repeated flags)' });
    expect(scanItem(Buffer.from('%123d'), 1)).toEqual({ error: 'invalid format (width or precision too long)' });
    expect(scanItem(Buffer.from('%5'), 1)).toMatchObject({ conversion: '' });
  });
});

describe('C casts of a double', () => {
  it('long: truncation, INT64_MIN for NaN and out of range', () => {
    expect(toLong(-3.7)).toBe(-3n);
    expect(toLong(2 ** 63)).toBe(-(2n ** 63n));
    expect(toLong(Number.NaN)).toBe(-(2n ** 63n));
  });
  it('unsigned long: negatives wrap, 2^64 and above give 0, NaN 2^63', () => {
    expect(toUnsignedLong(-1)).toBe(2n ** 64n - 1n);
    expect(toUnsignedLong(2 ** 63)).toBe(2n ** 63n);
    expect(toUnsignedLong(1e20)).toBe(0n);
    expect(toUnsignedLong(-1e20)).toBe(2n ** 63n);
    expect(toUnsignedLong(Number.NaN)).toBe(2n ** 63n);
  });
});

describe('items', () => {
  it('integers with flags, width and precision', () => {
    expect(formatInteger(item('d'), 1700000000123)).toBe('1700000000123');
    expect(formatInteger(item('+05d'), 7)).toBe('+0007');
    expect(formatInteger(item('05.3d'), 7)).toBe('  007');
    expect(formatInteger(item('#x'), 255)).toBe('0xff');
    expect(formatInteger(item('#o'), 8)).toBe('010');
    expect(formatInteger(item('5.0d'), 0)).toBe('     ');
    expect(formatInteger(item('x'), -1)).toBe('ffffffffffffffff');
  });
  it('%c keeps what precedes a zero byte', () => {
    expect(Buffer.from(formatChar(item('3c'), 65)).toString('latin1')).toBe('  A');
    expect(Buffer.from(formatChar(item('c'), 300)).toString('latin1')).toBe(',');
    expect(formatChar(item('-3c'), 0).length).toBe(0);
  });
  it('doubles from their exact value, ties to even', () => {
    expect(formatFloat(item('f'), 2)).toBe('2.000000');
    expect(formatFloat(item('.0f'), 2.5)).toBe('2');
    expect(formatFloat(item('.0f'), 1.5)).toBe('2');
    expect(formatFloat(item('.1f'), 0.05)).toBe('0.1');
    expect(formatFloat(item('e'), 123456)).toBe('1.234560e+05');
    expect(formatFloat(item('.3e'), 9.9995)).toBe('9.999e+00');
    expect(formatFloat(item('g'), 100000)).toBe('100000');
    expect(formatFloat(item('g'), 1000000)).toBe('1e+06');
    expect(formatFloat(item('G'), 1e-10)).toBe('1E-10');
    expect(formatFloat(item('.20g'), 0.1)).toBe('0.10000000000000000555');
    expect(formatFloat(item('010g'), -0.5)).toBe('-0000000.5');
    expect(formatFloat(item('f'), -0)).toBe('-0.000000');
    expect(formatFloat(item('010f'), Infinity)).toBe('       inf');
    expect(formatFloat(item('f'), 1e300)).toBe('1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.000000');
  });
  it('%q as Lua 5.1 quotes', () => {
    expect(Buffer.from(quote51(Buffer.from('a\0b"\\\n\r\t', 'latin1'))).toString('latin1')).toBe('"a\\000b\\"\\\\\\\n\\r\t"');
  });
});
