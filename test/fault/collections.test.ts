/**
 * Goal: lists, sets, sorted sets and hashes keep the cluster's promises under faults: no
 * acknowledged element is lost, no popped job comes back or is popped twice, increments are
 * neither lost nor doubled, sizes match contents, and every replica ends with the same element
 * records.
 * Method: a real 3-node cluster (N=3, W=2, R=2, default lease settings) under kill -9 (then
 * restart), SIGSTOP past the node timeout (then SIGCONT) and one node's bus cut off by iptables
 * (then healed), each in turn, while the collections workload (fault-collections.ts) runs: 4 raw
 * RESP pipeline clients and 2 ioredis clients (each command sent at most once) doing RPUSH of unique
 * job ids and LPOP / LPOP count / BLPOP on shared queues, SADD/SREM of members private to each
 * client on shared sets, ZINCRBY and HINCRBY on shared members and fields, XADD / XREADGROUP / XACK
 * on a stream with one consumer group (fault-streams-checker.ts); a small single-command
 * SET/DEL/GET workload runs beside it so the nemesis checks keep their meaning. After healing:
 * the nemesis checks (Merkle agreement before any repairing read, the R=3 pass), then every
 * collection read back with R=3 (contents and LLEN/SCARD/ZCARD/HLEN), judged by
 * fault-collections-checker.ts, and each touched slot's digest compared among its replicas.
 * Knobs: FAULT_SEED=<n> replays a schedule, FAULT_SCENARIOS=collections-kill9,collections-pause,collections-partition-one
 * picks some, FAULT_KEEP_ARTIFACTS=1 keeps histories (extension.jsonl) and node logs of passing runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envInt } from '../helpers/env.js';
import { CollectionsScenario } from '../helpers/fault-collections.js';
import { Partitioner, probePartitions } from '../helpers/fault-net.js';
import { describeViolations, formatFigures, runScenario, type FaultKind } from '../helpers/fault-scenario.js';

const durationMs = 14_000;
const baseSeed = envInt('FAULT_SEED') ?? Date.now() % 1_000_000;
const selected = new Set((process.env.FAULT_SCENARIOS ?? 'collections-kill9,collections-pause,collections-partition-one').split(',').map((s) => s.trim()));
const keepArtifacts = process.env.FAULT_KEEP_ARTIFACTS === '1';

const net = probePartitions();
// 127.0.0.71-73 belong to this file (nemesis 11-15, targeted 21-23, topology 31-35, pipelined
// 41-43, defaults 51-54 and 61-64, targeted-relay 81-83, targeted-stale-run 91-93):
// packet-filter rules match addresses, and test files run in parallel workers.
const hosts = Array.from({ length: 3 }, (_, i) => (net.ok ? `127.0.0.${71 + i}` : '127.0.0.1'));
const partitionSkip = net.ok ? '' : ` (skipped: ${net.reason})`;

const testTimeout = durationMs + 150_000;
let partitioner: Partitioner | undefined;

async function check(name: string, fault: FaultKind, offset: number): Promise<void> {
  const seed = baseSeed + offset;
  const collections = new CollectionsScenario({
    pipelineClients: 4, ioredisClients: 2, seed, r: 2, w: 2, n: 3, opTimeoutMs: 3000,
    prefix: `col:${name}:${seed}`, firstClient: 200,
  });
  const result = await runScenario({
    name, fault, hosts, seed, durationMs,
    clients: 2, keys: 8, r: 2, w: 2, n: 3, opTimeoutMs: 3000,
    holdMs: [4500, 6000], calmMs: [2000, 3500], tailMs: 4000,
    // Three nodes, N=3: no fallback nodes, so quorums are strict whatever the setting.
    readYourWritesPromised: true,
    partitioner, keepArtifacts, extension: collections,
  });
  console.log(formatFigures(result.figures));
  expect(result.violations, `${name} seed ${seed}: rerun with FAULT_SEED=${baseSeed} FAULT_SCENARIOS=${name}\n${describeViolations(result)}`).toBe(0);
  expect(result.figures.faults, 'the nemesis injected faults').toBeGreaterThan(0);
  // Progress, not speed: on a loaded 2-core machine a run may do a tenth of its unloaded work.
  const s = collections.stats!;
  expect(s.pushedJobs, 'jobs were pushed').toBeGreaterThan(30);
  expect(s.poppedJobs, 'jobs were popped').toBeGreaterThan(10);
  expect(s.setOps, 'set operations were acknowledged').toBeGreaterThan(10);
  expect(s.increments, 'increments were acknowledged').toBeGreaterThan(30);
  expect(s.streamAdds, 'stream entries were added').toBeGreaterThanOrEqual(3);
  expect(s.delivered, 'stream entries were delivered to consumers').toBeGreaterThanOrEqual(2);
}

describe(`collections under faults (N=3, W=2, R=2; base seed ${baseSeed})`, () => {
  beforeAll(() => {
    if (!net.ok) return;
    partitioner = new Partitioner();
    partitioner.setup();
  });
  afterAll(() => {
    partitioner?.teardown();
  });

  it.skipIf(!selected.has('collections-kill9'))('queues, sets, sorted sets and hashes while one node at a time is killed -9 and restarted', () =>
    check('collections-kill9', 'kill9', 30), testTimeout);

  it.skipIf(!selected.has('collections-pause'))('the same while one node at a time is stopped with SIGSTOP past the node timeout, then resumed', () =>
    check('collections-pause', 'pause', 32), testTimeout);

  it.skipIf(!net.ok || !selected.has('collections-partition-one'))(`the same while one node of three is cut off, healed${partitionSkip}`, () =>
    check('collections-partition-one', 'partition-one', 31), testTimeout);
});
