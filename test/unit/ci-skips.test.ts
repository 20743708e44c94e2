/**
 * Goal: CI cannot pass by skipping. .ci/check-skips.mjs, run by .ci/run on vitest's JSON report,
 * fails on any test that did not run unless test/allowed-skips.txt lists it with a reason.
 * Method: the real script on small reports and allow-lists written to a temp directory.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/server.js';

const SCRIPT = path.join(ROOT, '.ci/check-skips.mjs');

type Status = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' | 'disabled';

function report(tests: Array<{ file: string; suite: string[]; title: string; status: Status }>): object {
  const files = new Map<string, Array<{ ancestorTitles: string[]; title: string; status: Status }>>();
  for (const t of tests) {
    const list = files.get(t.file) ?? [];
    list.push({ ancestorTitles: t.suite, title: t.title, status: t.status });
    files.set(t.file, list);
  }
  return { testResults: [...files].map(([file, assertionResults]) => ({ name: path.join(ROOT, file), assertionResults })) };
}

function check(rep: object | string, allowList: string): { code: number | null; out: string } {
  const dir = tempDir('ringkv-skips-');
  const rp = path.join(dir, 'report.json');
  const ap = path.join(dir, 'allowed.txt');
  writeFileSync(rp, typeof rep === 'string' ? rep : JSON.stringify(rep));
  writeFileSync(ap, allowList);
  const r = spawnSync(process.execPath, [SCRIPT, rp, ap], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const partition = { file: 'test/fault/nemesis.test.ts', suite: ['fault suite'], title: 'partition isolating one node', status: 'skipped' as const };
const passing = { file: 'test/unit/slot.test.ts', suite: ['slots'], title: 'hashes', status: 'passed' as const };

describe('.ci/check-skips.mjs', () => {
  it('passes when every test ran, and when the only skip is listed with a reason', () => {
    expect(check(report([passing, { ...passing, title: 'fails', status: 'failed' }]), '').code).toBe(0);
    const listed = check(report([passing, partition]), '# comment\n\nnemesis\\.test\\.ts > .*partition | iptables is not usable in this container\n');
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toContain('iptables is not usable in this container');
  });

  it('fails on a skip the allow-list does not name, naming the test', () => {
    const r = check(report([passing, partition]), 'redis-cli\\.test\\.ts | redis-tools missing\n');
    expect(r.code).toBe(1);
    expect(r.out).toContain('NOT ALLOWED (skipped): test/fault/nemesis.test.ts > fault suite > partition isolating one node');
  });

  it('counts todo, pending and disabled tests as not run', () => {
    for (const status of ['todo', 'pending', 'disabled'] as const) {
      expect(check(report([{ ...partition, status }]), '').code, status).toBe(1);
    }
  });

  it('refuses an entry without a reason, a bad pattern, and a missing or malformed report', () => {
    expect(check(report([partition]), 'nemesis\n').code).toBe(2);
    expect(check(report([partition]), '([ | unclosed\n').code).toBe(2);
    expect(check('{"truncated": ', '').code).toBe(2);
    expect(check('{}', '').code).toBe(2);
  });
});
