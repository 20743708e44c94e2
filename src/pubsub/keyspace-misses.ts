/**
 * Which lookups of a command publish `keymiss` (class m), as Redis 7.0 does. Redis fires it from
 * lookupKeyRead* when the key is missing, whatever the command's flags, and never from
 * lookupKeyWrite* or from a lookup with LOOKUP_NONOTIFY. So a write command that reads its
 * sources (BITOP, SINTERSTORE, COPY, SET … GET) reports its missing sources, while a read-only
 * command that peeks (OBJECT, MEMORY USAGE) reports nothing. ringkv's commands do not say which
 * of their lookups are reads in Redis's sense, so this table does, per command and key position;
 * the counts and order are Redis's (XREAD looks each key up twice), not ringkv's.
 */

/**
 * `keys`: exactly these read lookups, in this order (a key listed twice is looked up twice): each
 * one that finds nothing is a miss; `eager` when Redis makes them before it checks the arguments,
 * so that a command refused for an argument still reports them (XAUTOCLAIM). `recorded`: the misses the command's own lookups saw, in
 * their order, but for the keys in `except` (which Redis looks up for writing). `none`: no read
 * lookup at all.
 */
export type ReadLookups = { kind: 'keys'; keys: Buffer[]; eager?: boolean } | { kind: 'recorded'; except: Buffer[] } | { kind: 'none' };

const lower = (b: Buffer | undefined): string => (b === undefined ? '' : b.toString('latin1').toLowerCase());

const NONE: ReadLookups = { kind: 'none' };
const keys = (list: Array<Buffer | undefined>): ReadLookups => ({ kind: 'keys', keys: list.filter((k): k is Buffer => k !== undefined) });

/** argv[from, to), the keys of a command whose keys run to the end or to a count. */
function span(argv: readonly Buffer[], from: number, to = argv.length): Buffer[] {
  return argv.slice(from, Math.min(to, argv.length));
}

/** The keys after a numkeys argument at `at` (ZUNIONSTORE dst numkeys k…: at 2). */
function numkeys(argv: readonly Buffer[], at: number): Buffer[] {
  const n = Number(lower(argv[at]));
  return Number.isInteger(n) && n > 0 ? span(argv, at + 1, at + 1 + n) : [];
}

/** XREAD/XREADGROUP's stream keys: the first half of what follows STREAMS. */
function streamKeys(argv: readonly Buffer[]): Buffer[] {
  for (let i = 1; i < argv.length; i++) {
    if (lower(argv[i]) !== 'streams') continue;
    const rest = argv.length - i - 1;
    return rest > 0 && rest % 2 === 0 ? span(argv, i + 1, i + 1 + rest / 2) : [];
  }
  return [];
}

/** BITFIELD reads its key (lookupKeyRead) only when it has no SET or INCRBY: then it writes. */
function bitfieldWrites(argv: readonly Buffer[]): boolean {
  for (let i = 2; i < argv.length; i++) {
    const w = lower(argv[i]);
    if (w === 'set' || w === 'incrby') return true;
  }
  return false;
}

/** The destination of SORT … STORE d (looked up for writing, not a miss). */
function sortStore(argv: readonly Buffer[]): Buffer[] {
  for (let i = argv.length - 2; i >= 2; i--) if (lower(argv[i]) === 'store') return [argv[i + 1]!];
  return [];
}

/**
 * The read lookups of one invocation. Read-only commands not listed here report what their own
 * lookups missed, which is what Redis's do (each looks up each of its keys once).
 */
export function readLookups(name: string, argv: readonly Buffer[], readonly: boolean): ReadLookups {
  switch (name) {
    // getGenericCommand / lookupKeyRead before any write.
    case 'getdel':
    case 'getex':
    case 'getset':
    case 'copy':
      return keys([argv[1]]);
    case 'set':
      // SET … GET reads the old value first (getGenericCommand).
      for (let i = 3; i < argv.length; i++) if (lower(argv[i]) === 'get') return keys([argv[1]]);
      return NONE;
    case 'bitfield':
      return bitfieldWrites(argv) ? NONE : keys([argv[1]]);
    case 'bitop':
      return keys(span(argv, 3));
    // pfmergeCommand reads every key, the destination too, before writing the destination.
    case 'pfmerge':
      return keys(span(argv, 1));
    case 'sinterstore':
    case 'sunionstore':
    case 'sdiffstore':
      return keys(span(argv, 2));
    case 'zunionstore':
    case 'zinterstore':
    case 'zdiffstore':
      return keys(numkeys(argv, 2));
    case 'zrangestore':
    case 'geosearchstore':
      return keys([argv[2]]);
    case 'georadius':
    case 'georadiusbymember':
    case 'xpending':
    case 'xclaim':
    case 'xack':
      return keys([argv[1]]);
    // xautoclaimCommand looks its key up first, then parses min-idle-time, COUNT …
    case 'xautoclaim':
      return { kind: 'keys', keys: argv[1] === undefined ? [] : [argv[1]], eager: true };
    // One lookup per key (ringkv's LCS looks each up twice).
    case 'lcs':
      return keys([argv[1], argv[2]]);
    // xreadCommand looks every key up while parsing the IDs, and again while serving them.
    case 'xread':
    case 'xreadgroup': {
      const ks = streamKeys(argv);
      return keys([...ks, ...ks]);
    }
    case 'xinfo':
      return lower(argv[1]) === 'help' ? NONE : keys([argv[2]]);
    // The sorted key, then the BY and GET patterns' keys as the command looked them up.
    case 'sort':
    case 'sort_ro':
      return { kind: 'recorded', except: sortStore(argv) };
    // objectCommandLookup and MEMORY USAGE look up with LOOKUP_NONOTIFY.
    case 'object':
    case 'memory':
      return NONE;
  }
  return readonly ? { kind: 'recorded', except: [] } : NONE;
}

