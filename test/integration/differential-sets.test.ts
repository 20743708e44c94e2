/**
 * Goal: set commands on ringkv answer exactly as on redis-server 7.0, on one node and on a 3-node
 * cluster, in RESP2 and RESP3, in pipelines and inside MULTI: replies, error texts, OBJECT
 * ENCODING (intset / hashtable) and what sets do to other commands (WRONGTYPE, DEL, EXPIRE,
 * RENAME, COPY).
 * Method: seeded scenarios weighted towards set commands (gen-sets.ts) mixed with the key, string
 * and hash families, run in lockstep on redis-server and ringkv; every reply compared byte for
 * byte, except unordered replies (compared sorted) and random picks (compared by shape).
 */
import { SETS_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';
import { fixedSuite } from '../helpers/differential/fixed.js';
import { setCases } from '../helpers/differential/fixed-cases.js';

differentialSuite({
  title: 'differential sets: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([41, 42]),
  protocols: [2, 3],
  mix: SETS_MIX,
  label: 'sets1',
});

differentialSuite({
  title: 'differential sets: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([43]),
  protocols: [2, 3],
  mix: SETS_MIX,
  label: 'setsc',
});

fixedSuite({
  title: 'sets: fixed edge cases, single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  label: 'sets',
  cases: setCases,
});
