/**
 * Random HyperLogLog commands (PFADD PFCOUNT PFMERGE PFDEBUG), each value-changing one followed by
 * a GET of the key: the raw bytes are compared with redis-server's, so the sparse and dense
 * encodings, the promotion at hll-sparse-max-bytes and the cached cardinality are proved byte for
 * byte. Keys are the connection's own (so WRONGTYPE and "not a valid HyperLogLog" meet) and an
 * HLL-only key per hash tag; now and then a corrupted HLL is SET on purpose.
 */
import type { Prng } from '../../sim/prng.js';
import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';

/** Elements: a small pool that repeats (registers that do not change) and fresh ones. */
function element(rng: Prng): string {
  if (rng.chance(0.4)) return `e${rng.int(0, 50)}`;
  return `${rng.int(0, 1_000_000_000).toString(36)}${rng.pick(['', 'x', 'ü', '\u0000'])}`;
}

function elements(rng: Prng, n: number): string[] {
  return Array.from({ length: n }, () => element(rng));
}

function anyKey(g: GenContext, k: string): string {
  return g.rng.chance(0.6) ? `${k.slice(0, k.indexOf('}') + 1)}hll${g.rng.int(0, 2)}` : k;
}

/** A value that starts like an HLL but is not a valid one (bad encoding byte, wrong dense size, corrupt sparse run). */
function corrupt(rng: Prng): string {
  const header = (enc: number, card: string): string => `HYLL${String.fromCharCode(enc)}\u0000\u0000\u0000${card}`;
  return rng.pick([
    header(2, '\u0000'.repeat(8)),
    header(0, '\u0000'.repeat(8)) + '\u0000'.repeat(100),
    header(1, '\u0000'.repeat(7) + '\u0080') + '\u007f\u00ff',
    header(1, '\u0000'.repeat(7) + '\u0080') + '\u0080'.repeat(10),
    header(1, '\u0005'.repeat(8)) + '\u007f\u00ff',
    'HYL',
  ]);
}

export function hllCommand(g: GenContext): DiffCommand[] {
  const { rng, keys } = g;
  const k = anyKey(g, keys.key(rng));
  const get = cmd(['GET', k]);
  switch (rng.int(0, 11)) {
    case 0:
    case 1:
    case 2:
    case 3: return [cmd(['PFADD', k, ...elements(rng, rng.int(0, 6))]), get];
    case 4: return [cmd(['PFADD', k, ...elements(rng, rng.int(100, 700))]), get];
    case 5:
    case 6: return [cmd(['PFCOUNT', k]), get];
    case 7: return [cmd(['PFCOUNT', ...keys.keys(rng, rng.int(2, 3)).map((x) => anyKey(g, x))])];
    case 8: {
      const named = keys.keys(rng, rng.int(1, 3)).map((x) => anyKey(g, x));
      return [cmd(['PFMERGE', ...named]), cmd(['GET', named[0]!]), cmd(['PFCOUNT', named[0]!])];
    }
    case 9: return [cmd(['PFDEBUG', rng.pick(['ENCODING', 'DECODE', 'TODENSE', 'getreg', 'BOGUS']), k]), get];
    case 10: return [cmd(['SET', k, corrupt(rng)]), cmd(['PFCOUNT', k]), cmd(['PFADD', k, element(rng)])];
    default: return [cmd(['PFADD', k]), get];
  }
}
