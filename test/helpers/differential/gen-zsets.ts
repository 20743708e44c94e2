/**
 * Random sorted-set commands, valid and invalid. Scores are drawn so that they tie, go negative,
 * reach ±inf and -0, and print with all 17 digits; members from a small pool so commands meet the
 * same members. Lex ranges go mostly to a companion key (`<key>:lex`, same slot) whose members all
 * score 0, the only case where Redis defines them; that key also gets a member too long for a
 * listpack, so the skiplist encoding is compared too.
 */
import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import type { Prng } from '../../sim/prng.js';

const MEMBERS = ['a', 'b', 'c', 'd', 'e', 'm1', 'm10', 'm2', ''];
const LONG_MEMBER = 'L'.repeat(70);
const SCORES = ['0', '1', '-1', '1.5', '-2.5', '0.1', '0.3', '1e-5', '3', '10', '100', '2.5e-3', '-0', 'inf', '-inf', '+inf', '1e17', '123456789012345678', '3.0000000000000004', '4611686018427387904', '0x10', ' 1'];
const BAD_SCORES = ['nan', 'abc', '', '1e400', '1e-400', '1 ', '--1'];
const BOUNDS = ['-inf', '+inf', 'inf', '0', '(0', '1', '(1', '1.5', '(1.5', '-1', '(-1', '10', '(10', '3', '-0'];
const BAD_BOUNDS = ['abc', '(', '', ' 1', '1 ', '(nan', 'nan', '((1'];
const LEX = ['-', '+', '[a', '(a', '[c', '(c', '[m1', '(m2', '[', '(', '[z', '(e'];
const BAD_LEX = ['a', '', '++', '-a', '{a'];
const INCREMENTS = ['1', '-1', '0.1', '0.2', '-0.3', '2.5', 'inf', '-inf', '0', '-0', '1e16', 'abc'];
const INDEXES = ['0', '1', '2', '-1', '-2', '-100', '100', '3', 'x', '9223372036854775807', '-9223372036854775808'];

function member(rng: Prng): string {
  return rng.pick(MEMBERS);
}

function score(rng: Prng): string {
  return rng.chance(0.06) ? rng.pick(BAD_SCORES) : rng.pick(SCORES);
}

function bound(rng: Prng): string {
  return rng.chance(0.05) ? rng.pick(BAD_BOUNDS) : rng.pick(BOUNDS);
}

function lexBound(rng: Prng): string {
  return rng.chance(0.05) ? rng.pick(BAD_LEX) : rng.pick(LEX);
}

function pairs(rng: Prng, n: number): string[] {
  return Array.from({ length: n }, () => [score(rng), member(rng)]).flat();
}

function zaddOptions(rng: Prng): string[] {
  // Mostly compatible options; now and then a conflicting pair (NX with XX, GT with LT or NX).
  const out: string[] = [];
  if (rng.chance(0.25)) out.push(rng.pick(['NX', 'XX']));
  if (rng.chance(0.25)) out.push(rng.pick(['GT', 'LT']));
  if (rng.chance(0.25)) out.push('CH');
  return out;
}

function limit(rng: Prng): string[] {
  if (!rng.chance(0.3)) return [];
  return ['LIMIT', rng.pick(['0', '1', '2', '-1', '5']), rng.pick(['1', '2', '-1', '0', '10'])];
}

