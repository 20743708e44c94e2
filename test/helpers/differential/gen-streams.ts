/**
 * Random stream commands, valid and invalid. Ids are explicit (`ms-seq`, `ms`, `ms-*` over a small
 * range, so adds collide, go backwards and fail as often as they succeed), never `*`, whose value is
 * the server's clock; `*` is compared structurally in streams-clients.test.ts. Groups and consumers
 * come from small pools so reads, claims and acks meet the same pending entries. Times only appear
 * through idle thresholds far from the test's own duration (0 or an hour), IDLE/TIME two hours
 * back, and replies that carry times are compared within a tolerance (Check 'stream').
 */
import { cmd, type Check, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import type { Prng } from '../../sim/prng.js';

const GROUPS = ['g1', 'g2'];
const CONSUMERS = ['c1', 'c2', 'c3'];
const FIELDS = ['f', 'g', 'name', ''];
const VALUES = ['1', 'v', 'hello', '', '42'];
const BAD_IDS = ['x', '-1', '1-x', '', '1-2-3', '18446744073709551616', '(1'];
const TIMES: Check = { kind: 'stream', tolerance: 3000 };
const PENDING_ROWS: Check = { kind: 'stream', tolerance: 3000, idleAt: 2 };
/** An hour: no entry of a test run is this idle unless IDLE/TIME set it so. */
const LONG_IDLE = '3600000';

function ms(rng: Prng): number {
  return rng.int(0, 40);
}

function id(rng: Prng): string {
  if (rng.chance(0.03)) return rng.pick(BAD_IDS);
  return rng.chance(0.3) ? String(ms(rng)) : `${ms(rng)}-${rng.int(0, 3)}`;
}

function addId(rng: Prng): string {
  const r = rng.next();
  if (r < 0.25) return `${ms(rng)}-*`;
  if (r < 0.3) return rng.pick(['0-0', '0', '0-*', 'x', '-', '+']);
  return id(rng);
}

function bound(rng: Prng, low: boolean): string {
  const r = rng.next();
  if (r < 0.3) return low ? '-' : '+';
  if (r < 0.45) return `(${id(rng)}`;
  if (r < 0.5) return rng.pick(['(-', '(+', '(0-0', '(18446744073709551615-18446744073709551615', low ? '+' : '-']);
  return id(rng);
}

function fields(rng: Prng): string[] {
  const n = rng.chance(0.05) ? 0 : rng.int(1, 3);
  const out = Array.from({ length: n }, () => [rng.pick(FIELDS), rng.pick(VALUES)]).flat();
  if (rng.chance(0.03)) out.push('odd');
  return out;
}

function trimOptions(rng: Prng): string[] {
  const out: string[] = [];
  const kind = rng.pick(['MAXLEN', 'MINID', 'maxlen']);
  out.push(kind);
  const approx = rng.chance(0.35);
  if (approx) out.push('~');
  else if (rng.chance(0.3)) out.push('=');
  out.push(kind.toLowerCase() === 'maxlen' ? rng.pick(['0', '1', '2', '3', '5', '10', '-1', 'x']) : id(rng));
  if (rng.chance(0.2)) out.push('LIMIT', rng.pick(['0', '1', '2', '100', '-1']));
  return out;
}

function count(rng: Prng): string[] {
  return rng.chance(0.5) ? ['COUNT', rng.pick(['0', '1', '2', '3', '10', '-1', 'x'])] : [];
}

function readIds(rng: Prng, n: number, group: boolean): string[] {
  return Array.from({ length: n }, () => {
    const r = rng.next();
    if (group) return r < 0.7 ? '>' : r < 0.95 ? rng.pick(['0', '0-0', id(rng)]) : '$';
    return r < 0.25 ? '$' : r < 0.3 ? '>' : r < 0.6 ? '0' : id(rng);
  });
}

function block(rng: Prng): string[] {
  if (!rng.chance(0.2)) return [];
  return ['BLOCK', rng.chance(0.92) ? rng.pick(['10', '20']) : rng.pick(['-1', 'x'])];
}

function xgroup(g: GenContext): DiffCommand {
  const { rng } = g;
  const k = g.keys.key(rng);
  const group = rng.pick(GROUPS);
  switch (rng.int(0, 9)) {
    case 0:
    case 1:
    case 2: {
      const opts: string[] = [];
      if (rng.chance(0.6)) opts.push('MKSTREAM');
      if (rng.chance(0.2)) opts.push('ENTRIESREAD', rng.pick(['0', '1', '3', '-1', '-2', 'x']));
      if (rng.chance(0.03)) opts.push('BOGUS');
      return cmd(['XGROUP', 'CREATE', k, group, rng.chance(0.4) ? '$' : id(rng), ...opts]);
    }
    case 3:
    case 4: {
      const opts = rng.chance(0.3) ? ['ENTRIESREAD', rng.pick(['0', '2', '-1', '-3', 'x'])] : rng.chance(0.03) ? ['BOGUS'] : [];
      return cmd(['XGROUP', 'SETID', k, group, rng.chance(0.3) ? '$' : rng.chance(0.1) ? rng.pick(['-', '+']) : id(rng), ...opts]);
    }
    case 5: return cmd(['XGROUP', 'DESTROY', k, rng.chance(0.8) ? group : 'nogroup']);
    case 6: return cmd(['XGROUP', 'CREATECONSUMER', k, group, rng.pick(CONSUMERS)]);
    case 7: return cmd(['XGROUP', 'DELCONSUMER', k, group, rng.pick(CONSUMERS)]);
    case 8: return cmd(['XGROUP', rng.pick(['HELP', 'help'])]);
    default: return cmd(['XGROUP', rng.pick(['FOO', 'CREATE', 'SETID']), k]);
  }
}

function xclaimOptions(g: GenContext): string[] {
  const { rng } = g;
  const out: string[] = [];
  for (let i = rng.int(0, 3); i > 0; i--) {
    switch (rng.int(0, 7)) {
      case 0: out.push('IDLE', rng.pick(['7200000', '0', '-5', 'x'])); break;
      case 1: out.push('TIME', rng.pick([String(g.clock.nowMs - 7_200_000), String(g.clock.nowMs + 7_200_000), '-1', 'x'])); break;
      case 2: out.push('RETRYCOUNT', rng.pick(['0', '5', '-1', 'x'])); break;
      case 3: out.push('FORCE'); break;
      case 4: out.push('JUSTID'); break;
      case 5: out.push('LASTID', id(rng)); break;
      default: out.push(rng.pick(['BOGUS', 'IDLE']));
    }
  }
  return out;
}

export function streamCommand(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  const k = (): string => keys.key(rng);
  const group = (): string => (rng.chance(0.95) ? rng.pick(GROUPS) : 'nogroup');
  const consumer = (): string => rng.pick(CONSUMERS);
  const ids = (n: number): string[] => Array.from({ length: n }, () => id(rng));
  switch (rng.int(0, 40)) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6:
      return cmd(['XADD', k(), addId(rng), ...fields(rng)]);
    case 7: case 8: {
      const opts = [...(rng.chance(0.15) ? ['NOMKSTREAM'] : []), ...(rng.chance(0.7) ? trimOptions(rng) : [])];
      return cmd(['XADD', k(), ...opts, addId(rng), ...fields(rng)]);
    }
    case 9: case 10: case 11:
      return cmd(['XRANGE', k(), bound(rng, true), bound(rng, false), ...count(rng)]);
    case 12:
      return cmd(['XREVRANGE', k(), bound(rng, false), bound(rng, true), ...count(rng)]);
    case 13: return cmd(['XLEN', k()]);
    case 14: return cmd(['XDEL', k(), ...ids(rng.int(1, 3))]);
    case 15: return cmd(['XTRIM', k(), ...(rng.chance(0.95) ? trimOptions(rng) : ['BOGUS', '1'])]);
    case 16: case 17: {
      const n = rng.int(1, 2);
      const ks = keys.keys(rng, n);
      return cmd(['XREAD', ...count(rng), ...block(rng), 'STREAMS', ...ks, ...readIds(rng, rng.chance(0.97) ? n : n + 1, false)]);
    }
    case 18: case 19: case 20: case 21: {
      const n = rng.chance(0.85) ? 1 : 2;
      const ks = keys.keys(rng, n);
      const noack = rng.chance(0.15) ? ['NOACK'] : [];
      return cmd(['XREADGROUP', 'GROUP', group(), consumer(), ...count(rng), ...block(rng), ...noack, 'STREAMS', ...ks, ...readIds(rng, n, true)]);
    }
    case 22: case 23: case 24: return xgroup(g);
    case 25: case 26: return cmd(['XACK', k(), group(), ...ids(rng.int(1, 3))]);
    case 27: return cmd(['XPENDING', k(), group()]);
    case 28: {
      const idle = rng.chance(0.3) ? ['IDLE', rng.pick(['0', LONG_IDLE, 'x'])] : [];
      const who = rng.chance(0.3) ? [consumer()] : [];
      return cmd(['XPENDING', k(), group(), ...idle, bound(rng, true), bound(rng, false), rng.pick(['1', '2', '10', '0', '-1', 'x']), ...who], PENDING_ROWS);
    }
    case 29: case 30:
      return cmd(['XCLAIM', k(), group(), consumer(), rng.pick(['0', LONG_IDLE, '-1', 'x']), ...ids(rng.int(1, 3)), ...xclaimOptions(g)]);
    case 31: case 32: {
      const opts: string[] = [];
      if (rng.chance(0.4)) opts.push('COUNT', rng.pick(['1', '2', '10', '0', 'x']));
      if (rng.chance(0.3)) opts.push('JUSTID');
      return cmd(['XAUTOCLAIM', k(), group(), consumer(), rng.pick(['0', LONG_IDLE, 'x']), bound(rng, true), ...opts]);
    }
    case 33: return cmd(['XINFO', 'STREAM', k()], TIMES);
    case 34: return cmd(['XINFO', 'STREAM', k(), 'FULL', ...(rng.chance(0.5) ? ['COUNT', rng.pick(['0', '1', '2', '-1'])] : [])], TIMES);
    case 35: return cmd(['XINFO', 'GROUPS', k()]);
    case 36: return cmd(['XINFO', 'CONSUMERS', k(), group()], TIMES);
    case 37: {
      const opts: string[] = [];
      if (rng.chance(0.3)) opts.push('ENTRIESADDED', rng.pick(['0', '5', '100', '-1']));
      if (rng.chance(0.3)) opts.push('MAXDELETEDID', id(rng));
      return cmd(['XSETID', k(), id(rng), ...opts]);
    }
    // OBJECT ENCODING is left to streams-clients.test.ts (and strings' encodings to gen-encoding.ts),
    // so these scenarios keep their draws.
    case 38: return cmd(['TYPE', k()]);
    default: return cmd(['XRANGE', k(), '-', '+']);
  }
}
