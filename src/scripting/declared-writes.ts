import type { ScriptingEngine } from './engine.js';
import { parseScriptShebang } from './shebang.js';

/**
 * Whether a script command writes by what its script declares, as Redis 7.0's getCommandFlags
 * decides it: a script with a shebang or a function writes unless it declares no-writes (its
 * flags replace the command's, may_replicate included), whichever command runs it (EVAL_RO too).
 * Undefined when nothing is declared and the command's own flags decide: no shebang, a bad
 * shebang, a script or function not loaded, an EVALSHA whose sha is not 40 characters.
 */
export function declaredWrites(engine: ScriptingEngine, command: string, argv: readonly Buffer[]): boolean | undefined {
  const target = argv[1];
  if (target === undefined) return undefined;
  let flags: readonly string[] | undefined;
  if (command === 'eval' || command === 'eval_ro') {
    // A body's cached flags are the ones its shebang gives: parsing it again answers the same.
    const shebang = parseScriptShebang(target);
    flags = 'error' in shebang ? undefined : shebang.flags;
  } else if (command === 'evalsha' || command === 'evalsha_ro') {
    if (target.length !== 40) return undefined;
    flags = engine.cachedFlags(target.toString('latin1').toLowerCase());
  } else if (command === 'fcall' || command === 'fcall_ro') {
    flags = engine.functionFlags(target.toString('latin1'));
  } else return undefined;
  return flags === undefined ? undefined : !flags.includes('no-writes');
}
