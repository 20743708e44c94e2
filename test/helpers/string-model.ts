/**
 * A sequential model of Redis string commands for checking pipelines: a seeded generator picks
 * commands over a few keys whose replies depend on the commands before them (INCR after SET, APPEND
 * lengths, GETDEL then EXISTS, SET … GET), and the model says what Redis answers when they run in
 * issue order. Any reordering inside a pipeline shows up as a reply that differs from the model.
 */
import { Prng } from '../sim/prng.js';
import type { Reply } from './resp-conn.js';
import { show } from './resp-conn.js';

/** What Redis answers, with the RESP type a raw client sees. */
export type Expected =
  | { t: 'ok' }
  | { t: 'bulk'; v: string }
  | { t: 'int'; v: number }
  | { t: 'nil' }
  | { t: 'error'; v: string };

export interface ModelStep {
  argv: string[];
  expect: Expected;
}

const NOT_INTEGER = 'ERR value is not an integer or out of range';

const ok: Expected = { t: 'ok' };
const int = (v: number): Expected => ({ t: 'int', v });
const bulkOrNil = (v: string | undefined): Expected => (v === undefined ? { t: 'nil' } : { t: 'bulk', v });

/** The model's state: key → string value; absent keys are missing. */
export class StringModel {
  readonly values = new Map<string, string>();

  /** Applies one command and returns Redis's reply to it. */
  apply(argv: string[]): Expected {
    const [name, key, arg] = [argv[0]!.toUpperCase(), argv[1]!, argv[2]];
    const cur = this.values.get(key);
    const incrBy = (by: number): Expected => {
      const base = cur === undefined ? 0 : /^(0|-?[1-9][0-9]*)$/.test(cur) ? Number(cur) : NaN;
      if (Number.isNaN(base)) return { t: 'error', v: NOT_INTEGER };
      this.values.set(key, String(base + by));
      return int(base + by);
    };
    switch (name) {
      case 'SET':
        this.values.set(key, arg!);
        return argv[3]?.toUpperCase() === 'GET' ? bulkOrNil(cur) : ok;
      case 'GET': return bulkOrNil(cur);
      case 'INCR': return incrBy(1);
      case 'DECR': return incrBy(-1);
      case 'INCRBY': return incrBy(Number(arg));
      case 'APPEND':
        this.values.set(key, (cur ?? '') + arg!);
        return int((cur ?? '').length + arg!.length);
      case 'STRLEN': return int(cur?.length ?? 0);
      case 'DEL': return int(this.values.delete(key) ? 1 : 0);
      case 'EXISTS': return int(cur === undefined ? 0 : 1);
      case 'GETDEL':
        this.values.delete(key);
        return bulkOrNil(cur);
      case 'GETSET':
        this.values.set(key, arg!);
        return bulkOrNil(cur);
      case 'SETNX':
        if (cur !== undefined) return int(0);
        this.values.set(key, arg!);
        return int(1);
      default:
        throw new Error(`the model does not know ${name}`);
    }
  }
}

/**
 * `length` commands over `keys`, with the replies Redis gives when they run in this order starting
 * from `model`'s state. The mix leans on commands whose reply reveals what ran before them.
 */
export function generateSteps(rng: Prng, keys: readonly string[], length: number, model = new StringModel()): ModelStep[] {
  const steps: ModelStep[] = [];
  for (let i = 0; i < length; i++) {
    const key = rng.pick(keys);
    const roll = rng.int(0, 13);
    let argv: string[];
    switch (roll) {
      case 0: argv = ['SET', key, String(rng.int(0, 99))]; break;
      case 1: argv = ['SET', key, `s${rng.int(0, 9)}`, 'GET']; break;
      case 2: case 3: argv = ['INCR', key]; break;
      case 4: argv = ['INCRBY', key, String(rng.int(-5, 20))]; break;
      case 5: argv = ['DECR', key]; break;
      case 6: argv = ['APPEND', key, String(rng.int(0, 9))]; break;
      case 7: argv = ['GET', key]; break;
      case 8: argv = ['STRLEN', key]; break;
      case 9: argv = ['DEL', key]; break;
      case 10: argv = ['EXISTS', key]; break;
      case 11: argv = ['GETDEL', key]; break;
      case 12: argv = ['GETSET', key, String(rng.int(0, 9))]; break;
      default: argv = ['SETNX', key, String(rng.int(0, 9))]; break;
    }
    steps.push({ argv, expect: model.apply(argv) });
  }
  return steps;
}

/** The expected reply as ioredis, node-redis and redis-py (decoded) return it; errors as `{ error }`. */
export function asClientValue(e: Expected): string | number | null | { error: string } {
  switch (e.t) {
    case 'ok': return 'OK';
    case 'bulk': return e.v;
    case 'int': return e.v;
    case 'nil': return null;
    case 'error': return { error: e.v };
  }
}

/** The expected reply in `show`'s text form. */
export function asRespText(e: Expected): string {
  switch (e.t) {
    case 'ok': return '+OK';
    case 'bulk': return JSON.stringify(e.v);
    case 'int': return `:${e.v}`;
    case 'nil': return 'nil';
    case 'error': return `-${e.v}`;
  }
}

/** Raw replies in `show`'s text form, for comparison with `asRespText`. */
export const respText = (replies: Reply[]): string[] => replies.map(show);

/** A seed from RINGKV_PIPE_SEED, or a fresh one; tests print it so a failure can be replayed. */
export function pipelineSeed(): number {
  const raw = process.env.RINGKV_PIPE_SEED;
  return raw !== undefined && raw !== '' ? Number(raw) : Math.floor(Math.random() * 2 ** 31);
}
