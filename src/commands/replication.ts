import { ERR, ReplyError } from '../core/errors.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { intArg, lower } from './args.js';

/**
 * Redis's replication commands. ringkv nodes replicate among themselves over the cluster bus, so
 * none of these can take effect; each answers one clear error instead of "unknown command". Where
 * Redis 7.0 refuses a command in cluster mode, that is the text (docs/decisions.md, "Admin commands
 * Redis has and ringkv cannot honour").
 */
function refuse(text: string): () => never {
  return () => {
    throw new ReplyError(text);
  };
}

/**
 * A standalone node is a master with no replicas, so REPLICAOF NO ONE (which test harnesses and
 * failover scripts send) is what it already is: OK, as Redis answers a master. Following another
 * server is refused in either mode.
 */
function replicaOf(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.node.cluster === undefined && lower(argv[1]!) === 'no' && lower(argv[2]!) === 'one') {
    ctx.out.ok();
    return;
  }
  throw new ReplyError(REPLICAOF);
}

/** FAILOVER: Redis Cluster's refusal in cluster mode; a standalone node has no replica to hand over to, as Redis says. */
function failover(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.node.cluster !== undefined) throw new ReplyError('ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.');
  // Redis 7.0's failoverCommand: the options are read first, each at most once.
  let timeout = false;
  let to = false;
  let force = false;
  let abort = false;
  for (let j = 1; j < argv.length; j++) {
    const opt = lower(argv[j]!);
    if (opt === 'timeout' && j + 1 < argv.length && !timeout) {
      if (intArg(argv[j + 1]!) <= 0) throw new ReplyError('ERR FAILOVER timeout must be greater than 0');
      timeout = true;
      j++;
    } else if (opt === 'to' && j + 2 < argv.length && !to) {
      intArg(argv[j + 2]!);
      to = true;
      j += 2;
    } else if (opt === 'force' && !force) force = true;
    else if (opt === 'abort' && !abort) abort = true;
    else throw new ReplyError(ERR.syntax);
  }
  if (abort && (timeout || to || force)) throw new ReplyError(ERR.syntax);
  if (abort) throw new ReplyError('ERR No failover in progress.');
  throw new ReplyError('ERR FAILOVER requires connected replicas.');
}

const ADMIN = ['admin', 'slow', 'dangerous'];
const REPLICAOF = 'ERR REPLICAOF not allowed in cluster mode.';
const NO_STREAM = (name: string): string => `ERR ${name} is not supported: ringkv nodes replicate among themselves, not to Redis replicas`;

export const replicationCommands: CommandSpec[] = [
  command({ name: 'replicaof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], categories: ADMIN, run: replicaOf }),
  command({ name: 'slaveof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], categories: ADMIN, run: replicaOf }),
  command({ name: 'failover', arity: -1, flags: ['admin', 'noscript', 'stale'], categories: ADMIN, run: failover }),
  command({ name: 'sync', arity: 1, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], categories: ADMIN, run: refuse(NO_STREAM('SYNC')) }),
  command({ name: 'psync', arity: -3, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], categories: ADMIN, run: refuse(NO_STREAM('PSYNC')) }),
  command({ name: 'replconf', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'allow_busy'], categories: ADMIN, run: refuse(NO_STREAM('REPLCONF')) }),
];
