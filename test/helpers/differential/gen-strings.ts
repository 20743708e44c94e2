/** Random string-family commands, valid and invalid, over one connection's keys. */
import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import { floatIncrement, increment, index, millis, seconds, unixMillis, unixSeconds, value } from './gen-values.js';

/** SET's options in a random order and mix, some of them invalid together (NX XX, EX PX, KEEPTTL EX). */
function setOptions(g: GenContext): Array<string> {
  const { rng } = g;
  const out: string[] = [];
  const n = rng.int(0, 3);
  for (let i = 0; i < n; i++) {
    switch (rng.int(0, 9)) {
      case 0: out.push('EX', seconds(rng)); break;
      case 1: out.push('PX', millis(rng)); break;
      case 2: out.push('EXAT', unixSeconds(rng, g.clock)); break;
      case 3: out.push('PXAT', unixMillis(rng, g.clock)); break;
      case 4: out.push(rng.pick(['NX', 'nx'])); break;
      case 5: out.push(rng.pick(['XX', 'xx'])); break;
      case 6: out.push('KEEPTTL'); break;
      case 7: out.push(rng.pick(['GET', 'get'])); break;
      case 8: out.push(rng.pick(['EX', 'PX'])); break; // missing its argument
      default: out.push(rng.pick(['BOGUS', 'PERSIST'])); break;
    }
  }
  return out;
}

function getexOptions(g: GenContext): string[] {
  const { rng } = g;
  switch (rng.int(0, 8)) {
    case 0: return [];
    case 1: return ['EX', seconds(rng)];
    case 2: return ['PX', millis(rng)];
    case 3: return ['EXAT', unixSeconds(rng, g.clock)];
    case 4: return ['PXAT', unixMillis(rng, g.clock)];
    case 5: return ['PERSIST'];
    case 6: return ['PERSIST', 'EX', seconds(rng)];
    case 7: return ['EX'];
    default: return ['BOGUS'];
  }
}

export function stringCommand(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  const k = (): string => keys.key(rng);
  switch (rng.int(0, 27)) {
    case 0:
    case 1:
    case 2: return cmd(['SET', k(), value(rng), ...setOptions(g)]);
    case 3: return cmd([rng.pick(['GET', 'get', 'Get']), k()]);
    case 4: return cmd(['GET', k()]);
    case 5: return cmd(['SETNX', k(), value(rng)]);
    case 6: return cmd(['SETEX', k(), seconds(rng), value(rng)]);
    case 7: return cmd(['PSETEX', k(), millis(rng), value(rng)]);
    case 8: return cmd(['MGET', ...keys.keys(rng, rng.int(1, 4))]);
    case 9: return cmd(['MSET', ...keys.keys(rng, rng.int(1, 3)).flatMap((key) => [key, value(rng)])]);
    case 10: return cmd(['MSETNX', ...keys.keys(rng, rng.int(1, 3)).flatMap((key) => [key, value(rng)])]);
    case 11: return cmd(['GETSET', k(), value(rng)]);
    case 12: return cmd(['GETDEL', k()]);
    case 13: return cmd(['GETEX', k(), ...getexOptions(g)]);
    case 14: return cmd(['APPEND', k(), value(rng)]);
    case 15: return cmd(['STRLEN', k()]);
    case 16: return cmd(['GETRANGE', k(), index(rng, 20), index(rng, 20)]);
    case 17: return cmd(['SETRANGE', k(), index(rng, 30), value(rng)]);
    case 18:
    case 19: return cmd(['INCR', k()]);
    case 20: return cmd(['DECR', k()]);
    case 21:
    case 22: return cmd(['INCRBY', k(), increment(rng)]);
    case 23: return cmd(['DECRBY', k(), increment(rng)]);
    case 24:
    case 25: return cmd(['INCRBYFLOAT', k(), floatIncrement(rng)]);
    case 26: return cmd(['SETRANGE', k(), index(rng, 5), '']);
    default: return cmd(['SET', k(), value(rng)]);
  }
}
