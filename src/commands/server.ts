import { latencyCommand } from './latency.js';
import { objectRefcount } from './object-info.js';
import { ERR, ReplyError, subcommandSyntaxError } from '../core/errors.js';
import { objectEncoding, valueLength } from '../collections/encoding.js';
import { ConfigError } from '../core/config.js';
import { parseMemory } from '../core/memory-units.js';
import { SETTINGS_BY_NAME } from '../core/config-schema.js';
import { command, container, type AsyncCommandContext, type CommandContext, type CommandSpec } from './spec.js';
import { SaveInProgress } from '../server/saves.js';
import { lower, parseInt64 } from './args.js';
import { globMatch } from './glob.js';
import { infoText } from './info.js';
import { ValueType } from '../storage/types.js';
import { scriptingFor } from '../scripting/engine.js';
import { BUSY_EVAL, BUSY_FUNCTION } from '../scripting/busy-replies.js';
import { anonymousMemoryBytes } from '../server/eviction/memory-report.js';
import { memoryUsage } from './memory-usage.js';
import { CONFIG_HELP, helpReply, MEMORY_HELP, OBJECT_HELP, SLOWLOG_HELP } from './help-texts.js';
import { debugDigestSubcommands } from './debug-digest.js';
import { debugProtocolSubcommand } from './debug-protocol.js';
import { debugHelpSubcommand } from './debug-help.js';
import { configRewrite } from './config-rewrite-command.js';
import { isLocalSession } from '../server/protected-mode.js';

function info(ctx: CommandContext, argv: Buffer[]): void {
  ctx.out.verbatim(infoText(ctx.node, argv.slice(1).map((a) => a.toString())));
}

/**
 * CONFIG GET pattern [pattern ...]: as Redis 7.0, a name without glob characters is looked up
 * directly and answered under the name as the client spelled it (`CONFIG GET MAXMEMORY` answers
 * `MAXMEMORY`); a pattern matches case-insensitively and answers each setting's own name. A
 * setting matched twice is answered once.
 */
function configGet(ctx: CommandContext, argv: Buffer[]): void {
  const found = new Map<string, [string, string]>();
  const shown = (name: string, value: string): string => SETTINGS_BY_NAME.get(name)?.display?.(value) ?? value;
  for (const pattern of argv.slice(2)) {
    const text = pattern.toString();
    if (!/[[*?]/.test(text)) {
      const name = text.toLowerCase();
      if (found.has(name) || !SETTINGS_BY_NAME.has(name)) continue;
      found.set(name, [text, shown(name, ctx.node.config.str(name))]);
      continue;
    }
    for (const [name, value] of ctx.node.config.entries()) {
      if (found.has(name) || SETTINGS_BY_NAME.get(name)?.hidden === true) continue;
      if (globMatch(pattern, Buffer.from(name), true)) found.set(name, [name, shown(name, value)]);
    }
  }
  ctx.out.mapHeader(found.size);
  for (const [k, v] of found.values()) {
    ctx.out.bulk(k);
    ctx.out.bulk(v);
  }
}

function configSet(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length < 4 || argv.length % 2 !== 0) throw new ReplyError(ERR.wrongArity('config|set'));
  // Names as given: Redis names an unknown, immutable or repeated one in its error as typed.
  const pairs: Array<[string, string]> = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i]!.toString(), argv[i + 1]!.toString()]);
  try {
    const protectedOk = ctx.node.config.str('enable-protected-configs');
    ctx.node.config.setMany(pairs, protectedOk === 'yes' || (protectedOk === 'local' && isLocalSession(ctx.session)));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (err.kind === 'unknown') throw new ReplyError(`ERR Unknown option or number of arguments for CONFIG SET - '${err.setting}'`);
    throw new ReplyError(`ERR CONFIG SET failed (possibly related to argument '${err.setting}') - ${err.reason}`);
  }
  ctx.out.ok();
}

/**
 * CONFIG RESETSTAT: the counters Redis's resetServerStats, resetCommandTableStats and
 * resetErrorTableStats clear (INFO stats, commandstats, errorstats, latencystats).
 */
