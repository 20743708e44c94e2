/**
 * Random geo commands, valid and invalid. Every member has its own base position (Sicily, the
 * rest of Italy, far cities, the coordinate limits) and moves only by small fixed offsets, so two
 * members never share a position: Redis orders equal distances by a partial quicksort, which no
 * other implementation reproduces. Searches centre on those places or on members, with radii from
 * metres to half the Earth, in every unit, and every option in random order.
 */
import { cmd, type Check, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import type { Prng } from '../../sim/prng.js';

const BASES: Record<string, [number, number]> = {
  Palermo: [13.361389, 38.115556],
  Catania: [15.087269, 37.502669],
  Rome: [12.496366, 41.902782],
  Messina: [15.554, 38.193],
  a: [13.5, 37.9],
  b: [-73.935242, 40.73061],
  c: [151.2093, -33.8688],
  edge: [180, 85.05112878],
  south: [-180, -85.05112878],
  m1: [179.95, 0.5],
  '': [0, 0],
};
const MEMBERS = Object.keys(BASES);
const DISTANCES: Check = { kind: 'distances' };
const OFFSETS = [0, 0.001, -0.02, 0.3];
const CENTRES: Array<[string, string]> = [
  ['13.361389', '38.115556'], ['15', '37'], ['14', '38'], ['12.5', '41.9'], ['0', '0'], ['-73.9', '40.7'],
  ['179.9', '0'], ['-180', '85.05112878'], ['151', '-34'],
];
const BAD_CENTRES: Array<[string, string]> = [['181', '0'], ['0', '86'], ['x', '1'], ['1', ''], ['-180.5', '-85.1'], ['inf', '0'], ['1e300', '1']];
const RADII = ['0', '1', '10', '50', '100', '200', '500', '1000', '5000', '20000', '0.5', '150.25'];
const BAD_RADII = ['-1', 'x', '', 'nan'];
const UNITS = ['m', 'km', 'mi', 'ft', 'KM', 'Mi'];

function clampLon(v: number): number {
  return Math.max(-180, Math.min(180, v));
}

function clampLat(v: number): number {
  return Math.max(-85.05112878, Math.min(85.05112878, v));
}

function point(rng: Prng, member: string): string[] {
  const [lon, lat] = BASES[member]!;
  const o = rng.pick(OFFSETS);
  return [String(clampLon(lon + o)), String(clampLat(lat - o / 2)), member];
}

function unit(rng: Prng): string {
  return rng.chance(0.04) ? rng.pick(['parsec', '', 'meters']) : rng.pick(UNITS);
}

function radius(rng: Prng): string[] {
  const big = rng.chance(0.5);
  const r = rng.chance(0.04) ? rng.pick(BAD_RADII) : rng.pick(RADII);
  // Units scale the radius: 5000 mi covers the globe, 50 m covers one member.
  const u = unit(rng);
  return [big || u.toLowerCase() !== 'm' ? r : String(Number(r) * 1000 || r), u];
}

function centre(rng: Prng): [string, string] {
  return rng.chance(0.05) ? rng.pick(BAD_CENTRES) : rng.pick(CENTRES);
}

function member(rng: Prng): string {
  return rng.chance(0.08) ? 'nosuch' : rng.pick(MEMBERS);
}

/** Options in random order; `store` adds none of the WITH options (they would be refused). */
function searchOptions(rng: Prng, opts: { withs: boolean }): string[] {
  const out: string[][] = [];
  if (opts.withs) {
    if (rng.chance(0.4)) out.push(['WITHDIST']);
    if (rng.chance(0.3)) out.push(['WITHCOORD']);
    if (rng.chance(0.3)) out.push(['WITHHASH']);
  }
  if (rng.chance(0.4)) out.push([rng.pick(['ASC', 'DESC'])]);
  if (rng.chance(0.35)) {
    const count = rng.chance(0.08) ? rng.pick(['0', '-1', 'x']) : rng.pick(['1', '2', '3', '5', '100']);
    out.push(['COUNT', count, ...(rng.chance(0.3) ? ['ANY'] : [])]);
  } else if (rng.chance(0.03)) out.push(['ANY']);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out.flat();
}

function from(rng: Prng): string[] {
  if (rng.chance(0.03)) return [];
  return rng.chance(0.5) ? ['FROMMEMBER', member(rng)] : ['FROMLONLAT', ...centre(rng)];
}

function by(rng: Prng): string[] {
  if (rng.chance(0.03)) return [];
  if (rng.chance(0.5)) return ['BYRADIUS', ...radius(rng)];
  const w = rng.chance(0.04) ? rng.pick(BAD_RADII) : rng.pick(RADII);
  const h = rng.pick(RADII);
  return ['BYBOX', w, h, unit(rng)];
}

export function geoCommand(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  const k = (): string => keys.key(rng);
  switch (rng.int(0, 19)) {
    case 0:
    case 1:
    case 2: {
      const opts = [...(rng.chance(0.2) ? [rng.pick(['NX', 'XX'])] : []), ...(rng.chance(0.2) ? ['CH'] : []), ...(rng.chance(0.02) ? ['NX', 'XX'] : [])];
      const triples = Array.from({ length: rng.int(1, 4) }, () => point(rng, rng.pick(MEMBERS))).flat();
      if (rng.chance(0.05)) triples.splice(0, 2, ...rng.pick(BAD_CENTRES));
      if (rng.chance(0.03)) triples.pop();
      return cmd(['GEOADD', k(), ...opts, ...triples]);
    }
    case 3: return cmd(['GEOPOS', k(), ...Array.from({ length: rng.int(1, 3) }, () => member(rng))]);
    case 4: return cmd(['GEOHASH', k(), ...Array.from({ length: rng.int(1, 3) }, () => member(rng))]);
    case 5: return cmd(['GEODIST', k(), member(rng), member(rng), ...(rng.chance(0.6) ? [unit(rng)] : []), ...(rng.chance(0.02) ? ['extra'] : [])]);
    case 6:
    case 7:
    case 8: {
      const parts = [from(rng), by(rng), searchOptions(rng, { withs: true })];
      if (rng.chance(0.5)) [parts[0], parts[1]] = [parts[1]!, parts[0]!];
      return cmd(['GEOSEARCH', k(), ...parts.flat()]);
    }
    case 9:
    case 10: {
      const [dst, src] = keys.keys(rng, 2) as [string, string];
      return cmd(['GEOSEARCHSTORE', dst, src, ...from(rng), ...by(rng), ...searchOptions(rng, { withs: rng.chance(0.05) }), ...(rng.chance(0.4) ? ['STOREDIST'] : [])]);
    }
    case 11:
    case 12: {
      const name = rng.pick(['GEORADIUS', 'GEORADIUS_RO']);
      const store = name === 'GEORADIUS' && rng.chance(0.3);
      const [dst, src] = keys.keys(rng, 2) as [string, string];
      return cmd([name, src, ...centre(rng), ...radius(rng), ...searchOptions(rng, { withs: !store || rng.chance(0.05) }), ...(store ? [rng.pick(['STORE', 'STOREDIST']), dst] : [])]);
    }
    case 13:
    case 14: {
      const name = rng.pick(['GEORADIUSBYMEMBER', 'GEORADIUSBYMEMBER_RO']);
      const store = rng.chance(0.3);
      const [dst, src] = keys.keys(rng, 2) as [string, string];
      return cmd([name, src, member(rng), ...radius(rng), ...searchOptions(rng, { withs: !store || rng.chance(0.05) }), ...(store ? [rng.pick(['STORE', 'STOREDIST']), dst] : [])]);
    }
    case 15: return { ...cmd(['ZRANGE', k(), '0', '-1', 'WITHSCORES']), check: DISTANCES };
    case 16: return cmd(['ZREM', k(), member(rng)]);
    case 17: return cmd(['ZCARD', k()]);
    case 18: return cmd(['TYPE', k()]);
    default: return { ...cmd(['ZSCORE', k(), member(rng)]), check: DISTANCES };
  }
}
