import { createHash } from 'node:crypto';
import type { CommandContext } from '../commands/spec.js';
import { formatG, lauxlib, lua, luaString, type LuaState } from './fengari-api.js';
import { pushBytes, raise, setFunction, toBytes } from './lua-bytes.js';
import { createSandbox, setHiddenGlobal, withLoadGlobals } from './sandbox.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { rawField, statsCounted, topLevelError, writeLuaValue } from './convert.js';
import { errorText } from './errors.js';
import { aclCheckCmd, redisCall } from './redis-call.js';
import { registerFunction, type Registrar } from './register-function.js';
import { REDIS_VERSION } from '../commands/version.js';

/** One script or function invocation: what redis.call needs to know while it runs. */
export interface ScriptRun {
  ctx: CommandContext;
  /** EVAL_RO / FCALL_RO / a no-writes script: write commands are refused. */
  readOnly: boolean;
  /** Cluster mode: the slot of the declared keys (undefined: no keys declared). */
  slot: number | undefined;
  /** The declared keys (KEYS): what CLIENT TRACKING remembers once the script reads (redis-call.ts). */
  keys: readonly Buffer[];
  /** RESP version redis.setresp chose for redis.call replies. */
  resp: 2 | 3;
  wrote: boolean;
  /** Memory was above maxmemory with nothing to evict when the script started (Redis's pre_command_oom_state). */
  oomAtStart?: boolean;
  startedAt: number;
  timeLimitMs: number;
  /** Where its reply goes (the command's output; a deferred reply's once it yielded). */
  out: ReplyWriter;
  /** May yield to the event loop past the time limit (a top-level script on a standalone node). */
  suspendable: boolean;
  /** Yielded at least once: the node is busy with it. */
  yielded?: boolean;
  /** SCRIPT KILL / FUNCTION KILL asked for it to stop. */
  killed?: boolean;
  /** The coroutine it runs in, while it runs. */
  thread?: LuaState;
  /** A coroutine the script made yielded at the busy-threshold hook: its resume passes the pause up (sandbox.ts). */
  innerPause?: boolean;
}

/** A script's progress: finished (its reply written), or yielded with a way to go on. */
/**
 * Where a run stands. A finished run that failed (raised an error, or returned an error table) is
 * `error`, its reply left to the caller; `counted` when the error is a command's that INFO
 * errorstats already counted at redis.call (Redis 7.0's ignore_error_stats_update).
 */
export type ScriptStep = { done: true; error?: { message: string; counted: boolean } } | { done: false; resume(): ScriptStep };

/** Instructions between two checks of the running time. */
const HOOK_INSTRUCTIONS = 100_000;
/** Longest a library's top-level code may run in FUNCTION LOAD (Redis's LOAD_TIMEOUT_MS). */
const LOAD_TIMEOUT_MS = 500;
const LOG_LEVELS = ['debug', 'verbose', 'notice', 'warning'] as const;

export function sha1hex(body: Buffer | string): string {
  return createHash('sha1').update(body).digest('hex');
}

/**
 * A sandboxed Lua state and the bridge from its `redis` table to the command table. Commands a
 * script calls run synchronously against the keyspace of the command that started the script, so
 * a script is one atomic step: on a single node nothing else runs meanwhile, and in a cluster the
 * coordinator replicates all its writes as one batch.
 */
export class LuaRuntime {
  readonly L: LuaState;
  current: ScriptRun | undefined;
  /** Set while FUNCTION LOAD runs a library's code: where register_function puts functions. */
  registering: Registrar | undefined;
  /** The coroutine runs use (acquireThread), kept in the registry under `threadRef`. */
  private thread: LuaState | undefined;
  private threadRef = 0;

  constructor(private readonly chunkSource: 'user_script' | 'user_function', private readonly log: (level: string, msg: string) => void) {
    this.L = createSandbox((L) => this.openRedis(L), (pass) => this.hookPause(pass));
  }

