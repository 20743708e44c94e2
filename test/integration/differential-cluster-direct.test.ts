/**
 * Goal: a 3-node ringkv cluster answers like one redis-server 7.0 when each connection only names
 * keys its node serves (what a cluster client does after reading CLUSTER SLOTS): no MOVED, and
 * pipelines, transactions and WATCH behave as on Redis.
 * Method: hash tags picked per connection from its node's slots; seeded scenarios run in lockstep on
 * redis-server and the cluster, every reply compared byte for byte.
 */
import { BALANCED_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster } from '../helpers/differential/targets.js';

differentialSuite({
  title: 'differential: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([31, 32]),
  protocols: [2, 3],
  mix: BALANCED_MIX,
  label: 'direct',
});
