import { ReplyError } from '../core/errors.js';
import { StringForm, ValueType } from './keyspace.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { getString, lower, type StringEntry } from './args.js';
import { HLL_DENSE_SIZE } from '../strings/hll-dense.js';
import { createSparse, invalidateCache, sparseDecode } from '../strings/hll-sparse.js';
import {
  addElements, cachedCount, estimate, histogramOf, HLL_REGISTERS, INVALID_HLL, isHll, isSparse, mergeInto, NOT_HLL, rawHistogram,
  toDense, withCachedCount, writeRegisters,
} from '../strings/hll.js';
import { denseGet } from '../strings/hll-dense.js';

/**
 * PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST over HyperLogLog strings (src/strings/hll.ts): the
 * same bytes as Redis 7.0 stores, so a value copied between the two (GET / SET, DUMP / RESTORE)
 * counts the same on both.
 */

function sparseMaxBytes(ctx: CommandContext): number {
  return ctx.node.config.int('hll-sparse-max-bytes');
}

/** The key's HLL value, undefined when missing; WRONGTYPE for another type or a string that is no HLL. */
function getHll(ctx: CommandContext, key: Buffer): StringEntry | undefined {
  const e = getString(ctx.ks, key);
  if (e !== undefined && !isHll(e.value)) throw new ReplyError(NOT_HLL);
  return e;
}

function pfadd(ctx: CommandContext, argv: Buffer[]): void {
  const key = argv[1]!;
  const e = getHll(ctx, key);
  const r = addElements(e?.value ?? createSparse(), argv.slice(2), sparseMaxBytes(ctx));
  if (r.corrupt) {
    if (e !== undefined && r.changed > 0) ctx.ks.set(key, ValueType.String, r.value, e.expiresAt, StringForm.Raw);
    throw new ReplyError(INVALID_HLL);
  }
  const changed = e === undefined || r.changed > 0;
  // Redis marks the cache stale whenever PFADD counts a change, creating the key included.
  if (e === undefined) invalidateCache(r.value);
  if (changed) ctx.ks.set(key, ValueType.String, r.value, e?.expiresAt ?? 0, StringForm.Raw);
  ctx.out.int(changed ? 1 : 0);
}

/**
 * One key: the cached cardinality, or a fresh estimate written back into the cache (Redis changes
 * the value on PFCOUNT too, so the bytes stay the same on both). Several keys: the estimate of
 * their union, nothing written.
 */
function pfcount(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 2) {
    const max = new Uint8Array(HLL_REGISTERS);
    for (let i = 1; i < argv.length; i++) {
      const e = getHll(ctx, argv[i]!);
      if (e === undefined) continue;
      if (!mergeInto(e.value, max)) throw new ReplyError(INVALID_HLL);
    }
    return ctx.out.int(estimate(rawHistogram(max)));
  }
  const e = getHll(ctx, argv[1]!);
  if (e === undefined) return ctx.out.int(0);
  const cached = cachedCount(e.value);
  if (cached !== undefined) return ctx.out.int(cached);
  const histo = histogramOf(e.value);
  if (histo === undefined) throw new ReplyError(INVALID_HLL);
  const card = estimate(histo);
  ctx.ks.set(argv[1]!, ValueType.String, withCachedCount(e.value, card), e.expiresAt, StringForm.Raw);
  ctx.out.int(card);
}

/** PFMERGE dest [src …]: the destination takes part in the union, as in Redis. */
function pfmerge(ctx: CommandContext, argv: Buffer[]): void {
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let i = 1; i < argv.length; i++) {
    const e = getHll(ctx, argv[i]!);
    if (e === undefined) continue;
    if (!isSparse(e.value)) useDense = true;
    if (!mergeInto(e.value, max)) throw new ReplyError(INVALID_HLL);
  }
  const dest = getString(ctx.ks, argv[1]!);
  let v = dest?.value ?? createSparse();
  if (useDense) {
    const dense = toDense(v);
    if (dense === undefined) throw new ReplyError(INVALID_HLL);
    v = dense;
  }
  const merged = writeRegisters(v, max, sparseMaxBytes(ctx));
  if (merged === undefined) throw new ReplyError(INVALID_HLL);
  ctx.ks.set(argv[1]!, ValueType.String, merged, dest?.expiresAt ?? 0, StringForm.Raw);
  ctx.out.ok();
}

