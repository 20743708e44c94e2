/**
 * Random list commands, valid and invalid, over a small pool of elements (so LREM, LPOS and
 * LINSERT find matches). Blocking forms use short timeouts: on an empty key both servers answer
 * the timeout's null after it, inside MULTI at once.
 */
import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import { INT64_MAX, INT64_MIN, value } from './gen-values.js';
import type { Prng } from '../../sim/prng.js';

const ELEMENTS = ['a', 'b', 'c', '1', '2', '', 'x'.repeat(30)];

function element(rng: Prng): string | Buffer {
  return rng.chance(0.85) ? rng.pick(ELEMENTS) : value(rng);
}

function elements(rng: Prng, n: number): Array<string | Buffer> {
  return Array.from({ length: n }, () => element(rng));
}

/** An index: mostly within a short list, sometimes far out or not a number. */
function listIndex(rng: Prng): string {
  const r = rng.next();
  if (r < 0.75) return String(rng.int(-8, 8));
  if (r < 0.85) return rng.pick(['100', '-100', INT64_MAX, INT64_MIN]);
  if (r < 0.95) return String(rng.int(0, 3));
  return rng.pick(['x', '1.5', '', '01']);
}

function end(rng: Prng): string {
  return rng.chance(0.95) ? rng.pick(['LEFT', 'RIGHT', 'left', 'right']) : 'UP';
}

/** A timeout: short (an empty key times out within the test), sometimes invalid. */
function timeout(rng: Prng): string {
  // 0.0004 s waits 1 ms (Redis rounds up); the errors include values past 2^63 ms.
  return rng.chance(0.92) ? rng.pick(['0.01', '0.02', '.01', '0.0004']) : rng.pick(['-1', 'x', 'nan', 'inf', '-0.5', '9223372036854775.808', '1e16', '-0.002']);
}

function count(rng: Prng): string {
  return rng.chance(0.85) ? String(rng.int(0, 6)) : rng.pick(['-1', 'x', INT64_MAX]);
}

/**
 * A numkeys argument, sometimes wrong. One too large takes the arguments after the keys as keys:
 * a syntax error on one node, CROSSSLOT in a cluster (as Redis Cluster), so only single nodes get it.
 */
function numkeys(g: GenContext, keys: string[]): string {
  if (g.rng.chance(0.92)) return String(keys.length);
  return g.rng.pick(['0', '-1', 'x', ...(g.opts.crossSlot ? [String(keys.length + 2)] : [])]);
}

function lposOptions(rng: Prng): string[] {
  const out: string[] = [];
  for (let i = rng.int(0, 3); i > 0; i--) {
    switch (rng.int(0, 4)) {
      case 0: out.push('RANK', rng.pick(['1', '2', '-1', '-2', '3', '0', 'x'])); break;
      case 1: out.push('COUNT', rng.pick(['0', '1', '2', '5', '-1'])); break;
      case 2: out.push('MAXLEN', rng.pick(['0', '1', '3', '10', '-1'])); break;
      case 3: out.push(rng.pick(['BOGUS', 'RANK'])); break;
      default: out.push('COUNT', '0');
    }
  }
  return out;
}

export function listCommand(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  const k = (): string => keys.key(rng);
  switch (rng.int(0, 33)) {
    case 0:
    case 1:
    case 2: return cmd(['RPUSH', k(), ...elements(rng, rng.int(1, 5))]);
    case 3:
    case 4: return cmd(['LPUSH', k(), ...elements(rng, rng.int(1, 5))]);
    case 5: return cmd([rng.pick(['LPUSHX', 'RPUSHX']), k(), ...elements(rng, rng.int(1, 3))]);
    case 6:
    case 7: return cmd([rng.pick(['LPOP', 'RPOP']), k()]);
    case 8: return cmd([rng.pick(['LPOP', 'RPOP']), k(), count(rng)]);
    case 9: return cmd(['LLEN', k()]);
    case 10:
    case 11:
    case 12: return cmd(['LRANGE', k(), listIndex(rng), listIndex(rng)]);
    case 13: return cmd(['LINDEX', k(), listIndex(rng)]);
    case 14: return cmd(['LSET', k(), listIndex(rng), element(rng)]);
    case 15: return cmd(['LINSERT', k(), rng.chance(0.95) ? rng.pick(['BEFORE', 'AFTER', 'after']) : 'MIDDLE', element(rng), element(rng)]);
    case 16: return cmd(['LREM', k(), rng.pick(['0', '1', '2', '-1', '-2', '5', 'x']), element(rng)]);
    case 17: return cmd(['LTRIM', k(), listIndex(rng), listIndex(rng)]);
    case 18: return cmd(['LTRIM', k(), rng.pick(['0', '1', '-3']), rng.pick(['-1', '-2', '2', '5'])]);
    case 19:
    case 20: return cmd(['LPOS', k(), element(rng), ...lposOptions(rng)]);
    case 21: {
      const [src, dst] = keys.keys(rng, 2);
      return cmd(['LMOVE', src!, dst!, end(rng), end(rng)]);
    }
    case 22: {
      const [src, dst] = keys.keys(rng, 2);
      return cmd(['RPOPLPUSH', src!, dst!]);
    }
    case 23: {
      const ks = keys.keys(rng, rng.int(1, 3));
      const opts = rng.chance(0.5) ? ['COUNT', count(rng)] : [];
      return cmd(['LMPOP', numkeys(g, ks), ...ks, end(rng), ...opts]);
    }
    case 24:
    case 25: return cmd([rng.pick(['BLPOP', 'BRPOP']), ...keys.keys(rng, rng.int(1, 3)), timeout(rng)]);
    case 26: {
      const [src, dst] = keys.keys(rng, 2);
      return cmd(['BLMOVE', src!, dst!, end(rng), end(rng), timeout(rng)]);
    }
    case 27: {
      const [src, dst] = keys.keys(rng, 2);
      return cmd(['BRPOPLPUSH', src!, dst!, timeout(rng)]);
    }
    case 28: {
      const ks = keys.keys(rng, rng.int(1, 3));
      const opts = rng.chance(0.5) ? ['COUNT', count(rng)] : [];
      return cmd(['BLMPOP', timeout(rng), numkeys(g, ks), ...ks, end(rng), ...opts]);
    }
    case 29: return cmd(['LRANGE', k(), '0', '-1']);
    case 30: return cmd(['TYPE', k()]);
    default: return cmd(['LRANGE', k(), '0', '-1']);
  }
}
