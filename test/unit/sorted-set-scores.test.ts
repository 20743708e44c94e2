/**
 * Goal: sorted-set scores keep Redis's order and text. Method: the 8-byte codec sorts a spread of
 * doubles (±inf, ±0, subnormals, neighbours) exactly as numbers compare and decodes them back;
 * formatScore prints what redis-server 7.0 printed for the same scores (ZRANGE … WITHSCORES);
 * the argument parsers accept and refuse what Redis's string2d and zslParseRange do.
 */
import { describe, expect, it } from 'vitest';
import { decodeScore, exactScoreBytes, indexScoreBytes, nextScoreBytes } from '../../src/collections/score-codec.js';
import { formatScore, parseScore, parseScoreBound } from '../../src/commands/score-text.js';

const SPREAD = [-Infinity, -1.7976931348623157e308, -1e20, -1.5, -5e-324, -0, 0, 5e-324, 2.2250738585072014e-308, 1e-7, 0.1, 1, 1 + Number.EPSILON, 2 ** 53, 1e300, Infinity];

describe('score codec', () => {
  it('byte order is numeric order, and every score decodes to itself (-0 kept apart only by the exact form)', () => {
    const shuffled = [...SPREAD].reverse();
    const byBytes = shuffled.map((s) => ({ s, b: indexScoreBytes(s) })).sort((x, y) => Buffer.compare(x.b, y.b)).map((x) => x.s);
    const fold = (s: number): number => (s === 0 ? 0 : s);
    expect(byBytes.map(fold)).toEqual(SPREAD.map(fold));
    for (const s of SPREAD) expect(Object.is(decodeScore(exactScoreBytes(s)), s)).toBe(true);
    expect(indexScoreBytes(-0).equals(indexScoreBytes(0))).toBe(true);
    expect(exactScoreBytes(-0).equals(exactScoreBytes(0))).toBe(false);
    expect(decodeScore(nextScoreBytes(indexScoreBytes(1))!)).toBe(1 + Number.EPSILON);
    expect(() => exactScoreBytes(NaN)).toThrow();
  });
});

describe('score text', () => {
  it('prints %.17g as redis-server 7.0 does', () => {
    const seen: Array<[number, string]> = [
      [-1.25e-5, '-1.2500000000000001e-05'], [5e-324, '4.9406564584124654e-324'], [2.2250738585072014e-308, '2.2250738585072014e-308'],
      [1e-7, '9.9999999999999995e-08'], [1e-5, '1.0000000000000001e-05'], [0.0001, '0.0001'], [0.1, '0.10000000000000001'],
      [0.3, '0.29999999999999999'], [1.5, '1.5'], [123.456, '123.456'], [123456789.123456789, '123456789.12345679'],
      [9007199254740993, '9007199254740992'], [1e16, '10000000000000000'], [1e20, '1e+20'], [1.7976931348623157e308, '1.7976931348623157e+308'],
      [Infinity, 'inf'], [-Infinity, '-inf'], [-0, '-0'], [0, '0'], [-3, '-3'],
    ];
    for (const [d, text] of seen) expect(formatScore(d), String(d)).toBe(text);
  });

  it('reads scores as string2d and range bounds as zslParseRange', () => {
    const ok = (s: string): number | undefined => parseScore(Buffer.from(s, 'latin1'));
    expect(ok('1.5')).toBe(1.5);
    expect(ok('-inf')).toBe(-Infinity);
    expect(ok('0x10')).toBe(16);
    expect(ok('1e-310')).toBe(1e-310);
    for (const bad of ['', ' 1', '1 ', 'nan', '1e400', '1e-400', 'abc', '1\0']) expect(ok(bad), JSON.stringify(bad)).toBeUndefined();
    const bound = (s: string): ReturnType<typeof parseScoreBound> => parseScoreBound(Buffer.from(s, 'latin1'));
    expect(bound('(1.5')).toEqual({ value: 1.5, exclusive: true });
    expect(bound('')).toEqual({ value: 0, exclusive: false });
    expect(bound('(')).toEqual({ value: 0, exclusive: true });
    expect(bound(' 2')).toEqual({ value: 2, exclusive: false });
    expect(bound('1e400')).toEqual({ value: Infinity, exclusive: false });
    for (const bad of ['abc', '(nan', '1 ', '((1', ' ']) expect(bound(bad), JSON.stringify(bad)).toBeUndefined();
  });
});
