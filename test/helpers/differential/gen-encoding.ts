/**
 * Random string writes, each followed by OBJECT ENCODING of the key it wrote (and now and then a
 * GET): the encoding Redis 7.0 reports depends on the command that made the value (SET's int /
 * embstr / raw by the value; APPEND, SETRANGE, SETBIT, BITFIELD, BITOP and PFADD leave raw whatever
 * the length; INCRBYFLOAT's result is never int; COPY, RENAME, EXPIRE, PERSIST and GETEX keep it).
 * Values sit on the edges: 20-digit numbers in and out of a long, 44 and 45 bytes, and now and then
 * one long enough to be stored in fragments.
 */
import type { Prng } from '../../sim/prng.js';
import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import { INT64_MAX, INT64_MIN, value as anyValue } from './gen-values.js';

const EDGE_VALUES = [
  '0', '5', '-1', '9999', '10000', '123456789', INT64_MAX, INT64_MIN, '9223372036854775808', '12345678901234567890',
  '01', '-0', '+5', '1.5', '3.0', '1e3', '', 'hi',
  'x'.repeat(43), 'x'.repeat(44), 'x'.repeat(45), '1'.repeat(44), 'y'.repeat(60),
];

function value(rng: Prng): string | Buffer {
  const r = rng.next();
  if (r < 0.55) return rng.pick(EDGE_VALUES);
  if (r < 0.97) return anyValue(rng);
  return 'z'.repeat(rng.int(4097, 5000));
}

/** A short piece to append or write in place: often empty or a digit, so the value may still read as an int. */
function piece(rng: Prng): string {
  return rng.pick(['', '', '1', '7', 'a', '00', 'x'.repeat(rng.int(1, 46))]);
}

function offset(rng: Prng): string {
  return String(rng.pick([0, 0, 1, 3, rng.int(0, 50), rng.int(40, 48), rng.int(4090, 4200)]));
}

function write(g: GenContext, k: string): DiffCommand[] {
  const { rng, keys } = g;
  switch (rng.int(0, 24)) {
    case 0:
    case 1:
    case 2: return [cmd(['SET', k, value(rng), ...rng.pick([[], [], ['KEEPTTL'], ['GET'], ['EX', '1000'], ['NX'], ['XX']])])];
    case 3: return [cmd(['APPEND', k, piece(rng)])];
    case 4: return [cmd(['APPEND', k, value(rng)])];
    case 5: return [cmd(['SETRANGE', k, offset(rng), piece(rng)])];
    case 6: return [cmd(['SETBIT', k, String(rng.pick([0, 1, 7, rng.int(0, 400), rng.int(32760, 33000)])), rng.pick(['0', '1'])])];
    case 7: return [cmd(['BITFIELD', k, ...rng.pick([['GET', 'u8', '0'], ['SET', 'u8', '0', '49'], ['INCRBY', 'i8', '8', '1'], ['OVERFLOW', 'FAIL', 'INCRBY', 'u2', '0', '100']])])];
    case 8: {
      const [dest, src] = keys.keys(rng, 2) as [string, string];
      return [cmd(['BITOP', rng.pick(['OR', 'AND', 'NOT']), dest, src]), cmd(['OBJECT', 'ENCODING', dest])];
    }
    case 9:
    case 10: return [cmd([rng.pick(['INCR', 'DECR']), k])];
    case 11: return [cmd(['INCRBY', k, rng.pick(['1', '-5', '100000', '9223372036854775000'])])];
    case 12:
    case 13: return [cmd(['INCRBYFLOAT', k, rng.pick(['0', '1', '1.5', '-2.5', '1e3', '0.1'])])];
    case 14: return [cmd(['GETSET', k, value(rng)])];
    case 15: return [cmd(['SETEX', k, '1000', value(rng)])];
    case 16: return [cmd(['MSET', k, value(rng)])];
    case 17: return [cmd(['SETNX', k, value(rng)])];
    case 18: return [cmd(['GETEX', k, ...rng.pick([[], ['EX', '1000'], ['PERSIST']])])];
    case 19: return [cmd(['EXPIRE', k, '1000']), cmd(['PERSIST', k])];
    case 20: {
      const [src, dst] = keys.keys(rng, 2) as [string, string];
      return [cmd(['COPY', src, dst, ...rng.pick([[], ['REPLACE']])]), cmd(['OBJECT', 'ENCODING', dst])];
    }
    case 21: {
      const [src, dst] = keys.keys(rng, 2) as [string, string];
      return [cmd([rng.pick(['RENAME', 'RENAMENX']), src, dst]), cmd(['OBJECT', 'ENCODING', dst])];
    }
    case 22: return [cmd(['PFADD', k, `e${rng.int(0, 5)}`])];
    case 23: return [cmd(['DEL', k])];
    default: return [cmd(['GETDEL', k])];
  }
}

export function encodingCommand(g: GenContext): DiffCommand[] {
  const { rng, keys } = g;
  const k = keys.key(rng);
  const out = write(g, k);
  out.push(cmd(['OBJECT', 'ENCODING', k]));
  if (rng.chance(0.3)) out.push(cmd(['GET', k]));
  return out;
}
