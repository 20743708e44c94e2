import type { ScriptingEngine } from './engine.js';
import { parseScriptShebang } from './shebang.js';

/** The part of the engine's EVAL cache read here (engine.ts keeps it private to its own use). */
interface ScriptCacheView {
  scripts: Map<string, { flags: string[] | undefined }>;
}

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
    // Read without touching the cache's LRU order: holding a command is not using its script.
    flags = (engine as unknown as ScriptCacheView).scripts.get(target.toString('latin1').toLowerCase())?.flags;
  } else if (command === 'fcall' || command === 'fcall_ro') {
    const name = target.toString();
    for (const lib of engine.libraries.values()) {
      const fn = lib.functions.find((f) => f.name === name);
      if (fn !== undefined) flags = fn.flags;
    }
  } else return undefined;
  return flags === undefined ? undefined : !flags.includes('no-writes');
}