function configResetstat(ctx: CommandContext): void {
  const s = ctx.node.stats;
  s.commands.clear();
  s.errorKinds.clear();
  s.errorReplies = 0;
  s.totalCommandsProcessed = 0;
  s.totalConnectionsReceived = 0;
  s.rejectedConnections = 0;
  s.syncFull = 0;
  s.totalNetInputBytes = 0;
  s.totalNetOutputBytes = 0;
  s.keyspaceHits = 0;
  s.keyspaceMisses = 0;
  s.expiredKeys = 0;
  s.evictedClients = 0;
  if (ctx.node.eviction) ctx.node.eviction.evictedKeys = 0;
  ctx.out.ok();
}

/** SWAPDB index1 index2, with Redis 7.0's checks: each index parsed, then both in range; a swap of db 0 with itself is done. */
function swapdb(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.node.cluster) throw new ReplyError('ERR SWAPDB is not allowed in cluster mode');
  const index = (arg: Buffer, which: string): bigint => {
    const n = parseInt64(arg);
    if (n === undefined || n < -2147483648n || n > 2147483647n) throw new ReplyError(`ERR invalid ${which} DB index`);
    return n;
  };
  const a = index(argv[1]!, 'first');
  const b = index(argv[2]!, 'second');
  if (a !== 0n || b !== 0n) throw new ReplyError('ERR DB index is out of range');
  ctx.out.ok();
}

/** WAIT numreplicas timeout: Redis's argument checks; no replica ever acknowledges here, so 0. */
function wait(ctx: CommandContext, argv: Buffer[]): void {
  if (parseInt64(argv[1]!) === undefined) throw new ReplyError(ERR.notInteger);
  const timeout = parseInt64(argv[2]!);
  if (timeout === undefined) throw new ReplyError('ERR timeout is not an integer or out of range');
  if (timeout < 0n) throw new ReplyError('ERR timeout is negative');
  ctx.out.int(0);
}

/** BGSAVE [SCHEDULE]: anything else is a syntax error, as in Redis. */
/**
 * BGSAVE [SCHEDULE]: a checkpoint now, in the background (saves.ts); LASTSAVE moves when it ends.
 * While one runs Redis refuses another, SCHEDULE or not (SCHEDULE waits only for an AOF rewrite,
 * which ringkv never runs). Inside EXEC Redis schedules it for after the transaction, and says so.
 */
function bgsave(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 2 || (argv.length === 2 && lower(argv[1]!) !== 'schedule')) throw new ReplyError(ERR.syntax);
  const verdict = ctx.node.saves.background(ctx.inExec === true);
  if (verdict === 'busy') throw new ReplyError('ERR Background save already in progress');
  ctx.out.simple(verdict === 'started' && ctx.inExec !== true ? 'Background saving started' : 'Background saving scheduled');
}

/** SAVE: a checkpoint now, answered once it is in LMDB; -ERR when it failed, as Redis answers a failed save. */
async function save(ctx: AsyncCommandContext): Promise<void> {
  try {
    await ctx.node.saves.save();
  } catch (err) {
    if (err instanceof SaveInProgress) throw new ReplyError(err.message);
    ctx.node.logger.warn({ err: String(err) }, 'SAVE: the checkpoint failed');
    throw new ReplyError('ERR');
  }
  ctx.out.ok();
}

function flushall(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 2 || (argv.length === 2 && !['async', 'sync'].includes(lower(argv[1]!)))) throw new ReplyError(ERR.syntax);
  void ctx.node.flushAll();
  ctx.out.ok();
}

function time(ctx: CommandContext): void {
  // Wall-clock microseconds: milliseconds from Date.now, sub-millisecond part from the hrtime clock.
  const nowUs = BigInt(Date.now()) * 1000n + BigInt(Math.floor(process.hrtime()[1] / 1000) % 1000);
  ctx.out.arrayHeader(2);
  ctx.out.bulk((nowUs / 1_000_000n).toString());
  ctx.out.bulk((nowUs % 1_000_000n).toString());
}

function objectEncodingCommand(ctx: CommandContext, argv: Buffer[]): void {
  const e = ctx.ks.get(argv[2]!);
  if (!e) return ctx.out.nullBulk();
  ctx.out.bulk(objectEncoding(e));
}

const LFU_SWITCH_NOTE = 'Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

