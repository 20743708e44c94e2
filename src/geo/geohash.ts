/**
 * Redis's geohash, bit for bit (geohash.c, geohash_helper.c of Redis 7.0): a point is stored as a
 * sorted-set score, the 52-bit interleave of its latitude (even bits) and longitude (odd bits),
 * each cut into 2^26 steps of the WGS84 ranges Redis uses (latitude only to ±85.05112878, the
 * limits of Web Mercator). Every formula keeps Redis's order of floating-point operations, so the
 * same input gives the same score, the same decoded coordinates and the same distances.
 *
 * Pure: no I/O. 64-bit hash arithmetic is done on bigints (JS numbers hold 53 bits).
 */

import { asinRounded, cosRounded, sinRounded } from './rounded-trig.js';

export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
/** 26 steps per axis: 52 bits, what a double holds exactly. */
export const GEO_STEP_MAX = 26;
/** Redis's Earth radius (quadratic mean radius of WGS84), in metres. */
export const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
/** C's M_PI / 180.0, as Redis's deg_rad multiplies by it. */
const D_R = Math.PI / 180.0;

export interface GeoRange {
  min: number;
  max: number;
}

/** A cell of the grid: `step` bits per axis, interleaved. step 0 and bits 0 is "no cell" (GZERO). */
export interface HashBits {
  bits: bigint;
  step: number;
}

export interface GeoArea {
  hash: HashBits;
  longitude: GeoRange;
  latitude: GeoRange;
}

export const WGS84_LONG: GeoRange = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
export const WGS84_LAT: GeoRange = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };

const MASK64 = (1n << 64n) - 1n;
const EVEN64 = 0x5555555555555555n;
const ODD64 = 0xaaaaaaaaaaaaaaaan;
const SPREAD_MASKS = [0x5555555555555555n, 0x3333333333333333n, 0x0f0f0f0f0f0f0f0fn, 0x00ff00ff00ff00ffn, 0x0000ffff0000ffffn];
const SPREAD_SHIFTS = [1n, 2n, 4n, 8n, 16n];

/** A 32-bit value's bits moved to the even positions of 64. */
function spread(v: bigint): bigint {
  let x = v & 0xffffffffn;
  for (let i = 4; i >= 0; i--) x = (x | (x << SPREAD_SHIFTS[i]!)) & SPREAD_MASKS[i]!;
  return x;
}

/** The even bits of a 64-bit value packed into 32. */
function squash(v: bigint): bigint {
  let x = v & EVEN64;
  for (let i = 0; i < 5; i++) x = (x | (x >> SPREAD_SHIFTS[i]!)) & (i === 4 ? 0xffffffffn : SPREAD_MASKS[i + 1]!);
  return x;
}

/** interleave64(lat, lon): latitude on the even bits, longitude on the odd ones. */
export function interleave(lat: number, lon: number): bigint {
  return spread(BigInt(lat >>> 0)) | (spread(BigInt(lon >>> 0)) << 1n);
}

/** deinterleave64: [latitude bits, longitude bits]. */
export function deinterleave(bits: bigint): [lat: number, lon: number] {
  return [Number(squash(bits)), Number(squash(bits >> 1n))];
}

/**
 * geohashEncode: the cell of `step` bits per axis holding the point; undefined outside Redis's
 * WGS84 limits or outside the given ranges (Redis returns 0 then).
 */
export function encode(longRange: GeoRange, latRange: GeoRange, longitude: number, latitude: number, step: number): HashBits | undefined {
  if (step > 32 || step === 0) return undefined;
  if (longitude > GEO_LONG_MAX || longitude < GEO_LONG_MIN || latitude > GEO_LAT_MAX || latitude < GEO_LAT_MIN) return undefined;
  if (latitude < latRange.min || latitude > latRange.max || longitude < longRange.min || longitude > longRange.max) return undefined;
  let latOffset = (latitude - latRange.min) / (latRange.max - latRange.min);
  let longOffset = (longitude - longRange.min) / (longRange.max - longRange.min);
  latOffset *= 2 ** step;
  longOffset *= 2 ** step;
  // C converts the offsets to uint32_t: truncation.
  return { bits: interleave(Math.trunc(latOffset), Math.trunc(longOffset)), step };
}

/** geohashAlign52Bits: a cell's bits as the score of its lowest corner. */
export function align52(hash: HashBits): bigint {
  return (hash.bits << BigInt(52 - hash.step * 2)) & MASK64;
}

/** The score GEOADD stores for a point already checked against the limits. */
export function encodeScore(longitude: number, latitude: number): number {
  const hash = encode(WGS84_LONG, WGS84_LAT, longitude, latitude, GEO_STEP_MAX)!;
  // Redis writes the integer as text and ZADD reads it back as a double: round to nearest.
  return Number(align52(hash));
}

