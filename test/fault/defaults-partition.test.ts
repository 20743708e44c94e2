/**
 * Goal: the promises of the fault suite hold at the settings users run — the default 15 s node
 * timeout, `appendfsync always`, sloppy quorums with hinted handoff — when a node is cut off.
 * Method: four real nodes started with no tuning (test/helpers/fault-defaults.ts), each on its
 * own loopback address; iptables cuts one node off from the other three for 17–19 s, longer than
 * the node timeout, so both sides declare the other failed, then heals; single-command and
 * pipelined clients (which reach every node) run throughout. After healing: every slot's
 * replicas must agree on their Merkle digest within 30 s before any repairing read, then the
 * nemesis and pipelined checks. Stale reads are counted, not failed (sloppy quorums).
 * A file of its own so that vitest runs it beside defaults-kill9.test.ts.
 * Knobs: FAULT_SEED=<n> replays the schedule, FAULT_KEEP_ARTIFACTS=1 keeps history and logs.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { envInt } from '../helpers/env.js';
import { DEFAULTS_TEST_TIMEOUT_MS, checkDefaults, defaultsSpec } from '../helpers/fault-defaults.js';
import { Partitioner, probePartitions } from '../helpers/fault-net.js';

const baseSeed = envInt('FAULT_SEED') ?? Date.now() % 1_000_000;
const net = probePartitions();
// 127.0.0.61-64 belong to this file: packet-filter rules match addresses, not processes.
const hosts = Array.from({ length: 4 }, (_, i) => (net.ok ? `127.0.0.${61 + i}` : '127.0.0.1'));
let partitioner: Partitioner | undefined;

describe(`default settings: partition (node timeout 15 s, sloppy quorums; base seed ${baseSeed})`, () => {
  beforeAll(() => {
    if (!net.ok) return;
    partitioner = new Partitioner();
    partitioner.setup();
  });
  afterAll(() => {
    partitioner?.teardown();
  });

  it.skipIf(!net.ok)(`one of four nodes cut off for longer than the node timeout, healed${net.ok ? '' : ` (skipped: ${net.reason})`}`, () =>
    checkDefaults(defaultsSpec('defaults-partition-one', 'partition-one', hosts, baseSeed + 21, partitioner, process.env.FAULT_KEEP_ARTIFACTS === '1'), baseSeed), DEFAULTS_TEST_TIMEOUT_MS);
});
