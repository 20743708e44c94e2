import { functionRecords, OPCODE } from '../rdb/rdb-file.js';
import { OOM_ERROR } from '../server/eviction/memory-guard.js';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReplyError } from '../core/errors.js';
import type { CommandContext, Suspension } from '../commands/spec.js';
import type { NodeServices } from '../server/node-services.js';
import { keySlot } from '../cluster/slot.js';
import { RdbReader } from '../rdb/rdb-reader.js';
import { verifyDumpPayload, withDumpFooter } from '../rdb/dump-payload.js';
import { LuaRuntime, sha1hex, type ScriptRun, type ScriptStep } from './runtime.js';
import { parseLibraryShebang, parseScriptShebang } from './shebang.js';
import { NOSCRIPT } from './errors.js';
import { BUSY_EVAL, BUSY_FUNCTION, NOTBUSY, UNKILLABLE } from './busy-replies.js';
import { emptyDocument, holdsNewer, isFunctionDocument, isFunctionSummary, liveLibraries, mergeDocument, newer, recordLocalChange, summarize, type FunctionDocument, type FunctionSummary } from './function-document.js';

interface CachedScript {
  ref: number;
  body: Buffer;
  flags: string[] | undefined;
  /** Cached by EVAL rather than SCRIPT LOAD: may be evicted (see EVAL_SCRIPTS_MAX). */
  fromEval: boolean;
}

/**
 * Most scripts EVAL keeps cached. Applications that build script text per call (values pasted into
 * the body) would otherwise grow the cache without bound; as Redis 7.4 does, the least recently used
 * EVAL-cached script goes first. Scripts from SCRIPT LOAD stay until SCRIPT FLUSH.
 */
const EVAL_SCRIPTS_MAX = 500;

export interface LibraryFunction {
  name: string;
  ref: number;
  flags: string[];
  description: string | undefined;
}

export interface Library {
  name: string;
  code: Buffer;
  functions: LibraryFunction[];
}

const FUNCTIONS_FILE = 'functions.json';

/** A script that yielded past busy-reply-threshold and goes on in later turns. */
interface SuspendedScript {
  run: ScriptRun;
  runtime: LuaRuntime;
  isEval: boolean;
  /** The function's name (FUNCTION STATS), or the script's sha. */
  name: string;
  /** The command as the client sent it (FUNCTION STATS). */
  argv: Buffer[];
  suspension: Suspension;
}
const NO_CLUSTER = "ERR Can not run script on cluster, 'no-cluster' flag is set.";
const LEGACY_DUMP_MAGIC = Buffer.from('RKVFN1');
/** RDB opcodes of a function library in a dump (Redis 7.0's rdb.h). */
const RDB_OPCODE_FUNCTION2 = OPCODE.FUNCTION2;
const RDB_OPCODE_FUNCTION_PRE_GA = OPCODE.FUNCTION;

/**
 * A node's scripting state: the EVAL script cache (per node, as in Redis Cluster), the function
 * libraries (persisted in the data directory, reloaded at start), and one Lua state for each.
 */
export class ScriptingEngine {
  private readonly scripts = new Map<string, CachedScript>();
  /** EVAL-cached scripts by sha, least recently used first. */
  private readonly evalLru = new Map<string, CachedScript>();
  private evalRuntime: LuaRuntime;
  private functionRuntime: LuaRuntime;
  readonly libraries = new Map<string, Library>();
  private readonly functionsByName = new Map<string, { lib: Library; fn: LibraryFunction }>();
  /** The script running across event-loop turns, if any (at most one: the node answers -BUSY meanwhile). */
  private suspended: SuspendedScript | undefined;
  /** The cluster's libraries, merged with every peer's (function-document.ts); persisted with them. */
  private doc: FunctionDocument = emptyDocument();

  constructor(private readonly node: NodeServices) {
    this.evalRuntime = this.newRuntime('user_script');
    this.functionRuntime = this.newRuntime('user_function');
    this.restoreLibraries();
  }

  private newRuntime(source: 'user_script' | 'user_function'): LuaRuntime {
    const logger = this.node.logger;
    return new LuaRuntime(source, (level, msg) => {
      if (level === 'warning') logger.warn({ script: true }, msg);
      else if (level === 'notice') logger.info({ script: true }, msg);
      else logger.debug({ script: true }, msg);
    });
  }