/** PFDEBUG GETREG | DECODE | ENCODING | TODENSE key */
function pfdebug(ctx: CommandContext, argv: Buffer[]): void {
  const sub = argv[1]!.toString('latin1');
  const e = getString(ctx.ks, argv[2]!);
  if (e === undefined) throw new ReplyError('ERR The specified key does not exist');
  if (!isHll(e.value)) throw new ReplyError(NOT_HLL);
  const op = lower(argv[1]!);
  const known = op === 'getreg' || op === 'decode' || op === 'encoding' || op === 'todense';
  if (known && argv.length !== 3) throw new ReplyError(`ERR Wrong number of arguments for the '${sub}' subcommand`);
  const densify = (): Buffer => {
    const dense = toDense(e.value);
    if (dense === undefined) throw new ReplyError(INVALID_HLL);
    if (dense !== e.value) ctx.ks.set(argv[2]!, ValueType.String, dense, e.expiresAt, StringForm.Raw);
    return dense;
  };
  switch (op) {
    case 'getreg': {
      const dense = densify();
      ctx.out.arrayHeader(HLL_REGISTERS);
      for (let i = 0; i < HLL_REGISTERS; i++) ctx.out.int(denseGet(dense, i));
      return;
    }
    case 'decode':
      if (!isSparse(e.value)) throw new ReplyError('ERR HLL encoding is not sparse');
      return ctx.out.bulk(Buffer.from(sparseDecode(e.value), 'latin1'));
    case 'encoding':
      return ctx.out.simple(isSparse(e.value) ? 'sparse' : 'dense');
    case 'todense': {
      const was = isSparse(e.value);
      densify();
      return ctx.out.int(was ? 1 : 0);
    }
    default:
      throw new ReplyError(`ERR Unknown PFDEBUG subcommand '${sub}'`);
  }
}

/**
 * PFSELFTEST: registers written and read back at random values, and the dense and sparse
 * encodings agreeing on counts as elements go in (a shorter run than Redis's 10 million).
 */
function pfselftest(ctx: CommandContext): void {
  const dense = Buffer.alloc(HLL_DENSE_SIZE);
  dense.write('HYLL', 0, 'latin1');
  let sparse = createSparse();
  const el = Buffer.alloc(8);
  for (let j = 1; j <= 5000; j++) {
    el.writeUInt32LE(j, 0);
    el.writeUInt32LE(0x9e3779b9, 4);
    const d = addElements(dense, [el], Number.MAX_SAFE_INTEGER);
    d.value.copy(dense);
    sparse = addElements(sparse, [el], sparseMaxBytes(ctx)).value;
    if (j % 500 === 0 && estimate(histogramOf(dense)!) !== estimate(histogramOf(sparse)!)) {
      throw new ReplyError('TESTFAILED dense/sparse disagree');
    }
  }
  ctx.out.ok();
}

const pfKeys = { firstKey: 1, lastKey: -1, step: 1 };

export const hyperLogLogCommands: CommandSpec[] = [
  command({ name: 'pfadd', arity: -2, flags: ['write', 'denyoom', 'fast'], firstKey: 1, lastKey: 1, step: 1, categories: ['write', 'hyperloglog', 'fast'], run: pfadd }),
  command({ name: 'pfcount', arity: -2, flags: ['readonly', 'may_replicate'], ...pfKeys, categories: ['read', 'hyperloglog', 'slow'], run: pfcount }),
  command({ name: 'pfmerge', arity: -2, flags: ['write', 'denyoom'], ...pfKeys, categories: ['write', 'hyperloglog', 'slow'], run: pfmerge }),
  command({ name: 'pfdebug', arity: 3, flags: ['write', 'denyoom', 'admin'], firstKey: 2, lastKey: 2, step: 1, categories: ['write', 'hyperloglog', 'admin', 'slow', 'dangerous'], run: pfdebug }),
  command({ name: 'pfselftest', arity: 1, flags: ['admin'], categories: ['hyperloglog', 'admin', 'slow', 'dangerous'], run: pfselftest }),
];
