/**
 * OBJECT REFCOUNT / IDLETIME / FREQ as far as they mean something here. REFCOUNT answers as Redis
 * does for its shared integers (a string holding 0 … 9999 reports INT_MAX, unless maxmemory with
 * an LRU/LFU policy turns sharing off) and 1 otherwise. ringkv keeps no access clock or LFU
 * counter: IDLETIME answers 0 and FREQ 0, with Redis's errors for the policy that does not track
 * them.
 */
import { ReplyError } from '../core/errors.js';
import { ValueType } from './keyspace.js';
import { parseInt64 } from './args.js';
import type { CommandContext } from './spec.js';

const OBJ_SHARED_INTEGERS = 10000n;
const OBJ_SHARED_REFCOUNT = 2147483647;

function lfuPolicy(ctx: CommandContext): boolean {
  return ctx.node.config.str('maxmemory-policy').endsWith('-lfu');
}

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

export function objectIdletime(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.ks.get(argv[2]!) === undefined) return ctx.out.nullBulk();
  if (lfuPolicy(ctx)) throw new ReplyError('ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
  ctx.out.int(0);
}

export function objectFreq(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.ks.get(argv[2]!) === undefined) return ctx.out.nullBulk();
  if (!lfuPolicy(ctx)) throw new ReplyError('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
  ctx.out.int(0);
}
