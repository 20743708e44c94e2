import { ReplyError } from '../core/errors.js';
import { container, type CommandContext, type CommandSpec } from './spec.js';
import { MODULE_HELP, helpReply } from './help-texts.js';

/**
 * ringkv loads no Redis modules: LOAD and LOADEX fail as Redis fails on a library it cannot open,
 * and the log line its error points to says why (docs/decisions.md, "Admin commands Redis has
 * and ringkv cannot honour").
 */
function load(ctx: CommandContext, argv: Buffer[]): void {
  ctx.node.logger.warn({ module: argv[2]!.toString() }, 'MODULE LOAD refused: ringkv does not load Redis modules');
  throw new ReplyError('ERR Error loading the extension. Please check the server logs.');
}

const ADMIN = ['admin', 'slow', 'dangerous'];

/** MODULE: no module is ever loaded, so LIST is empty and UNLOAD finds nothing. */
export const moduleCommand: CommandSpec = container('module', [], ['slow'], [
  { name: 'help', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => helpReply(c, MODULE_HELP) },
  { name: 'load', categories: ADMIN, arity: -3, flags: ['admin', 'noscript', 'no_async_loading'], run: load },
  { name: 'list', categories: ADMIN, arity: 2, flags: ['admin', 'noscript'], run: (c) => c.out.arrayHeader(0) },
  { name: 'loadex', categories: ADMIN, arity: -3, flags: ['admin', 'noscript', 'no_async_loading'], run: load },
  {
    name: 'unload', categories: ADMIN, arity: 3, flags: ['admin', 'noscript', 'no_async_loading'],
    run: () => {
      throw new ReplyError('ERR Error unloading module: no such module with that name');
    },
  },
]);