export function zsetCommand(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  const plain = (): string => keys.key(rng);
  const lexKey = (): string => `${keys.key(rng)}:lex`;
  const k = (): string => (rng.chance(0.15) ? lexKey() : plain());
  const many = (n: number): string[] => keys.keys(rng, n).map((x) => (rng.chance(0.15) ? `${x}:lex` : x));
  // A destination is never a companion key: a stored result has mixed scores, and a lex range over
  // mixed scores in a skiplist depends on Redis's random levels.
  const withDestination = (n: number): string[] => keys.keys(rng, n).map((x, i) => (i > 0 && rng.chance(0.15) ? `${x}:lex` : x));
  const ws = (): string[] => (rng.chance(0.5) ? ['WITHSCORES'] : []);
  switch (rng.int(0, 44)) {
    case 0:
    case 1:
    case 2:
    case 3: return cmd(['ZADD', plain(), ...zaddOptions(rng), ...pairs(rng, rng.int(1, 4))]);
    case 4: return cmd(['ZADD', plain(), ...zaddOptions(rng), 'INCR', score(rng), member(rng)]);
    case 5:
    case 6: {
      const m = rng.chance(0.1) ? LONG_MEMBER : rng.pick(MEMBERS);
      return cmd(['ZADD', lexKey(), ...(rng.chance(0.2) ? ['NX'] : []), '0', m, '0', member(rng)]);
    }
    case 7:
    case 8: return cmd(['ZINCRBY', plain(), rng.pick(INCREMENTS), member(rng)]);
    case 9: return cmd(['ZSCORE', k(), member(rng)]);
    case 10: return cmd(['ZMSCORE', k(), member(rng), member(rng), member(rng)]);
    case 11: return cmd(['ZCARD', k()]);
    case 12: return cmd(['ZCOUNT', k(), bound(rng), bound(rng)]);
    case 13: return cmd(['ZLEXCOUNT', lexKey(), lexBound(rng), lexBound(rng)]);
    case 14: return cmd(['ZRANK', k(), member(rng)]);
    case 15: return cmd(['ZREVRANK', k(), member(rng)]);
    case 16:
    case 17: return cmd(['ZRANGE', k(), rng.pick(INDEXES), rng.pick(INDEXES), ...(rng.chance(0.3) ? ['REV'] : []), ...ws(), ...(rng.chance(0.05) ? ['LIMIT', '0', '1'] : [])]);
    case 18: return cmd(['ZRANGE', k(), bound(rng), bound(rng), 'BYSCORE', ...(rng.chance(0.4) ? ['REV'] : []), ...limit(rng), ...ws()]);
    case 19: return cmd(['ZRANGE', lexKey(), lexBound(rng), lexBound(rng), 'BYLEX', ...(rng.chance(0.4) ? ['REV'] : []), ...limit(rng), ...(rng.chance(0.05) ? ['WITHSCORES'] : [])]);
    case 20: return cmd(['ZRANGEBYSCORE', k(), bound(rng), bound(rng), ...ws(), ...limit(rng)]);
    case 21: return cmd(['ZREVRANGEBYSCORE', k(), bound(rng), bound(rng), ...limit(rng), ...ws()]);
    case 22: return cmd(['ZRANGEBYLEX', lexKey(), lexBound(rng), lexBound(rng), ...limit(rng)]);
    case 23: return cmd(['ZREVRANGEBYLEX', lexKey(), lexBound(rng), lexBound(rng), ...limit(rng)]);
    case 24: return cmd(['ZREVRANGE', k(), rng.pick(INDEXES), rng.pick(INDEXES), ...ws()]);
    case 25: {
      const [dst, plainSrc] = withDestination(2) as [string, string];
      const kind = rng.pick([[rng.pick(INDEXES), rng.pick(INDEXES)], [bound(rng), bound(rng), 'BYSCORE'], [lexBound(rng), lexBound(rng), 'BYLEX']]);
      // By lex only from a companion key, whose scores are all 0.
      const src = kind[2] === 'BYLEX' && !plainSrc.endsWith(':lex') ? `${plainSrc}:lex` : plainSrc;
      return cmd(['ZRANGESTORE', dst, src, ...kind, ...(rng.chance(0.3) ? ['REV'] : []), ...(kind.length === 3 ? limit(rng) : [])]);
    }
    case 26:
    case 27: return cmd(['ZREM', k(), member(rng), ...(rng.chance(0.5) ? [member(rng)] : [])]);
    case 28: return cmd(['ZREMRANGEBYRANK', k(), rng.pick(INDEXES), rng.pick(INDEXES)]);
    case 29: return cmd(['ZREMRANGEBYSCORE', k(), bound(rng), bound(rng)]);
    case 30: return cmd(['ZREMRANGEBYLEX', lexKey(), lexBound(rng), lexBound(rng)]);
    case 31: return cmd([rng.pick(['ZPOPMIN', 'ZPOPMAX']), k(), ...(rng.chance(0.5) ? [rng.pick(['1', '2', '0', '10', '-1', 'x'])] : [])]);
    case 32: {
      const ks = many(rng.int(1, 3));
      const tail = rng.chance(0.5) ? ['COUNT', rng.pick(['1', '2', '5', '0', '-1'])] : [];
      // A wrong numkeys that still fits the arguments would name MIN or COUNT as keys: on a cluster
      // that is CROSSSLOT before the command sees it, so the wrong ones here never fit.
      const numkeys = rng.chance(0.9) ? String(ks.length) : rng.pick(['0', '9', 'x']);
      return cmd(['ZMPOP', numkeys, ...ks, rng.pick(['MIN', 'MAX', 'MIN', 'MAX', 'BOTH']), ...tail]);
    }
    case 33: {
      const count = rng.pick(['1', '3', '10', '-2', '-5', '0', 'abc']);
      return cmd(['ZRANDMEMBER', k(), ...(rng.chance(0.8) ? [count, ...(rng.chance(0.5) ? ['WITHSCORES'] : [])] : [])], { kind: 'shape' });
    }
    case 34:
    case 35:
    case 36: {
      const ks = many(rng.int(1, 3));
      const op = rng.pick(['ZUNION', 'ZINTER', 'ZDIFF']);
      const opts: string[] = [];
      if (op !== 'ZDIFF' && rng.chance(0.4)) opts.push('WEIGHTS', ...ks.map(() => rng.pick(['1', '2', '-1', '0', '0.5', 'inf', 'x'])));
      if (op !== 'ZDIFF' && rng.chance(0.3)) opts.push('AGGREGATE', rng.pick(['SUM', 'MIN', 'MAX', 'AVG']));
      if (rng.chance(0.5)) opts.push('WITHSCORES');
      return cmd([op, String(ks.length), ...ks, ...opts]);
    }
    case 37:
    case 38: {
      const [dst, ...ks] = withDestination(rng.int(2, 4)) as [string, ...string[]];
      const op = rng.pick(['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE']);
      const opts: string[] = [];
      if (op !== 'ZDIFFSTORE' && rng.chance(0.4)) opts.push('WEIGHTS', ...ks.map(() => rng.pick(['1', '2', '-1', '0', '0.5', '-inf'])));
      if (op !== 'ZDIFFSTORE' && rng.chance(0.3)) opts.push('AGGREGATE', rng.pick(['SUM', 'MIN', 'MAX']));
      let numkeys = rng.chance(0.92) ? String(ks.length) : rng.pick(['0', '9', '-1']);
      // Nine fits once the options bring the arguments after it to nine: the option words are then
      // keys, CROSSSLOT on a cluster (Redis Cluster's answer too), so there it must not fit.
      if (numkeys === '9' && ks.length + opts.length >= 9 && !g.opts.crossSlot) numkeys = String(ks.length + opts.length + 1);
      return cmd([op, dst, numkeys, ...ks, ...opts]);
    }
    case 39: {
      const ks = many(rng.int(1, 3));
      return cmd(['ZINTERCARD', String(ks.length), ...ks, ...(rng.chance(0.5) ? ['LIMIT', rng.pick(['0', '1', '2', '-1'])] : [])]);
    }
    // A COUNT above the member pool: a skiplist scan may stop at COUNT with its cursor not yet 0.
    case 40: return cmd(['ZSCAN', k(), '0', ...rng.pick([['COUNT', '20'], ['COUNT', '1000'], ['MATCH', 'm*', 'COUNT', '20'], ['MATCH', 'a*', 'COUNT', '50'], ['COUNT', '0'], ['NOVALUES']])], { kind: 'scan', pairs: true });
    // Only the companion keys: they never hold strings, whose encodings are not compared here.
    case 41: return cmd(['OBJECT', 'ENCODING', lexKey()]);
    case 42: return cmd(['ZADD', plain(), 'INCR', ...pairs(rng, rng.int(1, 2))]);
    case 43: return cmd(['ZINCRBY', plain(), rng.pick(['NX', 'INCR', '1']), member(rng)]);
    default: return cmd(['ZRANGE', k(), '0', '-1', 'WITHSCORES']);
  }
}
