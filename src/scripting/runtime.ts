import { createHash } from 'node:crypto';
import { ReplyError } from '../core/errors.js';
import { keyPositions, type CommandContext, type CommandSpec } from '../commands/spec.js';
import { keySlot } from '../cluster/slot.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import { formatG, lauxlib, lua, luaString, type LuaState } from './fengari-api.js';
import { pushBytes, raise, setFunction, toBytes } from './lua-bytes.js';
import { createSandbox, setHiddenGlobal, withLoadGlobals } from './sandbox.js';
import { pushReply, writeLuaValue } from './convert.js';
import { readReplies } from './resp-reply.js';
import { CALL_ERR, errorText } from './errors.js';
import { REDIS_VERSION } from '../commands/version.js';

/** One script or function invocation: what redis.call needs to know while it runs. */
export interface ScriptRun {
  ctx: CommandContext;
  /** EVAL_RO / FCALL_RO / a no-writes script: write commands are refused. */
  readOnly: boolean;
  /** Cluster mode: the slot of the declared keys (undefined: no keys declared). */
  slot: number | undefined;
  declaredKeys: Set<string>;
  /** RESP version redis.setresp chose for redis.call replies. */
  resp: 2 | 3;
  wrote: boolean;
  startedAt: number;
  timeLimitMs: number;
}

/** Instructions between two checks of the running time. */
const HOOK_INSTRUCTIONS = 100_000;
const LOG_LEVELS = ['debug', 'verbose', 'notice', 'warning'] as const;
const WRITE_FLAGS = ['write', 'may_replicate'] as const;

export function sha1hex(body: Buffer | string): string {
  return createHash('sha1').update(body).digest('hex');
}

/** Redis's `%.17g` for number arguments of redis.call. */
function numberArg(n: number): string {
  return formatG(n, 17);
}