/** OBJECT IDLETIME: seconds since the key was last used; not tracked under an LFU policy (Redis's error). */
function objectIdletime(ctx: CommandContext, argv: Buffer[]): void {
  if (!ctx.ks.get(argv[2]!)) return ctx.out.nullBulk();
  if (ctx.node.config.str('maxmemory-policy').endsWith('-lfu')) throw new ReplyError(`ERR An LFU maxmemory policy is selected, idle time not tracked. ${LFU_SWITCH_NOTE}`);
  ctx.out.int(ctx.node.eviction?.idleSeconds(argv[2]!, ctx.node.now()) ?? 0);
}

/** OBJECT FREQ: the key's logarithmic access counter; only tracked under an LFU policy (Redis's error). */
function objectFreq(ctx: CommandContext, argv: Buffer[]): void {
  if (!ctx.ks.get(argv[2]!)) return ctx.out.nullBulk();
  if (!ctx.node.config.str('maxmemory-policy').endsWith('-lfu')) throw new ReplyError(`ERR An LFU maxmemory policy is not selected, access frequency not tracked. ${LFU_SWITCH_NOTE}`);
  ctx.out.int(ctx.node.eviction?.frequency(argv[2]!, ctx.node.now()) ?? 0);
}

/** Redis 7.0's MEMORY DOCTOR texts for an instance too small to judge and for one without issues. */
const DOCTOR_EMPTY = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.";
const DOCTOR_FINE = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.";
/** Below this, Redis's doctor declines to judge. */
const DOCTOR_MIN_BYTES = 5 * 1024 * 1024;

function memoryDoctor(ctx: CommandContext): void {
  const used = ctx.node.store.dataBytes();
  ctx.out.verbatim(used < DOCTOR_MIN_BYTES ? DOCTOR_EMPTY : DOCTOR_FINE);
}

/** MEMORY STATS: Redis's field names, with the data set's logical size as the allocation figures. */
function memoryStats(ctx: CommandContext): void {
  const used = ctx.node.eviction?.usedMemory() ?? ctx.node.store.dataBytes();
  const peak = Math.max(used, ctx.node.eviction?.peakMemory ?? 0);
  const keys = ctx.node.store.keyCount();
  const rss = anonymousMemoryBytes();
  // Redis 7.0's fields in its order; a string is a ratio (a double in RESP3), db.0 a map of two overheads.
  const fields: Array<[string, number | string | Array<[string, number]>]> = [
    ['peak.allocated', peak], ['total.allocated', used], ['startup.allocated', 0], ['replication.backlog', 0],
    ['clients.slaves', 0], ['clients.normal', 0], ['cluster.links', 0], ['aof.buffer', 0], ['lua.caches', 0], ['functions.caches', 0],
    ...(keys > 0 ? [['db.0', [['overhead.hashtable.main', 0], ['overhead.hashtable.expires', 0]]] as [string, Array<[string, number]>]] : []),
    ['overhead.total', 0],
    ['keys.count', keys], ['keys.bytes-per-key', keys > 0 ? Math.floor(used / keys) : 0], ['dataset.bytes', used],
    ['dataset.percentage', used > 0 ? '100' : '0'], ['peak.percentage', peak > 0 ? ((used * 100) / peak).toFixed(2) : '0'],
    ['allocator.allocated', rss], ['allocator.active', rss], ['allocator.resident', rss],
    ['allocator-fragmentation.ratio', '1'], ['allocator-fragmentation.bytes', 0], ['allocator-rss.ratio', '1'], ['allocator-rss.bytes', 0],
    ['rss-overhead.ratio', '1'], ['rss-overhead.bytes', 0], ['fragmentation', used > 0 ? (rss / used).toFixed(2) : '0'],
    ['fragmentation.bytes', rss - used],
  ];
  ctx.out.mapHeader(fields.length);
  for (const [k, v] of fields) {
    ctx.out.bulk(k);
    if (typeof v === 'number') ctx.out.int(v);
    else if (typeof v === 'string') ctx.out.double(Number(v));
    else {
      ctx.out.mapHeader(v.length);
      for (const [name, n] of v) {
        ctx.out.bulk(name);
        ctx.out.int(n);
      }
    }
  }
}

