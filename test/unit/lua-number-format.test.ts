/**
 * Goal: numbers leave scripts in exactly the text C's printf gives Redis (`%.14g` for tostring,
 * concatenation and cjson; `%.17g` for redis.call arguments and double replies). Method: seeded
 * random doubles of every magnitude formatted by formatG and by Python's %-formatting (C's rules),
 * compared one by one. Skipped without /usr/bin/python3.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { formatG } from '../../src/scripting/fengari-api.js';

function samples(seed: number, n: number): number[] {
  let a = seed >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [0, -0, 1, -1, 0.1, 1 / 3, 2 ** 53, 2 ** 63, 1e15, 1e16, 1e-5, 1e-4, 123456789012345678, 5e-324, 1.7976931348623157e308];
  while (out.length < n) {
    const mag = Math.floor(rand() * 60) - 30;
    const v = (rand() - 0.5) * 10 ** mag;
    out.push(rand() < 0.3 ? Math.round(v) : v);
  }
  return out;
}

describe.skipIf(!existsSync('/usr/bin/python3'))('formatG matches C printf', () => {
  it.each([14, 17])('%%.%dg over 3000 doubles', (precision) => {
    const xs = samples(precision, 3000);
    const py = `import sys\nfor line in sys.stdin:\n    print('%.${precision}g' % float.fromhex(line.strip()))`;
    const hex = xs.map((x) => hexFloat(x)).join('\n');
    const want = execFileSync('/usr/bin/python3', ['-c', py], { input: hex }).toString().trim().split('\n');
    const bad = xs.map((x, i) => [x, formatG(x, precision), want[i]] as const).filter(([, got, w]) => got !== w);
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

/** The exact double as Python's float.fromhex reads it. */
function hexFloat(x: number): string {
  if (Object.is(x, -0)) return '-0x0p+0';
  if (x === 0) return '0x0p+0';
  const buf = Buffer.alloc(8);
  buf.writeDoubleBE(x);
  const bits = buf.readBigUInt64BE();
  const sign = bits >> 63n ? '-' : '';
  const exp = Number((bits >> 52n) & 0x7ffn);
  const mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) return `${sign}0x0.${mant.toString(16).padStart(13, '0')}p-1022`;
  return `${sign}0x1.${mant.toString(16).padStart(13, '0')}p${exp - 1023}`;
}
