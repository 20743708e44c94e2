import { ERR, ReplyError } from '../core/errors.js';
import { parseInt64 } from './args.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';

const INT_MIN = -2147483648n;
const INT_MAX = 2147483647n;

/**
 * MOVE key db. ringkv has database 0 only, so MOVE answers what Redis answers with `databases 1`
 * (the index is checked before the key is looked at), and in a cluster what Redis Cluster answers.
 */
function move(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.node.cluster) throw new ReplyError('ERR MOVE is not allowed in cluster mode');
  const db = parseInt64(argv[2]!);
  if (db === undefined) throw new ReplyError(ERR.notInteger);
  if (db < INT_MIN || db > INT_MAX) throw new ReplyError(`ERR value is out of range, value must between ${INT_MIN} and ${INT_MAX}`);
  if (db !== 0n) throw new ReplyError('ERR DB index is out of range');
  throw new ReplyError('ERR source and destination objects are the same');
}

export const moveCommand: CommandSpec = command({
  name: 'move', arity: 3, flags: ['write', 'fast'], categories: ['keyspace', 'write', 'fast'],
  firstKey: 1, lastKey: 1, step: 1, keySpecFlags: ['RW', 'access', 'update'], run: move,
});
