import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { splitArgs } from './split-args.js';
import { ALIASES, SETTINGS, SETTINGS_BY_NAME, type SettingSpec } from './config-schema.js';
import { parseMemory } from './memory-units.js';

/**
 * A setting that failed validation; start-up stops with this message. `setting` and `reason` are
 * there for CONFIG SET, whose reply names the argument and gives Redis's reason text on its own.
 */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly setting?: string,
    readonly reason: string = message,
    /** What CONFIG SET answers: an unknown name, a start-up-only setting, or a bad value. */
    readonly kind: 'unknown' | 'immutable' | 'invalid' = 'invalid',
  ) {
    super(message);
    this.name = 'ConfigError';
  }

  static invalid(setting: string, raw: string, reason: string): ConfigError {
    return new ConfigError(`Invalid value '${raw}' for setting '${setting}': ${reason}`, setting, reason);
  }
}

/**
 * Checks and normalises one value for a setting; throws ConfigError naming the setting. `asGiven`:
 * the value is checked exactly as given (CONFIG SET: Redis 7.0 refuses `"KE "`, `" 10"`, `"yes "`,
 * and keeps a string's blanks); otherwise surrounding blanks are dropped, as Redis's config-file
 * parser does when it splits a line into arguments.
 */
export function normalizeSetting(spec: SettingSpec, raw: string, current?: string, asGiven = false, name = spec.name): string {
  // Reasons are Redis 7.0's CONFIG SET texts, so a script that matches them works on both.
  const fail = (why: string): never => {
    throw ConfigError.invalid(name, raw, why);
  };
  const value = asGiven ? raw : raw.trim();
  // 2^63 stands for Redis's LONG_MAX, which a number cannot hold exactly.
  const bound = (n: number): string => (n >= 2 ** 63 ? '9223372036854775807' : String(n));
  const range = (): string => `argument must be between ${bound(spec.min ?? Number.MIN_SAFE_INTEGER)} and ${bound(spec.max ?? Number.MAX_SAFE_INTEGER)} inclusive`;
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(value)) fail("argument couldn't be parsed into an integer");
      const n = Number(value);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) fail(range());
      return spec.normalize !== undefined ? spec.normalize(String(n), current) : String(n);
    }
    case 'memory': {
      // parseMemory allows blanks around the number (config files); Redis's memtoull does not.
      const n = value.trim() === value ? parseMemory(value, true) : undefined;
      // Redis refuses a negative memory value as unparseable, not as out of range.
      if (n === undefined || n < 0) fail('argument must be a memory value');
      // With both bounds, Redis's numeric range text (repl-backlog-size); with a floor alone, ringkv's own.
      if (spec.max !== undefined && (n! < (spec.min ?? 0) || n! > spec.max)) fail(range());
      if (spec.min !== undefined && n! < spec.min) fail(`argument must be a memory value of at least ${spec.min} bytes`);
      return String(n);
    }
    case 'bool': {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') fail("argument must be 'yes' or 'no'");
      return v;
    }
    case 'enum': {
      const v = value.toLowerCase();
      if (!spec.values!.includes(v)) fail(`argument(s) must be one of the following: ${spec.values!.join(', ')}`);
      return v;
    }
    case 'string':
      if (spec.normalize === undefined) return value;
      try {
        return spec.normalize(value, current);
      } catch (err) {
        return fail((err as Error).message);
      }
  }
}

type Listener = (name: string, value: string) => void;

/**
 * A check that needs more than the values: it sees the settings as they would be after a CONFIG SET
 * (`get`) and the names being set, and throws ConfigError to refuse the whole set. TLS uses it to
 * read the certificate files before they replace the ones in use.
 */
export type ConfigValidator = (get: (name: string) => string, changed: ReadonlySet<string>) => void;

/** A constraint between settings: `check` returns why the values break it, or undefined. */
interface Relation {
  settings: readonly string[];
  check: (get: (name: string) => number, str: (name: string) => string) => string | undefined;
}

/**
 * The client port a cluster node announces: the TLS port when the bus runs TLS and clients have a
 * TLS port (Redis 7.0: tls-cluster makes the announced port the TLS one), else `port`.
 */
export function announcedClientPortOf(get: (name: string) => number): number {
  return get('tls-cluster') === 1 && get('tls-port') !== 0 ? get('tls-port') : get('port');
}

/** The bus port a node listens on: `cluster-port`, or the announced client port + 10000 as in Redis. */
export function busPortOf(get: (name: string) => number): number {
  return get('cluster-port') || announcedClientPortOf(get) + 10000;
}

