/**
 * Geo commands over sorted sets, as Redis 7.0's geo.c: a member's score is its 52-bit geohash
 * (src/geo/geohash.ts). GEOADD is ZADD with computed scores; searches scan the score index over
 * at most nine cells around the centre (the cell ranges Redis scans), filter by exact distance,
 * then sort or store. Argument errors come in Redis's order: the source key's type first, then
 * the options left to right, then the checks between options.
 */
import { ERR, ReplyError } from '../core/errors.js';
import { formatFixed } from '../core/format-f.js';
import { ZSetType, storeZSet, type ZEntry } from '../collections/zset-type.js';
import {
  decodeScore, distance, distanceIfWithin, encodeScore, geohashString, searchRanges,
  GEO_LAT_MAX, GEO_LAT_MIN, GEO_LONG_MAX, GEO_LONG_MIN, type GeoShape,
} from '../geo/geohash.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, lower } from './args.js';
import { parseScore } from './score-text.js';
import { zaddCommand } from './sorted-sets.js';
import { zsetLimits } from './sorted-set-replies.js';

/** getDoubleFromObjectOrReply: Redis's string2d, with the command's own message when it has one. */
function doubleArg(buf: Buffer, message?: string): number {
  const v = parseScore(buf);
  if (v === undefined) throw new ReplyError(message === undefined ? ERR.notFloat : `ERR ${message}`);
  return v;
}

/** extractLongLatOrReply: two floats within Redis's limits, echoed as %f when not. */
function lonLatArgs(argv: Buffer[], at: number): [number, number] {
  const lon = doubleArg(argv[at]!);
  const lat = doubleArg(argv[at + 1]!);
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    throw new ReplyError(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
  }
  return [lon, lat];
}

/** extractUnitOrReply: metres per unit. */
function unitArg(buf: Buffer): number {
  switch (lower(buf)) {
    case 'm': return 1;
    case 'km': return 1000;
    case 'ft': return 0.3048;
    case 'mi': return 1609.34;
    default: throw new ReplyError('ERR unsupported unit provided. please use M, KM, FT, MI');
  }
}

/** Distances as Redis prints them: `%.4f`, a bulk string in RESP3 too. */
function writeDistance(ctx: CommandContext, d: number): void {
  ctx.out.bulk(formatFixed(d, 4));
}

/**
 * addReplyHumanLongDouble: `%.17Lf` of the value with trailing zeros (and a bare dot) dropped,
 * "-0" as "0"; a bulk string in RESP2, a double in RESP3.
 */
