/**
 * Goal: MULTI / EXEC / DISCARD / WATCH / UNWATCH on a single ringkv node behave as in redis-server
 * 7.0: several transactions in one write, EXECABORT after a refused command, runtime errors inside
 * EXEC, WATCH broken by the connection itself or by another one between WATCH and EXEC.
 * Method: seeded scenarios weighted towards transactions, run in lockstep on redis-server and ringkv,
 * every reply compared byte for byte.
 */
import { TRANSACTION_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { singleNode } from '../helpers/differential/targets.js';

differentialSuite({
  title: 'differential: transactions on a single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([11, 12, 13]),
  protocols: [2, 3],
  mix: TRANSACTION_MIX,
  label: 'tx',
});
