/**
 * Goal: geo commands answer exactly as redis-server 7.0 does, on one node and on a 3-node cluster,
 * in RESP2 and RESP3, pipelined and inside MULTI: scores, GEOPOS coordinates (%.17Lf trimmed, RESP3
 * doubles), GEOHASH strings, distances (%.4f), search results and their order, the stored sorted
 * sets of the STORE forms, and every argument error in Redis's order.
 * Method: seeded scenarios weighted towards geo commands (gen-geo.ts) mixed with the string and key
 * families (WRONGTYPE, DEL, EXPIRE, RENAME of geo keys), run in lockstep on redis-server and ringkv;
 * every reply compared byte for byte.
 */
import type { Mix } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';

const GEO_MIX: Mix = { strings: 6, keys: 8, hashes: 2, connection: 2, errors: 2, transactions: 8, geo: 72 };

differentialSuite({
  title: 'differential geo: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([201, 202]),
  protocols: [2, 3],
  mix: GEO_MIX,
  label: 'geo1',
});

differentialSuite({
  title: 'differential geo: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([203]),
  protocols: [2, 3],
  mix: GEO_MIX,
  label: 'geoc',
});
