/**
 * Goal: hash commands on ringkv answer exactly as on redis-server 7.0, on one node and on a 3-node
 * cluster, in RESP2 and RESP3, in pipelines and inside MULTI, including the order of a listpack
 * hash's fields (insertion order) in HGETALL, HKEYS, HVALS, HSCAN and HRANDFIELD, and the moment a
 * hash becomes a hashtable (513 fields, a 65-byte field or value, a long HINCRBYFLOAT result).
 * Method: seeded scenarios weighted towards hash commands (gen-hashes.ts) mixed with the key,
 * string and transaction families, run in lockstep on redis-server and ringkv; every reply
 * compared byte for byte, whole-hash replies unsorted while redis-server's OBJECT ENCODING just
 * before says listpack, sorted once it says hashtable.
 */
import { HASHES_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';
import { fixedSuite } from '../helpers/differential/fixed.js';
import { hashCases } from '../helpers/differential/fixed-cases.js';

differentialSuite({
  title: 'differential hashes: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([61]),
  protocols: [2, 3],
  mix: HASHES_MIX,
  label: 'hash1',
});

differentialSuite({
  title: 'differential hashes: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([62]),
  protocols: [2, 3],
  mix: HASHES_MIX,
  label: 'hashc',
});

fixedSuite({
  title: 'hashes: fixed edge cases, single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  label: 'hashes',
  cases: hashCases,
});