  private timeLimitMs(): number {
    const v = Number(this.node.config.str('busy-reply-threshold'));
    return Number.isFinite(v) ? v : 5000;
  }

  // ---- EVAL ----

  /** SCRIPT LOAD / EVAL: compiles and caches a body, returning its sha (or throws its compile error). */
  load(body: Buffer, fromEval = false): { sha: string; script: CachedScript } {
    const sha = sha1hex(body);
    const cached = this.scripts.get(sha);
    if (cached) {
      if (!fromEval && cached.fromEval) {
        cached.fromEval = false;
        this.evalLru.delete(sha);
      } else if (cached.fromEval) this.touch(sha, cached);
      return { sha, script: cached };
    }
    const shebang = parseScriptShebang(body);
    if ('error' in shebang) throw new ReplyError(shebang.error);
    const compiled = this.evalRuntime.compile(body.subarray(shebang.codeStart));
    if ('error' in compiled) throw new ReplyError(`ERR Error compiling script (new function): ${compiled.error}`);
    const script = { ref: compiled.ref, body, flags: shebang.flags, fromEval };
    this.scripts.set(sha, script);
    if (fromEval) {
      this.evalLru.set(sha, script);
      if (this.evalLru.size > EVAL_SCRIPTS_MAX) {
        const [oldest, victim] = this.evalLru.entries().next().value as [string, CachedScript];
        this.evalLru.delete(oldest);
        this.scripts.delete(oldest);
        this.evalRuntime.release(victim.ref);
      }
    }
    return { sha, script };
  }

  private touch(sha: string, script: CachedScript): void {
    this.evalLru.delete(sha);
    this.evalLru.set(sha, script);
  }

  /** A cached script's shebang flags (CLIENT PAUSE WRITE), read without touching the cache's LRU order. */
  cachedFlags(sha: string): readonly string[] | undefined {
    return this.scripts.get(sha)?.flags;
  }

  /** A function's flags, found as FCALL finds it (without regard to case). */
  functionFlags(name: string): readonly string[] | undefined {
    return this.functionsByName.get(name.toLowerCase())?.fn.flags;
  }

  /** The body of a cached script (a relay of EVALSHA carries it to the slot's primary). */
  bodyOf(sha: string): Buffer | undefined {
    return this.scripts.get(sha)?.body;
  }

  /** Caches a body a relay carried, as EVAL would (evictable); one that does not compile is left out. */
  cacheRelayed(body: Buffer): void {
    try {
      this.load(body, true);
    } catch {
      // The EVALSHA it came with answers NOSCRIPT here, as the relaying node would have.
    }
  }

  exists(sha: string): boolean {
    return this.scripts.has(sha.toLowerCase());
  }

  flushScripts(): void {
    this.scripts.clear();
    this.evalLru.clear();
    this.evalRuntime = this.newRuntime('user_script');
  }

  /** EVAL / EVALSHA / *_RO after argument parsing. */
  eval(ctx: CommandContext, bodyOrSha: Buffer, bySha: boolean, keys: Buffer[], args: Buffer[], roCommand: boolean, argv: Buffer[] = []): void {
    let sha: string;
    let script: CachedScript | undefined;
    if (bySha) {
      sha = bodyOrSha.toString('latin1').toLowerCase();
      script = this.scripts.get(sha);
      if (script === undefined) throw new ReplyError(NOSCRIPT);
      if (script.fromEval) this.touch(sha, script);
    } else ({ sha, script } = this.load(bodyOrSha, true));
    const flags = script.flags;
    if (flags?.includes('no-cluster') && ctx.node.cluster !== undefined) throw new ReplyError(NO_CLUSTER);
    if (roCommand && flags !== undefined && !flags.includes('no-writes')) {
      throw new ReplyError('ERR Can not execute a script with write flag using *_ro command.');
    }
    const readOnly = roCommand || (flags?.includes('no-writes') ?? false);
    // A script with a shebang declares its flags: without allow-oom or no-writes it is denyoom.
    if (flags !== undefined) refuseIfOutOfMemory(ctx, flags);
    this.execute(this.evalRuntime, script.ref, this.newRun(ctx, keys, readOnly), sha, keys, args, true, argv);
  }

