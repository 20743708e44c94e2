/** Random generic key commands (existence, types, expiry, renames), valid and invalid. */
import { cmd, type Check, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import { millis, seconds, unixMillis, unixSeconds } from './gen-values.js';

/**
 * TTL readings: both servers run a phase at the same time, but a slow pipeline on a loaded cluster
 * can set or read an expiry seconds after redis-server does. Five seconds cover that and still
 * catch a wrong unit (relative times are at least 100 s, so milliseconds for seconds stand out).
 */
const TTL_SECONDS: Check = { kind: 'time', tolerance: 5 };
const TTL_MILLIS: Check = { kind: 'time', tolerance: 5000 };

function expireFlags(g: GenContext): string[] {
  const { rng } = g;
  const r = rng.next();
  if (r < 0.5) return [];
  if (r < 0.85) return [rng.pick(['NX', 'XX', 'GT', 'LT', 'nx', 'gt'])];
  // Combinations Redis refuses (NX with anything, GT with LT) and ones it takes (XX GT).
  return rng.pick([['NX', 'XX'], ['GT', 'LT'], ['XX', 'GT'], ['NX', 'GT'], ['LT', 'XX'], ['BOGUS']]);
}

export function keyCommand(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  const k = (): string => keys.key(rng);
  switch (rng.int(0, 24)) {
    case 0: return cmd(['DEL', ...keys.keys(rng, rng.int(1, 3))]);
    case 1: return cmd(['UNLINK', ...keys.keys(rng, rng.int(1, 3))]);
    case 2: return cmd(['EXISTS', ...keys.keys(rng, rng.int(1, 4))]);
    case 3: return cmd(['TOUCH', ...keys.keys(rng, rng.int(1, 3))]);
    case 4:
    case 5: return cmd(['TYPE', k()]);
    case 6:
    case 7: return cmd(['EXPIRE', k(), seconds(rng), ...expireFlags(g)]);
    case 8: return cmd(['PEXPIRE', k(), millis(rng), ...expireFlags(g)]);
    case 9: return cmd(['EXPIREAT', k(), unixSeconds(rng, g.clock), ...expireFlags(g)]);
    case 10: return cmd(['PEXPIREAT', k(), unixMillis(rng, g.clock), ...expireFlags(g)]);
    case 11:
    case 12: return cmd(['TTL', k()], TTL_SECONDS);
    case 13: return cmd(['PTTL', k()], TTL_MILLIS);
    case 14: return cmd(['EXPIRETIME', k()], TTL_SECONDS);
    case 15: return cmd(['PEXPIRETIME', k()], TTL_MILLIS);
    case 16: return cmd(['PERSIST', k()]);
    case 17: {
      const [from, to] = keys.keys(rng, 2) as [string, string];
      return cmd(['RENAME', from, to]);
    }
    case 18: {
      const [from, to] = keys.keys(rng, 2) as [string, string];
      return cmd(['RENAMENX', from, to]);
    }
    case 19: {
      const [from, to] = keys.keys(rng, 2) as [string, string];
      return cmd(['COPY', from, to, ...rng.pick([[], ['REPLACE'], ['replace'], ['BOGUS'], ['DB', '0'], ['REPLACE', 'REPLACE']])]);
    }
    case 20:
      if (g.opts.keyspaceCommands) return cmd(['KEYS', keys.pattern(rng)], { kind: 'sorted' });
      return cmd(['EXISTS', k()]);
    case 21:
      if (g.opts.keyspaceCommands) return cmd(['SCAN', '0', 'MATCH', keys.pattern(rng), 'COUNT', '100000', ...rng.pick([[], ['TYPE', 'string'], ['TYPE', 'hash']])], { kind: 'scan', pairs: false });
      return cmd(['TYPE', k()]);
    default: return cmd(['EXISTS', k()]);
  }
}
