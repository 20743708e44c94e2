import { ERR, ReplyError } from '../core/errors.js';
import { keySlot } from '../cluster/slot.js';
import { decodeMeta } from '../collections/meta-codec.js';
import { ElementKind, elementPrefix, prefixEnd } from '../collections/record-keys.js';
import { RECORD_OVERHEAD_BYTES } from '../storage/data-size.js';
import { intArg, lower } from './args.js';
import { ValueType, type Entry } from './keyspace.js';
import type { CommandContext } from './spec.js';

/** Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES: elements looked at when SAMPLES is not given. */
const DEFAULT_SAMPLES = 5;

/**
 * MEMORY USAGE key [SAMPLES count]: what the key counts for toward maxmemory (storage/data-size.ts).
 * A collection's elements are estimated as Redis does: the average of `count` sampled elements
 * (default 5, 0 = all of them) times the element count. A sorted-set member also has a score-index
 * record, about the same size.
 */
export function memoryUsage(ctx: CommandContext, argv: Buffer[]): void {
  let samples = DEFAULT_SAMPLES;
  for (let i = 3; i < argv.length; i += 2) {
    if (lower(argv[i]!) !== 'samples' || i + 1 >= argv.length) throw new ReplyError(ERR.syntax);
    samples = intArg(argv[i + 1]!);
    if (samples < 0) throw new ReplyError(ERR.syntax);
  }
  const key = argv[2]!;
  const e = ctx.ks.get(key);
  if (!e) return ctx.out.nullBulk();
  const own = RECORD_OVERHEAD_BYTES + key.length + e.value.length;
  ctx.out.int(own + (e.type === ValueType.String ? 0 : elementBytes(ctx, key, e, samples)));
}

function elementBytes(ctx: CommandContext, key: Buffer, e: Entry, samples: number): number {
  const meta = decodeMeta(e.value);
  if (meta.size === 0) return 0;
  const kind = e.type === ValueType.List ? ElementKind.Position : ElementKind.Member;
  const prefix = elementPrefix(kind, key, meta.generation);
  let seen = 0;
  let bytes = 0;
  ctx.ks.elements.scanElements(keySlot(key), prefix, prefixEnd(prefix), false, (rk, value) => {
    seen++;
    bytes += RECORD_OVERHEAD_BYTES + rk.length + value.length;
    return samples <= 0 || seen < samples;
  });
  if (seen === 0) return 0;
  const perElement = (bytes / seen) * (e.type === ValueType.ZSet ? 2 : 1);
  return Math.round(perElement * meta.size);
}