  private newRun(ctx: CommandContext, keys: Buffer[], readOnly: boolean): ScriptRun {
    const clustered = ctx.node.cluster !== undefined;
    return {
      ctx,
      readOnly,
      slot: clustered && keys.length > 0 ? keySlot(keys[0]!) : undefined,
      keys,
      resp: 2,
      wrote: false,
      oomAtStart: outOfMemory(ctx),
      startedAt: Date.now(),
      timeLimitMs: this.timeLimitMs(),
      out: ctx.out,
      suspendable: ctx.suspend !== undefined,
    };
  }

  /**
   * Runs a script or function. One that yields (past busy-reply-threshold, on a standalone node)
   * takes its command's reply over and goes on one slice per event-loop turn, while the node
   * answers others -BUSY (node.busyScript) and can take SCRIPT KILL / FUNCTION KILL.
   */
  private execute(runtime: LuaRuntime, ref: number, run: ScriptRun, name: string, keys: Buffer[], args: Buffer[], isEval: boolean, argv: Buffer[]): void {
    // Only paths the -BUSY gate does not cover could get here meanwhile.
    if (this.suspended !== undefined) throw new ReplyError(this.suspended.isEval ? BUSY_EVAL : BUSY_FUNCTION);
    const first = runtime.invoke(ref, run, name, keys, args, !isEval);
    if (first.done) {
      // Thrown, so the command is counted as failed (INFO commandstats) and its error in errorstats
      // unless the call that made it was counted already.
      if (first.error !== undefined) throw new ReplyError(first.error.message, first.error.counted);
      return;
    }
    const suspension = run.ctx.suspend!();
    run.out = suspension.out;
    const busy: SuspendedScript = { run, runtime, isEval, name, argv, suspension };
    this.suspended = busy;
    this.node.busyScript = { isEval };
    this.node.logger.warn({ script: name, thresholdMs: run.timeLimitMs }, 'script passed busy-reply-threshold: answering -BUSY until it ends');
    const finish = (): void => {
      this.suspended = undefined;
      this.node.busyScript = undefined;
    };
    const next = (step: ScriptStep & { done: false }): void => {
      setImmediate(() => {
        if (this.suspended !== busy) return; // abandoned (SHUTDOWN NOSAVE)
        let after: ScriptStep = { done: true };
        suspension.step(() => {
          try {
            after = step.resume();
          } catch (err) {
            this.node.logger.error({ err, script: name }, 'a script failed in the engine');
            run.out.error('ERR internal error running a script (logged on the server)');
          }
        });
        if (after.done) {
          if (after.error !== undefined) {
            if (!after.error.counted) this.node.stats.noteErrorReply(after.error.message);
            run.out.error(after.error.message);
          }
          finish();
          suspension.done();
        } else next(after);
      });
    };
    next(first);
  }

  /** SCRIPT KILL (`byEval`) or FUNCTION KILL, with Redis 7.0's refusals. */
  kill(byEval: boolean): void {
    const busy = this.suspended;
    if (busy === undefined) throw new ReplyError(NOTBUSY);
    if (busy.run.wrote) throw new ReplyError(UNKILLABLE);
    if (byEval && !busy.isEval) throw new ReplyError(BUSY_FUNCTION);
    if (!byEval && busy.isEval) throw new ReplyError(BUSY_EVAL);
    busy.runtime.kill(busy.run);
  }

  /** SHUTDOWN NOSAVE under a busy script: it never answers, and nothing it wrote is logged. */
  abandonBusyScript(): void {
    const busy = this.suspended;
    if (busy === undefined) return;
    this.suspended = undefined;
    busy.suspension.abandon();
  }

  /** FUNCTION STATS' running_script: the busy script's name, command and run time. */
  runningScript(): { name: string; argv: Buffer[]; durationMs: number; isEval: boolean } | undefined {
    const busy = this.suspended;
    return busy === undefined ? undefined : { name: busy.name, argv: busy.argv, durationMs: Date.now() - busy.run.startedAt, isEval: busy.isEval };
  }

  // ---- FUNCTION / FCALL ----