const RELATIONS: readonly Relation[] = [
  // A quorum larger than the replica set can never be met: every write (or read) would fail.
  { settings: ['write-quorum', 'replication-factor'], check: (g) => (g('write-quorum') > g('replication-factor') ? `write-quorum (${g('write-quorum')}) must not exceed replication-factor (${g('replication-factor')})` : undefined) },
  { settings: ['read-quorum', 'replication-factor'], check: (g) => (g('read-quorum') > g('replication-factor') ? `read-quorum (${g('read-quorum')}) must not exceed replication-factor (${g('replication-factor')})` : undefined) },
  // A tombstone must outlive every hint: a hint replayed after the tombstone that superseded it was
  // purged would bring the deleted key back (docs/decisions.md).
  { settings: ['tombstone-grace-ms', 'hinted-handoff-window-ms'], check: (g) => (g('tombstone-grace-ms') > g('hinted-handoff-window-ms') ? undefined : `tombstone-grace-ms (${g('tombstone-grace-ms')}) must be greater than hinted-handoff-window-ms (${g('hinted-handoff-window-ms')}), or a hint replayed after a tombstone is purged could resurrect a deleted key`) },
  // Removing a node from the ring before it is even declared failed would move its slots on a hiccup.
  { settings: ['cluster-dead-node-removal-ms', 'cluster-node-timeout'], check: (g) => (g('cluster-dead-node-removal-ms') !== 0 && g('cluster-dead-node-removal-ms') <= g('cluster-node-timeout') ? `cluster-dead-node-removal-ms (${g('cluster-dead-node-removal-ms')}) must be 0 or greater than cluster-node-timeout (${g('cluster-node-timeout')})` : undefined) },
  // The bus port is derived (port + 10000) unless given; it must exist and differ from the others.
  { settings: ['port', 'cluster-port'], check: (g) => {
    if (g('cluster-enabled') !== 1 || announcedClientPortOf(g) === 0) return undefined;
    const bus = busPortOf(g);
    if (bus > 65535) return `the cluster bus port (port + 10000 = ${bus}) is above 65535: set cluster-port or a lower port`;
    if (bus === g('port')) return `cluster-port (${bus}) must differ from port`;
    return bus === g('tls-port') ? `cluster-port (${bus}) must differ from tls-port` : undefined;
  } },
  // Without a port or a Unix socket no client could ever connect.
  { settings: ['port', 'tls-port'], check: (g, str) => {
    if (g('port') === 0 && g('tls-port') === 0 && str('unixsocket') === '') return 'port and tls-port are both 0 and unixsocket is not set: no client could connect';
    return g('tls-port') !== 0 && g('tls-port') === g('port') ? `tls-port (${g('tls-port')}) must differ from port` : undefined;
  } },
  { settings: ['metrics-port', 'port'], check: (g) => {
    const m = g('metrics-port');
    if (m === 0) return undefined;
    if (m === g('port')) return `metrics-port (${m}) must differ from port`;
    if (m === g('tls-port')) return `metrics-port (${m}) must differ from tls-port`;
    return g('cluster-enabled') === 1 && g('port') !== 0 && m === busPortOf(g) ? `metrics-port (${m}) must differ from the cluster bus port` : undefined;
  } },
];

/**
 * Checks every relation against `get`. The setting blamed is the one of the relation that is being
 * changed (`changed`), else the relation's first: CONFIG SET names the argument the user gave.
 */
function checkRelations(get: (name: string) => string, changed: ReadonlySet<string> = new Set()): void {
  const num = (name: string): number => {
    const v = get(name);
    return v === 'yes' ? 1 : v === 'no' ? 0 : Number(v);
  };
  for (const rel of RELATIONS) {
    const why = rel.check(num, get);
    if (why === undefined) continue;
    const setting = rel.settings.find((n) => changed.has(n)) ?? rel.settings[0]!;
    throw new ConfigError(`Invalid value '${get(setting)}' for setting '${setting}': ${why}`, setting, why);
  }
}

/** The node's settings: defaults < config file < environment < command line; some changeable at run time. */
export class Config {
  private readonly values = new Map<string, string>();
  private readonly listeners: Listener[] = [];
  private readonly validators: ConfigValidator[] = [];
  /** `user …` lines of the config file (or --user), in order: ACL users defined at start-up. */
  readonly userDirectives: string[] = [];
  /** What start-up should log as warnings: values taken but not as given (SettingSpec.startupWarning). */
  readonly startupWarnings: string[] = [];
  /** The config file the node started from, as an absolute path (CONFIG REWRITE writes it). */
  file: string | undefined = undefined;
  /** A `save` line was read at start-up (the next one adds to it). */
  private saveGiven = false;

