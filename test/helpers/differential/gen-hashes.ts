/** Random hash commands over a handful of fields, valid and invalid. */
import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import { field, floatIncrement, increment, value } from './gen-values.js';

function fieldValues(g: GenContext, pairs: number): Array<string | Buffer> {
  return Array.from({ length: pairs }, () => [field(g.rng), value(g.rng)]).flat();
}

function fields(g: GenContext, n: number): string[] {
  return Array.from({ length: n }, () => field(g.rng));
}

export function hashCommand(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  const k = (): string => keys.key(rng);
  switch (rng.int(0, 24)) {
    case 0:
    case 1:
    case 2: return cmd(['HSET', k(), ...fieldValues(g, rng.int(1, 3))]);
    case 3: return cmd(['HSETNX', k(), field(rng), value(rng)]);
    case 4:
    case 5: return cmd(['HGET', k(), field(rng)]);
    case 6: return cmd(['HMGET', k(), ...fields(g, rng.int(1, 4))]);
    case 7: return cmd(['HMSET', k(), ...fieldValues(g, rng.int(1, 2))]);
    case 8: return cmd(['HDEL', k(), ...fields(g, rng.int(1, 3))]);
    case 9: return cmd(['HEXISTS', k(), field(rng)]);
    case 10: return cmd(['HLEN', k()]);
    case 11: return cmd(['HSTRLEN', k(), field(rng)]);
    // Field order is insertion order only while Redis keeps the hash compact (a long value, such
    // as a large HINCRBYFLOAT result, turns it into a hash table): compared sorted.
    case 12: return cmd(['HKEYS', k()], { kind: 'sorted' });
    case 13: return cmd(['HVALS', k()], { kind: 'sorted' });
    case 14:
    case 15: return cmd(['HGETALL', k()], { kind: 'sorted', pairs: true });
    case 16:
    case 17: return cmd(['HINCRBY', k(), field(rng), increment(rng)]);
    case 18:
    case 19: return cmd(['HINCRBYFLOAT', k(), field(rng), floatIncrement(rng)]);
    case 20: return cmd(['HRANDFIELD', k()], { kind: 'shape' });
    case 21: {
      // A count at least the hash's size gives every field; a negative one allows repeats.
      const count = rng.pick(['1', '3', '10', '-2', '-7', '0', 'abc', '-9223372036854775808']);
      return cmd(['HRANDFIELD', k(), count, ...(rng.chance(0.5) ? ['WITHVALUES'] : [])], { kind: 'shape' });
    }
    case 22: return cmd(['HSCAN', k(), '0', ...rng.pick([[], ['COUNT', '1000'], ['MATCH', 'f*'], ['MATCH', 'n*', 'COUNT', '50'], ['COUNT', '0'], ['BOGUS']])], { kind: 'scan', pairs: true });
    default: return cmd(['HGET', k(), field(rng)]);
  }
}
