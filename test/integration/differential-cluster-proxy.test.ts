/**
 * Goal: a 3-node ringkv cluster with cluster-proxy on answers like one redis-server 7.0, whichever
 * node a connection talks to: pipelines keep their order, transactions and WATCH work across nodes.
 * Method: seeded scenarios (multi-key commands and transactions within one slot, as a cluster
 * requires) with connection i on node i mod 3, run in lockstep on redis-server and the cluster,
 * every reply compared byte for byte.
 */
import { TRANSACTION_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { proxyCluster } from '../helpers/differential/targets.js';

differentialSuite({
  title: 'differential: 3-node cluster with cluster-proxy vs redis-server',
  file: import.meta.url,
  start: proxyCluster,
  seeds: diffSeeds([21, 22]),
  protocols: [2, 3],
  mix: TRANSACTION_MIX,
  label: 'proxy',
});