  constructor(overrides: Iterable<[string, string]> = []) {
    for (const spec of SETTINGS) this.values.set(spec.name, normalizeSetting(spec, spec.default));
    for (const [name, raw] of overrides) this.set(name, raw, true);
    // Checked once every source is applied: a file may set either side of a relation first.
    checkRelations((n) => this.str(n));
  }

  /** Sets a value; `atStart` allows immutable settings. Throws ConfigError when unknown or invalid. */
  set(name: string, raw: string, atStart = false): void {
    if (atStart && name.toLowerCase() === 'user') {
      this.userDirectives.push(raw);
      return;
    }
    if (atStart) {
      const spec = specOf(name);
      let value = normalizeSetting(spec, raw, this.values.get(spec.name));
      // Redis's config file: the first `save` line replaces the default points, later ones add theirs.
      if (spec.name === 'save') {
        if (this.saveGiven && value !== '') value = normalizeSetting(spec, `${this.str('save')} ${value}`.trim());
        this.saveGiven = true;
      }
      this.values.set(spec.name, value);
      const warning = spec.startupWarning?.(raw);
      if (warning !== undefined) this.startupWarnings.push(warning);
      return;
    }
    this.setMany([[name, raw]]);
  }

  /**
   * CONFIG SET: every pair is checked (name, mutability, value, relations between the new values
   * together) before any is applied, so `CONFIG SET replication-factor 5 write-quorum 4` works from
   * N=3 and a failing pair changes nothing, as in Redis 7.0.
   */
  setMany(pairs: ReadonlyArray<readonly [string, string]>, allowProtected = false): void {
    const next = new Map<string, string>();
    // Redis names an immutable or repeated setting as the client spelled it, a bad value by the
    // name given in lower case (an old name stays the old name). A setting and its old name are two
    // entries to Redis: given both, the later wins.
    const given = new Set<string>();
    const unchanged = new Set<number>();
    for (const [i, [name, raw]] of pairs.entries()) {
      const spec = specOf(name);
      // A protected setting (dir, dbfilename) changes only where enable-protected-configs allows it.
      if (spec.protected === true && !allowProtected) throw new ConfigError(`Setting '${spec.name}' is protected (enable-protected-configs)`, name, "can't set protected config", 'immutable');
      if (!spec.mutable && sameStartupValue(spec, raw, this.values.get(spec.name))) unchanged.add(i);
      else if (!spec.mutable) throw new ConfigError(`Setting '${spec.name}' can only be set at start-up`, name, "can't set immutable config", 'immutable');
      if (given.has(name.toLowerCase())) throw new ConfigError(`Setting '${spec.name}' given twice`, name, 'duplicate parameter');
      given.add(name.toLowerCase());
    }
    for (const [i, [name, raw]] of pairs.entries()) {
      if (unchanged.has(i)) continue;
      const spec = specOf(name);
      next.set(spec.name, normalizeSetting(spec, raw, next.get(spec.name) ?? this.values.get(spec.name), true, name.toLowerCase()));
    }
    checkRelations((n) => next.get(n) ?? this.str(n), new Set(next.keys()));
    for (const v of this.validators) v((n) => next.get(n) ?? this.str(n), new Set(next.keys()));
    for (const [name, value] of next) this.values.set(name, value);
    for (const [name, value] of next) for (const l of this.listeners) l(name, value);
  }
  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Runs `validator` on every CONFIG SET, after the values and relations are checked, before any is applied. */
  addValidator(validator: ConfigValidator): void {
    this.validators.push(validator);
  }

  /** The value of a setting, by its name or one of Redis's old names for it (ALIASES). */
  str(name: string): string {
    const v = this.values.get(name) ?? this.values.get(ALIASES.get(name) ?? '');
    if (v === undefined) throw new Error(`no such setting ${name}`);
    return v;
  }

  int(name: string): number {
    return Number(this.str(name));
  }

  bool(name: string): boolean {
    return this.str(name) === 'yes';
  }

  /** Every setting by its name, then again under each old name (CONFIG GET lists both, as Redis). */
  *entries(): IterableIterator<[string, string]> {
    yield* this.values.entries();
    for (const [alias, name] of ALIASES) yield [alias, this.str(name)];
  }
}

/**
 * CONFIG SET of a setting ringkv takes only at start-up (port, bind) or that only ringkv has, to the
 * value in force, is taken and changes nothing: a tool that sets back every value CONFIG GET * listed
 * goes through. Redis's own start-up-only and protected settings are refused as Redis refuses them.
 */