/** The spec a command line resolves to, down to its subcommand (arity and flags live there). */
function resolve(table: ReadonlyMap<string, CommandSpec>, argv: Buffer[]): { top: CommandSpec; spec: CommandSpec } | undefined {
  const top = table.get(argv[0]!.toString('latin1').toLowerCase());
  if (top === undefined) return undefined;
  if (!top.subcommands || argv.length < 2) return { top, spec: top };
  const subName = `${top.name}|${argv[1]!.toString('latin1').toLowerCase()}`;
  return { top, spec: top.subcommands.find((s) => s.name === subName) ?? top };
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
  registering: ((name: string, fnRef: number, flags: string[], description: string | undefined) => void) | undefined;

  constructor(private readonly chunkSource: 'user_script' | 'user_function', private readonly log: (level: string, msg: string) => void) {
    this.L = createSandbox((L) => this.openRedis(L));
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
   * run.ctx.out. EVAL passes KEYS/ARGV as globals, FCALL as the two arguments.
   */
  invoke(ref: number, run: ScriptRun, funcName: string, keys: Buffer[], args: Buffer[], asArguments: boolean): void {
    const L = this.L;
    lua.lua_settop(L, 0);
    lua.lua_getglobal(L, '__redis__err__handler');
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    this.pushList(keys);
    this.pushList(args);
    if (!asArguments) {
      setHiddenGlobal(L, 'ARGV');
      setHiddenGlobal(L, 'KEYS');
    }
    this.current = run;
    lua.lua_sethook(L, (L2) => this.checkTime(L2), lua.LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    let status: number;
    try {
      status = lua.lua_pcall(L, asArguments ? 2 : 0, 1, 1);
    } finally {
      lua.lua_sethook(L, null, 0, 0);
      this.current = undefined;
    }
    const out = run.ctx.out;
    if (status === lua.LUA_OK) writeLuaValue(L, -1, out, run.resp);
    else out.error(this.failureText(funcName));
    lua.lua_settop(L, 0);
  }

  /** Runs a library's top-level code (FUNCTION LOAD); returns the error text when it fails. */
  runLoader(ref: number): string | undefined {
    const L = this.L;
    lua.lua_settop(L, 0);
    lua.lua_getglobal(L, '__redis__err__handler');
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    const status = withLoadGlobals(L, () => lua.lua_pcall(L, 0, 0, 1));
    let error: string | undefined;
    if (status !== lua.LUA_OK) {
      if (lua.lua_type(L, -1) === lua.LUA_TTABLE) lua.lua_getfield(L, -1, 'err');
      error = toBytes(L, -1)?.toString('utf8') ?? 'unknown error';
    }
    lua.lua_settop(L, 0);
    return error;
  }

  /** Redis 7.0's "<err> script: <name>, on <source>:<line>." for an error the handler shaped. */
  private failureText(funcName: string): string {
    const L = this.L;
    if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
      return `ERR Error running script ${funcName}, ${(toBytes(L, -1)?.toString('utf8') ?? 'execution failure').slice(0, 100)}`;
    }
    lua.lua_getfield(L, -1, 'err');
    const msg = lua51Message(toBytes(L, -1)?.toString('utf8') ?? 'ERR unknown error');
    lua.lua_getfield(L, -2, 'source');
    const source = toBytes(L, -1)?.toString('utf8');
    lua.lua_getfield(L, -3, 'line');
    const line = lua.lua_type(L, -1) === lua.LUA_TNUMBER ? formatG(lua.lua_tonumber(L, -1), 14) : undefined;
    lua.lua_pop(L, 3);
    return source !== undefined && line !== undefined ? `${msg} script: ${funcName}, on ${source}:${line}.` : msg;
  }

  private pushList(items: Buffer[]): void {
    lua.lua_createtable(this.L, items.length, 0);
    items.forEach((item, i) => {
      pushBytes(this.L, item);
      lua.lua_rawseti(this.L, -2, i + 1);
    });
  }

  /** Stops a script that has run past the time limit, unless it already wrote (Redis's rule for SCRIPT KILL). */
  private checkTime(L: LuaState): void {
    const run = this.current;
    if (!run || run.wrote || run.timeLimitMs <= 0) return;
    if (Date.now() - run.startedAt > run.timeLimitMs) {
      lauxlib.luaL_error(L, luaString(`Script exceeded busy-reply-threshold (${run.timeLimitMs} ms) and was stopped before it wrote anything`));
    }
  }

  private openRedis(L: LuaState): void {
    lua.lua_createtable(L, 0, 24);
    setFunction(L, 'call', (L2) => this.call(L2, true));
    setFunction(L, 'pcall', (L2) => this.call(L2, false));
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
      if (lua.lua_gettop(L2) !== 1) raise(L2, 'redis.set_repl() requires one argument.');
      const v = lua.lua_tonumber(L2, 1);
      if (!(v >= 0 && v <= 3)) raise(L2, 'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.');
      return 0;
    });
    if (this.chunkSource === 'user_function') setFunction(L, 'register_function', (L2) => this.registerFunction(L2));
    // The debugger (redis-cli --ldb) is not offered: breakpoint() says so by returning false, as outside a debugging session.
    setFunction(L, 'breakpoint', (L2) => { lua.lua_pushboolean(L2, false); return 1; });
    setFunction(L, 'debug', () => 0);
    setFunction(L, 'acl_check_cmd', (L2) => {
      if (lua.lua_gettop(L2) === 0) raise(L2, 'ERR Please specify at least one argument for this redis lib call');
      const name = toBytes(L2, 1);
      if (name === undefined || !this.current?.ctx.node.commands.has(name.toString('latin1').toLowerCase())) raise(L2, 'ERR Invalid command passed to redis.acl_check_cmd()');
      lua.lua_pushboolean(L2, true);
      return 1;
    });
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
      raise(L, field === 'err' ? 'wrong number or type of arguments' : 'wrong number or type of arguments');
    }
    const text = toBytes(L, 1)!.toString('utf8');
    lua.lua_createtable(L, 0, 1);
    pushBytes(L, field === 'err' ? errorText(text.startsWith('-') ? text : `-${text}`) : text);
    lua.lua_setfield(L, -2, field);
    return 1;
  }

  /** Pushes {err=text} and raises it (redis.call) or returns it (redis.pcall). */
  private fail(L: LuaState, raw: string, raiseIt: boolean): number {
    lua.lua_settop(L, 0);
    lua.lua_createtable(L, 0, 1);
    pushBytes(L, errorText(raw));
    lua.lua_setfield(L, -2, 'err');
    if (raiseIt) lua.lua_error(L);
    return 1;
  }

  private call(L: LuaState, raiseIt: boolean): number {
    const run = this.current;
    const argc = lua.lua_gettop(L);
    if (run === undefined) return this.fail(L, 'redis.call is not available while a library is being loaded', raiseIt);
    if (argc === 0) return this.fail(L, CALL_ERR.noArgs, raiseIt);
    const argv: Buffer[] = [];
    for (let i = 1; i <= argc; i++) {
      const t = lua.lua_type(L, i);
      if (t === lua.LUA_TSTRING) argv.push(toBytes(L, i)!);
      else if (t === lua.LUA_TNUMBER) argv.push(Buffer.from(numberArg(lua.lua_tonumber(L, i)), 'latin1'));
      else return this.fail(L, CALL_ERR.badArg, raiseIt);
    }
    const found = resolve(run.ctx.node.commands, argv);
    if (found === undefined) return this.fail(L, CALL_ERR.unknown, raiseIt);
    const { top, spec } = found;
    const arityOk = (s: CommandSpec): boolean => (s.arity > 0 ? argv.length === s.arity : argv.length >= -s.arity);
    if (!arityOk(top) || !arityOk(spec)) return this.fail(L, CALL_ERR.arity, raiseIt);
    if (spec.flags.includes('noscript') || top.flags.includes('noscript')) return this.fail(L, CALL_ERR.noscript, raiseIt);
    const writes = WRITE_FLAGS.some((f) => spec.flags.includes(f));
    if (writes && run.readOnly) return this.fail(L, CALL_ERR.readOnly, raiseIt);
    const clusterError = this.checkCluster(run, top, argv);
    if (clusterError !== undefined) return this.fail(L, clusterError, raiseIt);
    const out = new ReplyWriter(run.resp, 256);
    if (writes) {
      run.wrote = true;
      run.ctx.session.writes++;
    }
    try {
      top.run({ out, ks: run.ctx.ks, session: run.ctx.session, node: run.ctx.node }, argv);
    } catch (err) {
      if (err instanceof ReplyError) out.error(err.message);
      else if (err instanceof Error && err.message.startsWith('key was not fetched')) out.error(`ERR ${CALL_ERR.undeclared}`);
      else throw err;
    }
    const reply = readReplies(out.take())[0] ?? { kind: 'null' as const };
    lua.lua_settop(L, 0);
    if (reply.kind === 'error') return this.fail(L, `-${reply.text.toString('utf8')}`, raiseIt);
    pushReply(L, reply, run.resp);
    return 1;
  }

  /** Cluster mode: every key a script touches is one of its declared keys, all in one slot. */
  private checkCluster(run: ScriptRun, spec: CommandSpec, argv: Buffer[]): string | undefined {
    if (run.ctx.node.cluster === undefined) return undefined;
    for (const i of keyPositions(spec, argv)) {
      const key = argv[i]!;
      if (run.slot === undefined) return CALL_ERR.nonLocal;
      if (keySlot(key) !== run.slot) return CALL_ERR.crossSlot;
      if (!run.declaredKeys.has(key.toString('latin1'))) return CALL_ERR.undeclared;
    }
    return undefined;
  }

  private registerFunction(L: LuaState): number {
    const register = this.registering;
    if (register === undefined) raise(L, 'redis.register_function can only be called on FUNCTION LOAD command');
    let name: Buffer | undefined;
    let flags: string[] = [];
    let description: string | undefined;
    if (lua.lua_gettop(L) === 2) {
      name = toBytes(L, 1);
      if (lua.lua_type(L, 1) !== lua.LUA_TSTRING || name === undefined) raise(L, 'first argument to redis.register_function must be a string');
      if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) raise(L, 'second argument to redis.register_function must be a function');
      lua.lua_pushvalue(L, 2);
    } else if (lua.lua_gettop(L) === 1 && lua.lua_type(L, 1) === lua.LUA_TTABLE) {
      let fnAt = 0;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, 1)) {
        const key = lua.lua_type(L, -2) === lua.LUA_TSTRING ? toBytes(L, -2)!.toString('latin1') : '';
        if (key === 'function_name') name = toBytes(L, -1);
        else if (key === 'callback' && lua.lua_type(L, -1) === lua.LUA_TFUNCTION) {
          lua.lua_pushvalue(L, -1);
          lua.lua_insert(L, 2);
          fnAt = 2;
          lua.lua_pop(L, 1);
          continue;
        } else if (key === 'description') description = toBytes(L, -1)?.toString('utf8');
        else if (key === 'flags') flags = this.readFlags(L, lua.lua_gettop(L));
        else raise(L, 'unknown argument given to redis.register_function');
        lua.lua_pop(L, 1);
      }
      if (name === undefined) raise(L, 'redis.register_function must get a function name argument');
      if (fnAt === 0) raise(L, 'redis.register_function must get a callback argument');
      lua.lua_pushvalue(L, fnAt);
    } else raise(L, 'wrong number of arguments to redis.register_function');
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    register(name!.toString('latin1'), ref, flags, description);
    return 0;
  }

  private readFlags(L: LuaState, idx: number): string[] {
    if (lua.lua_type(L, idx) !== lua.LUA_TTABLE) raise(L, 'flags argument to redis.register_function must be a table representing function flags');
    const out: string[] = [];
    for (let j = 1; lua.lua_rawgeti(L, idx, j) !== lua.LUA_TNIL; j++) {
      const f = toBytes(L, -1)?.toString('latin1');
      lua.lua_pop(L, 1);
      if (f === undefined || !FUNCTION_FLAGS.includes(f)) raise(L, 'unknown flag given');
      out.push(f);
    }
    lua.lua_pop(L, 1);
    return out;
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

/** Flags a script shebang or a registered function may carry (Redis 7.0). */
export const FUNCTION_FLAGS = ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'];