  fcall(ctx: CommandContext, name: string, keys: Buffer[], args: Buffer[], roCommand: boolean, argv: Buffer[] = []): void {
    const found = this.functionsByName.get(name.toLowerCase());
    if (found === undefined) throw new ReplyError('ERR Function not found');
    if (found.fn.flags.includes('no-cluster') && ctx.node.cluster !== undefined) throw new ReplyError(NO_CLUSTER);
    const noWrites = found.fn.flags.includes('no-writes');
    if (roCommand && !noWrites) throw new ReplyError('ERR Can not execute a script with write flag using *_ro command.');
    refuseIfOutOfMemory(ctx, found.fn.flags);
    this.execute(this.functionRuntime, found.fn.ref, this.newRun(ctx, keys, roCommand || noWrites), name, keys, args, false, argv);
  }

  /**
   * FUNCTION LOAD: runs the library's code with redis.register_function available and installs
   * what it registered, replacing a library of the same name when `replace`. `identicalOk` (cluster
   * mode, where clients send FUNCTION LOAD to every node) accepts a library loaded again unchanged.
   */
  loadLibrary(code: Buffer, replace: boolean, identicalOk: boolean): string {
    const before = this.installed();
    const name = this.install(code, replace, identicalOk);
    this.committed(before);
    return name;
  }

  /**
   * Installs a library without recording it. `displace` is asked about a library of another name
   * that already has one of its functions: true drops that library (a peer's newer library wins).
   */
  private install(code: Buffer, replace: boolean, identicalOk: boolean, displace?: (owner: string) => boolean): string {
    const meta = parseLibraryShebang(code);
    if ('error' in meta) throw new ReplyError(meta.error);
    const existing = this.libraries.get(meta.name);
    if (existing && !replace) {
      if (identicalOk && existing.code.equals(code)) return meta.name;
      throw new ReplyError(`ERR Library '${meta.name}' already exists`);
    }
    const rt = this.functionRuntime;
    // The shebang line is not Lua; its newline stays so error lines match the library's lines.
    const firstNewline = code.indexOf(0x0a);
    const compiled = rt.compile(firstNewline < 0 ? Buffer.alloc(0) : code.subarray(firstNewline));
    if ('error' in compiled) throw new ReplyError(`ERR Error compiling function: ${compiled.error}`);
    const functions: LibraryFunction[] = [];
    const release = (): void => {
      for (const f of functions) rt.release(f.ref);
    };
    // Redis 7.0's texts (functionLibCreateFunction), raised inside the library's code so the load stops there.
    rt.registering = (name, ref, flags, description) => {
      if (!/^[A-Za-z0-9_]+$/.test(name)) return 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';
      // A library's own names differ by case (Redis's library dict is case-sensitive; its global one is not).
      if (functions.some((f) => f.name === name)) return 'Function already exists in the library';
      functions.push({ name, ref, flags, description });
      return undefined;
    };
    const error = rt.runLoader(compiled.ref);
    rt.registering = undefined;
    rt.release(compiled.ref);
    if (error !== undefined) {
      release();
      throw new ReplyError(`ERR Error registering functions: ${error}`);
    }
    if (functions.length === 0) throw new ReplyError('ERR No functions registered');
    for (const f of functions) {
      const owner = this.functionsByName.get(f.name.toLowerCase());
      if (owner && owner.lib.name !== meta.name) {
        if (displace?.(owner.lib.name) === true) {
          this.dropLibrary(owner.lib);
          continue;
        }
        release();
        throw new ReplyError(`ERR Function ${f.name} already exists`);
      }
    }
    if (existing) this.dropLibrary(existing);
    const lib: Library = { name: meta.name, code: Buffer.from(code), functions };
    this.libraries.set(lib.name, lib);
    // Function names are found without regard to case, as in Redis (FCALL F1 runs f1).
    for (const fn of functions) {
      // Of two names of one library that differ only by case, FCALL finds the first, as in Redis.
      if (!this.functionsByName.has(fn.name.toLowerCase())) this.functionsByName.set(fn.name.toLowerCase(), { lib, fn });
    }
    return lib.name;
  }

  private dropLibrary(lib: Library): void {
    this.libraries.delete(lib.name);
    for (const fn of lib.functions) {
      if (this.functionsByName.get(fn.name.toLowerCase())?.fn === fn) this.functionsByName.delete(fn.name.toLowerCase());
      this.functionRuntime.release(fn.ref);
    }
  }

