/**
 * Goal: HyperLogLog commands answer exactly as redis-server 7.0 does and leave the same bytes in
 * the value (sparse opcodes, promotion to dense, the cached cardinality and its stale bit), on one
 * node and on a 3-node cluster, in RESP2 and RESP3, pipelined and inside MULTI.
 * Method: seeded scenarios weighted towards PFADD / PFCOUNT / PFMERGE / PFDEBUG (gen-hll.ts), every
 * value-changing command followed by a GET of the key, so the raw value is compared byte for byte
 * after each step; corrupted values and other types test the error texts.
 */
import { HLL_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';

differentialSuite({
  title: 'differential HyperLogLog: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([601, 602]),
  protocols: [2, 3],
  mix: HLL_MIX,
  label: 'hll1',
  // WATCH is left out here: PFDEBUG GETREG and TODENSE store the dense encoding as a write, which a
  // WATCH on the key sees, where Redis 7.0 converts without touching the key (docs/decisions.md,
  // "Bitmaps and HyperLogLog"; seed 533901036). The transaction suites test WATCH.
  noWatch: true,
});

differentialSuite({
  title: 'differential HyperLogLog: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([603]),
  protocols: [2, 3],
  mix: HLL_MIX,
  label: 'hllc',
  noWatch: true,
});
