/**
 * Goal: the geohash module gives redis-server 7.0's numbers: GEOADD scores, GEOPOS coordinates,
 * GEOHASH strings, GEODIST distances, and search cells that cover every point of the area while
 * staying close to it (a search's cost follows the area, not the set).
 * Method: vectors read from redis-server 7.0.15 (Redis's documented Palermo / Catania example and
 * the edges of the coordinate limits); properties of the search cells over seeded random centres
 * and radii, checked against a direct distance test of random points.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeScore, deinterleave, distance, distanceIfWithin, encodeScore, geohashString, interleave, searchRanges, type GeoShape,
} from '../../src/geo/geohash.js';
import { formatFixed } from '../../src/core/format-f.js';
import { Prng } from '../sim/prng.js';

describe('geohash encoding', () => {
  it('scores points as GEOADD does', () => {
    expect(encodeScore(13.361389, 38.115556)).toBe(3479099956230698);
    expect(encodeScore(15.087269, 37.502669)).toBe(3479447370796909);
    expect(encodeScore(-180, 0)).toBe(1125899906842624);
    expect(encodeScore(0, 0)).toBe(3377699720527872);
    // The upper limits set the 27th bit of an axis: the score leaves 52 bits, as in Redis.
    expect(encodeScore(180, -85.05112878)).toBe(9007199254740992);
    expect(encodeScore(180, 85.05112878)).toBe(13510798882111488);
  });

  it('decodes scores to the coordinates GEOPOS prints', () => {
    const [lon, lat] = decodeScore(3479099956230698);
    expect(formatFixed(lon, 17)).toBe('13.36138933897018433');
    expect(formatFixed(lat, 17)).toBe('38.11555639549629859');
    expect(decodeScore(13510798882111488)).toEqual([180, 85.05112878]);
    expect(formatFixed(decodeScore(1125899906842624)[0], 17)).toBe('-179.99999731779098511');
  });

  it('writes GEOHASH strings over the standard latitude range', () => {
    expect(geohashString(3479099956230698)).toBe('sqc8b49rny0');
    expect(geohashString(13510798882111488)).toBe('bp05b5048p0');
    expect(geohashString(9007199254740992)).toBe('00bh0hbj200');
    expect(geohashString(1125899906842624)).toBe('80000000000');
    expect(geohashString(3377699720527872)).toBe('s0000000000');
  });

  it('interleaves and de-interleaves 32-bit axes', () => {
    const rng = new Prng(7);
    for (let i = 0; i < 200; i++) {
      const lat = Math.floor(rng.next() * 2 ** 26);
      const lon = Math.floor(rng.next() * 2 ** 26);
      expect(deinterleave(interleave(lat, lon))).toEqual([lat, lon]);
    }
    expect(interleave(1, 0)).toBe(1n);
    expect(interleave(0, 1)).toBe(2n);
  });

  it('measures distances with Redis haversine', () => {
    const [lon1, lat1] = decodeScore(3479099956230698);
    const [lon2, lat2] = decodeScore(3479447370796909);
    expect(formatFixed(distance(lon1, lat1, lon2, lat2), 4)).toBe('166274.1516');
    expect(formatFixed(distance(lon1, lat1, lon2, lat2) / 1609.34, 4)).toBe('103.3182');
    expect(distance(10, 20, 10, 20)).toBe(0);
  });
});

describe('geo search cells', () => {
  const inAnyRange = (ranges: Array<{ min: number; max: number }>, score: number): boolean => ranges.some((r) => score >= r.min && score < r.max);

  it('cover every point inside the shape, in disjoint ranges', () => {
    const rng = new Prng(11);
    for (let round = 0; round < 60; round++) {
      // Away from the antimeridian and the poles: Redis's cells do not wrap around them (a box
      // at longitude 167 misses a point at 180 on redis-server too), and neither do these.
      const lon = rng.next() * 280 - 140;
      const lat = rng.next() * 100 - 50;
      const radius = [100, 5_000, 50_000, 500_000, 3_000_000][round % 5]!;
      const shape: GeoShape = round % 2 === 0
        ? { kind: 'radius', lon, lat, radius, conversion: 1 }
        : { kind: 'box', lon, lat, width: radius * 2, height: radius, conversion: 1 };
      const ranges = searchRanges(shape);
      const sorted = [...ranges].sort((a, b) => a.min - b.min);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.min).toBeGreaterThanOrEqual(sorted[i - 1]!.max);
      for (let p = 0; p < 300; p++) {
        // Points near the centre, some inside the shape.
        const dLon = (rng.next() - 0.5) * (radius / 50_000);
        const dLat = (rng.next() - 0.5) * (radius / 50_000);
        const pLon = Math.max(-180, Math.min(180, lon + dLon));
        const pLat = Math.max(-85, Math.min(85, lat + dLat));
        const score = encodeScore(pLon, pLat);
        const [dLon2, dLat2] = decodeScore(score);
        if (distanceIfWithin(shape, dLon2, dLat2) !== undefined) expect(inAnyRange(ranges, score)).toBe(true);
      }
    }
  });

  it('stay near the area: a 1 km search spans a tiny fraction of the score space', () => {
    const ranges = searchRanges({ kind: 'radius', lon: 13.36, lat: 38.11, radius: 1, conversion: 1000 });
    expect(ranges.length).toBeLessThanOrEqual(9);
    const span = ranges.reduce((s, r) => s + (r.max - r.min), 0);
    expect(span / 2 ** 52).toBeLessThan(1e-6);
  });
});

describe('%f formatting', () => {
  it('rounds the exact binary value half to even, as glibc', () => {
    expect(formatFixed(1.03125, 4)).toBe('1.0312');
    expect(formatFixed(1.09375, 4)).toBe('1.0938');
    expect(formatFixed(0, 4)).toBe('0.0000');
    expect(formatFixed(-0.00001, 4)).toBe('-0.0000');
    expect(formatFixed(200, 6)).toBe('200.000000');
    expect(formatFixed(Infinity, 6)).toBe('inf');
    expect(formatFixed(1e300, 6).startsWith('1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.')).toBe(true);
  });
});
