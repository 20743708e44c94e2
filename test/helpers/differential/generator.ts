/**
 * Seeded scenario generator. A scenario is a few connections, each with its own keys (so the
 * replies do not depend on how the connections interleave), sending pipelines of 1-200 commands
 * that mix the command families with MULTI/EXEC blocks, WATCH, DISCARD and error cases. Now and then
 * one connection changes another's watched key between its WATCH and its EXEC, in its own phase, so
 * the order is fixed. The same seed and options give the same scenario.
 */
import { Prng } from '../../sim/prng.js';
import { cmd, type Batch, type DiffCommand, type Phase, type Scenario } from './command.js';
import { KeySet, type GenContext, type GenOptions } from './gen-context.js';
import { connectionCommand, unknownCommand, wrongArity } from './gen-errors.js';
import { hashCommand } from './gen-hashes.js';
import { listCommand } from './gen-lists.js';
import { keyCommand } from './gen-keys.js';
import { setCommand } from './gen-sets.js';
import { stringCommand } from './gen-strings.js';
import { zsetCommand } from './gen-zsets.js';
import { geoCommand } from './gen-geo.js';
import { sortCommand } from './gen-sort.js';
import { streamCommand } from './gen-streams.js';
import { bitmapCommand } from './gen-bitmaps.js';
import { hllCommand } from './gen-hll.js';
import { encodingCommand } from './gen-encoding.js';
import { value, type Clock } from './gen-values.js';

/** Relative weights of the things a pipeline is made of. */
export interface Mix {
  strings: number;
  keys: number;
  hashes: number;
  connection: number;
  errors: number;
  /** MULTI … EXEC / DISCARD blocks, WATCH-guarded ones included. */
  transactions: number;
  /** Set commands (gen-sets.ts); left out of the mixes that do not name it. */
  sets?: number;
  /** List commands, the blocking ones included (none unless set). */
  lists?: number;
  /** Sorted-set commands (none unless set, so the mixes above keep their scenarios). */
  zsets?: number;
  /** Geo commands (none unless set). */
  geo?: number;
  /** SORT / SORT_RO over lists, sets and sorted sets, with hashes and strings to look up (none unless set). */
  sort?: number;
  /** Stream commands (none unless set). */
  streams?: number;
  /** Bitmap commands and the string commands that meet them (none unless set). */
  bitmaps?: number;
  /** HyperLogLog commands, each followed by a GET of the value (none unless set). */
  hll?: number;
  /** String writes each followed by OBJECT ENCODING of the key (none unless set). */
  encoding?: number;
}

export const BALANCED_MIX: Mix = { strings: 30, keys: 20, hashes: 25, connection: 4, errors: 4, transactions: 6 };
/** Lists with the families they interact with (WRONGTYPE, DEL, EXPIRE, RENAME). */
export const LIST_MIX: Mix = { strings: 10, keys: 15, hashes: 5, connection: 2, errors: 3, transactions: 8, lists: 60 };
export const TRANSACTION_MIX: Mix = { strings: 20, keys: 10, hashes: 15, connection: 2, errors: 3, transactions: 30 };
/** Mostly set commands, with enough of the others to meet sets as other types, DEL, EXPIRE and RENAME. */
export const SETS_MIX: Mix = { strings: 8, keys: 14, hashes: 6, connection: 2, errors: 2, transactions: 8, sets: 60 };
/** Mostly bitmap commands, with the string and key commands that meet the same values. */
export const BITMAPS_MIX: Mix = { strings: 12, keys: 12, hashes: 4, connection: 1, errors: 2, transactions: 8, bitmaps: 60 };
/** Mostly HyperLogLog commands, with strings (SET over an HLL, APPEND to one) and keys. */
export const HLL_MIX: Mix = { strings: 8, keys: 10, hashes: 3, connection: 1, errors: 1, transactions: 6, hll: 60 };
/** Mostly hash commands (insertion order compared while a listpack), with the key commands that copy, rename and delete hashes. */
export const HASHES_MIX: Mix = { strings: 6, keys: 14, hashes: 60, connection: 2, errors: 2, transactions: 8 };
/** Mostly string writes checked with OBJECT ENCODING, with the string and key commands around them. */
export const ENCODING_MIX: Mix = { strings: 10, keys: 8, hashes: 2, connection: 1, errors: 1, transactions: 8, encoding: 60 };