/** geohashDecode: the bounds of a cell. */
export function decode(longRange: GeoRange, latRange: GeoRange, hash: HashBits): GeoArea {
  const [ilato, ilono] = deinterleave(hash.bits);
  const latScale = latRange.max - latRange.min;
  const longScale = longRange.max - longRange.min;
  const cells = 2 ** hash.step;
  return {
    hash,
    latitude: { min: latRange.min + (ilato * 1.0 / cells) * latScale, max: latRange.min + (((ilato + 1) >>> 0) * 1.0 / cells) * latScale },
    longitude: { min: longRange.min + (ilono * 1.0 / cells) * longScale, max: longRange.min + (((ilono + 1) >>> 0) * 1.0 / cells) * longScale },
  };
}

const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

/** C's (uint64_t) cast of a double as x86-64 compilers emit it (out of range: 2^63). */
function toUint64(d: number): bigint {
  if (Number.isNaN(d) || d <= -TWO_63 || d >= TWO_64) return 1n << 63n;
  return BigInt.asUintN(64, BigInt(Math.trunc(d)));
}

/** decodeGeohash: a score as [longitude, latitude], the centre of its cell clamped to the limits. */
export function decodeScore(score: number): [longitude: number, latitude: number] {
  const area = decode(WGS84_LONG, WGS84_LAT, { bits: toUint64(score), step: GEO_STEP_MAX });
  let lon = (area.longitude.min + area.longitude.max) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (area.latitude.min + area.latitude.max) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  return [lon, lat];
}

const GEO_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/**
 * GEOHASH's 11 characters: the decoded point encoded again over the standard ranges (latitude
 * ±90, not ±85), 52 bits in 10 characters and a final '0' as Redis pads it.
 */
export function geohashString(score: number): string {
  const [lon, lat] = decodeScore(score);
  const hash = encode({ min: -180, max: 180 }, { min: -90, max: 90 }, lon, lat, 26) ?? { bits: 0n, step: 26 };
  let out = '';
  for (let i = 0; i < 10; i++) out += GEO_ALPHABET[Number((hash.bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn)];
  return `${out}0`;
}

function degRad(ang: number): number {
  return ang * D_R;
}

function radDeg(ang: number): number {
  return ang / D_R;
}

/** Distance along a meridian (Redis 7.0's shortcut when both longitudes are the same). */
export function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2) - degRad(lat1));
}

/**
 * geohashGetDistance: haversine on a sphere of Redis's radius, in metres. The C library's sin, cos
 * and asin round to nearest; Math's may be an ulp off, which STOREDIST would store (rounded-trig.ts).
 */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degRad(lon1);
  const lon2r = degRad(lon2);
  const v = sinRounded((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = degRad(lat1);
  const lat2r = degRad(lat2);
  const u = sinRounded((lat2r - lat1r) / 2);
  const a = u * u + cosRounded(lat1r) * cosRounded(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * asinRounded(Math.sqrt(a));
}

/** A search area: a circle (BYRADIUS) or an axis-aligned box (BYBOX) around a centre. */
export type GeoShape =
  | { kind: 'radius'; lon: number; lat: number; radius: number; conversion: number }
  | { kind: 'box'; lon: number; lat: number; width: number; height: number; conversion: number };

/** The point's distance from the centre (metres) when it lies in the shape; undefined otherwise. */
export function distanceIfWithin(shape: GeoShape, lon: number, lat: number): number | undefined {
  if (shape.kind === 'radius') {
    const d = distance(shape.lon, shape.lat, lon, lat);
    return d > shape.radius * shape.conversion ? undefined : d;
  }
  // Latitude first: it is cheaper, as Redis checks it.
  const heightM = shape.height * shape.conversion;
  const widthM = shape.width * shape.conversion;
  if (latDistance(lat, shape.lat) > heightM / 2) return undefined;
  if (distance(lon, lat, shape.lon, lat) > widthM / 2) return undefined;
  return distance(shape.lon, shape.lat, lon, lat);
}

/** geohashEstimateStepsByRadius: the coarsest cell size whose 3x3 block covers the radius. */
export function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  let range = rangeMeters;
  while (range < MERCATOR_MAX) {
    range *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** geohashBoundingBox: [min lon, min lat, max lon, max lat] of the shape. */
export function boundingBox(shape: GeoShape): [number, number, number, number] {
  const { lon, lat } = shape;
  const height = shape.conversion * (shape.kind === 'radius' ? shape.radius : shape.height / 2);
  const width = shape.conversion * (shape.kind === 'radius' ? shape.radius : shape.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const longDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(lat + latDelta)));
  const longDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(lat - latDelta)));
  const southern = lat < 0;
  return [
    southern ? lon - longDeltaBottom : lon - longDeltaTop,
    lat - latDelta,
    southern ? lon + longDeltaBottom : lon + longDeltaTop,
    lat + latDelta,
  ];
}

