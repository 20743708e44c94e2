/** Flags a script shebang or a registered function may carry (Redis 7.0). */
export const FUNCTION_FLAGS = ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'];

/** Redis's sdssplitargs for a shebang line: words split at whitespace. */
function splitWords(line: Buffer): string[] {
  return line.toString('latin1').split(/[ \t\n\r\v\f]+/).filter((p) => p !== '');
}

/**
 * The `#!lua flags=…` line of an EVAL body: its flags and where the code starts (the newline stays,
 * so lines keep their numbers). Redis 7.0's evalExtractShebangFlags: the line ends at the first
 * newline (none: invalid), the engine word is `#!lua` exactly, flags are split at commas.
 */
export function parseScriptShebang(body: Buffer): { flags: string[] | undefined; codeStart: number } | { error: string } {
  if (body.length < 2 || body[0] !== 0x23 || body[1] !== 0x21) return { flags: undefined, codeStart: 0 };
  const end = body.indexOf(0x0a);
  if (end < 0) return { error: 'ERR Invalid script shebang' };
  const parts = splitWords(body.subarray(0, end));
  if (parts[0] !== '#!lua') return { error: `ERR Unexpected engine in script shebang: ${parts[0] ?? ''}` };
  const flags: string[] = [];
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return { error: `ERR Unknown lua shebang option: ${part}` };
    const list = part.slice(6);
    if (list === '') continue;
    for (const f of list.split(',')) {
      if (!FUNCTION_FLAGS.includes(f)) return { error: `ERR Unexpected flag in script shebang: ${f}` };
      flags.push(f);
    }
  }
  return { flags, codeStart: end };
}

/** A library's `#!<engine> name=<name>` first line (FUNCTION LOAD), with Redis 7.0's error texts (functionExtractLibMetaData). */
export function parseLibraryShebang(code: Buffer): { name: string; engine: string } | { error: string } {
  if (code.length < 2 || code[0] !== 0x23 || code[1] !== 0x21) return { error: 'ERR Missing library metadata' };
  // Redis 7.0 wants the body on the lines after the shebang: no newline, no library.
  const end = code.indexOf(0x0a);
  if (end < 0) return { error: 'ERR Invalid library metadata' };
  const parts = splitWords(code.subarray(0, end));
  const engine = (parts[0] ?? '#!').slice(2);
  let name: string | undefined;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() !== 'name=') return { error: `ERR Invalid metadata value given: ${part}` };
    if (name !== undefined) return { error: 'ERR Invalid metadata value, name argument was given multiple times' };
    name = part.slice(5);
  }
  if (name === undefined) return { error: 'ERR Library name was not given' };
  if (engine.toLowerCase() !== 'lua') return { error: `ERR Engine '${engine}' not found` };
  if (!/^[A-Za-z0-9_]+$/.test(name)) return { error: 'ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long' };
  return { name, engine };
}