/** SLOWLOG GET [count]: newest first; -1 = all; Redis's range error otherwise. */
function slowlogGet(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 3) throw subcommandSyntaxError(argv);
  let count = 10;
  if (argv.length === 3) {
    const n = parseInt64(argv[2]!);
    // Redis answers one text for a count that is not a number and for one below -1.
    if (n === undefined || n < -1n) throw new ReplyError('ERR count should be greater than or equal to -1');
    count = n > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(n);
  }
  const entries = ctx.node.stats.slowlog.get(count);
  ctx.out.arrayHeader(entries.length);
  for (const e of entries) {
    ctx.out.arrayHeader(6);
    ctx.out.int(e.id);
    ctx.out.int(e.time);
    ctx.out.int(e.usec);
    ctx.out.bulkArray(e.args);
    ctx.out.bulk(e.addr);
    ctx.out.bulk(e.name);
  }
}

/** Blocks the event loop like Redis's DEBUG SLEEP blocks the server (tests rely on that). */
function blockFor(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A number as C's strtod (float) or atoi reads it: its longest valid prefix, 0 when there is none. */
function cNumber(arg: Buffer, float: boolean): number {
  const text = arg.toString('latin1').trimStart();
  const m = (float ? /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/ : /^[+-]?\d+/).exec(text);
  return m ? Number(m[0]) : 0;
}

/** DEBUG RELOAD [MERGE|NOFLUSH|NOSAVE ...]: the data is already durable, so only the options are checked. */
/**
 * DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: the data set is always on disk, so a reload changes
 * nothing; but NOFLUSH without MERGE loads the dump over what is there, which Redis refuses as
 * soon as a key or a function library would be loaded twice.
 */
function debugReload(ctx: CommandContext, argv: Buffer[]): void {
  const options = argv.slice(2).map(lower);
  for (const a of options) {
    if (!['merge', 'noflush', 'nosave'].includes(a)) throw new ReplyError('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
  }
  const overItself = options.includes('noflush') && !options.includes('merge');
  if (overItself && (ctx.node.listedKeyCount() > 0 || scriptingFor(ctx.node).libraries.size > 0)) {
    throw new ReplyError('ERR Error trying to load the RDB dump');
  }
  ctx.out.ok();
}

/** DEBUG QUICKLIST-PACKED-THRESHOLD size: Redis's check (a memory value up to 4gb - 1mb; 0 = default). */
function quicklistPackedThreshold(ctx: CommandContext, argv: Buffer[]): void {
  const n = parseMemory(argv[2]!.toString('latin1'));
  if (n === undefined || n > 2 ** 32 - 2 ** 20) throw new ReplyError('ERR argument must be a memory value bigger than 1 and smaller than 4gb');
  ctx.out.ok();
}

/** DEBUG LISTPACK / QUICKLIST key: Redis prints the structure on its standard output; here there is none to print. */
function encodingDump(ctx: CommandContext, argv: Buffer[], encoding: string, title: string): void {
  // DEBUG QUICKLIST key [0|1]: one optional argument.
  if (argv.length > 4) throw subcommandSyntaxError(argv);
  const e = ctx.ks.get(argv[2]!);
  if (!e) throw new ReplyError(ERR.noSuchKey);
  if (objectEncoding(e) !== encoding) throw new ReplyError(`ERR Not a ${encoding} encoded object.`);
  ctx.out.simple(`${title} structure printed on stdout`);
}

/**
 * DEBUG REPLYBUFFER PEAK-RESET-TIME <NEVER|RESET|ms> | RESIZING <0|1>, checked as Redis checks them;
 * reply buffers here are not resized by a cron, so there is nothing to change.
 */
function replyBuffer(ctx: CommandContext, argv: Buffer[]): void {
  const what = lower(argv[2]!);
  if (what === 'peak-reset-time') {
    const v = lower(argv[3]!);
    if (v !== 'never' && v !== 'reset' && parseInt64(argv[3]!) === undefined) throw new ReplyError(ERR.notInteger);
  } else if (what !== 'resizing') {
    throw subcommandSyntaxError(argv);
  }
  ctx.out.ok();
}


/** Redis's getPositiveLongFromObjectOrReply: one message for anything that is not a whole number >= 0. */
function positiveLong(arg: Buffer): number {
  const n = parseInt64(arg);
  if (n === undefined || n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ReplyError('ERR value is out of range, must be positive');
  return Number(n);
}

/**
 * DEBUG POPULATE count [prefix] [size]: `prefix:N` = `value:N` (cut or zero-padded to size) for
 * the keys that do not exist, as Redis's test suite fills a server. The keys are written through
 * the node's keyspace like SETs of one command (logged as one entry). A cluster node's keyspace
 * holds replicas of slots whose writes go through their coordinators: it is refused there.
 */
function debugPopulate(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 5) throw subcommandSyntaxError(argv);
  if (ctx.node.cluster !== undefined) throw new ReplyError('ERR DEBUG POPULATE is not supported in cluster mode: its keys would not be replicated');
  const count = positiveLong(argv[2]!);
  const prefix = argv[3] ?? Buffer.from('key');
  const size = argv.length > 4 ? positiveLong(argv[4]!) : 0;
  if (size > ctx.node.config.int('proto-max-bulk-len')) throw new ReplyError('ERR string exceeds maximum allowed size');
  for (let j = 0; j < count; j++) {
    const key = Buffer.concat([prefix, Buffer.from(`:${j}`)]);
    if (ctx.ks.get(key) !== undefined) continue;
    const text = Buffer.from(`value:${j}`);
    let value = text;
    if (size > 0) {
      value = Buffer.alloc(size);
      text.copy(value, 0, 0, Math.min(size, text.length));
    }
    ctx.ks.set(key, ValueType.String, value, 0);
  }
  ctx.out.ok();
}

const debugTable = container('debug', ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], [
  // Redis reads these numbers with strtod and atoi: what does not parse counts as 0.
  { name: 'sleep', arity: 3, flags: ['admin'], run: (c, a) => { blockFor(cNumber(a[2]!, true) * 1000); c.out.ok(); } },
  { name: 'log', arity: 3, flags: ['admin'], run: (c, a) => { c.node.logger.warn({ message: a[2]!.toString() }, 'DEBUG LOG'); c.out.ok(); } },
  { name: 'set-active-expire', arity: 3, flags: ['admin'], run: (c, a) => { c.node.debug.activeExpire = cNumber(a[2]!, false) !== 0; c.out.ok(); } },
  { name: 'config-rewrite-force-all', arity: 2, flags: ['admin'], run: (c) => configRewrite(c, true) },
  { name: 'set-disable-deny-scripts', arity: 3, flags: ['admin'], run: (c, a) => { c.node.debug.denyScriptsDisabled = cNumber(a[2]!, false) !== 0; c.out.ok(); } },
  { name: 'reload', arity: -2, flags: ['admin'], run: debugReload },
  { name: 'populate', arity: -3, flags: ['admin'], run: debugPopulate },
  { name: 'change-repl-id', arity: 2, flags: ['admin'], run: (c) => c.out.ok() },
  { name: 'quicklist-packed-threshold', arity: 3, flags: ['admin'], run: quicklistPackedThreshold },
  { name: 'listpack', arity: 3, flags: ['admin'], run: (c, a) => encodingDump(c, a, 'listpack', 'Listpack') },
  { name: 'quicklist', arity: -3, flags: ['admin'], run: (c, a) => encodingDump(c, a, 'quicklist', 'Quicklist') },
  // Redis 7.0's name: STRINGMATCH-TEST fuzzes its glob matcher; the matcher here is glob.ts.
  { name: 'stringmatch-test', arity: 2, flags: ['admin'], run: (c) => c.out.simple('Apparently Redis did not crash: test passed') },
  // PAUSE-CRON <0|1>: what the cron does here that tests observe is active expiry, so that stops.
  { name: 'pause-cron', arity: 3, flags: ['admin'], run: (c, a) => { c.node.debug.cronPaused = cNumber(a[2]!, false) !== 0; c.out.ok(); } },
  { name: 'replybuffer', arity: 4, flags: ['admin'], run: replyBuffer },
  // DEBUG ERROR answers its argument as an error (tests use it to fill errorstats).
  { name: 'error', arity: 3, flags: ['admin'], run: (_c, a) => { throw new ReplyError(a[2]!.toString()); } },
  // Every acknowledged write is already in the commit log: there is nothing to flush or reload.
  { name: 'loadaof', arity: 2, flags: ['admin'], run: (c) => c.out.ok() },
  { name: 'set-skip-checksum-validation', arity: 3, flags: ['admin'], run: (c) => c.out.ok() },
  { name: 'aof-flush-sleep', arity: 3, flags: ['admin'], run: (c) => c.out.ok() },
  {
    name: 'object', arity: 3, flags: ['admin'],
    run: (c, a) => {
      // Redis describes a key whose time is up but that is not removed yet (no expiry check here).
      const e = c.ks.peek?.(a[2]!) ?? c.ks.get(a[2]!);
      if (!e) throw new ReplyError(ERR.noSuchKey);
      c.out.simple(`Value at:0x0 refcount:1 encoding:${objectEncoding(e)} serializedlength:${valueLength(e)} lru:0 lru_seconds_idle:0`);
    },
  },
  ...debugDigestSubcommands,
  debugProtocolSubcommand,
  debugHelpSubcommand,
]);

/**
 * DEBUG as Redis 7.0 has it: one command of arity -2 with no subcommands in the command table
 * (COMMAND INFO and DOCS list none), which checks each subcommand's argument count itself and
 * answers one text for an unknown subcommand and for a wrong count.
 */
const debug: CommandSpec = {
  ...debugTable,
  subcommands: undefined,
  // No key positions, as Redis: DEBUG OBJECT and DIGEST-VALUE look at what this node holds.
  keyIndexes: undefined,
  run: (ctx, argv) => {
    const sub = debugTable.subcommands!.find((c) => c.name === `debug|${argv[1]!.toString('latin1').toLowerCase()}`);
    if (sub === undefined || (sub.arity > 0 ? argv.length !== sub.arity : argv.length < -sub.arity)) throw subcommandSyntaxError(argv);
    sub.run(ctx, argv);
  },
};

const object = container('object', ['readonly'], ['slow'], [
  { name: 'encoding', categories: ['keyspace', 'read', 'slow'], arity: 3, flags: ['readonly'], firstKey: 2, lastKey: 2, step: 1, run: objectEncodingCommand },
  { name: 'refcount', categories: ['keyspace', 'read', 'slow'], arity: 3, flags: ['readonly'], firstKey: 2, lastKey: 2, step: 1, run: objectRefcount },
  { name: 'idletime', categories: ['keyspace', 'read', 'slow'], arity: 3, flags: ['readonly'], firstKey: 2, lastKey: 2, step: 1, run: objectIdletime },
  { name: 'freq', categories: ['keyspace', 'read', 'slow'], arity: 3, flags: ['readonly'], firstKey: 2, lastKey: 2, step: 1, run: objectFreq },
  { name: 'help', categories: ['keyspace', 'slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => helpReply(c, OBJECT_HELP) },
]);

const memory = container('memory', ['readonly'], ['slow'], [
  { name: 'usage', categories: ['read', 'slow'], arity: -3, flags: ['readonly'], firstKey: 2, lastKey: 2, step: 1, run: memoryUsage },
  { name: 'doctor', categories: ['slow'], arity: 2, flags: [], run: memoryDoctor },
  { name: 'purge', categories: ['slow'], arity: 2, flags: [], run: (c) => c.out.ok() },
  { name: 'stats', categories: ['slow'], arity: 2, flags: [], run: memoryStats },
  { name: 'malloc-stats', categories: ['slow'], arity: 2, flags: [], run: (c) => c.out.verbatim('Stats not supported for the current allocator') },
  { name: 'help', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => helpReply(c, MEMORY_HELP) },
]);

const config = container('config', ['admin', 'noscript', 'loading', 'stale'], ['slow'], [
  { name: 'get', categories: ['admin', 'slow', 'dangerous'], arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], run: configGet },
  { name: 'set', categories: ['admin', 'slow', 'dangerous'], arity: -4, flags: ['admin', 'noscript', 'loading', 'stale'], run: configSet },
  { name: 'resetstat', categories: ['admin', 'slow', 'dangerous'], arity: 2, flags: ['admin', 'noscript', 'loading', 'stale'], run: configResetstat },
  { name: 'rewrite', categories: ['admin', 'slow', 'dangerous'], arity: 2, flags: ['admin', 'noscript', 'loading', 'stale'], run: (c) => configRewrite(c) },
  { name: 'help', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => helpReply(c, CONFIG_HELP) },
]);

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], with Redis 7.0's checks. Every acknowledged write
 * is already in the commit log, so SAVE and NOSAVE stop the same way, except under a busy script:
 * there only NOSAVE stops, and the script's writes so far, held out of the log, are dropped.
 */
function shutdown(ctx: CommandContext, argv: Buffer[]): void {
  const opts = new Set<string>();
  for (const a of argv.slice(1)) {
    const o = lower(a);
    if (!['nosave', 'save', 'now', 'force', 'abort'].includes(o)) throw new ReplyError(ERR.syntax);
    opts.add(o);
  }
  if ((opts.has('abort') && opts.size > 1) || (opts.has('nosave') && opts.has('save'))) throw new ReplyError(ERR.syntax);
  // A shutdown here never waits for anything it could be talked out of.
  if (opts.has('abort')) throw new ReplyError('ERR No shutdown in progress.');
  const busy = ctx.node.busyScript;
  if (busy !== undefined) {
    if (!opts.has('nosave')) throw new ReplyError(busy.isEval ? BUSY_EVAL : BUSY_FUNCTION);
    scriptingFor(ctx.node).abandonBusyScript();
  }
  ctx.node.shutdown();
}

export const serverCommands: CommandSpec[] = [
  command({ name: 'info', arity: -1, flags: ['loading', 'stale'], categories: ['slow', 'dangerous'], run: info }),
  config,
  command({ name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], categories: ['keyspace', 'read', 'fast'], run: (c) => c.out.int(c.node.listedKeyCount()) }),
  command({ name: 'flushall', arity: -1, flags: ['write'], categories: ['keyspace', 'write', 'slow', 'dangerous'], run: flushall }),
  command({ name: 'flushdb', arity: -1, flags: ['write'], categories: ['keyspace', 'write', 'slow', 'dangerous'], run: flushall }),
  command({ name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], categories: ['fast'], run: time }),
  command({ name: 'lastsave', arity: 1, flags: ['loading', 'stale', 'fast'], categories: ['admin', 'fast', 'dangerous'], run: (c) => c.out.int(c.node.saves.lastSave()) }),
  command({
    name: 'save', arity: 1, flags: ['admin', 'noscript', 'no_multi'], categories: ['admin', 'slow', 'dangerous'], start: save,
    // Never reached: SAVE is refused in MULTI and in scripts, the only places that call `run`.
    run: () => {
      throw new ReplyError('ERR SAVE cannot run here');
    },
  }),
  command({ name: 'bgsave', arity: -1, flags: ['admin', 'noscript'], categories: ['admin', 'slow', 'dangerous'], run: bgsave }),
  command({ name: 'bgrewriteaof', arity: 1, flags: ['admin', 'noscript'], categories: ['admin', 'slow', 'dangerous'], run: (c) => c.out.simple(c.inExec === true ? 'Background append only file rewriting scheduled' : 'Background append only file rewriting started') }),
  command({ name: 'shutdown', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'], categories: ['admin', 'slow', 'dangerous'], run: shutdown }),
  command({ name: 'role', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast'], categories: ['admin', 'fast', 'dangerous'], run: (c) => { c.out.arrayHeader(3); c.out.bulk('master'); c.out.int(0); c.out.arrayHeader(0); } }),
  command({ name: 'wait', arity: 3, flags: ['noscript'], categories: ['slow', 'connection'], run: wait }),
  command({ name: 'swapdb', arity: 3, flags: ['write', 'fast'], categories: ['keyspace', 'write', 'fast', 'dangerous'], run: swapdb }),
  object,
  memory,
  debug,
  container('slowlog', ['admin', 'loading', 'stale'], ['slow'], [
    { name: 'get', categories: ['admin', 'slow', 'dangerous'], arity: -2, flags: ['admin', 'loading', 'stale'], run: slowlogGet },
    { name: 'len', categories: ['admin', 'slow', 'dangerous'], arity: 2, flags: ['admin', 'loading', 'stale'], run: (c) => c.out.int(c.node.stats.slowlog.length) },
    { name: 'reset', categories: ['admin', 'slow', 'dangerous'], arity: 2, flags: ['admin', 'loading', 'stale'], run: (c) => { c.node.stats.slowlog.reset(); c.out.ok(); } },
    { name: 'help', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => helpReply(c, SLOWLOG_HELP) },
  ]),
  latencyCommand,
];
