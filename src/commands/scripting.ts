import { ReplyError } from '../core/errors.js';
import { intArg, lower } from './args.js';
import { command, container, type CommandContext, type CommandSpec } from './spec.js';
import { scriptingFor } from '../scripting/engine.js';

/**
 * Keys and arguments of `<cmd> <script|sha|function> numkeys key… arg…` (EVAL*, FCALL*), with
 * Redis's texts for a bad numkeys.
 */
export function splitKeys(argv: Buffer[], notANumber?: string): { keys: Buffer[]; args: Buffer[] } {
  let n: number;
  try {
    n = intArg(argv[2]!);
  } catch (err) {
    // FCALL words it differently from EVAL.
    if (notANumber !== undefined) throw new ReplyError(notANumber);
    throw err;
  }
  if (n < 0) throw new ReplyError("ERR Number of keys can't be negative");
  if (n > argv.length - 3) throw new ReplyError("ERR Number of keys can't be greater than number of args");
  return { keys: argv.slice(3, 3 + n), args: argv.slice(3 + n) };
}

/** Key positions for routing (movablekeys): the numkeys arguments after the third; none when numkeys is bad. */
export function numkeysIndexes(argv: readonly Buffer[]): number[] {
  const n = Number(argv[2]?.toString('latin1'));
  if (!Number.isInteger(n) || n < 0 || n > argv.length - 3) return [];
  return Array.from({ length: n }, (_, i) => 3 + i);
}

function evalCommand(bySha: boolean, readOnly: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const { keys, args } = splitKeys(argv);
    scriptingFor(ctx.node).eval(ctx, argv[1]!, bySha, keys, args, readOnly, argv);
  };
}

const SCRIPT_HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'HELP',
  '    Print this help.',
];

const EVAL_FLAGS = ['noscript', 'stale', 'skip_monitor', 'may_replicate', 'no_mandatory_keys'] as const;
const EVAL_RO_FLAGS = ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'readonly'] as const;

export const scriptingCommands: CommandSpec[] = [
  command({ name: 'eval', arity: -3, flags: EVAL_FLAGS, categories: ['slow', 'scripting'], keyIndexes: numkeysIndexes, run: evalCommand(false, false) }),
  command({ name: 'evalsha', arity: -3, flags: EVAL_FLAGS, categories: ['slow', 'scripting'], keyIndexes: numkeysIndexes, run: evalCommand(true, false) }),
  command({ name: 'eval_ro', arity: -3, flags: EVAL_RO_FLAGS, categories: ['slow', 'scripting'], keyIndexes: numkeysIndexes, run: evalCommand(false, true) }),
  command({ name: 'evalsha_ro', arity: -3, flags: EVAL_RO_FLAGS, categories: ['slow', 'scripting'], keyIndexes: numkeysIndexes, run: evalCommand(true, true) }),
  container('script', ['noscript'], ['slow'], [
    { name: 'load', categories: ['slow', 'scripting'], arity: 3, flags: ['noscript', 'stale'], run: (c, a) => c.out.bulk(scriptingFor(c.node).load(a[2]!).sha) },
    {
      name: 'exists', categories: ['slow', 'scripting'], arity: -3, flags: ['noscript', 'stale'], run: (c, a) => {
        const engine = scriptingFor(c.node);
        c.out.arrayHeader(a.length - 2);
        for (let i = 2; i < a.length; i++) c.out.int(engine.exists(a[i]!.toString('latin1')) ? 1 : 0);
      },
    },
    {
      name: 'flush', categories: ['slow', 'scripting'], arity: -2, flags: ['noscript'], run: (c, a) => {
        if (a.length > 3 || (a.length === 3 && !['sync', 'async'].includes(lower(a[2]!)))) {
          throw new ReplyError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
        }
        scriptingFor(c.node).flushScripts();
        c.out.ok();
      },
    },
    // A script past busy-reply-threshold yields between slices, so KILL can arrive (engine.ts, execute).
    { name: 'kill', categories: ['slow', 'scripting'], arity: 2, flags: ['noscript', 'allow_busy'], run: (c) => { scriptingFor(c.node).kill(true); c.out.ok(); } },
    { name: 'help', categories: ['slow', 'scripting'], arity: 2, flags: ['loading', 'stale'], run: (c) => { c.out.arrayHeader(SCRIPT_HELP.length); for (const l of SCRIPT_HELP) c.out.simple(l); } },
  ]),
];


