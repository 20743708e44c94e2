import { OOM_ERROR } from '../server/eviction/memory-guard.js';
import { ReplyError } from '../core/errors.js';
import { callName, hiddenFromMonitor, keyPositions, replicatesLikeWrite, subcommandOf, type CommandSpec } from '../commands/spec.js';
import { recordCommandRun } from '../server/command-record.js';
import { keySlot } from '../cluster/slot.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import { formatG, lua, type LuaState } from './fengari-api.js';
import { pushBytes, toBytes } from './lua-bytes.js';
import { pushReply } from './convert.js';
import { readReplies, type RespValue } from './resp-reply.js';
import { CALL_ERR, errorText } from './errors.js';
import type { ScriptRun } from './runtime.js';
import { checkCommand } from '../acl/acl-check.js';
import { logAclEvent } from '../server/acl-sessions.js';

/** Command flags that make a command a write for read-only scripts and for the cluster's key locks. */
const WRITE_FLAGS = ['write', 'may_replicate'] as const;

/** Redis's `%.17g` for number arguments of redis.call. */
function numberArg(n: number): string {
  return formatG(n, 17);
}

/** The spec a command line resolves to, down to its subcommand (arity and flags live there). */
function resolve(table: ReadonlyMap<string, CommandSpec>, argv: Buffer[]): { top: CommandSpec; spec: CommandSpec } | undefined {
  const top = table.get(argv[0]!.toString('latin1').toLowerCase());
  if (top === undefined) return undefined;
  return { top, spec: subcommandOf(top, argv) ?? top };
}

/**
 * Pushes {err=text} and raises it (redis.call) or returns it (redis.pcall). `counted`: INFO
 * errorstats counted it as the called command's error, and the table says so, as Redis 7.0's
 * does (ignore_error_stats_update), so the script failing with it is not counted twice.
 */
function fail(L: LuaState, raw: string, raiseIt: boolean, counted = false): number {
  lua.lua_settop(L, 0);
  lua.lua_createtable(L, 0, 2);
  pushBytes(L, errorText(raw));
  lua.lua_setfield(L, -2, 'err');
  if (counted) {
    lua.lua_pushboolean(L, true);
    lua.lua_setfield(L, -2, 'ignore_error_stats_update');
  }
  if (raiseIt) lua.lua_error(L);
  return 1;
}

/**
 * A call refused before it ran (Redis's scriptCall error path): counted in INFO errorstats and, once
 * the command is known, as its rejected_calls, then failed as fail() does.
 */
function refuse(L: LuaState, run: ScriptRun, raw: string, raiseIt: boolean, spec?: CommandSpec, argv?: Buffer[]): number {
  const stats = run.ctx.node.stats;
  stats.noteErrorReply(errorText(raw));
  if (spec !== undefined && argv !== undefined) stats.noteRejected(callName(spec, argv));
  return fail(L, raw, raiseIt, true);
}

/**
 * redis.call (raiseIt) and redis.pcall: runs one command through the command table against the
 * keyspace the script command received, with Redis 7.0's checks and texts, and pushes the reply as
 * Lua sees it (or raises / returns the error table).
 */
/** The arguments of a redis lib call as command words; a string is the error text. */
function callArgs(L: LuaState): Buffer[] | string {
  const argc = lua.lua_gettop(L);
  if (argc === 0) return CALL_ERR.noArgs;
  const argv: Buffer[] = [];
  for (let i = 1; i <= argc; i++) {
    const t = lua.lua_type(L, i);
    if (t === lua.LUA_TSTRING) argv.push(toBytes(L, i)!);
    else if (t === lua.LUA_TNUMBER) argv.push(Buffer.from(numberArg(lua.lua_tonumber(L, i)), 'latin1'));
    else return CALL_ERR.badArg;
  }
  return argv;
}

/**
 * Scripts run with their caller's ACL permissions (Redis 7.0 scriptVerifyACL): a denied command is
 * logged with context `lua` and answers Redis's script-side text.
 */
function aclDenial(run: ScriptRun, spec: CommandSpec, argv: Buffer[]): string | undefined {
  const { session, node } = run.ctx;
  const user = session.user;
  if (user === undefined || user.unrestricted) return undefined;
  const cmd = node.acl.commands.of(spec);
  if (cmd === undefined) return undefined;
  const v = checkCommand(user, cmd, argv);
  if (v.ok) return undefined;
  logAclEvent(node.acl, session, { reason: v.reason, context: 'lua', object: v.reason === 'command' ? Buffer.from(cmd.fullName) : argv[v.index]! });
  return CALL_ERR[v.reason === 'command' ? 'aclCommand' : v.reason === 'key' ? 'aclKey' : 'aclChannel'];
}

/** redis.acl_check_cmd(command, args…): whether the caller's user may run it (true / false). */
export function aclCheckCmd(L: LuaState, run: ScriptRun | undefined): number {
  const argv = callArgs(L);
  if (typeof argv === 'string') return fail(L, argv, true);
  const found = run === undefined ? undefined : resolve(run.ctx.node.commands, argv);
  const cmd = found === undefined ? undefined : run!.ctx.node.acl.commands.of(found.spec);
  if (cmd === undefined) return fail(L, 'Invalid command passed to redis.acl_check_cmd()', true);
  const user = run!.ctx.session.user;
  lua.lua_settop(L, 0);
  lua.lua_pushboolean(L, user === undefined || checkCommand(user, cmd, argv).ok);
  return 1;
}