export interface ScenarioOptions extends GenOptions {
  seed: number;
  protocol: 2 | 3;
  /** Distinguishes runs that share a server, so their keys never meet (e.g. RESP2 vs RESP3). */
  label: string;
  mix: Mix;
  /**
   * The hash tag a connection's key group uses. A direct-to-node cluster run replaces the proposed
   * tag by one whose slot the connection's node owns.
   */
  tagFor?: (conn: number, proposed: string) => string;
  /**
   * The node a connection talks to, when a connection may only name keys its node owns (a cluster
   * without proxying): a WATCH is then broken only from a connection to the same node.
   */
  nodeOf?: (conn: number) => number;
  /** How many connections a scenario opens (default 2-4). */
  connections?: readonly [number, number];
}

/** Pipelines per connection: a few long runs of phases per scenario. */
const PHASES_MIN = 6;
const PHASES_MAX = 12;
const PIPELINE_MAX = 200;

export function generateScenario(opts: ScenarioOptions): Scenario {
  const rng = new Prng(opts.seed);
  const now = Date.now();
  const clock: Clock = { nowSec: Math.floor(now / 1000), nowMs: now };
  const connections = rng.int(...(opts.connections ?? [2, 4]));
  const keySets = Array.from({ length: connections }, (_, conn) => connectionKeys(rng, opts, conn));
  const contexts = keySets.map((keys): GenContext => ({ rng, clock, keys, opts }));

  const phases: Phase[] = [];
  const phaseCount = rng.int(PHASES_MIN, PHASES_MAX);
  for (let p = 0; p < phaseCount; p++) {
    if (p > 0 && rng.chance(0.35) && opts.noWatch !== true) {
      phases.push(...watchFromOutside(contexts, rng, opts.nodeOf));
      continue;
    }
    const batches: Batch[] = [];
    for (let conn = 0; conn < connections; conn++) {
      // Not every connection speaks in every phase; at least one does.
      if (conn > 0 && rng.chance(0.2)) continue;
      batches.push({ conn, commands: pipeline(contexts[conn]!, opts.mix) });
    }
    phases.push({ batches });
  }
  return { seed: opts.seed, protocol: opts.protocol, connections, phases };
}

/** One slot (1 group of 3-5 keys) or several (2-4 groups of 2-3 keys), each group under its own hash tag. */
function connectionKeys(rng: Prng, opts: ScenarioOptions, conn: number): KeySet {
  const severalSlots = rng.chance(0.5);
  const groupCount = severalSlots ? rng.int(2, 4) : 1;
  const groups: string[][] = [];
  for (let g = 0; g < groupCount; g++) {
    const proposed = `s${opts.seed}${opts.label}c${conn}g${g}`;
    const tag = opts.tagFor ? opts.tagFor(conn, proposed) : proposed;
    const size = severalSlots ? rng.int(2, 3) : rng.int(3, 5);
    groups.push(Array.from({ length: size }, (_, i) => `{${tag}}k${i}`));
  }
  return new KeySet(groups, opts.crossSlot);
}

function pick<K extends string>(rng: Prng, weights: Record<K, number>): K {
  const entries = Object.entries(weights) as Array<[K, number]>;
  let r = rng.next() * entries.reduce((s, [, w]) => s + w, 0);
  for (const [k, w] of entries) {
    r -= w;
    if (r < 0) return k;
  }
  return entries[entries.length - 1]![0];
}

type Family = 'strings' | 'keys' | 'hashes' | 'connection' | 'errors' | 'sets' | 'lists' | 'zsets' | 'geo' | 'sort' | 'streams' | 'bitmaps' | 'hll' | 'encoding';

