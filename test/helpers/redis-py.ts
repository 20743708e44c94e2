/**
 * Runs pipelines through redis-py (test/py/pipelines.py) with the system Python, whose python3-redis
 * package the tests rely on; the pyenv `python3` on PATH has no redis module.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, run } from './server.js';
import type { ModelStep } from './string-model.js';

export const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(ROOT, 'test/py/pipelines.py');

/** Why redis-py tests cannot run here, or undefined when they can. */
export const redisPyMissing: string | undefined = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import redis.cluster'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run: ${r.error.message}`;
  return r.status === 0 ? undefined : `${PYTHON} cannot import redis (install python3-redis): ${r.stderr.trim()}`;
})();

export type PyValue = string | number | boolean | null | { error: string } | PyValue[];

export async function runRedisPy(spec: { port: number; mode: 'cluster' | 'plain'; transaction?: boolean; pipelines: string[][][] }): Promise<PyValue[][]> {
  const r = await run(PYTHON, [SCRIPT], JSON.stringify(spec), 60000);
  if (r.code !== 0) throw new Error(`redis-py script failed (${r.code}): ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout) as PyValue[][];
}

/** A model step's expected reply in redis-py's decoded form: SET gives true (SET … GET a
 * bool too: whether the old value was "OK"), SETNX a bool,
 * and an error its message without the ERR code. */
export function asRedisPy(step: ModelStep): PyValue {
  const e = step.expect;
  const name = step.argv[0]!.toUpperCase();
  if (name === 'SET' && e.t === 'ok') return true;
  // SET … GET goes through the same callback, which compares the old value with "OK".
  if (name === 'SET' && e.t === 'bulk') return e.v === 'OK';
  if (name === 'SETNX' && e.t === 'int') return e.v === 1;
  switch (e.t) {
    case 'ok': return 'OK';
    case 'bulk': return e.v;
    case 'int': return e.v;
    case 'nil': return null;
    // redis-py drops the ERR code from the message of a ResponseError.
    case 'error': return { error: e.v.replace(/^ERR /, '') };
  }
}
