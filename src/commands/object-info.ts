/**
 * OBJECT REFCOUNT as Redis answers it for its shared integers (a string holding 0 … 9999 reports
 * INT_MAX, unless maxmemory with an LRU/LFU policy turns sharing off), 1 otherwise. IDLETIME and
 * FREQ come from the eviction tracker (server.ts, server/eviction/).
 */
import { ValueType } from './keyspace.js';
import { parseInt64 } from './args.js';
import type { CommandContext } from './spec.js';

const OBJ_SHARED_INTEGERS = 10000n;
const OBJ_SHARED_REFCOUNT = 2147483647;

function sharedIntegersOff(ctx: CommandContext): boolean {
  const policy = ctx.node.config.str('maxmemory-policy');
  return ctx.node.config.str('maxmemory') !== '0' && (policy.endsWith('-lru') || policy.endsWith('-lfu'));
}

export function objectRefcount(ctx: CommandContext, argv: Buffer[]): void {
  const e = ctx.ks.get(argv[2]!);
  if (e === undefined) return ctx.out.nullBulk();
  if (e.type === ValueType.String && e.value.length <= 20 && !sharedIntegersOff(ctx)) {
    const v = parseInt64(e.value);
    if (v !== undefined && v >= 0n && v < OBJ_SHARED_INTEGERS) return ctx.out.int(OBJ_SHARED_REFCOUNT);
  }
  ctx.out.int(1);
}
