/**
 * Random hash commands over a handful of fields, valid and invalid.
 *
 * Whole-hash replies (HGETALL, HKEYS, HVALS, HSCAN, HRANDFIELD with a count above any hash's size)
 * follow an OBJECT ENCODING of the same key: while Redis says listpack its fields come in
 * insertion order and are compared byte for byte; a hashtable's (a long HINCRBYFLOAT result, a
 * value or field over 64 bytes, more than 512 fields) are compared sorted (Check `hashOrder`).
 */
import type { Prng } from '../../sim/prng.js';
import { cmd, type Check, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import { field, floatIncrement, increment, value } from './gen-values.js';

function fieldValues(g: GenContext, pairs: number): Array<string | Buffer> {
  return Array.from({ length: pairs }, () => [field(g.rng), value(g.rng)]).flat();
}

function fields(g: GenContext, n: number): string[] {
  return Array.from({ length: n }, () => field(g.rng));
}

/** A whole-hash read, after OBJECT ENCODING of its key (the encoding decides how it compares). */
function wholeRead(key: string, args: string[], check: Check): DiffCommand[] {
  return [cmd(['OBJECT', 'ENCODING', key], { kind: 'hashEncoding' }), cmd(args, check)];
}

/** Above hash-max-listpack-entries (512, Redis 7.0's default), or well below it with the fields a hash already has. */
const BULK_FIELDS = [300, 513];

/**
 * Writes at the listpack's edges: many fields in a shuffled order (insertion order is not byte
 * order), enough fields to become a hashtable, or a field or value of 64 bytes (still a listpack)
 * or 65 (a hashtable).
 */
function edgeWrite(rng: Prng, key: string): DiffCommand {
  switch (rng.int(0, 2)) {
    case 0: {
      const n = rng.pick(BULK_FIELDS);
      const names = Array.from({ length: n }, (_, i) => `b${i}`);
      for (let i = names.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [names[i], names[j]] = [names[j]!, names[i]!];
      }
      return cmd(['HSET', key, ...names.flatMap((name) => [name, String(rng.int(0, 99))])]);
    }
    case 1: return cmd(['HSET', key, field(rng), 'v'.repeat(rng.pick([64, 65]))]);
    default: return cmd(['HSETNX', key, 'k'.repeat(rng.pick([64, 65])), 'x']);
  }
}

export function hashCommand(g: GenContext): DiffCommand[] {
  const { rng, keys } = g;
  const k = (): string => keys.key(rng);
  switch (rng.int(0, 24)) {
    case 0:
    case 1:
    case 2: return [cmd(['HSET', k(), ...fieldValues(g, rng.int(1, 3))])];
    case 3: return [cmd(['HSETNX', k(), field(rng), value(rng)])];
    case 4:
    case 5: return [cmd(['HGET', k(), field(rng)])];
    case 6: return [cmd(['HMGET', k(), ...fields(g, rng.int(1, 4))])];
    case 7: return [cmd(['HMSET', k(), ...fieldValues(g, rng.int(1, 2))])];
    case 8: return [cmd(['HDEL', k(), ...fields(g, rng.int(1, 3))])];
    case 9: return [cmd(['HEXISTS', k(), field(rng)])];
    case 10: return [cmd(['HLEN', k()])];
    case 11: return [cmd(['HSTRLEN', k(), field(rng)])];
    case 12: {
      const key = k();
      return wholeRead(key, ['HKEYS', key], { kind: 'hashOrder', pairs: false });
    }
    case 13: {
      const key = k();
      return wholeRead(key, ['HVALS', key], { kind: 'hashOrder', pairs: false });
    }
    case 14:
    case 15: {
      const key = k();
      return wholeRead(key, ['HGETALL', key], { kind: 'hashOrder', pairs: true });
    }
    case 16:
    case 17: return [cmd(['HINCRBY', k(), field(rng), increment(rng)])];
    case 18:
    case 19: return [cmd(['HINCRBYFLOAT', k(), field(rng), floatIncrement(rng)])];
    case 20: return [cmd(['HRANDFIELD', k()], { kind: 'shape' })];
    case 21: {
      // A count at least the hash's size gives every field; a negative one allows repeats.
      const count = rng.pick(['1', '3', '10', '-2', '-7', '0', 'abc', '-9223372036854775808']);
      return [cmd(['HRANDFIELD', k(), count, ...(rng.chance(0.5) ? ['WITHVALUES'] : [])], { kind: 'shape' })];
    }
    case 22: {
      const key = k();
      const opts = rng.pick([[], ['COUNT', '1000'], ['MATCH', 'f*'], ['MATCH', 'n*', 'COUNT', '50'], ['COUNT', '0'], ['BOGUS']]);
      return wholeRead(key, ['HSCAN', key, '0', ...opts], { kind: 'hashOrder', pairs: true, scan: true });
    }
    case 23: {
      // Above any hash's size: the whole hash, in a listpack's order.
      const key = k();
      const withValues = rng.chance(0.5);
      return wholeRead(key, ['HRANDFIELD', key, '1000', ...(withValues ? ['WITHVALUES'] : [])], { kind: 'hashOrder', pairs: withValues });
    }
    default:
      if (rng.chance(0.3)) return [edgeWrite(rng, k())];
      return [cmd(['HGET', k(), field(rng)])];
  }
}