/** A command, or a few that belong together (a random SPOP and the SPOP that makes the servers agree again). */
function single(g: GenContext, mix: Mix): DiffCommand[] {
  const base: Partial<Record<Family, number>> = { strings: mix.strings, keys: mix.keys, hashes: mix.hashes, connection: mix.connection, errors: mix.errors };
  // Only mixes that name a family draw from it, so the draws of every other mix stay as they were.
  if (mix.sets) base.sets = mix.sets;
  if (mix.lists) base.lists = mix.lists;
  if (mix.zsets) base.zsets = mix.zsets;
  if (mix.geo) base.geo = mix.geo;
  if (mix.sort) base.sort = mix.sort;
  if (mix.streams) base.streams = mix.streams;
  if (mix.bitmaps) base.bitmaps = mix.bitmaps;
  if (mix.hll) base.hll = mix.hll;
  if (mix.encoding) base.encoding = mix.encoding;
  switch (pick(g.rng, base as Record<Family, number>)) {
    case 'strings': return [stringCommand(g)];
    case 'keys': return [keyCommand(g)];
    case 'hashes': return hashCommand(g);
    case 'connection': return [connectionCommand(g)];
    case 'errors': return [g.rng.chance(0.7) ? wrongArity(g) : unknownCommand(g)];
    case 'sets': return setCommand(g);
    case 'lists': return [listCommand(g)];
    case 'zsets': return [zsetCommand(g)];
    case 'geo': return [geoCommand(g)];
    case 'sort': return [sortCommand(g)];
    case 'streams': return [streamCommand(g)];
    case 'bitmaps': return bitmapCommand(g);
    case 'hll': return hllCommand(g);
    case 'encoding': return encodingCommand(g);
  }
}

/** A pipeline of 1-200 commands; short ones are as likely as long ones. */
function pipeline(g: GenContext, mix: Mix): DiffCommand[] {
  const { rng } = g;
  const length = rng.pick([1, 2, rng.int(3, 20), rng.int(20, 80), rng.int(80, PIPELINE_MAX)]);
  const out: DiffCommand[] = [];
  while (out.length < length) {
    if (rng.next() * (mix.strings + mix.keys + mix.hashes + mix.connection + mix.errors + (mix.sets ?? 0) + (mix.lists ?? 0) + (mix.zsets ?? 0) + (mix.geo ?? 0) + (mix.sort ?? 0) + (mix.streams ?? 0) + (mix.bitmaps ?? 0) + (mix.hll ?? 0) + (mix.encoding ?? 0) + mix.transactions) < mix.transactions) {
      out.push(...transaction(g, mix));
    } else {
      out.push(...single(g, mix));
    }
  }
  return out;
}

/** Commands for inside a transaction: one slot's keys on a cluster, no nested transactions. */
function body(g: GenContext, mix: Mix, n: number): DiffCommand[] {
  return Array.from({ length: n }, () => single(g, { ...mix, errors: 0, connection: mix.connection / 2 })).flat();
}

