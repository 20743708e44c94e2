/**
 * The body every differential test file shares: start redis-server and one ringkv set-up, then for
 * each seed and protocol generate a scenario and run it on both in lockstep. Seeds: DIFF_SEED alone
 * when set, otherwise the file's fixed seeds plus one new random seed per run (shown in the test
 * name, so a failing one can be replayed).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envInt } from '../env.js';
import { ROOT } from '../server.js';
import { generateScenario, type Mix } from './generator.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../redis-reference.js';
import { runDifferential, type Target } from './runner.js';
import type { Subject } from './targets.js';

export function diffSeeds(fixed: readonly number[]): number[] {
  const chosen = envInt('DIFF_SEED');
  if (chosen !== undefined) return [chosen];
  return [...fixed, Math.floor(Math.random() * 1_000_000_000)];
}

export interface SuiteOptions {
  title: string;
  /** import.meta.url of the test file, for the replay line. */
  file: string;
  start: () => Promise<Subject>;
  seeds: readonly number[];
  protocols: ReadonlyArray<2 | 3>;
  mix: Mix;
  /** Keeps this file's keys apart from other files' runs on the same seed. */
  label: string;
  /** Leave WATCH out of the scenarios (the file says why). */
  noWatch?: boolean;
}

/**
 * redis-server 7.0 and the subject for the describe block that calls it: both start at once, and
 * whichever did start is stopped after the block even when the other failed.
 */
export function serverPair(start: () => Promise<Subject>): { redis(): RedisReference; subject(): Subject } {
  let redis: RedisReference | undefined;
  let subject: Subject | undefined;
  beforeAll(async () => {
    const [r, s] = await Promise.allSettled([startRedisServer(), start()]);
    if (r.status === 'fulfilled') redis = r.value;
    if (s.status === 'fulfilled') subject = s.value;
    if (r.status === 'rejected') throw r.reason;
    if (s.status === 'rejected') throw s.reason;
    expect(redis!.version.startsWith('7.0.'), `the reference is Redis 7.0, found ${redis!.version}`).toBe(true);
  }, 60000);
  afterAll(async () => {
    await Promise.all([redis?.stop(), subject?.stop()]);
  });
  return { redis: () => redis!, subject: () => subject! };
}

export function differentialSuite(opts: SuiteOptions): void {
  const relative = path.relative(ROOT, fileURLToPath(opts.file));
  describe.skipIf(!haveRedisServer)(opts.title, () => {
    const pair = serverPair(opts.start);

    const cases = opts.seeds.flatMap((seed) => opts.protocols.map((protocol) => ({ seed, protocol })));
    it.each(cases)('seed $seed, RESP$protocol', async ({ seed, protocol }) => {
      const redis = pair.redis();
      const subject = pair.subject();
      const reference: Target = { name: `redis-server ${redis.version}`, port: () => redis.ports[0]! };
      const scenario = generateScenario({ seed, protocol, label: `${opts.label}p${protocol}`, mix: opts.mix, ...subject.generator, ...(opts.noWatch === true ? { noWatch: true } : {}) });
      const stats = await runDifferential(scenario, reference, subject.target, {
        replay: `DIFF_SEED=${seed} npx vitest run ${relative} -t 'RESP${protocol}'`,
      });
      expect(stats.commands).toBeGreaterThan(0);
    });
  });
}
