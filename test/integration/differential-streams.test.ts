/**
 * Goal: stream commands answer exactly as redis-server 7.0 does, on one node and on a 3-node
 * cluster, in RESP2 and RESP3, pipelined and inside MULTI (where BLOCK answers at once), mixed with
 * string, key and hash commands on the same keys (WRONGTYPE, DEL, EXPIRE, RENAME, TYPE, OBJECT
 * ENCODING).
 * Method: seeded scenarios weighted towards streams (gen-streams.ts: explicit ids that collide and
 * go backwards, `ms-*`, MAXLEN/MINID with = and ~ and LIMIT, exclusive ranges, groups, history and
 * new reads, NOACK, claims with IDLE/TIME/RETRYCOUNT/FORCE/JUSTID/LASTID, XAUTOCLAIM cursors, XINFO,
 * XSETID) run in lockstep on redis-server and ringkv; every reply compared byte for byte except
 * times (idle, delivery and seen times), which are compared within 3 s, and radix-tree-nodes.
 * BLOCK reads use 10-20 ms, so an empty read times out on both. WATCH is left out: consumer-group
 * commands (XREADGROUP, XACK, XCLAIM, XGROUP …) leave a watched stream untouched in Redis but give
 * it a new version in ringkv (docs/decisions.md, "Streams"), a difference stated there.
 */
import type { Mix } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';
import { fixedSuite } from '../helpers/differential/fixed.js';
import { streamCases } from '../helpers/differential/fixed-cases.js';

const STREAM_MIX: Mix = { strings: 6, keys: 10, hashes: 3, connection: 2, errors: 2, transactions: 8, streams: 70 };

differentialSuite({
  title: 'differential streams: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([101, 102]),
  protocols: [2, 3],
  mix: STREAM_MIX,
  label: 'xsingle',
  noWatch: true,
});

differentialSuite({
  title: 'differential streams: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([131]),
  protocols: [2, 3],
  mix: STREAM_MIX,
  label: 'xdirect',
  noWatch: true,
});

fixedSuite({
  title: 'streams: fixed edge cases, single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  label: 'streams',
  cases: streamCases,
});