  /** Compiles `body` to a function kept in the registry; returns its reference or an error text. */
  compile(body: Buffer): { ref: number } | { error: string } {
    const L = this.L;
    const status = lauxlib.luaL_loadbuffer(L, new Uint8Array(body), body.length, luaString(`@${this.chunkSource}`));
    if (status !== lua.LUA_OK) {
      const msg = toBytes(L, -1)?.toString('utf8') ?? 'unknown error';
      lua.lua_settop(L, 0);
      return { error: lua51Message(msg) };
    }
    return { ref: lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX) };
  }

  release(ref: number): void {
    lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, ref);
  }

  /**
   * Calls the function `ref` and writes its reply (or Redis's error text, naming `funcName`) to
   * run.out. EVAL passes KEYS/ARGV as globals, FCALL as the two arguments. The function runs as a
   * coroutine: a `suspendable` run that passes busy-reply-threshold yields at its next count hook
   * and is continued by calling the returned `resume` (each call runs another slice).
   */
  invoke(ref: number, run: ScriptRun, funcName: string, keys: Buffer[], args: Buffer[], asArguments: boolean): ScriptStep {
    const L = this.L;
    lua.lua_settop(L, 0);
    if (!asArguments) {
      this.pushList(L, keys);
      setHiddenGlobal(L, 'KEYS');
      this.pushList(L, args);
      setHiddenGlobal(L, 'ARGV');
    }
    // The script's function is the coroutine's body itself: no trampoline frame (an xpcall wrapper
    // cost a third of a short script's time); an error is shaped from the dead thread's stack below.
    const co = this.acquireThread();
    lua.lua_rawgeti(co, lua.LUA_REGISTRYINDEX, ref);
    if (asArguments) {
      this.pushList(co, keys);
      this.pushList(co, args);
    }
    run.thread = co;
    lua.lua_sethook(co, (L2) => this.onCount(L2), lua.LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    return this.step(co, run, funcName, asArguments ? 2 : 0);
  }

  /** For the prelude's coroutine.resume: whether the pause it saw came from the hook (taken once), or `pass` it on. */
  private hookPause(pass: boolean): boolean {
    const run = this.current;
    if (run === undefined) return false;
    if (pass) {
      run.innerPause = true;
      return true;
    }
    const paused = run.innerPause === true;
    run.innerPause = false;
    return paused;
  }

  private step(co: LuaState, run: ScriptRun, funcName: string, nargs: number): ScriptStep {
    run.innerPause = false;
    this.current = run;
    let status: number;
    try {
      status = lua.lua_resume(co, this.L, nargs);
    } finally {
      this.current = undefined;
    }
    if (status === lua.LUA_YIELD) return { done: false, resume: () => this.step(co, run, funcName, 0) };
    lua.lua_sethook(co, null, 0, 0);
    run.thread = undefined;
    let error: { message: string; counted: boolean } | undefined;
    if (status === lua.LUA_OK) {
      // The script's first value (nil when it returned none), as lua_pcall with one result gave it.
      if (lua.lua_gettop(co) === 0) lua.lua_pushnil(co);
      error = topLevelError(co, 1);
      if (error === undefined) writeLuaValue(co, 1, run.out, run.resp);
      lua.lua_settop(co, 0);
    } else {
      error = this.failureFromThread(co, funcName);
      // A thread that raised an error is dead: the next run gets a new one.
      this.dropThread();
    }
    lua.lua_settop(this.L, 0);
    return error === undefined ? { done: true } : { done: true, error };
  }

  /**
   * What Redis's __redis__err__handler makes of an error, read from the dead coroutine, whose stack
   * an error leaves in place: the error table's `err` (any other value becomes "ERR " .. tostring),
   * at the first frame that is not a C/JS function or the prelude's wrappers.
   */
  private failureFromThread(co: LuaState, funcName: string): { message: string; counted: boolean } {
    let source: string | undefined;
    let line: number | undefined;
    const ar = new lua.lua_Debug();
    for (let level = 0; lua.lua_getstack(co, level, ar) !== 0; level++) {
      lua.lua_getinfo(co, 'Sl', ar);
      const what = ar.what === null ? '' : Buffer.from(ar.what).toString('latin1');
      const src = ar.source === null ? '' : Buffer.from(ar.source).toString('latin1');
      if (what === 'C' || what === 'J' || src === '=prelude') continue;
      source = src;
      line = ar.currentline;
      break;
    }
    // The error value moves to the main state, which can still run a __tostring.
    const L = this.L;
    lua.lua_xmove(co, L, 1);
    let msg: string;
    let counted = false;
    if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
      // (The dead coroutine's stack has no room left: the table is read here, on the main state.)
      counted = statsCounted(L, -1);
      rawField(L, -1, 'err');
      msg = lua51Message(toBytes(L, -1)?.toString('utf8') ?? 'ERR unknown error');
    } else {
      msg = lua51Message(`ERR ${Buffer.from(lauxlib.luaL_tolstring(L, -1)).toString('utf8')}`);
    }
    lua.lua_settop(L, 0);
    const message = source !== undefined && line !== undefined && line >= 0 ? `${msg} script: ${funcName}, on ${source}:${formatG(line, 14)}.` : msg;
    return { message, counted };
  }

  /**
   * The coroutine scripts run in: one per runtime, used again once a run returned (a thread whose
   * function returned is back at its base and takes a new one), since making a thread per call
   * cost a tenth of a short script's time.
   */
  private acquireThread(): LuaState {
    if (this.thread !== undefined && lua.lua_status(this.thread) === lua.LUA_OK) {
      lua.lua_settop(this.thread, 0);
      return this.thread;
    }
    this.dropThread();
    const co = lua.lua_newthread(this.L);
    this.threadRef = lauxlib.luaL_ref(this.L, lua.LUA_REGISTRYINDEX);
    this.thread = co;
    return co;
  }

  private dropThread(): void {
    if (this.threadRef !== 0) lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, this.threadRef);
    this.threadRef = 0;
    this.thread = undefined;
  }

  /** SCRIPT KILL / FUNCTION KILL of the running script: it fails at its next count hook, and keeps failing there if it catches that. */
  kill(run: ScriptRun): void {
    run.killed = true;
    if (run.thread !== undefined) lua.lua_sethook(run.thread, (L2) => this.onCount(L2), lua.LUA_MASKCOUNT, 1);
  }

  /** Runs a library's top-level code (FUNCTION LOAD); returns the error text when it fails. */
  runLoader(ref: number): string | undefined {
    const L = this.L;
    lua.lua_settop(L, 0);
    lua.lua_getglobal(L, '__redis__err__handler');
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    // Redis stops a library's top-level code after 500 ms (FUNCTION LOAD timeout): a loop there would hold the node.
    const started = Date.now();
    lua.lua_sethook(L, (L2) => {
      if (Date.now() - started <= LOAD_TIMEOUT_MS) return;
      lua.lua_sethook(L2, null, 0, 0);
      lua.lua_createtable(L2, 0, 1);
      pushBytes(L2, 'ERR FUNCTION LOAD timeout');
      lua.lua_setfield(L2, -2, 'err');
      lua.lua_error(L2);
    }, lua.LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    let status: number;
    try {
      status = withLoadGlobals(L, () => lua.lua_pcall(L, 0, 0, 1));
    } finally {
      lua.lua_sethook(L, null, 0, 0);
    }
    let error: string | undefined;
    if (status !== lua.LUA_OK) {
      if (lua.lua_type(L, -1) === lua.LUA_TTABLE) rawField(L, -1, 'err');
      error = toBytes(L, -1)?.toString('utf8') ?? 'unknown error';
    }
    lua.lua_settop(L, 0);
    return error;
  }

  private pushList(L: LuaState, items: Buffer[]): void {
    lua.lua_createtable(L, items.length, 0);
    items.forEach((item, i) => {
      pushBytes(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  }

  /**
   * Every HOOK_INSTRUCTIONS instructions (every one once killed). Past busy-reply-threshold a
   * suspendable run yields to the event loop (only from its own thread, and where a yield may
   * cross the stack: not inside a comparator of table.sort, for one), so the node answers others
   * with -BUSY and can take SCRIPT KILL. A run that cannot be suspended (in MULTI, or at a cluster
   * coordinator) is stopped instead, if it has not written: that is what SCRIPT KILL would do.
   */
  private onCount(L: LuaState): void {
    const run = this.current;
    if (!run) return;
    if (run.killed) {
      // Redis's text, for FUNCTION KILL too; a table error carries no "user_script:N:" prefix.
      lua.lua_createtable(L, 0, 1);
      pushBytes(L, 'ERR Script killed by user with SCRIPT KILL...');
      lua.lua_setfield(L, -2, 'err');
      lua.lua_error(L);
    }
    if (run.timeLimitMs <= 0 || Date.now() - run.startedAt <= run.timeLimitMs) return;
    if (run.suspendable) {
      // The script's thread yields to the event loop; a coroutine the script made yields to its
      // resume, which passes the pause up (sandbox.ts), or it could never be interrupted.
      if (lua.lua_isyieldable(L)) {
        if (L !== run.thread) run.innerPause = true;
        run.yielded = true;
        lua.lua_yield(L, 0);
      }
      return;
    }
    if (!run.wrote) lauxlib.luaL_error(L, luaString(`Script exceeded busy-reply-threshold (${run.timeLimitMs} ms) and was stopped before it wrote anything`));
  }

  private openRedis(L: LuaState): void {
    lua.lua_createtable(L, 0, 24);
    setFunction(L, 'call', (L2) => redisCall(L2, this.current, true));
    setFunction(L, 'pcall', (L2) => redisCall(L2, this.current, false));
    setFunction(L, 'sha1hex', (L2) => {
      if (lua.lua_gettop(L2) !== 1) raise(L2, 'wrong number of arguments');
      pushBytes(L2, sha1hex(toBytes(L2, 1) ?? Buffer.alloc(0)));
      return 1;
    });
    setFunction(L, 'error_reply', (L2) => this.replyTable(L2, 'err'));
    setFunction(L, 'status_reply', (L2) => this.replyTable(L2, 'ok'));
    setFunction(L, 'log', (L2) => {
      if (lua.lua_gettop(L2) < 2) raise(L2, 'redis.log() requires two arguments or more.');
      if (lua.lua_type(L2, 1) !== lua.LUA_TNUMBER) raise(L2, 'First argument must be a number (log level).');
      const level = lua.lua_tonumber(L2, 1);
      if (level < 0 || level > 3 || !Number.isInteger(level)) raise(L2, 'Invalid debug level.');
      const parts: string[] = [];
      for (let i = 2; i <= lua.lua_gettop(L2); i++) parts.push(toBytes(L2, i)?.toString('utf8') ?? '');
      this.log(LOG_LEVELS[level]!, parts.join(' '));
      return 0;
    });
    setFunction(L, 'setresp', (L2) => {
      const run = this.current;
      if (lua.lua_gettop(L2) !== 1) raise(L2, 'redis.setresp() requires one argument.');
      const v = lua.lua_tonumber(L2, 1);
      if (v !== 2 && v !== 3) raise(L2, 'RESP version must be 2 or 3.');
      if (run) run.resp = v;
      return 0;
    });
    setFunction(L, 'replicate_commands', (L2) => { lua.lua_pushboolean(L2, true); return 1; });
    setFunction(L, 'set_repl', (L2) => {
      // Redis 7.0's text says "two" although set_repl takes one argument.
      if (lua.lua_gettop(L2) !== 1) raise(L2, 'redis.set_repl() requires two arguments.');
      const v = lua.lua_tonumber(L2, 1);
      if (!(v >= 0 && v <= 3)) raise(L2, 'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.');
      return 0;
    });
    if (this.chunkSource === 'user_function') setFunction(L, 'register_function', (L2) => registerFunction(L2, this.registering));
    // The debugger (redis-cli --ldb) is not offered: breakpoint() says so by returning false, as outside a debugging session.
    setFunction(L, 'breakpoint', (L2) => { lua.lua_pushboolean(L2, false); return 1; });
    setFunction(L, 'debug', () => 0);
    // Whether the calling user may run a command, by the same check as redis.call (redis-call.ts).
    setFunction(L, 'acl_check_cmd', (L2) => aclCheckCmd(L2, this.current));
    for (const [name, value] of [
      ['LOG_DEBUG', 0], ['LOG_VERBOSE', 1], ['LOG_NOTICE', 2], ['LOG_WARNING', 3],
      ['REPL_NONE', 0], ['REPL_AOF', 1], ['REPL_SLAVE', 2], ['REPL_REPLICA', 2], ['REPL_ALL', 3],
    ] as const) {
      lua.lua_pushnumber(L, value);
      lua.lua_setfield(L, -2, name);
    }
    pushBytes(L, REDIS_VERSION);
    lua.lua_setfield(L, -2, 'REDIS_VERSION');
    const [major, minor, patch] = REDIS_VERSION.split('.').map(Number) as [number, number, number];
    lua.lua_pushnumber(L, (major << 16) | (minor << 8) | patch);
    lua.lua_setfield(L, -2, 'REDIS_VERSION_NUM');
  }

  /** redis.error_reply / redis.status_reply: {err=…} (code normalised as Redis does) or {ok=…}. */
  private replyTable(L: LuaState, field: 'err' | 'ok'): number {
    if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, 1) !== lua.LUA_TSTRING) {
      // Redis returns (does not raise) this error, so the script's reply is the error itself.
      lua.lua_createtable(L, 0, 1);
      pushBytes(L, 'ERR wrong number or type of arguments');
      lua.lua_setfield(L, -2, 'err');
      return 1;
    }
    const text = toBytes(L, 1)!.toString('utf8');
    lua.lua_createtable(L, 0, 1);
    pushBytes(L, field === 'err' ? errorText(text.startsWith('-') ? text : `-${text}`) : text);
    lua.lua_setfield(L, -2, field);
    return 1;
  }

}

/**
 * Lua 5.3 words some messages differently from the 5.1 scripts were written against; the two
 * scripts most often meet are rewritten to 5.1's text ("near '<eof>'", "attempt to index local 't'
 * (a nil value)").
 */
export function lua51Message(msg: string): string {
  return msg
    .replace(/near <eof>/g, "near '<eof>'")
    .replace(/attempt to (\w+) a (\w+) value \((\w+) '([^']*)'\)/g, "attempt to $1 $3 '$4' (a $2 value)");
}