function humanDouble(d: number): string {
  let s = formatFixed(d, 17);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

function writeCoordinate(ctx: CommandContext, d: number): void {
  const text = humanDouble(d);
  if (ctx.out.proto === 3) ctx.out.raw(Buffer.from(`,${text}\r\n`, 'latin1'));
  else ctx.out.bulk(text);
}

/** GEOADD key [NX|XX] [CH] lon lat member …: the ZADD Redis turns it into. */
function geoadd(ctx: CommandContext, argv: Buffer[]): void {
  let nx = false;
  let xx = false;
  let at = 2;
  for (; at < argv.length; at++) {
    const o = lower(argv[at]!);
    if (o === 'nx') nx = true;
    else if (o === 'xx') xx = true;
    else if (o !== 'ch') break;
  }
  if ((argv.length - at) % 3 !== 0 || (nx && xx)) throw new ReplyError(ERR.syntax);
  const zargv: Buffer[] = [Buffer.from('zadd'), ...argv.slice(1, at)];
  for (let j = at; j < argv.length; j += 3) {
    const [lon, lat] = lonLatArgs(argv, j);
    zargv.push(Buffer.from(String(encodeScore(lon, lat)), 'latin1'), argv[j + 2]!);
  }
  zaddCommand(ctx, zargv);
}

function geohash(ctx: CommandContext, argv: Buffer[]): void {
  const z = ZSetType.open(ctx.ks, argv[1]!);
  ctx.out.arrayHeader(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const score = z?.score(argv[j]!);
    if (score === undefined) ctx.out.nullBulk();
    else ctx.out.bulk(geohashString(score));
  }
}

function geopos(ctx: CommandContext, argv: Buffer[]): void {
  const z = ZSetType.open(ctx.ks, argv[1]!);
  ctx.out.arrayHeader(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const score = z?.score(argv[j]!);
    if (score === undefined) {
      ctx.out.nullArray();
      continue;
    }
    const [lon, lat] = decodeScore(score);
    ctx.out.arrayHeader(2);
    writeCoordinate(ctx, lon);
    writeCoordinate(ctx, lat);
  }
}

/** GEODIST key m1 m2 [unit]: the unit is checked before the key, as in Redis. */
function geodist(ctx: CommandContext, argv: Buffer[]): void {
  let toMeter = 1;
  if (argv.length === 5) toMeter = unitArg(argv[4]!);
  else if (argv.length > 5) throw new ReplyError(ERR.syntax);
  const z = ZSetType.open(ctx.ks, argv[1]!);
  const s1 = z?.score(argv[2]!);
  const s2 = z?.score(argv[3]!);
  if (s1 === undefined || s2 === undefined) return ctx.out.nullBulk();
  const [lon1, lat1] = decodeScore(s1);
  const [lon2, lat2] = decodeScore(s2);
  writeDistance(ctx, distance(lon1, lat1, lon2, lat2) / toMeter);
}

/** Which command of the family is running (Redis's RADIUS_* / GEOSEARCH flags). */
type Variant = 'radius' | 'radius_ro' | 'bymember' | 'bymember_ro' | 'search' | 'searchstore';

interface Point {
  member: Buffer;
  score: number;
  lon: number;
  lat: number;
  dist: number;
}

/** The search area from the radius / box arguments: a shape without its centre yet. */
interface Extent {
  kind: 'radius' | 'box';
  radius: number;
  width: number;
  height: number;
  conversion: number;
}

function radiusExtent(argv: Buffer[], at: number): Extent {
  const radius = doubleArg(argv[at]!, 'need numeric radius');
  if (radius < 0) throw new ReplyError('ERR radius cannot be negative');
  return { kind: 'radius', radius, width: 0, height: 0, conversion: unitArg(argv[at + 1]!) };
}

function boxExtent(argv: Buffer[], at: number): Extent {
  const width = doubleArg(argv[at]!, 'need numeric width');
  const height = doubleArg(argv[at + 1]!, 'need numeric height');
  if (height < 0 || width < 0) throw new ReplyError('ERR height or width cannot be negative');
  return { kind: 'box', radius: 0, width, height, conversion: unitArg(argv[at + 2]!) };
}

function memberCentre(z: ZSetType, member: Buffer): [number, number] {
  const score = z.score(member);
  if (score === undefined) throw new ReplyError('ERR could not decode requested zset member');
  return decodeScore(score);
}

/** georadiusGeneric: every search and store form of the family. */
function geoSearch(variant: Variant) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const isSearch = variant === 'search' || variant === 'searchstore';
    const noStore = variant === 'radius_ro' || variant === 'bymember_ro';
    const srcAt = variant === 'searchstore' ? 2 : 1;
    const z = ZSetType.open(ctx.ks, argv[srcAt]!);
    let centre: [number, number] | undefined;
    let extent: Extent | undefined;
    let baseArgs: number;
    let storeKey: Buffer | undefined;
    let storeDist = false;
    if (variant === 'radius' || variant === 'radius_ro') {
      baseArgs = 6;
      centre = lonLatArgs(argv, 2);
      extent = radiusExtent(argv, 4);
    } else if (variant === 'bymember' || variant === 'bymember_ro') {
      baseArgs = 5;
      if (z !== undefined) {
        centre = memberCentre(z, argv[2]!);
        extent = radiusExtent(argv, 3);
      }
    } else {
      baseArgs = variant === 'searchstore' ? 3 : 2;
      if (variant === 'searchstore') storeKey = argv[1]!;
    }
    let withDist = false;
    let withHash = false;
    let withCoord = false;
    let fromMember = false;
    let fromLonLat = false;
    let byRadius = false;
    let byBox = false;
    let sort: 'none' | 'asc' | 'desc' = 'none';
    let any = false;
    let count = 0;
    const remaining = argv.length - baseArgs;
    for (let i = 0; i < remaining; i++) {
      const at = baseArgs + i;
      const arg = lower(argv[at]!);
      if (arg === 'withdist') withDist = true;
      else if (arg === 'withhash') withHash = true;
      else if (arg === 'withcoord') withCoord = true;
      else if (arg === 'any') any = true;
      else if (arg === 'asc') sort = 'asc';
      else if (arg === 'desc') sort = 'desc';
      else if (arg === 'count' && i + 1 < remaining) {
        const c = int64Arg(argv[at + 1]!);
        if (c <= 0n) throw new ReplyError('ERR COUNT must be > 0');
        count = c > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(c);
        i++;
      } else if ((arg === 'store' || arg === 'storedist') && i + 1 < remaining && !noStore && !isSearch) {
        storeKey = argv[at + 1]!;
        storeDist = arg === 'storedist';
        i++;
      } else if (arg === 'storedist' && variant === 'searchstore') {
        storeDist = true;
      } else if (arg === 'frommember' && i + 1 < remaining && isSearch && !fromLonLat) {
        if (z !== undefined) centre = memberCentre(z, argv[at + 1]!);
        fromMember = true;
        i++;
      } else if (arg === 'fromlonlat' && i + 2 < remaining && isSearch && !fromMember) {
        centre = lonLatArgs(argv, at + 1);
        fromLonLat = true;
        i += 2;
      } else if (arg === 'byradius' && i + 2 < remaining && isSearch && !byBox) {
        extent = radiusExtent(argv, at + 1);
        byRadius = true;
        i += 2;
      } else if (arg === 'bybox' && i + 3 < remaining && isSearch && !byRadius) {
        extent = boxExtent(argv, at + 1);
        byBox = true;
        i += 3;
      } else throw new ReplyError(ERR.syntax);
    }
    if (storeKey !== undefined && (withDist || withHash || withCoord)) {
      throw new ReplyError(`ERR ${variant === 'searchstore' ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS'} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
    }
    const name = argv[0]!.toString('latin1');
    if (isSearch && !(fromMember || fromLonLat)) throw new ReplyError(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${name}`);
    if (isSearch && !(byRadius || byBox)) throw new ReplyError(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${name}`);
    if (any && count === 0) throw new ReplyError('ERR the ANY argument requires COUNT argument');
    if (z === undefined) {
      if (storeKey === undefined) return ctx.out.arrayHeader(0);
      ctx.ks.del(storeKey);
      return ctx.out.int(0);
    }
    if (count !== 0 && sort === 'none' && !any) sort = 'asc';
    const shape: GeoShape = extent!.kind === 'radius'
      ? { kind: 'radius', lon: centre![0], lat: centre![1], radius: extent!.radius, conversion: extent!.conversion }
      : { kind: 'box', lon: centre![0], lat: centre![1], width: extent!.width, height: extent!.height, conversion: extent!.conversion };
    const found = pointsWithin(z, shape, any ? count : 0);
    if (found.length === 0 && storeKey === undefined) return ctx.out.arrayHeader(0);
    // Array.prototype.sort is stable, as glibc's qsort (a merge sort) is for these sizes.
    if (sort === 'asc') found.sort((a, b) => a.dist - b.dist);
    else if (sort === 'desc') found.sort((a, b) => b.dist - a.dist);
    const returned = count === 0 || found.length < count ? found.length : count;
    const conversion = shape.conversion;
    if (storeKey !== undefined) {
      const entries: ZEntry[] = found.slice(0, returned).map((p) => [p.member, storeDist ? p.dist / conversion : p.score]);
      storeZSet(ctx.ks, storeKey, entries, zsetLimits(ctx));
      return ctx.out.int(returned);
    }
    const options = (withDist ? 1 : 0) + (withCoord ? 1 : 0) + (withHash ? 1 : 0);
    ctx.out.arrayHeader(returned);
    for (let i = 0; i < returned; i++) {
      const p = found[i]!;
      if (options > 0) ctx.out.arrayHeader(options + 1);
      ctx.out.bulk(p.member);
      if (withDist) writeDistance(ctx, p.dist / conversion);
      if (withHash) ctx.out.int(Math.trunc(p.score));
      if (withCoord) {
        ctx.out.arrayHeader(2);
        writeCoordinate(ctx, p.lon);
        writeCoordinate(ctx, p.lat);
      }
    }
  };
}

/**
 * membersOfAllNeighbors: the points of the cells around the centre that lie in the shape, cell by
 * cell in score order; with a limit (COUNT … ANY) it stops once that many are found.
 */
function pointsWithin(z: ZSetType, shape: GeoShape, limit: number): Point[] {
  const out: Point[] = [];
  for (const range of searchRanges(shape)) {
    if (limit > 0 && out.length >= limit) break;
    z.eachInScoreRange({ min: range.min, max: range.max, minExclusive: false, maxExclusive: true }, ([member, score]) => {
      const [lon, lat] = decodeScore(score);
      const dist = distanceIfWithin(shape, lon, lat);
      if (dist !== undefined) out.push({ member, score, lon, lat, dist });
      return !(limit > 0 && out.length >= limit);
    });
  }
  return out;
}

/**
 * GEORADIUS / GEORADIUSBYMEMBER keys: the source, then what Redis 7.0's key specs find (the key
 * after the first STORE and after the first STOREDIST from the first option on), then the
 * destination actually written (the last STORE / STOREDIST) when a repeated option made it another:
 * routing must see every key the command may write.
 */
function radiusKeys(firstOption: number) {
  return (argv: readonly Buffer[]): number[] => {
    const keys = [1];
    for (const word of ['store', 'storedist']) {
      for (let i = firstOption; i < argv.length - 1; i++) {
        if (lower(argv[i]!) === word) {
          keys.push(i + 1);
          break;
        }
      }
    }
    let last = -1;
    for (let i = firstOption; i < argv.length; i++) {
      const a = lower(argv[i]!);
      if ((a === 'store' || a === 'storedist') && i + 1 < argv.length) last = ++i;
    }
    if (last !== -1 && !keys.includes(last)) keys.push(last);
    return keys;
  };
}

const one = { firstKey: 1, lastKey: 1, step: 1 };
const rs = ['read', 'geo', 'slow'];
const ws = ['write', 'geo', 'slow'];

export const geoCommands: CommandSpec[] = [
  command({ name: 'geoadd', arity: -5, flags: ['write', 'denyoom'], ...one, categories: ws, run: geoadd }),
  command({ name: 'geohash', arity: -2, flags: ['readonly'], ...one, categories: rs, run: geohash }),
  command({ name: 'geopos', arity: -2, flags: ['readonly'], ...one, categories: rs, run: geopos }),
  command({ name: 'geodist', arity: -4, flags: ['readonly'], ...one, categories: rs, run: geodist }),
  command({ name: 'georadius', arity: -6, flags: ['write', 'denyoom'], ...one, categories: ws, keyIndexes: radiusKeys(6), run: geoSearch('radius') }),
  command({ name: 'georadius_ro', arity: -6, flags: ['readonly'], ...one, categories: rs, run: geoSearch('radius_ro') }),
  command({ name: 'georadiusbymember', arity: -5, flags: ['write', 'denyoom'], ...one, categories: ws, keyIndexes: radiusKeys(5), run: geoSearch('bymember') }),
  command({ name: 'georadiusbymember_ro', arity: -5, flags: ['readonly'], ...one, categories: rs, run: geoSearch('bymember_ro') }),
  command({ name: 'geosearch', arity: -7, flags: ['readonly'], ...one, categories: rs, run: geoSearch('search') }),
  command({ name: 'geosearchstore', arity: -8, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, step: 1, categories: ws, run: geoSearch('searchstore') }),
];