export function redisCall(L: LuaState, run: ScriptRun | undefined, raiseIt: boolean): number {
  if (run === undefined) return fail(L, 'redis.call is not available while a library is being loaded', raiseIt);
  const argv = callArgs(L);
  if (typeof argv === 'string') return fail(L, argv, raiseIt);
  const found = resolve(run.ctx.node.commands, argv);
  if (found === undefined) return refuse(L, run, CALL_ERR.unknown, raiseIt);
  const { top, spec } = found;
  const arityOk = (s: CommandSpec): boolean => (s.arity > 0 ? argv.length === s.arity : argv.length >= -s.arity);
  if (!arityOk(top) || !arityOk(spec)) return refuse(L, run, CALL_ERR.arity, raiseIt, top, argv);
  if ((spec.flags.includes('noscript') || top.flags.includes('noscript')) && !run.ctx.node.debug.denyScriptsDisabled) return refuse(L, run, CALL_ERR.noscript, raiseIt, top, argv);
  const denied = aclDenial(run, spec, argv);
  if (denied !== undefined) return refuse(L, run, denied, raiseIt, top, argv);
  const writes = WRITE_FLAGS.some((f) => spec.flags.includes(f));
  if (replicatesLikeWrite(spec) && run.readOnly) return refuse(L, run, CALL_ERR.readOnly, raiseIt, top, argv);
  const clusterError = checkCluster(run, top, argv);
  if (clusterError !== undefined) return refuse(L, run, clusterError, raiseIt, top, argv);
  // Redis 7.0 (scriptVerifyOOM): a script that found memory full may still read and may finish a
  // write it began, but may not start growing the data set.
  if (run.oomAtStart === true && !run.wrote && (spec.flags.includes('denyoom') || top.flags.includes('denyoom'))) return refuse(L, run, `-${OOM_ERROR}`, raiseIt, top, argv);
  // One writer for every call, read in place: a command never runs a script, so calls never nest
  // (a fresh writer and a copy of its bytes per call were a tenth of a short script's time).
  const out = callDepth === 0 ? CALL_OUT : new ReplyWriter(run.resp, 256);
  out.proto = run.resp;
  out.truncate(0);
  if (writes) {
    run.wrote = true;
    run.ctx.session.writes++;
  }
  callDepth++;
  let reply: RespValue;
  let errorReply: string | undefined;
  try {
    const started = performance.now();
    let failed = false;
    try {
      // The script's writes notify as the same commands sent by a client would (Redis does too).
      const ctx = { out, ks: run.ctx.ks, session: run.ctx.session, node: run.ctx.node, fromScript: true };
      run.ctx.node.notifier.run(spec.name, spec.flags, argv, run.ctx.ks, (ks) => top.run(ks === ctx.ks ? ctx : { ...ctx, ks }, argv));
    } catch (err) {
      if (!(err instanceof ReplyError)) throw err;
      out.error(err.message);
      failed = true;
      // Counted here, as the called command's error (Redis counts it in call()).
      if (!err.alreadyCounted) run.ctx.node.stats.noteErrorReply(err.message);
    }
    // Counted as Redis's call() counts a script's commands: commandstats, latency, SLOWLOG.
    const node = run.ctx.node;
    // CLIENT TRACKING: a read by the script makes the caller remember the script's declared keys,
    // as Redis remembers the keys of the command its script caller ran.
    const caller = run.ctx.session;
    if (caller.tracking !== undefined && !caller.tracking.bcast && spec.flags.includes('readonly')) node.tracking.remember(caller, run.keys);
    node.stats.totalCommandsProcessed++;
    recordCommandRun(node.stats, node.config, run.ctx.session, top, argv, performance.now() - started, failed, true);
    // Redis shows each command a script ran to monitors once it ran (an error it answered included),
    // except admin and skip_monitor ones; those refused before running are not shown.
    if (run.ctx.node.monitor.size > 0 && !hiddenFromMonitor(top, argv)) run.ctx.node.monitor.feedScriptCall(run.ctx.session, argv);
    reply = readReplies(out.view())[0] ?? { kind: 'null' as const };
    lua.lua_settop(L, 0);
    // The reply's strings still point into the writer: they become Lua strings before it is reused.
    if (reply.kind === 'error') errorReply = `-${reply.text.toString('utf8')}`;
    else pushReply(L, reply, run.resp);
  } finally {
    callDepth--;
    if (out === CALL_OUT) out.release();
  }
  if (errorReply !== undefined) return fail(L, errorReply, raiseIt, true);
  return 1;
}

const CALL_OUT = new ReplyWriter(2, 4096);
let callDepth = 0;

/**
 * Cluster mode: every key a script touches hashes to its declared keys' slot, as Redis Cluster
 * requires. A key it did not declare is fine there (BullMQ builds job keys from a prefix): the
 * coordinator runs the script again with that key fetched (Coordinator.fetchMore).
 */
function checkCluster(run: ScriptRun, spec: CommandSpec, argv: Buffer[]): string | undefined {
  if (run.ctx.node.cluster === undefined) return undefined;
  for (const i of keyPositions(spec, argv)) {
    if (run.slot === undefined) return CALL_ERR.nonLocal;
    if (keySlot(argv[i]!) !== run.slot) return CALL_ERR.crossSlot;
  }
  return undefined;
}
