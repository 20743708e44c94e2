import { ReplyError, subcommandSyntaxError } from '../core/errors.js';
import { lower } from './args.js';
import { globMatch } from './glob.js';
import { command, container, type CommandContext, type CommandSpec } from './spec.js';
import { numkeysIndexes, splitKeys } from './scripting.js';
import { scriptingFor } from '../scripting/engine.js';
import { BUSY_EVAL } from '../scripting/busy-replies.js';
import { FUNCTION_HELP, helpReply } from './help-texts.js';


function functionLoad(ctx: CommandContext, argv: Buffer[]): void {
  let replace = false;
  let i = 2;
  for (; i < argv.length - 1; i++) {
    if (lower(argv[i]!) === 'replace') replace = true;
    else throw new ReplyError(`ERR Unknown option given: ${argv[i]!.toString('latin1')}`);
  }
  if (i !== argv.length - 1) throw new ReplyError('ERR Function code is missing');
  // Cluster clients send FUNCTION LOAD to every node: loading the same library again is not an error there.
  ctx.out.bulk(scriptingFor(ctx.node).loadLibrary(argv[i]!, replace, ctx.node.cluster !== undefined));
}

function functionList(ctx: CommandContext, argv: Buffer[]): void {
  let withCode = false;
  let pattern: Buffer | undefined;
  for (let i = 2; i < argv.length; i++) {
    const opt = lower(argv[i]!);
    if (opt === 'withcode' && !withCode) withCode = true;
    else if (opt === 'libraryname' && pattern === undefined) {
      if (i + 1 >= argv.length) throw new ReplyError('ERR library name argument was not given');
      pattern = argv[++i]!;
    }
    else throw new ReplyError(`ERR Unknown argument ${argv[i]!.toString('latin1')}`);
  }
  const libs = [...scriptingFor(ctx.node).libraries.values()]
    .filter((l) => pattern === undefined || globMatch(pattern, Buffer.from(l.name)))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const out = ctx.out;
  out.arrayHeader(libs.length);
  for (const lib of libs) {
    out.mapHeader(withCode ? 4 : 3);
    out.bulk('library_name');
    out.bulk(lib.name);
    out.bulk('engine');
    out.bulk('LUA');
    out.bulk('functions');
    out.arrayHeader(lib.functions.length);
    for (const fn of lib.functions) {
      out.mapHeader(3);
      out.bulk('name');
      out.bulk(fn.name);
      out.bulk('description');
      if (fn.description === undefined) out.nullBulk();
      else out.bulk(fn.description);
      out.bulk('flags');
      out.setHeader(fn.flags.length);
      for (const f of fn.flags) out.simple(f);
    }
    if (withCode) {
      out.bulk('library_code');
      out.bulk(lib.code);
    }
  }
}

function functionRestore(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length > 4) throw subcommandSyntaxError(argv);
  const policy = argv.length === 4 ? lower(argv[3]!) : 'append';
  if (policy !== 'flush' && policy !== 'append' && policy !== 'replace') {
    throw new ReplyError('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
  }
  scriptingFor(ctx.node).restore(argv[2]!, policy);
  ctx.out.ok();
}

function functionStats(ctx: CommandContext): void {
  const engine = scriptingFor(ctx.node);
  const out = ctx.out;
  const running = engine.runningScript();
  // As Redis 7.0: FUNCTION STATS is allowed while a function is busy, not while an EVAL script is.
  if (running?.isEval === true) throw new ReplyError(BUSY_EVAL);
  out.mapHeader(2);
  out.bulk('running_script');
  if (running === undefined) out.nullBulk();
  else {
    out.mapHeader(3);
    out.bulk('name');
    out.bulk(running.name);
    out.bulk('command');
    out.arrayHeader(running.argv.length);
    for (const a of running.argv) out.bulk(a);
    out.bulk('duration_ms');
    out.int(running.durationMs);
  }
  out.bulk('engines');
  out.mapHeader(1);
  out.bulk('LUA');
  out.mapHeader(2);
  out.bulk('libraries_count');
  out.int(engine.libraries.size);
  out.bulk('functions_count');
  out.int(engine.functionCount());
}

function fcall(readOnly: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const { keys, args } = splitKeys(argv, 'ERR Bad number of keys provided');
    scriptingFor(ctx.node).fcall(ctx, argv[1]!.toString('latin1'), keys, args, readOnly, argv);
  };
}

export const functionCommands: CommandSpec[] = [
  command({ name: 'fcall', arity: -3, flags: ['noscript', 'stale', 'skip_monitor', 'may_replicate', 'no_mandatory_keys'], categories: ['slow', 'scripting'], keyIndexes: numkeysIndexes, run: fcall(false) }),
  command({ name: 'fcall_ro', arity: -3, flags: ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'readonly'], categories: ['slow', 'scripting'], keyIndexes: numkeysIndexes, run: fcall(true) }),
  container('function', ['noscript'], ['slow'], [
    { name: 'load', categories: ['write', 'slow', 'scripting'], arity: -3, flags: ['noscript', 'write', 'denyoom'], run: functionLoad },
    { name: 'list', categories: ['slow', 'scripting'], arity: -2, flags: ['noscript'], run: functionList },
    { name: 'delete', categories: ['write', 'slow', 'scripting'], arity: 3, flags: ['noscript', 'write'], run: (c, a) => { scriptingFor(c.node).deleteLibrary(a[2]!.toString('latin1')); c.out.ok(); } },
    {
      name: 'flush', categories: ['write', 'slow', 'scripting'], arity: -2, flags: ['noscript', 'write'], run: (c, a) => {
        if (a.length > 3) throw subcommandSyntaxError(a);
        if (a.length === 3 && !['sync', 'async'].includes(lower(a[2]!))) {
          throw new ReplyError('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
        }
        scriptingFor(c.node).flushLibraries();
        c.out.ok();
      },
    },
    { name: 'dump', categories: ['slow', 'scripting'], arity: 2, flags: ['noscript'], run: (c) => c.out.bulk(scriptingFor(c.node).dump()) },
    { name: 'restore', categories: ['write', 'slow', 'scripting'], arity: -3, flags: ['noscript', 'write', 'denyoom'], run: functionRestore },
    { name: 'stats', categories: ['slow', 'scripting'], arity: 2, flags: ['noscript', 'allow_busy'], run: functionStats },
    { name: 'kill', categories: ['slow', 'scripting'], arity: 2, flags: ['noscript', 'allow_busy'], run: (c) => { scriptingFor(c.node).kill(false); c.out.ok(); } },
    { name: 'help', categories: ['slow', 'scripting'], arity: 2, flags: ['loading', 'stale'], run: (c) => helpReply(c, FUNCTION_HELP) },
  ]),
];
