/**
 * Goal: INCRBYFLOAT arithmetic gives the text redis-server 7.0 gives (strtold, 80-bit long double
 * addition, "%.17Lf" with trailing zeros cut), and refuses what its string2ld refuses.
 * Method: sums of decimal, hex and extreme inputs whose replies were read from redis-server 7.0.15
 * on x86-64; the differential tests compare the same against a live redis-server at random.
 */
import { describe, expect, it } from 'vitest';
import { addLongDouble, formatLongDoubleHuman, LONG_DOUBLE_ZERO, parseLongDouble, type LongDouble } from '../../src/commands/long-double.js';

function parse(text: string): LongDouble {
  const v = parseLongDouble(Buffer.from(text, 'latin1'));
  if (v === undefined) throw new Error(`not a float: ${text}`);
  return v;
}

/** Successive INCRBYFLOATs on one key, starting from `start` (a missing key is 0). */
function incrSequence(start: string | undefined, increments: string[]): string[] {
  let current = start === undefined ? LONG_DOUBLE_ZERO : parse(start);
  return increments.map((inc) => {
    const next = addLongDouble(current, parse(inc));
    if (next === undefined || !next.finite) return 'NaN or Infinity';
    const text = formatLongDoubleHuman(next);
    current = parse(text); // Redis stores the text and parses it again on the next call
    return text;
  });
}

describe('long double INCRBYFLOAT arithmetic', () => {
  it('adds decimals as Redis does, not as doubles do', () => {
    expect(incrSequence(undefined, ['0.1', '0.1', '0.1'])).toEqual(['0.1', '0.2', '0.3']);
    expect(incrSequence('5.0e3', ['0', '1e-17', '2.5e-3'])).toEqual(['5000', '5000', '5000.00249999999999995']);
    expect(incrSequence('1e-17', ['1'])).toEqual(['1.00000000000000001']);
    expect(incrSequence('-2997', ['.5'])).toEqual(['-2996.5']);
    expect(incrSequence('3e2', ['1'])).toEqual(['301']);
  });

  it('reads hex floats and keeps integers beyond 2^53 exact', () => {
    expect(incrSequence('.5', ['1', '0x1p3'])).toEqual(['1.5', '9.5']);
    expect(incrSequence(undefined, ['1e20', '1.1'])).toEqual(['100000000000000000000', '100000000000000000000']);
  });

  it('stays finite past the double range, where Redis does', () => {
    const [, twice] = incrSequence(undefined, ['1e308', '1e308']);
    expect(twice).toMatch(/^199999999999999999993371759311691291321120199694831134415594095989843469737676/);
    expect(twice!.length).toBe(309);
  });

  it('refuses what string2ld refuses', () => {
    for (const bad of ['', ' 1', '1 ', 'nan', 'abc', '1e5000', '1e-5000', '0x', '0x1p', '1,5', 'a\0', '1\0']) {
      expect(parseLongDouble(Buffer.from(bad, 'latin1')), JSON.stringify(bad)).toBeUndefined();
    }
    expect(parse('inf').finite).toBe(false);
    expect(addLongDouble(parse('inf'), parse('-inf'))).toBeUndefined();
  });
});
