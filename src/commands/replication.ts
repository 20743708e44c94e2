import { ReplyError } from '../core/errors.js';
import { command, type CommandSpec } from './spec.js';

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

const ADMIN = ['admin', 'slow', 'dangerous'];
const REPLICAOF = 'ERR REPLICAOF not allowed in cluster mode.';
const NO_STREAM = (name: string): string => `ERR ${name} is not supported: ringkv nodes replicate among themselves, not to Redis replicas`;

export const replicationCommands: CommandSpec[] = [
  command({ name: 'replicaof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], categories: ADMIN, run: refuse(REPLICAOF) }),
  command({ name: 'slaveof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], categories: ADMIN, run: refuse(REPLICAOF) }),
  command({ name: 'failover', arity: -1, flags: ['admin', 'noscript', 'stale'], categories: ADMIN, run: refuse('ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.') }),
  command({ name: 'sync', arity: 1, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], categories: ADMIN, run: refuse(NO_STREAM('SYNC')) }),
  command({ name: 'psync', arity: -3, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], categories: ADMIN, run: refuse(NO_STREAM('PSYNC')) }),
  command({ name: 'replconf', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'allow_busy'], categories: ADMIN, run: refuse(NO_STREAM('REPLCONF')) }),
];