function sameStartupValue(spec: SettingSpec, raw: string, current: string | undefined): boolean {
  if (spec.startupOnlyInRedis === true || current === undefined) return false;
  try {
    return normalizeSetting(spec, raw, current, true) === current;
  } catch {
    return false;
  }
}

function specOf(name: string): SettingSpec {
  const spec = SETTINGS_BY_NAME.get(name.toLowerCase());
  if (!spec) throw new ConfigError(`Unknown setting '${name}'`, name, `Unknown setting '${name}'`, 'unknown');
  return spec;
}

/** Reads redis.conf-style lines: `name value…`, `#` comments, arguments split and unquoted as Redis does. */
export function parseConfigFile(text: string, file = 'config'): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const words = splitArgs(trimmed);
    if (words === undefined) throw new ConfigError(`${file}:${i + 1}: unbalanced quotes in '${line}'`);
    if (words.length === 0) return;
    // Redis joins a setting's arguments with single spaces (save 900 1, bind a b).
    out.push([words[0]!.toLowerCase(), words.slice(1).join(' ')]);
  });
  return out;
}

/** `RINGKV_APPENDFSYNC=no` → ['appendfsync','no'] for every known setting present in env. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const spec of SETTINGS) {
    const v = env['RINGKV_' + spec.name.toUpperCase().replace(/-/g, '_')];
    if (v !== undefined) out.push([spec.name, v]);
  }
  return out;
}

/**
 * Command-line settings as redis-server 7.0 takes them: an optional config file path first, then
 * `--name value…` (a value may span several words, `--save 900 1`, or share the name's word,
 * `"--maxmemory 700mb"`). A name with no value yet takes the next word even if it starts with `--`
 * (`--proc-title-template --x--`), except that a bare `--save` is `save ""`. Words before the first
 * `--name` make a setting of their own (`loglevel verbose`), as Redis reads them. `--name=value` and
 * `--config <file>` are ringkv's own forms.
 */
export function settingsFromArgs(args: readonly string[]): { file?: string; settings: Array<[string, string]> } {
  let file: string | undefined;
  let i = 0;
  // `-` is the standard input (redis-server -, as container entrypoints pipe a config in).
  if (args[0] !== undefined && (!args[0].startsWith('-') || args[0] === '-')) file = args[i++];
  const lines: string[][] = [];
  // Whether the last option has a value yet: until it has, a `--word` is its value.
  let handled = true;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (handled && arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 2 && !/\s/.test(arg.slice(0, eq))) {
        lines.push([arg.slice(2, eq), arg.slice(eq + 1)]);
        continue;
      }
      if (arg === '--config' && i + 1 < args.length) {
        file = args[++i];
        continue;
      }
      const words = splitArgs(arg.slice(2));
      if (words === undefined || words.length === 0) throw new ConfigError(`Cannot parse argument '${arg}'`);
      lines.push(words);
      handled = words.length > 1;
      if (!handled && words[0]!.toLowerCase() === 'save' && (i === args.length - 1 || args[i + 1]!.startsWith('--'))) {
        lines[lines.length - 1]!.push('');
        handled = true;
      }
      continue;
    }
    if (lines.length === 0) lines.push([]);
    lines[lines.length - 1]!.push(arg);
    handled = true;
  }
  const settings = lines.map((words): [string, string] => [words[0] ?? '', words.slice(1).join(' ')]);
  return file === undefined ? { settings } : { file, settings };
}

/** Builds the node's config from file, environment and flags; errors name the bad setting. */
export function loadConfig(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const { file, settings } = settingsFromArgs(args);
  const fromFile = file !== undefined ? withIncludes(parseConfigFile(readConfigFile(file), file), 0) : [];
  const config = new Config([...fromFile, ...settingsFromEnv(env), ...settings]);
  if (file !== undefined && file !== '-') config.file = resolve(file);
  return config;
}

/** `include <file>` lines replaced by that file's settings, in place (Redis reads them where they stand). */
function withIncludes(lines: Array<[string, string]>, depth: number): Array<[string, string]> {
  if (depth > 16) throw new ConfigError('Config files include each other too deeply (more than 16 levels)');
  return lines.flatMap(([name, value]): Array<[string, string]> =>
    name === 'include' ? withIncludes(parseConfigFile(readConfigFile(value), value), depth + 1) : [[name, value]]);
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file '${file}': ${(err as Error).message}`);
  }
}
