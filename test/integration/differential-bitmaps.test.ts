/**
 * Goal: bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO) and the string
 * commands that meet them answer exactly as redis-server 7.0 does, on one node and on a 3-node
 * cluster, in RESP2 and RESP3, pipelined and inside MULTI, including on strings large enough to
 * be stored in fragments (offsets past 32768 bits, SETRANGE/APPEND past 4 KiB) and on other types.
 * Method: seeded scenarios weighted towards bitmaps (gen-bitmaps.ts) mixed with strings, keys and
 * hashes, run in lockstep on redis-server and ringkv; every reply compared byte for byte, GET and
 * GETRANGE of fragmented values included.
 */
import { BITMAPS_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';

differentialSuite({
  title: 'differential bitmaps: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([501, 502]),
  protocols: [2, 3],
  mix: BITMAPS_MIX,
  label: 'bits1',
});

differentialSuite({
  title: 'differential bitmaps: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([503]),
  protocols: [2, 3],
  mix: BITMAPS_MIX,
  label: 'bitsc',
});