  deleteLibrary(name: string): void {
    const lib = this.libraries.get(name);
    if (!lib) throw new ReplyError('ERR Library not found');
    const before = this.installed();
    this.dropLibrary(lib);
    this.committed(before);
  }

  flushLibraries(): void {
    const before = this.installed();
    this.dropAll();
    this.committed(before);
  }

  private dropAll(): void {
    for (const lib of [...this.libraries.values()]) this.dropLibrary(lib);
  }

  /**
   * FUNCTION DUMP as Redis 7.0 writes it (rdbSaveFunctions): per library the RDB_OPCODE_FUNCTION2
   * byte and its code as an RDB string, then the RDB version and CRC64 of a DUMP payload, so a
   * dump moves between ringkv and Redis both ways.
   */
  dump(): Buffer {
    return withDumpFooter(this.functionRecords());
  }

  /** Every library as an RDB file and FUNCTION DUMP carry it: a FUNCTION2 opcode and its code. */
  functionRecords(): Buffer {
    return functionRecords([...this.libraries.values()].map((lib) => lib.code));
  }

  /** FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]. */
  restore(payload: Buffer, policy: 'flush' | 'append' | 'replace'): void {
    const codes = decodeDump(payload);
    const metas = codes.map((c) => parseLibraryShebang(c));
    for (const m of metas) if ('error' in m) throw new ReplyError(m.error);
    if (policy === 'append') {
      for (const m of metas) if (!('error' in m) && this.libraries.has(m.name)) throw new ReplyError(`ERR Library ${m.name} already exists`);
    }
    const before = this.installed();
    const beforeCodes = [...this.libraries.values()].map((l) => l.code);
    if (policy === 'flush') this.dropAll();
    try {
      for (const code of codes) this.install(code, policy !== 'append', false);
    } catch (err) {
      this.dropAll();
      for (const code of beforeCodes) this.install(code, true, false);
      throw err;
    }
    this.committed(before);
  }

  /** The installed libraries' code (base64) by name: what a local change is measured against. */
  private installed(): Map<string, string> {
    return new Map([...this.libraries.values()].map((l) => [l.name, l.code.toString('base64')]));
  }

  /** A command here changed the libraries: into the document, to disk, to the peers. */
  private committed(before: Map<string, string>): void {
    if (!recordLocalChange(this.doc, before, this.installed(), Date.now(), this.node.nodeId)) return;
    this.persist();
    this.node.cluster?.broadcastFunctions(this.doc);
  }

  /** A peer's document: merged entry by entry; the installed libraries follow what changed. */
  receiveDocument(payload: unknown): void {
    if (!isFunctionDocument(payload)) return;
    if (mergeDocument(this.doc, payload).length === 0) return;
    this.reconcile();
    this.persist();
  }

  /** What the periodic round sends every peer: each library's version, without code. */
  summary(): FunctionSummary {
    return summarize(this.doc);
  }

  /** A peer's summary: the document it should be sent, when this node holds something newer. */
  answerSummary(payload: unknown): FunctionDocument | undefined {
    return isFunctionSummary(payload) && holdsNewer(this.doc, payload) ? this.doc : undefined;
  }

  /**
   * Makes the installed libraries the document's live ones. Installed newest first, and a newer
   * library displaces an older one that registered the same function name, so every node that
   * holds the same document installs the same libraries.
   */
  private reconcile(): void {
    const live = liveLibraries(this.doc);
    const wanted = new Map(live.map((l) => [l.name, l.entry.code]));
    for (const lib of [...this.libraries.values()]) {
      if (wanted.get(lib.name) !== lib.code.toString('base64')) this.dropLibrary(lib);
    }
    for (const { name, entry } of live) {
      const lib = this.libraries.get(name);
      if (lib !== undefined) continue;
      try {
        this.install(Buffer.from(entry.code, 'base64'), true, false, (owner) => {
          const ownerEntry = this.doc.libs[owner];
          return ownerEntry === undefined || newer(entry, ownerEntry);
        });
      } catch (err) {
        this.node.logger.warn({ library: name, err: (err as Error).message }, 'a function library from the cluster was not installed');
      }
    }
  }

