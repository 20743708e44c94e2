/**
 * Random set commands, valid and invalid, over one connection's keys (shared with the other
 * families, so WRONGTYPE, DEL, EXPIRE and RENAME meet sets) and over set-only keys in the same
 * hash tags (`{tag}set0`, `{tag}set1`), which no other family touches: only there is OBJECT
 * ENCODING compared, since the other families' encodings are not what this file proves.
 *
 * A random SPOP changes which members are left, differently on each server: it is followed by
 * SCARD and an SPOP of everything, so the states agree again (not DEL: on a cluster, DEL of a
 * missing key breaks a WATCH on it, which Redis does not; reported apart). SPOP with a count above any set's size
 * pops everything and is compared in full.
 */
import type { Prng } from '../../sim/prng.js';
import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';

/** Members: small integers (intset), integer edges, integer-looking text that is not one, plain text. */
const INTS = ['0', '1', '2', '3', '5', '7', '10', '42', '-1', '-5', '100'];
const EDGE_INTS = ['9223372036854775807', '-9223372036854775808', '9223372036854775808', '4611686018427387904'];
const NOT_INTS = ['01', '+1', '-0', '1.0', ' 1', '0x10'];
const TEXT = ['a', 'b', 'c', 'hello', '', 'ü', '*', 'x'.repeat(30), 'line\r\nbreak'];

/** More members than set-max-intset-entries (512), so a set turns hashtable on size alone. */
const BULK_MEMBERS = 520;
/** Counts above any set a scenario builds: SPOP / SRANDMEMBER then take the whole set, a fixed answer. */
const WHOLE = '100000';

function member(rng: Prng): string {
  const r = rng.next();
  if (r < 0.5) return rng.pick(INTS);
  if (r < 0.6) return rng.pick(EDGE_INTS);
  if (r < 0.7) return rng.pick(NOT_INTS);
  return rng.pick(TEXT);
}

function members(rng: Prng, n: number): string[] {
  return Array.from({ length: n }, () => member(rng));
}

/** One of the connection's keys, or now and then the set-only key of the same hash tag. */
function anyKey(g: GenContext, k: string): string {
  return g.rng.chance(0.3) ? setOnlyKey(g.rng, k) : k;
}

function setOnlyKey(rng: Prng, k: string): string {
  return `${k.slice(0, k.indexOf('}') + 1)}set${rng.int(0, 1)}`;
}

/** `n` keys that may be named together (one slot on a cluster), some of them set-only. */
function someKeys(g: GenContext, n: number): string[] {
  return g.keys.keys(g.rng, n).map((k) => anyKey(g, k));
}

