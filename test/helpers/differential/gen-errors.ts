/**
 * Connection commands and malformed requests: wrong arity for every command the generators use,
 * unknown commands and subcommands. Their error texts are part of the compared replies.
 */
import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';
import { value } from './gen-values.js';

/** Redis 7.0's arity of each command the generators send (negative: at least that many). */
const ARITY: ReadonlyArray<readonly [string, number]> = [
  ['get', 2], ['set', -3], ['setnx', 3], ['setex', 4], ['psetex', 4], ['mget', -2], ['mset', -3], ['msetnx', -3],
  ['getset', 3], ['getdel', 2], ['getex', -2], ['append', 3], ['strlen', 2], ['getrange', 4], ['setrange', 4],
  ['incr', 2], ['decr', 2], ['incrby', 3], ['decrby', 3], ['incrbyfloat', 3],
  ['del', -2], ['unlink', -2], ['exists', -2], ['touch', -2], ['type', 2], ['expire', -3], ['pexpire', -3],
  ['expireat', -3], ['pexpireat', -3], ['expiretime', 2], ['pexpiretime', 2], ['ttl', 2], ['pttl', 2],
  ['persist', 2], ['rename', 3], ['renamenx', 3], ['copy', -3],
  ['hset', -4], ['hsetnx', 4], ['hget', 3], ['hmget', -3], ['hmset', -4], ['hdel', -3], ['hexists', 3], ['hlen', 2],
  ['hstrlen', 3], ['hkeys', 2], ['hvals', 2], ['hgetall', 2], ['hincrby', 4], ['hincrbyfloat', 4], ['hrandfield', -2],
  ['hscan', -3], ['echo', 2], ['ping', -1], ['watch', -2], ['multi', 1], ['exec', 1], ['discard', 1], ['unwatch', 1],
];

/** Commands with a key in their first argument: a wrong-arity call still names a key of ours. */
const KEYLESS = new Set(['echo', 'ping', 'multi', 'exec', 'discard', 'unwatch']);

/** A known command with one argument too few or too many; even counts for MSET / HSET-like pairs. */
export function wrongArity(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  const [name, arity] = rng.pick(ARITY);
  const min = Math.abs(arity);
  let argc: number;
  if (name === 'mset' || name === 'msetnx') argc = rng.pick([1, 2, 4, 6]);
  else if (name === 'hset' || name === 'hmset') argc = rng.pick([1, 2, 3, 5]);
  else if (arity > 0) argc = rng.chance(0.5) && arity > 1 ? arity - 1 : arity + 1;
  else argc = min - 1;
  if (argc < 1) argc = arity > 0 ? arity + 1 : 1;
  if (name === 'ping' && argc <= 2) argc = 3;
  const args: Array<string | Buffer> = [rng.chance(0.7) ? name : name.toUpperCase()];
  if (name === 'mset' || name === 'msetnx') {
    // Every other argument is a key, and a cluster routes by all of them before MSET counts its
    // pairs: one slot's keys throughout, so the reply is the arity error on a cluster too.
    args.push(...keys.keys(rng, argc - 1));
  } else {
    for (let i = 1; i < argc; i++) args.push(i === 1 && !KEYLESS.has(name) ? keys.key(rng) : rng.pick(['1', 'x', 'f1']));
  }
  return cmd(args);
}

/**
 * An unknown command. Redis quotes up to 128 bytes of its arguments in the error; long and
 * many arguments check that cut.
 */
export function unknownCommand(g: GenContext): DiffCommand {
  const { rng, keys } = g;
  const name = rng.pick(['FOO', 'hsetx', 'GETT', 'NOSUCHCMD', 'x'.repeat(150)]);
  const args = Array.from({ length: rng.int(0, 5) }, () => rng.pick([keys.key(rng), 'arg', 'y'.repeat(rng.int(20, 140))]));
  return cmd([name, ...args]);
}

export function connectionCommand(g: GenContext): DiffCommand {
  const { rng } = g;
  switch (rng.int(0, 9)) {
    case 0:
    case 1: return cmd(['PING']);
    case 2: return cmd(['PING', value(rng)]);
    case 3:
    case 4: return cmd(['ECHO', value(rng)]);
    case 5: return cmd(['CLIENT', 'SETNAME', rng.pick(['app-1', 'worker', '', 'has space', 'a\nb'])]);
    case 6: return cmd(['CLIENT', 'GETNAME']);
    case 7: return cmd(['CLIENT', rng.pick(['NOSUCH', 'getname', 'SETNAME'])]);
    case 8: return cmd(['SELECT', rng.pick(['0', 'x'])]);
    default: return cmd(['PING', 'a', 'b']);
  }
}
