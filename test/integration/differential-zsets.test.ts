/**
 * Goal: sorted-set commands answer exactly as redis-server 7.0 does, on one node and on a 3-node
 * cluster, in RESP2 and RESP3, pipelined and inside MULTI, mixed with string, key and hash
 * commands on the same keys (WRONGTYPE, DEL, EXPIRE, RENAME, OBJECT ENCODING).
 * Method: seeded scenarios weighted towards sorted sets (gen-zsets.ts: ties, negatives, ±inf, -0,
 * 17-digit scores, lex ranges, LIMIT, set algebra with WEIGHTS and AGGREGATE, STORE forms) run in
 * lockstep on redis-server and ringkv; every reply compared byte for byte, random picks by shape,
 * ZSCAN pages sorted.
 */
import type { Mix } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';
import { fixedSuite } from '../helpers/differential/fixed.js';
import { zsetCases } from '../helpers/differential/fixed-cases.js';

const ZSET_MIX: Mix = { strings: 8, keys: 10, hashes: 4, connection: 2, errors: 2, transactions: 8, zsets: 66 };

differentialSuite({
  title: 'differential sorted sets: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([101, 102]),
  protocols: [2, 3],
  mix: ZSET_MIX,
  label: 'zsingle',
});

differentialSuite({
  title: 'differential sorted sets: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([131]),
  protocols: [2, 3],
  mix: ZSET_MIX,
  label: 'zdirect',
});

fixedSuite({
  title: 'zsets: fixed edge cases, single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  label: 'zsets',
  cases: zsetCases,
});
