/**
 * Fixed edge cases beside the seeded scenarios: argument parsing and error texts the generators
 * rarely or never reach (an option given twice, conflicting options, numbers written as `+1` or
 * `1e3`, limits of counts and offsets). Each family's list is one pipeline on one connection, run
 * on redis-server and ringkv in lockstep and compared reply by reply, as a scenario is.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../server.js';
import { haveRedisServer } from '../redis-reference.js';
import { serverPair } from './suite.js';
import { cmd, type Check, type DiffCommand, type Scenario } from './command.js';
import { runDifferential, type Target } from './runner.js';
import type { Subject } from './targets.js';

/** A case list: builds its commands from `k`, which names a key of this run (all in one slot). */
export type FixedCases = (k: (name: string) => string) => DiffCommand[];

/** Shorthand for case lists: one command, compared byte for byte unless `check` says otherwise. */
export function c(...parts: Array<string | Buffer | number>): DiffCommand {
  return cmd(parts);
}

export function checked(check: Check, ...parts: Array<string | Buffer | number>): DiffCommand {
  return cmd(parts, check);
}

export interface FixedSuiteOptions {
  title: string;
  file: string;
  start: () => Promise<Subject>;
  /** Keeps this file's keys apart from other runs on the same servers. */
  label: string;
  cases: FixedCases;
}

export function fixedSuite(opts: FixedSuiteOptions): void {
  const relative = path.relative(ROOT, fileURLToPath(opts.file));
  describe.skipIf(!haveRedisServer)(opts.title, () => {
    const pair = serverPair(opts.start);

    it.each([2, 3] as const)('fixed edge cases, RESP%i', async (protocol) => {
      const tag = `{fx:${opts.label}:${protocol}}`;
      const commands = opts.cases((name) => `${tag}${name}`);
      const scenario: Scenario = { seed: 0, protocol, connections: 1, phases: [{ batches: [{ conn: 0, commands }] }] };
      const redis = pair.redis();
      const reference: Target = { name: `redis-server ${redis.version}`, port: () => redis.ports[0]! };
      const stats = await runDifferential(scenario, reference, pair.subject().target, { replay: `npx vitest run ${relative} -t 'fixed edge cases'` });
      expect(stats.commands).toBe(commands.length);
    });
  });
}
