import { chmodSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { ReplyError } from '../core/errors.js';
import { normalizeSetting } from '../core/config.js';
import { SETTINGS } from '../core/config-schema.js';
import { rewriteConfig } from '../core/config-rewrite.js';
import type { CommandContext } from './spec.js';

/**
 * CONFIG REWRITE (and DEBUG CONFIG-REWRITE-FORCE-ALL, `force`): the settings in force into the
 * config file the node started from (config-rewrite.ts). The new text goes to a file beside it,
 * synced, then renamed over it, so a crash leaves the old file or the new one, never half of one.
 */
export function configRewrite(ctx: CommandContext, force = false): void {
  const config = ctx.node.config;
  const file = config.file;
  if (file === undefined) throw new ReplyError('ERR The server is running without a config file');
  try {
    // A symbolic link stays one: its target is what gets rewritten.
    let target = file;
    try {
      target = realpathSync(file);
    } catch {
      // Gone since start-up: written anew where it was.
    }
    let original = '';
    let mode: number | undefined;
    try {
      original = readFileSync(target, 'utf8');
      mode = statSync(target).mode & 0o777;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const text = rewriteConfig({
      original,
      values: SETTINGS.filter((s) => s.hidden !== true || force).map((s) => [s.name, config.str(s.name)] as const),
      defaultOf: (s) => normalizeSetting(s, s.default),
      // Without an aclfile, Redis keeps ACL users in the config file; with one, they live there.
      users: config.str('aclfile') === '' ? ctx.node.acl.describeAll() : [],
      force,
    });
    const tmp = join(dirname(target), `.${basename(target)}.rewrite-${process.pid}`);
    writeFileSync(tmp, text, mode !== undefined ? { mode } : {});
    if (mode !== undefined) chmodSync(tmp, mode);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    throw new ReplyError(`ERR Rewriting config file: ${(err as Error).message}`);
  }
  ctx.out.ok();
}
