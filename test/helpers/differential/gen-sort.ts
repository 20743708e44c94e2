/**
 * Random SORT / SORT_RO commands over a list, a set and a sorted set per key (companion keys
 * `<key>:l`, `<key>:s`, `<key>:z` in the key's slot, so each holds one type), with weights and
 * hashes for BY and GET patterns under the key's hash tag. Elements mix numbers (ties, negatives,
 * exponents) and words, so numeric sorts also meet "can't be converted" errors.
 *
 * What Redis leaves open is not compared exactly: a set's own order (BY nosort) and ties of ALPHA
 * sorts by pattern on sets and sorted sets (their input is hash order) are compared as multisets;
 * ALPHA by pattern never takes a LIMIT (Redis's partial quicksort places ties its own way). On a
 * cluster, BY and GET patterns are left out: Redis 7.0 refuses them there, which
 * differential-sort.test.ts checks against a Redis Cluster.
 */
import { cmd, type Check, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import type { Prng } from '../../sim/prng.js';

const NUMBERS = ['1', '2', '3', '10', '-1', '0.5', '1e2', '2.50', '-0', '0'];
const WORDS = ['a', 'b', 'B', 'ab', 'zz', '10a', ''];
const WEIGHTS = ['1', '5', '-3', '2.5', '100', '1e1', 'x', ''];

function element(rng: Prng, numeric: boolean): string {
  return numeric || rng.chance(0.7) ? rng.pick(NUMBERS) : rng.pick(WORDS);
}

function tagOf(key: string): string {
  return key.slice(0, key.indexOf('}') + 1);
}

const SORTED: Check = { kind: 'sorted' };

export function sortCommand(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  // The STORE destination shares the source's hash tag (one slot on a cluster).
  const [base, dst] = keys.keys(rng, 2) as [string, string];
  const tag = tagOf(base);
  const numericOnly = rng.chance(0.6);
  const elems = (n: number): string[] => Array.from({ length: n }, () => element(rng, numericOnly));
  switch (rng.int(0, 11)) {
    case 0: return cmd(['RPUSH', `${base}:l`, ...elems(rng.int(1, 5))]);
    case 1: return cmd(['SADD', `${base}:s`, ...elems(rng.int(1, 5))]);
    case 2: return cmd(['ZADD', `${base}:z`, ...elems(rng.int(1, 4)).flatMap((e) => [rng.pick(['1', '2', '0', '-1', '1.5']), e])]);
    case 3: return cmd(['SET', `${tag}w_${element(rng, false)}`, rng.pick(WEIGHTS)]);
    case 4: return cmd(['HSET', `${tag}h_${element(rng, false)}`, 'f', rng.pick(WEIGHTS), 'g', rng.pick(WORDS)]);
    case 5: return cmd([rng.pick(['LRANGE']), rng.pick([base, `${base}:l`]), '0', '-1']);
    case 6: return cmd(['DEL', rng.pick([`${base}:l`, `${base}:s`, `${base}:z`])]);
    default: {
      const kind = rng.pick(['l', 's', 'z', 'l']);
      const src = rng.chance(0.05) ? base : `${base}:${kind}`;
      const name = rng.chance(0.2) ? 'SORT_RO' : 'SORT';
      const alpha = rng.chance(0.35);
      const patterns = g.opts.crossSlot;
      let by: string[] = [];
      if (rng.chance(0.3)) by = ['BY', rng.pick(['nosort', 'nokey'])];
      else if (patterns && rng.chance(0.35)) by = ['BY', rng.pick([`${tag}w_*`, `${tag}h_*->f`, `${tag}h_*->`, `${tag}nope_*`])];
      const starBy = by.length > 0 && by[1]!.includes('*');
      const unordered = (kind === 's' && by.length > 0 && !starBy) || (alpha && starBy && kind !== 'l');
      const opts: string[][] = [];
      if (alpha) opts.push(['ALPHA']);
      if (rng.chance(0.4)) opts.push([rng.pick(['ASC', 'DESC'])]);
      if (by.length > 0) opts.push(by);
      if (!(alpha && starBy) && !unordered && rng.chance(0.35)) {
        opts.push(['LIMIT', rng.pick(['0', '1', '2', '-1', '10', 'x']), rng.pick(['1', '2', '0', '-1', '5'])]);
      }
      if (patterns && rng.chance(0.3)) {
        for (let i = rng.int(1, 2); i > 0; i--) opts.push(['GET', rng.pick(['#', `${tag}w_*`, `${tag}h_*->g`, `${tag}h_*->f`, `${tag}nope_*`])]);
      }
      // A stored list keeps the order: only ordered results are stored.
      if (name === 'SORT' && !unordered && rng.chance(0.25)) opts.push(['STORE', dst]);
      // A stray option word; not on a cluster, where it can make the key positions name another slot.
      let stray = false;
      if (patterns && rng.chance(0.03)) {
        opts.push([rng.pick(['LIMIT', 'BY', 'GET', 'STORE', 'bogus'])]);
        stray = true;
      }
      for (let i = opts.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [opts[i], opts[j]] = [opts[j]!, opts[i]!];
      }
      // A stray BY takes the word after it as its pattern, one without '*' (BY DESC): a set is
      // then not sorted, and Redis leaves its order unspecified.
      return cmd([name, src, ...opts.flat()], unordered || (stray && kind === 's') ? SORTED : undefined);
    }
  }
}