export function setCommand(g: GenContext): DiffCommand[] {
  const { rng, keys } = g;
  const k = (): string => anyKey(g, keys.key(rng));
  const setOnly = (): string => setOnlyKey(rng, keys.key(rng));
  switch (rng.int(0, 31)) {
    case 0:
    case 1:
    case 2: return [cmd(['SADD', k(), ...members(rng, rng.int(1, 4))])];
    case 3: {
      const key = setOnly();
      return [cmd(['SADD', key, ...members(rng, rng.int(1, 3))]), cmd(['OBJECT', 'ENCODING', key])];
    }
    case 4: {
      // Past set-max-intset-entries in one command: intset to hashtable on size alone.
      const key = setOnly();
      const from = rng.int(-300, 300);
      const bulk = Array.from({ length: rng.int(BULK_MEMBERS - 10, BULK_MEMBERS) }, (_, i) => String(from + i));
      return [cmd(['SADD', key, ...bulk]), cmd(['OBJECT', 'ENCODING', key]), cmd(['SCARD', key])];
    }
    case 5:
    case 6: return [cmd(['SREM', k(), ...members(rng, rng.int(1, 4))])];
    case 7: return [cmd(['SMEMBERS', k()], { kind: 'sorted' })];
    case 8: return [cmd(['SISMEMBER', k(), member(rng)])];
    case 9: return [cmd(['SMISMEMBER', k(), ...members(rng, rng.int(1, 4))])];
    case 10: return [cmd(['SCARD', k()])];
    case 11: {
      const key = k();
      const count = rng.pick([[], ['1'], ['2'], ['5']]);
      // The second SPOP empties the set (its members differ between the servers, so by shape).
      return [cmd(['SPOP', key, ...count], { kind: 'shape' }), cmd(['SCARD', key]), cmd(['SPOP', key, WHOLE], { kind: 'shape' })];
    }
    case 12: return [cmd(['SPOP', k(), rng.pick([WHOLE, '0', '-1', 'abc', '1 ']), ...(rng.chance(0.1) ? ['1'] : [])], { kind: 'sorted' })];
    case 13: return [cmd(['SRANDMEMBER', k(), ...rng.pick([[], ['1'], ['3'], ['-2'], ['-7'], ['0'], ['abc'], ['-9223372036854775808'], ['1', '2']])], { kind: 'shape' })];
    case 14: return [cmd(['SRANDMEMBER', k(), WHOLE], { kind: 'sorted' })];
    case 15:
    case 16: {
      const [src, dst] = someKeys(g, 2) as [string, string];
      return [cmd(['SMOVE', src, dst, member(rng)])];
    }
    case 17: return [cmd(['SINTER', ...someKeys(g, rng.int(1, 3))], { kind: 'sorted' })];
    case 18: return [cmd(['SUNION', ...someKeys(g, rng.int(1, 3))], { kind: 'sorted' })];
    case 19: return [cmd(['SDIFF', ...someKeys(g, rng.int(1, 4))], { kind: 'sorted' })];
    case 20:
    case 21: {
      const op = rng.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']);
      const [dst, ...srcs] = someKeys(g, rng.int(2, 4)) as [string, ...string[]];
      const dest = rng.chance(0.5) ? setOnlyKey(rng, dst) : dst;
      const store = cmd([op, dest, ...srcs]);
      return dest.includes('}set') ? [store, cmd(['OBJECT', 'ENCODING', dest])] : [store];
    }
    case 22: return [cmd(['SINTERCARD', ...sintercardArgs(g)])];
    case 23: return [cmd(['SSCAN', k(), rng.pick(['0', '0', '0', 'abc']), ...rng.pick([['COUNT', WHOLE], ['MATCH', '1*', 'COUNT', WHOLE], ['MATCH', '*[a-c]*', 'COUNT', WHOLE], ['COUNT', '0'], ['COUNT', 'x'], ['BOGUS'], ['TYPE', 'set'], ['MATCH']])], { kind: 'scan', pairs: false })];
    case 24: return [cmd(['OBJECT', 'ENCODING', setOnly()])];
    case 25: return [wrongArity(g)];
    case 26: {
      // A set built from integers only, then a member that ends the intset (or one that does not).
      const key = setOnly();
      return [cmd(['DEL', key]), cmd(['SADD', key, ...rng.pick([['1', '2', '3'], ['-5', '100']])]), cmd(['OBJECT', 'ENCODING', key]), cmd(['SADD', key, member(rng)]), cmd(['OBJECT', 'ENCODING', key]), cmd(['SMEMBERS', key], { kind: 'sorted' })];
    }
    default: return [cmd(['SISMEMBER', k(), member(rng)])];
  }
}

/** SINTERCARD's numkeys, keys and LIMIT, now and then wrong in one of the ways Redis names. */
function sintercardArgs(g: GenContext): string[] {
  const { rng } = g;
  const ks = someKeys(g, rng.int(1, 3));
  const numkeys = rng.chance(0.8) ? String(ks.length) : rng.pick(['0', '-1', 'abc', String(ks.length + 1)]);
  const limit = rng.pick([[], [], ['LIMIT', '0'], ['LIMIT', '1'], ['LIMIT', '2'], ['limit', '100'], ['LIMIT', '-1'], ['LIMIT', 'x'], ['LIMIT'], ['BOGUS']]);
  // A numkeys one too high makes the option after the keys a key: CROSSSLOT on a cluster, Redis Cluster's answer too.
  if (numkeys === String(ks.length + 1) && !g.opts.crossSlot) return [numkeys, ...ks];
  return [numkeys, ...ks, ...limit];
}

/** Redis 7.0's arity of the set commands. */
const ARITY: ReadonlyArray<readonly [string, number]> = [
  ['sadd', -3], ['srem', -3], ['smembers', 2], ['sismember', 3], ['smismember', -3], ['scard', 2], ['spop', -2],
  ['srandmember', -2], ['smove', 4], ['sinter', -2], ['sintercard', -3], ['sinterstore', -3], ['sunion', -2],
  ['sunionstore', -3], ['sdiff', -2], ['sdiffstore', -3], ['sscan', -3],
];

/** Commands whose every argument after the name may be a key: a wrong-arity call names only keys of one slot. */
const ALL_KEYS = new Set(['smove', 'sinter', 'sinterstore', 'sunion', 'sunionstore', 'sdiff', 'sdiffstore']);

/** A set command with one argument too few or too many, naming keys of ours (SINTERCARD: a numkeys first). */
function wrongArity(g: GenContext): DiffCommand {
  const { rng } = g;
  const [name, arity] = rng.pick(ARITY);
  const argc = arity > 0 ? (rng.chance(0.5) ? arity - 1 : arity + 1) : -arity - 1;
  const rest = Math.max(0, argc - 1);
  const args = name === 'sintercard'
    ? ['1', ...someKeys(g, rest)]
    : ALL_KEYS.has(name) ? someKeys(g, rest) : [g.keys.key(rng), ...members(rng, rest)];
  return cmd([rng.chance(0.5) ? name : name.toUpperCase(), ...args.slice(0, rest)]);
}