/** The shapes a MULTI block takes in a pipeline. */
function transaction(g0: GenContext, mix: Mix): DiffCommand[] {
  const g: GenContext = { ...g0, keys: g0.opts.crossSlot ? g0.keys : g0.keys.oneGroup(g0.rng) };
  const { rng } = g;
  const n = rng.int(0, 8);
  // Without WATCH: the shapes below 4 and the plain block (the WATCH shapes are 2 with WATCH, 4-7).
  if (g.opts.noWatch === true) {
    const shape = rng.int(0, 4);
    if (shape === 0) return [cmd(['MULTI']), ...body(g, mix, n), cmd(['DISCARD'])];
    if (shape === 1) return [cmd([rng.pick(['EXEC', 'DISCARD'])])];
    return [cmd(['MULTI']), ...body(g, mix, n), cmd(['EXEC'])];
  }
  switch (rng.int(0, 11)) {
    case 0:
      return [cmd(['MULTI']), ...body(g, mix, n), cmd(['DISCARD'])];
    case 1: {
      // A command Redis refuses while queueing (arity, unknown) aborts the whole transaction.
      const cmds = body(g, mix, n);
      cmds.splice(rng.int(0, cmds.length), 0, rng.chance(0.6) ? wrongArity(g) : unknownCommand(g));
      return [cmd(['MULTI']), ...cmds, cmd(['EXEC'])];
    }
    case 2: {
      // Refused inside MULTI without aborting it: nested MULTI, WATCH.
      const cmds = body(g, mix, n);
      cmds.splice(rng.int(0, cmds.length), 0, rng.chance(0.5) ? cmd(['MULTI']) : cmd(['WATCH', g.keys.key(rng)]));
      return [cmd(['MULTI']), ...cmds, cmd(['EXEC'])];
    }
    case 3:
      return [cmd([rng.pick(['EXEC', 'DISCARD'])])];
    case 4:
    case 5: {
      // WATCH, then maybe this connection changes a watched key itself before MULTI.
      const watched = g.keys.keys(rng, rng.int(1, 2));
      const before = rng.chance(0.5) ? body(g, mix, rng.int(1, 3)) : [];
      return [cmd(['WATCH', ...watched]), ...before, cmd(['MULTI']), ...body(g, mix, n), cmd(['EXEC'])];
    }
    case 6: {
      const watched = g.keys.keys(rng, rng.int(1, 2));
      return [cmd(['WATCH', ...watched]), cmd(['UNWATCH']), ...body(g, mix, rng.int(0, 3)), cmd(['MULTI']), ...body(g, mix, n), cmd(['EXEC'])];
    }
    case 7: {
      // WATCH followed by DISCARD: DISCARD forgets the watched keys too.
      const watched = g.keys.keys(rng, 1);
      return [cmd(['WATCH', ...watched]), cmd(['MULTI']), ...body(g, mix, n), cmd(['DISCARD']), ...body(g, mix, 2), cmd(['MULTI']), ...body(g, mix, 2), cmd(['EXEC'])];
    }
    default:
      return [cmd(['MULTI']), ...body(g, mix, n), cmd(['EXEC'])];
  }
}

/**
 * WATCH broken (or not) from another connection, in a fixed order: phase 1 the owner watches its
 * keys, phase 2 another connection runs commands on them (some change the key, some only read it,
 * some change it to the value it already has), phase 3 the owner runs MULTI … EXEC.
 */
function watchFromOutside(contexts: readonly GenContext[], rng: Prng, nodeOf?: (conn: number) => number): Phase[] {
  const conns = contexts.map((_, i) => i);
  const partners = (c: number): number[] => conns.filter((o) => o !== c && (nodeOf === undefined || nodeOf(o) === nodeOf(c)));
  const owners = conns.filter((c) => partners(c).length > 0);
  if (owners.length === 0) return [];
  const owner = rng.pick(owners);
  const other = rng.pick(partners(owner));
  const g0 = contexts[owner]!;
  const g: GenContext = { ...g0, keys: g0.opts.crossSlot ? g0.keys : g0.keys.oneGroup(rng) };
  const watched = g.keys.keys(rng, rng.int(1, 2));
  const setup = rng.chance(0.5) ? [cmd(['SET', watched[0]!, value(rng)])] : [];
  const outside: DiffCommand[] = [];
  for (let i = rng.int(1, 3); i > 0; i--) {
    const k = rng.pick(watched);
    outside.push(rng.pick([
      cmd(['SET', k, 'outside']),
      cmd(['GET', k]),
      cmd(['INCR', k]),
      cmd(['DEL', k]),
      cmd(['HSET', k, 'f1', 'outside']),
      cmd(['EXPIRE', k, '1000']),
      cmd(['PERSIST', k]),
      cmd(['EXISTS', k]),
      cmd(['APPEND', k, '']),
    ]));
  }
  const mix = { ...BALANCED_MIX, errors: 0 };
  return [
    { batches: [{ conn: owner, commands: [...setup, cmd(['WATCH', ...watched])] }] },
    { batches: [{ conn: other, touches: owner, commands: outside }] },
    { batches: [{ conn: owner, commands: [cmd(['MULTI']), ...body(g, mix, rng.int(1, 5)), cmd(['EXEC'])] }] },
  ];
}
