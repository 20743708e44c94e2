/**
 * Goal: a single ringkv node answers random pipelines of string, key, hash, connection and
 * transaction commands exactly as redis-server 7.0 does, in RESP2 and RESP3.
 * Method: seeded scenarios (several connections at once, pipelines of 1-200 commands in one write,
 * keys in one slot and in several) run in lockstep on a real redis-server and a real ringkv node;
 * every reply is compared byte for byte (TTLs within a tolerance, unordered replies sorted).
 */
import { BALANCED_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { singleNode } from '../helpers/differential/targets.js';
import { fixedSuite } from '../helpers/differential/fixed.js';
import { keyCases, stringCases } from '../helpers/differential/fixed-cases.js';

differentialSuite({
  title: 'differential: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([1, 2, 3]),
  protocols: [2, 3],
  mix: BALANCED_MIX,
  label: 'single',
});

fixedSuite({
  title: 'single: fixed edge cases, single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  label: 'single',
  cases: (k) => [...stringCases(k), ...keyCases(k)],
});