/**
 * Steps a cell one over (d > 0) or back (d < 0) along the axis whose bits are `own`, leaving the
 * other axis's bits (`other`) as they are: Redis's geohash_move_x / geohash_move_y.
 */
function move(hash: HashBits, d: number, own: bigint, other: bigint): HashBits {
  if (d === 0) return hash;
  const shift = BigInt(64 - hash.step * 2);
  let a = hash.bits & own;
  const b = hash.bits & other;
  const zz = other >> shift;
  if (d > 0) a = a + (zz + 1n);
  else {
    a = a | zz;
    a = a - (zz + 1n);
  }
  a = BigInt.asUintN(64, a) & (own >> shift);
  return { bits: a | b, step: hash.step };
}

const moveX = (hash: HashBits, d: number): HashBits => move(hash, d, ODD64, EVEN64);
const moveY = (hash: HashBits, d: number): HashBits => move(hash, d, EVEN64, ODD64);

const ZERO_CELL: HashBits = { bits: 0n, step: 0 };

function isZero(h: HashBits): boolean {
  return h.bits === 0n && h.step === 0;
}

/**
 * The cells a search visits, in Redis's order: centre, N, S, E, W, NE, NW, SE, SW, leaving out
 * neighbours the shape cannot reach and a neighbour equal to the one visited before it (huge radii
 * make neighbours coincide). Each is the score range [min, max) of the points inside it.
 */
export function searchRanges(shape: GeoShape): Array<{ min: number; max: number }> {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
  const radiusMeters = shape.conversion * (shape.kind === 'radius'
    ? shape.radius
    : Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2)));
  let steps = estimateSteps(radiusMeters, shape.lat);
  const cellsAt = (s: number): { hash: HashBits; n: Record<string, HashBits>; area: GeoArea } => {
    const hash = encode(WGS84_LONG, WGS84_LAT, shape.lon, shape.lat, s) ?? { bits: 0n, step: s };
    const n = {
      east: moveX(hash, 1),
      west: moveX(hash, -1),
      south: moveY(hash, -1),
      north: moveY(hash, 1),
      north_west: moveY(moveX(hash, -1), 1),
      south_west: moveY(moveX(hash, -1), -1),
      north_east: moveY(moveX(hash, 1), 1),
      south_east: moveY(moveX(hash, 1), -1),
    };
    return { hash, n, area: decode(WGS84_LONG, WGS84_LAT, hash) };
  };
  let cells = cellsAt(steps);
  const north = decode(WGS84_LONG, WGS84_LAT, cells.n.north!);
  const south = decode(WGS84_LONG, WGS84_LAT, cells.n.south!);
  const east = decode(WGS84_LONG, WGS84_LAT, cells.n.east!);
  const west = decode(WGS84_LONG, WGS84_LAT, cells.n.west!);
  const decrease = north.latitude.max < maxLat || south.latitude.min > minLat || east.longitude.max < maxLon || west.longitude.min > minLon;
  if (steps > 1 && decrease) {
    steps--;
    cells = cellsAt(steps);
  }
  const { n, area } = cells;
  if (steps >= 2) {
    const zero = (...names: string[]): void => names.forEach((k) => (n[k] = ZERO_CELL));
    if (area.latitude.min < minLat) zero('south', 'south_west', 'south_east');
    if (area.latitude.max > maxLat) zero('north', 'north_east', 'north_west');
    if (area.longitude.min < minLon) zero('west', 'south_west', 'north_west');
    if (area.longitude.max > maxLon) zero('east', 'south_east', 'north_east');
  }
  const order = [cells.hash, n.north!, n.south!, n.east!, n.west!, n.north_east!, n.north_west!, n.south_east!, n.south_west!];
  const out: Array<{ min: number; max: number }> = [];
  let lastProcessed = 0;
  for (let i = 0; i < order.length; i++) {
    const cell = order[i]!;
    if (isZero(cell)) continue;
    const last = order[lastProcessed]!;
    // As Redis: the centre (index 0) is never compared, only a neighbour visited before.
    if (lastProcessed !== 0 && cell.bits === last.bits && cell.step === last.step) continue;
    out.push({ min: Number(align52(cell)), max: Number(align52({ bits: cell.bits + 1n, step: cell.step })) });
    lastProcessed = i;
  }
  return out;
}
