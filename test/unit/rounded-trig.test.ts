/**
 * Goal: sinRounded, cosRounded and asinRounded return the double nearest the true value, as the C
 * library Redis computes geo distances with does, where Math.sin, Math.cos and Math.asin may be an
 * ulp off (the cause of STOREDIST scores one ulp away from redis-server's).
 * Method: inputs where Math's answer is not the nearest double, with the nearest double worked out
 * at 300 bits (mpmath) when the table was made; then random inputs within an ulp of Math's answer.
 */
import { describe, expect, it } from 'vitest';
import { asinRounded, cosRounded, sinRounded } from '../../src/geo/rounded-trig.js';
import { decodeScore, distance } from '../../src/geo/geohash.js';

/** [x, f(x) rounded to nearest], each one a case Math gets an ulp wrong. */
const SIN: Array<[number, number]> = [
    [3.095933083307972, 0.045643706784545136],
    [2.284624452170049, 0.7558610239689475],
    [-0.8106545469178711, -0.7247383282583068],
    [1.0244691135826465, 0.8544384864922686],
    [-2.8050924431635464, -0.33018561356658815],
    [-2.3444117935303646, -0.715389129180172],
    [0.7990036476289222, 0.7166615695664312],
    [-1.9631461337665614, -0.9240131378066175],
    [2.1397328407975835, 0.8424743900856252],
    [1.2015099306394474, 0.932585158361907],
    [0.9886256799606526, 0.835271113842876],
    [2.215088429528254, 0.7995251534168942],
    [2.394320978523804, 0.6796399405400365],
    [1.1910988006013843, 0.9287767868191362],
    [2.2628240834794124, 0.76995368775241],
    [0.46474000557266054, 0.44819039766611807],
];
const COS: Array<[number, number]> = [
    [-0.9500180257000381, 0.5816684269854867],
    [0.41199642861158897, 0.9163232005819096],
    [0.35724965413377147, 0.936862158689857],
    [-2.5326691153005436, -0.8202642127208711],
    [-0.7268407377144108, 0.7472774961607452],
    [2.593198058819258, -0.8533625478932046],
    [-1.880381319947053, -0.3046633852316261],
    [-2.48405253093421, -0.7914980321110758],
    [2.3715558668831234, -0.7178850606023627],
    [-2.5818404963504635, -0.8473867356440304],
    [1.1042902155580612, 0.4497684870458197],
    [2.52301872765486, -0.8147062279680407],
    [2.460542433760021, -0.7769119191532544],
    [-2.393964190501321, -0.7333033412615994],
    [1.2286984632104687, 0.3354641275286216],
    [0.7533564817667497, 0.7293968435117086],
];
const ASIN: Array<[number, number]> = [
    [0.8425901636349022, 1.0020747472412463],
    [0.7405615449335594, 0.8339056206029024],
    [0.5515554619092558, 0.5842278439064269],
    [0.8137749755794901, 0.9506182512046356],
    [0.5920802541299426, 0.6336377484371812],
    [0.9265167686193303, 1.1850470335900039],
    [0.9671462754715656, 1.3137546493986256],
    [0.8873201485648488, 1.0915010924329558],
    [0.5542527790583875, 0.5874649713589316],
    [0.9600322464177191, 1.2871174061102135],
    [0.5853061996858686, 0.6252576518751399],
    [0.5715002380245191, 0.6083329104368603],
    [0.8116313118762439, 0.9469392516020471],
    [0.8663101318578714, 1.0477672884866267],
    [0.5908007251151832, 0.6320509294305129],
    [0.5638217770448122, 0.5990059589045645],
];

function ulpsApart(a: number, b: number): number {
  return Math.abs(a - b) / (2 ** (Math.floor(Math.log2(Math.abs(b))) - 52));
}

describe('rounded trigonometry', () => {
  it.each([
    ['sin', SIN, sinRounded, Math.sin],
    ['cos', COS, cosRounded, Math.cos],
    ['asin', ASIN, asinRounded, Math.asin],
  ] as const)('%s gives the nearest double where Math does not', (_name, rows, fn, math) => {
    for (const [x, want] of rows) {
      expect(math(x)).not.toBe(want); // the table holds only cases Math gets wrong
      expect(fn(x), `x = ${x}`).toBe(want);
    }
  });

  it('stays within an ulp of Math on random inputs, keeps signs, zeros and the domain edges', () => {
    for (let i = 0; i < 20000; i++) {
      const x = (Math.random() * 2 - 1) * 4 * Math.PI;
      expect(ulpsApart(sinRounded(x), Math.sin(x))).toBeLessThanOrEqual(1);
      expect(ulpsApart(cosRounded(x), Math.cos(x))).toBeLessThanOrEqual(1);
      const a = Math.random() * 2 - 1;
      if (a !== 0) expect(ulpsApart(asinRounded(a), Math.asin(a))).toBeLessThanOrEqual(1);
    }
    expect(Object.is(sinRounded(-0), -0)).toBe(true);
    expect(cosRounded(0)).toBe(1);
    expect(asinRounded(1)).toBe(Math.PI / 2);
    expect(asinRounded(-1)).toBe(-Math.PI / 2);
    expect(asinRounded(0)).toBe(0);
    expect(Number.isNaN(asinRounded(2))).toBe(true);
    expect(sinRounded(1e300)).toBe(Math.sin(1e300));
  });

  it('gives the distance redis-server 7.0 stores for a case Math got an ulp wrong', () => {
    // GEOADD g 151.1893 -33.8588 c; GEORADIUS g 0 0 20000 km STOREDIST d; ZSCORE d c
    // ZSCORE g c is 3252046240193284; Math's sin, cos and asin made the distance ...388.
    const [lon, lat] = decodeScore(3252046240193284);
    expect(distance(0, 0, lon, lat) / 1000).toBe(15203.233284791386);
  });
});
