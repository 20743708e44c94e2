/**
 * Goal: lists (and the blocking pops) answer exactly as redis-server 7.0 does, on a single node and
 * on a 3-node cluster, in RESP2 and RESP3, in pipelines and inside MULTI (where blocking forms
 * answer at once), mixed with string, key and hash commands for WRONGTYPE, DEL, EXPIRE and RENAME.
 * Method: seeded scenarios of the list mix run in lockstep on a real redis-server and on ringkv
 * (one node; then a cluster with each connection on its keys' primary); every reply compared byte
 * for byte. Blocking commands use 10-20 ms timeouts, so an empty key times out on both.
 */
import { LIST_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';
import { fixedSuite } from '../helpers/differential/fixed.js';
import { listCases } from '../helpers/differential/fixed-cases.js';

differentialSuite({
  title: 'differential lists: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([101, 102]),
  protocols: [2, 3],
  mix: LIST_MIX,
  label: 'lists1',
});

differentialSuite({
  title: 'differential lists: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([131]),
  protocols: [2, 3],
  mix: LIST_MIX,
  label: 'listsc',
});

fixedSuite({
  title: 'lists: fixed edge cases, single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  label: 'lists',
  cases: listCases,
});
