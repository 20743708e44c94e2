/**
 * Goal: the promises of the fault suite hold at the settings users run — the default 15 s node
 * timeout, `appendfsync always`, sloppy quorums with hinted handoff — when a node is killed.
 * Method: four real nodes started with no tuning (test/helpers/fault-defaults.ts); one node is
 * killed with SIGKILL and restarted on its data after 17–19 s, longer than the node timeout, so
 * its slots fail over first; single-command and pipelined clients run throughout. After healing:
 * every slot's replicas must agree on their Merkle digest within 30 s before any repairing read,
 * then the nemesis and pipelined checks. Stale reads are counted, not failed (sloppy quorums).
 * A file of its own so that vitest runs it beside defaults-partition.test.ts.
 * Knobs: FAULT_SEED=<n> replays the schedule, FAULT_KEEP_ARTIFACTS=1 keeps history and logs.
 */
import { describe, it } from 'vitest';
import { envInt } from '../helpers/env.js';
import { DEFAULTS_TEST_TIMEOUT_MS, checkDefaults, defaultsSpec } from '../helpers/fault-defaults.js';

const baseSeed = envInt('FAULT_SEED') ?? Date.now() % 1_000_000;
// 127.0.0.51-54 belong to this file; any 127.0.0.0/8 address is local on Linux.
const hosts = Array.from({ length: 4 }, (_, i) => (process.platform === 'linux' ? `127.0.0.${51 + i}` : '127.0.0.1'));

describe(`default settings: kill -9 (node timeout 15 s, sloppy quorums; base seed ${baseSeed})`, () => {
  it('kill -9 of one of four nodes for longer than the node timeout, restarted on its data', () =>
    checkDefaults(defaultsSpec('defaults-kill9', 'kill9', hosts, baseSeed + 20, undefined, process.env.FAULT_KEEP_ARTIFACTS === '1'), baseSeed), DEFAULTS_TEST_TIMEOUT_MS);
});