  private persist(): void {
    const dir = this.node.config.str('dir');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, FUNCTIONS_FILE);
    const text = JSON.stringify({ libraries: [...this.libraries.values()].map((l) => l.code.toString('base64')), document: this.doc });
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }

  private restoreLibraries(): void {
    let text: string;
    try {
      text = readFileSync(join(this.node.config.str('dir'), FUNCTIONS_FILE), 'utf8');
    } catch {
      return;
    }
    const parsed = JSON.parse(text) as { libraries: string[]; document?: unknown };
    if (isFunctionDocument(parsed.document)) {
      this.doc = parsed.document;
      this.reconcile();
      return;
    }
    // Written before libraries were shared: each becomes an entry older than any a peer makes.
    for (const code of parsed.libraries) {
      try {
        const name = this.install(Buffer.from(code, 'base64'), true, false);
        this.doc.libs[name] = { ms: 0, node: '', code };
      } catch (err) {
        this.node.logger.error({ err }, 'a stored function library failed to load');
      }
    }
  }

  cachedScriptCount(): number {
    return this.scripts.size;
  }

  functionCount(): number {
    return this.functionsByName.size;
  }
}

/** The libraries' code in a FUNCTION DUMP payload (Redis's, or the JSON one ringkv wrote before); throws Redis's errors. */
function decodeDump(payload: Buffer): Buffer[] {
  if (payload.subarray(0, LEGACY_DUMP_MAGIC.length).equals(LEGACY_DUMP_MAGIC)) {
    const codes = decodeLegacyDump(payload);
    if (codes === undefined) throw new ReplyError('ERR DUMP payload version or checksum are wrong');
    return codes;
  }
  if (!verifyDumpPayload(payload)) throw new ReplyError('ERR DUMP payload version or checksum are wrong');
  // The footer (RDB version and CRC64) is not part of the libraries.
  const r = new RdbReader(payload, payload.length - 10);
  const codes: Buffer[] = [];
  try {
    while (r.remaining > 0) {
      const type = r.byte();
      if (type === RDB_OPCODE_FUNCTION_PRE_GA) throw new ReplyError('ERR Pre-GA function format not supported');
      if (type !== RDB_OPCODE_FUNCTION2) throw new ReplyError('ERR given type is not a function');
      codes.push(Buffer.from(r.string()));
    }
  } catch (err) {
    if (err instanceof ReplyError) throw err;
    throw new ReplyError('ERR failed loading the given functions payload');
  }
  return codes;
}

/** The payload ringkv's FUNCTION DUMP wrote before it wrote Redis's: magic, JSON, 8 bytes of SHA-1. */
function decodeLegacyDump(payload: Buffer): Buffer[] | undefined {
  if (payload.length < LEGACY_DUMP_MAGIC.length + 8) return undefined;
  const body = payload.subarray(LEGACY_DUMP_MAGIC.length, payload.length - 8);
  const sum = createHash('sha1').update(body).digest().subarray(0, 8);
  if (!sum.equals(payload.subarray(payload.length - 8))) return undefined;
  try {
    return (JSON.parse(body.toString('utf8')) as string[]).map((c) => Buffer.from(c, 'base64'));
  } catch {
    return undefined;
  }
}

const engines = new WeakMap<NodeServices, ScriptingEngine>();

/** The node's scripting engine if something already started it (INFO reads counts without starting one). */
export function startedScripting(node: NodeServices): ScriptingEngine | undefined {
  return engines.get(node);
}

/** The node's scripting engine, created on first use (function libraries are read from the data directory then). */
export function scriptingFor(node: NodeServices): ScriptingEngine {
  let engine = engines.get(node);
  if (!engine) {
    engine = new ScriptingEngine(node);
    engines.set(node, engine);
  }
  return engine;
}

/** Above maxmemory with nothing left to evict (server/eviction/). */
function outOfMemory(ctx: CommandContext): boolean {
  const ev = ctx.node.eviction;
  return ev !== undefined && ctx.node.config.int('maxmemory') > 0 && ev.performEvictions(ctx.node.now()) === 'fail';
}

/** Redis 7.0 turns declared script flags into command flags: neither allow-oom nor no-writes means denyoom. */
function refuseIfOutOfMemory(ctx: CommandContext, flags: readonly string[]): void {
  if (flags.includes('allow-oom') || flags.includes('no-writes')) return;
  if (outOfMemory(ctx)) throw new ReplyError(OOM_ERROR);
}
