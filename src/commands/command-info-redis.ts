import { readFileSync } from 'node:fs';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { writeDocValue, type DocValue } from './command-docs.js';
import type { CommandSpec } from './spec.js';

/**
 * What COMMAND INFO says about a command beyond ringkv's own table, as Redis 7.0 says it: its flags, tips
 * (request_policy:all_shards on KEYS and DBSIZE, which cluster clients follow to fan a command out)
 * and its key specs (which key is read, written, inserted into or deleted from, and how each is
 * found). Read from command-info.json, which scripts/gen-command-docs.mjs takes from redis-server.
 */
export interface KeySpec {
  notes?: string;
  flags: string[];
  begin_search: { type: string; spec: { index?: number; keyword?: string; startfrom?: number } };
  find_keys: { type: string; spec: { lastkey?: number; keystep?: number; limit?: number; keynumidx?: number; firstkey?: number } };
}

interface RedisInfo {
  flags: string[];
  tips: string[];
  key_specs: KeySpec[];
}

let loaded: ReadonlyMap<string, RedisInfo> | undefined;

/** Redis's tips and key specs of a command or subcommand (`object|encoding`); undefined for ringkv's own. */
export function redisCommandInfo(name: string): RedisInfo | undefined {
  loaded ??= new Map(Object.entries(JSON.parse(readFileSync(new URL('./command-info.json', import.meta.url), 'utf8')) as Record<string, RedisInfo>));
  return loaded.get(name);
}

/** The key specs of a command Redis has: a set (in RESP3) of maps, written as Redis writes them. */
export function writeRedisKeySpecs(out: ReplyWriter, specs: readonly KeySpec[]): void {
  out.setHeader(specs.length);
  for (const s of specs) writeDocValue(out, s as unknown as DocValue);
}

/**
 * The positions (in `argv`, the command's name at 0) of the keys one spec finds, by Redis 7.0's
 * getKeysUsingKeySpecs; undefined when the spec cannot tell (unknown search, bad key count).
 */
function specPositions(ks: KeySpec, argv: readonly Buffer[]): number[] | undefined {
  const argc = argv.length;
  let first: number;
  const bs = ks.begin_search;
  if (bs.type === 'index') first = bs.spec.index!;
  else if (bs.type === 'keyword') {
    const from = bs.spec.startfrom!;
    const keyword = bs.spec.keyword!.toLowerCase();
    const start = from > 0 ? from : argc + from;
    const end = from > 0 ? argc - 1 : 0;
    let found = 0;
    for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
      if (i >= argc || i < 1) break;
      if (argv[i]!.toString('latin1').toLowerCase() === keyword) {
        found = i + 1;
        break;
      }
    }
    if (found === 0) return [];
    first = found;
  } else return undefined;
  let last: number;
  let step: number;
  const fk = ks.find_keys;
  if (fk.type === 'range') {
    const lastkey = fk.spec.lastkey!;
    if (lastkey >= 0) last = first + lastkey;
    else if (!fk.spec.limit) last = argc + lastkey;
    else last = first + (Math.floor((argc - first) / fk.spec.limit) + lastkey);
    step = fk.spec.keystep!;
  } else if (fk.type === 'keynum') {
    const at = first + fk.spec.keynumidx!;
    if (at >= argc) return undefined;
    const text = argv[at]!.toString('latin1');
    const n = /^(0|[1-9]\d*)$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n)) return undefined;
    first += fk.spec.firstkey!;
    last = first + n - 1;
    step = fk.spec.keystep!;
  } else return undefined;
  if (last >= argc || last < first || first >= argc) return undefined;
  const out: number[] = [];
  for (let i = first; i <= last; i += step) out.push(i);
  return out;
}

/**
 * The flags COMMAND GETKEYSANDFLAGS gives the key at `pos`: those of the spec that finds it, with
 * Redis's own rules for SET (OW without GET) and BITFIELD (RO with only GETs); undefined when no
 * spec of Redis's finds it (ringkv's own commands).
 */
export function redisKeyFlagsAt(spec: CommandSpec, argv: readonly Buffer[], pos: number): readonly string[] | undefined {
  // Where Redis's specs are variable, incomplete or unknown it asks the command's own getkeys
  // function, whose flags are these.
  if (spec.name === 'set') return setKeyFlags(argv);
  if (spec.name === 'bitfield') return bitfieldKeyFlags(argv);
  if (spec.name === 'migrate') return ['RW', 'access', 'delete'];
  if (spec.name === 'sort' || spec.name === 'sort_ro') return pos === 1 ? ['RO', 'access'] : ['OW', 'update'];
  const specs = redisCommandInfo(spec.name)?.key_specs;
  if (specs === undefined) return undefined;
  for (const ks of specs) if (specPositions(ks, argv)?.includes(pos) === true) return ks.flags;
  return undefined;
}

/** Redis's setGetKeys: SET … GET reads the old value. */
function setKeyFlags(argv: readonly Buffer[]): readonly string[] {
  for (let i = 3; i < argv.length; i++) if (argv[i]!.toString('latin1').toLowerCase() === 'get') return ['RW', 'access', 'update'];
  return ['OW', 'update'];
}

/** Redis's bitfieldGetKeys: read-only while every subcommand is a GET (or OVERFLOW). */
function bitfieldKeyFlags(argv: readonly Buffer[]): readonly string[] {
  for (let i = 2; i < argv.length; i++) {
    const rest = argv.length - i - 1;
    const op = argv[i]!.toString('latin1').toLowerCase();
    if (op === 'get' && rest >= 2) i += 2;
    else if (op === 'overflow' && rest >= 1) i += 1;
    else return ['RW', 'access', 'update'];
  }
  return ['RO', 'access'];
}
