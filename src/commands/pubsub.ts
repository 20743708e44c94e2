import { subcommandSyntaxError } from '../core/errors.js';
import { writeFrame } from '../pubsub/messages.js';
import type { SubscriptionKind } from '../pubsub/subscription-registry.js';
import { keySlot } from '../cluster/slot.js';
import { command, container, type CommandContext, type CommandSpec } from './spec.js';
import { helpReply, PUBSUB_HELP } from './help-texts.js';

/** The reply words of each kind, as Redis names them. */
const WORDS: Record<SubscriptionKind, { sub: string; unsub: string }> = {
  channel: { sub: 'subscribe', unsub: 'unsubscribe' },
  pattern: { sub: 'psubscribe', unsub: 'punsubscribe' },
  shard: { sub: 'ssubscribe', unsub: 'sunsubscribe' },
};

/** The count a (un)subscribe reply carries: channels + patterns, or shard channels alone (Redis 7.0). */
function countFor(ctx: CommandContext, kind: SubscriptionKind): number {
  const s = ctx.session.subscriptions;
  return kind === 'shard' ? s.shard.size : s.classic;
}

/** SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE: one reply frame per name, in the order given. */
function subscribe(kind: SubscriptionKind) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    for (let i = 1; i < argv.length; i++) {
      ctx.node.pubsub.subscribe(ctx.session, kind, argv[i]!);
      writeFrame(ctx.out, [WORDS[kind].sub, argv[i]!, countFor(ctx, kind)]);
    }
  };
}

/**
 * UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE: the names given, or every subscription of the kind;
 * with none at all, one frame with a null name and 0, as Redis answers.
 */
function unsubscribe(kind: SubscriptionKind) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const names = argv.length > 1 ? argv.slice(1) : [...ctx.session.subscriptions.of(kind)].map((n) => Buffer.from(n, 'latin1'));
    if (names.length === 0) {
      writeFrame(ctx.out, [WORDS[kind].unsub, null, countFor(ctx, kind)]);
      return;
    }
    for (const name of names) {
      ctx.node.pubsub.unsubscribe(ctx.session, kind, name);
      writeFrame(ctx.out, [WORDS[kind].unsub, name, countFor(ctx, kind)]);
    }
  };
}

/**
 * PUBLISH: delivered here and, in a cluster, sent to every other node over the bus (as Redis
 * Cluster broadcasts). The reply counts the subscribers reached on this node, as Redis Cluster's does.
 */
function publish(ctx: CommandContext, argv: Buffer[]): void {
  const n = ctx.node.pubsub.publish(argv[1]!, argv[2]!);
  ctx.node.cluster?.broadcastPublish(argv[1]!, argv[2]!);
  ctx.out.int(n);
}

/** SPUBLISH: delivered here (the slot's primary) and to the slot's other replicas. */
function spublish(ctx: CommandContext, argv: Buffer[]): void {
  const n = ctx.node.pubsub.spublish(argv[1]!, argv[2]!);
  ctx.node.cluster?.shardPublish(keySlot(argv[1]!), argv[1]!, argv[2]!);
  ctx.out.int(n);
}

function channelList(kind: SubscriptionKind) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    if (argv.length > 3) throw subcommandSyntaxError(argv);
    ctx.out.bulkArray(ctx.node.pubsub.registry.names(kind, argv[2]));
  };
}

function numsub(kind: SubscriptionKind) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    // A flat array in RESP3 too, as Redis 7.0 answers.
    ctx.out.arrayHeader((argv.length - 2) * 2);
    for (const name of argv.slice(2)) {
      ctx.out.bulk(name);
      ctx.out.int(ctx.node.pubsub.registry.count(kind, name));
    }
  };
}


const SUB_FLAGS = ['pubsub', 'noscript', 'loading', 'stale'] as const;
const PUB_FLAGS = ['pubsub', 'loading', 'stale', 'fast'] as const;
const INFO_FLAGS = ['pubsub', 'loading', 'stale'] as const;

export const pubsubCommands: CommandSpec[] = [
  command({ name: 'subscribe', arity: -2, flags: SUB_FLAGS, categories: ['pubsub', 'slow'], run: subscribe('channel') }),
  command({ name: 'unsubscribe', arity: -1, flags: SUB_FLAGS, categories: ['pubsub', 'slow'], run: unsubscribe('channel') }),
  command({ name: 'psubscribe', arity: -2, flags: SUB_FLAGS, categories: ['pubsub', 'slow'], run: subscribe('pattern') }),
  command({ name: 'punsubscribe', arity: -1, flags: SUB_FLAGS, categories: ['pubsub', 'slow'], run: unsubscribe('pattern') }),
  command({ name: 'publish', arity: 3, flags: PUB_FLAGS, categories: ['pubsub', 'fast'], run: publish }),
  // Shard channels are keys for routing: their slot decides which nodes serve them (Redis 7.0).
  command({ name: 'ssubscribe', arity: -2, flags: SUB_FLAGS, categories: ['pubsub', 'slow'], firstKey: 1, lastKey: -1, step: 1, run: subscribe('shard') }),
  command({ name: 'sunsubscribe', arity: -1, flags: SUB_FLAGS, categories: ['pubsub', 'slow'], firstKey: 1, lastKey: -1, step: 1, run: unsubscribe('shard') }),
  command({ name: 'spublish', arity: 3, flags: PUB_FLAGS, categories: ['pubsub', 'fast'], firstKey: 1, lastKey: 1, step: 1, run: spublish }),
  container('pubsub', [], ['slow'], [
    { name: 'channels', arity: -2, flags: INFO_FLAGS, categories: ['pubsub', 'slow'], run: channelList('channel') },
    { name: 'numpat', arity: 2, flags: INFO_FLAGS, categories: ['pubsub', 'slow'], run: (c) => c.out.int(c.node.pubsub.registry.size('pattern')) },
    { name: 'numsub', arity: -2, flags: INFO_FLAGS, categories: ['pubsub', 'slow'], run: numsub('channel') },
    { name: 'shardchannels', arity: -2, flags: INFO_FLAGS, categories: ['pubsub', 'slow'], run: channelList('shard') },
    { name: 'shardnumsub', arity: -2, flags: INFO_FLAGS, categories: ['pubsub', 'slow'], run: numsub('shard') },
    { name: 'help', arity: 2, flags: ['loading', 'stale'], categories: ['slow'], run: (c) => helpReply(c, PUBSUB_HELP) },
  ]),
];
