import { readFileSync } from 'node:fs';
import { SETTINGS, SETTINGS_BY_NAME, type SettingSpec } from './config-schema.js';

/** A setting that failed validation; start-up stops with this message. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3,
};

/** Parses Redis memory notation (`512mb`, `1gb`, `100`) into bytes; undefined when malformed. */
export function parseMemory(text: string): number | undefined {
  const m = /^(-?\d+)([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = MEMORY_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  return Number(m[1]) * unit;
}

/** Checks and normalises one value for a setting; throws ConfigError naming the setting. */
export function normalizeSetting(spec: SettingSpec, raw: string): string {
  const fail = (why: string): never => {
    throw new ConfigError(`Invalid value '${raw}' for setting '${spec.name}': ${why}`);
  };
  const value = raw.trim();
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(value)) fail('expected an integer');
      const n = Number(value);
      if (spec.min !== undefined && n < spec.min) fail(`must be >= ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) fail(`must be <= ${spec.max}`);
      return String(n);
    }
    case 'memory': {
      const n = parseMemory(value);
      if (n === undefined) fail('expected a size such as 1048576, 512mb or 1gb');
      if (spec.min !== undefined && n! < spec.min) fail(`must be at least ${spec.min} bytes`);
      return String(n);
    }
    case 'bool': {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') fail("expected 'yes' or 'no'");
      return v;
    }
    case 'enum': {
      const v = value.toLowerCase();
      if (!spec.values!.includes(v)) fail(`expected one of ${spec.values!.join(', ')}`);
      return v;
    }
    case 'string':
      return value;
  }
}

type Listener = (name: string, value: string) => void;

/**
 * Constraints between settings. A tombstone must outlive every hint: a hint replayed after the
 * tombstone that superseded it was purged would bring the deleted key back (docs/decisions.md).
 */
function checkRelations(get: (name: string) => string): void {
  const grace = Number(get('tombstone-grace-ms'));
  const window = Number(get('hinted-handoff-window-ms'));
  if (!(grace > window)) {
    throw new ConfigError(
      `Invalid value '${grace}' for setting 'tombstone-grace-ms': must be greater than hinted-handoff-window-ms (${window}), ` +
      'or a hint replayed after a tombstone is purged could resurrect a deleted key',
    );
  }
}

/** The node's settings: defaults < config file < environment < command line; some changeable at run time. */
export class Config {
  private readonly values = new Map<string, string>();
  private readonly listeners: Listener[] = [];

  constructor(overrides: Iterable<[string, string]> = []) {
    for (const spec of SETTINGS) this.values.set(spec.name, normalizeSetting(spec, spec.default));
    for (const [name, raw] of overrides) this.set(name, raw, true);
    // Checked once every source is applied: a file may set either side of a relation first.
    checkRelations((n) => this.str(n));
  }

  /** Sets a value; `atStart` allows immutable settings. Throws ConfigError when unknown or invalid. */
  set(name: string, raw: string, atStart = false): void {
    const spec = SETTINGS_BY_NAME.get(name.toLowerCase());
    if (!spec) throw new ConfigError(`Unknown setting '${name}'`);
    if (!atStart && !spec.mutable) throw new ConfigError(`Setting '${spec.name}' can only be set at start-up`);
    const value = normalizeSetting(spec, raw);
    if (!atStart) checkRelations((n) => (n === spec.name ? value : this.str(n)));
    this.values.set(spec.name, value);
    if (!atStart) for (const l of this.listeners) l(spec.name, value);
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  str(name: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`no such setting ${name}`);
    return v;
  }

  int(name: string): number {
    return Number(this.str(name));
  }

  bool(name: string): boolean {
    return this.str(name) === 'yes';
  }

  entries(): IterableIterator<[string, string]> {
    return this.values.entries();
  }
}

/** Reads redis.conf-style lines: `name value…`, `#` comments, quoted values. */
export function parseConfigFile(text: string, file = 'config'): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(\S+)\s*(.*)$/.exec(trimmed);
    if (!m) throw new ConfigError(`${file}:${i + 1}: cannot parse '${line}'`);
    let value = m[2]!.trim();
    if (/^".*"$/.test(value) || /^'.*'$/.test(value)) value = value.slice(1, -1);
    out.push([m[1]!.toLowerCase(), value]);
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
 * Command-line settings as redis-server takes them: an optional config file path first, then
 * `--name value…` pairs (a value may span several words, e.g. `--save 900 1`).
 */
export function settingsFromArgs(args: readonly string[]): { file?: string; settings: Array<[string, string]> } {
  const settings: Array<[string, string]> = [];
  let file: string | undefined;
  let i = 0;
  if (args[0] !== undefined && !args[0].startsWith('--')) file = args[i++];
  while (i < args.length) {
    const flag = args[i++]!;
    if (!flag.startsWith('--')) throw new ConfigError(`Unexpected argument '${flag}' (settings are --name value)`);
    const eq = flag.indexOf('=');
    if (eq > 0) {
      settings.push([flag.slice(2, eq), flag.slice(eq + 1)]);
      continue;
    }
    if (flag === '--config') {
      file = args[i++];
      continue;
    }
    const words: string[] = [];
    while (i < args.length && !args[i]!.startsWith('--')) words.push(args[i++]!);
    settings.push([flag.slice(2), words.join(' ')]);
  }
  return file === undefined ? { settings } : { file, settings };
}

/** Builds the node's config from file, environment and flags; errors name the bad setting. */
export function loadConfig(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const { file, settings } = settingsFromArgs(args);
  const fromFile = file !== undefined ? parseConfigFile(readConfigFile(file), file) : [];
  return new Config([...fromFile, ...settingsFromEnv(env), ...settings]);
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file '${file}': ${(err as Error).message}`);
  }
}
