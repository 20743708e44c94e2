/**
 * Goal: settings are read from config files and command lines as redis-server 7.0 reads them, and
 * CONFIG REWRITE writes a file that reads back to the same settings.
 * Method: pure functions (splitArgs, settingsFromArgs, Config, rewriteConfig) on the cases Redis's
 * own tests and its stock redis.conf use.
 */
import { describe, expect, it } from 'vitest';
import { splitArgs } from '../../src/core/split-args.js';
import { Config, normalizeSetting, parseConfigFile, settingsFromArgs } from '../../src/core/config.js';
import { SETTINGS } from '../../src/core/config-schema.js';
import { REWRITE_MARKER, rewriteConfig } from '../../src/core/config-rewrite.js';

const configOf = (args: string[]): Config => {
  const { file, settings } = settingsFromArgs(args);
  expect(file).toBe(args[0]!.startsWith('-') ? undefined : args[0]);
  return new Config(settings);
};

describe('splitArgs', () => {
  it('splits and unquotes as sdssplitargs', () => {
    expect(splitArgs('save 900 1')).toEqual(['save', '900', '1']);
    expect(splitArgs('  requirepass "a b\\"c\\x41"  ')).toEqual(['requirepass', 'a b"cA']);
    expect(splitArgs("maxmemory '700mb'")).toEqual(['maxmemory', '700mb']);
    expect(splitArgs("x 'it\\'s'")).toEqual(['x', "it's"]);
    expect(splitArgs('notify-keyspace-events ""')).toEqual(['notify-keyspace-events', '']);
    expect(splitArgs('x "open')).toBeUndefined();
    expect(splitArgs('x "a"b')).toBeUndefined();
  });
});

describe('command-line settings', () => {
  it('take a name and its value in one word, or several words', () => {
    const c = configOf(['a.conf', '--maxmemory 700mb', '--maxmemory-policy volatile-lru', '--save', '900', '1', '300', '10']);
    expect(c.str('maxmemory')).toBe(String(700 * 1024 * 1024));
    expect(c.str('maxmemory-policy')).toBe('volatile-lru');
    expect(c.str('save')).toBe('900 1 300 10');
  });
  it('give a name without a value the next word, even one starting with --', () => {
    const c = configOf(['a.conf', '--proc-title-template', '--my--title--template', '--loglevel', 'verbose']);
    expect(c.str('proc-title-template')).toBe('--my--title--template');
    expect(c.str('loglevel')).toBe('verbose');
  });
  it('read a bare --save as save "" (before another option or at the end)', () => {
    expect(configOf(['a.conf', '--save', '--loglevel', 'verbose']).str('save')).toBe('');
    expect(configOf(['a.conf', '--loglevel', 'verbose', '--save']).str('save')).toBe('');
    const c = configOf(['a.conf', '--proc-title-template', '--save', '--save', '', '--loglevel', 'verbose']);
    expect(c.str('proc-title-template')).toBe('--save');
    expect(c.str('save')).toBe('');
  });
  it('take words before the first option as a setting, and quoted values', () => {
    const c = configOf(['a.conf', 'loglevel', 'verbose', "--maxmemory '700mb'"]);
    expect(c.str('loglevel')).toBe('verbose');
    expect(c.str('maxmemory')).toBe(String(700 * 1024 * 1024));
  });
  it('keep flags in Redis order', () => {
    const c = configOf(['a.conf', '--shutdown-on-sigint', 'nosave', 'force', 'now', '--shutdown-on-sigterm', 'nosave force']);
    expect(c.str('shutdown-on-sigint')).toBe('nosave now force');
    expect(c.str('shutdown-on-sigterm')).toBe('nosave force');
  });
  it('keep ringkv\'s --name=value and --config forms', () => {
    const { file, settings } = settingsFromArgs(['--port=7001', '--config', 'x.conf', '--dir', './d']);
    expect(file).toBe('x.conf');
    expect(settings).toEqual([['port', '7001'], ['dir', './d']]);
  });
});

describe('config files', () => {
  it('add each save line to the points (the first replaces the default), save "" clears them', () => {
    expect(new Config([]).str('save')).toBe('3600 1 300 100 60 10000');
    expect(new Config(parseConfigFile('save 900 1\nsave 300 10\n')).str('save')).toBe('900 1 300 10');
    expect(new Config([...parseConfigFile('save 900 1\n'), ['save', '']]).str('save')).toBe('');
    expect(new Config([...parseConfigFile('save 900 1\n'), ['save', '100 100']]).str('save')).toBe('900 1 100 100');
  });
  it('take databases 16 as 1, with a warning', () => {
    const c = new Config(parseConfigFile('databases 16\n'));
    expect(c.str('databases')).toBe('1');
    expect(c.startupWarnings.join()).toMatch(/databases 16: ringkv keeps one database/);
  });
  it('refuse replicaof with what to use instead', () => {
    expect(() => new Config(parseConfigFile('replicaof 10.0.0.1 6379\n'))).toThrow(/does not replicate from a Redis primary/);
    expect(new Config(parseConfigFile('replicaof ""\n')).str('replicaof')).toBe('');
  });
  it('read unixsocketperm as octal', () => {
    expect(new Config(parseConfigFile('unixsocketperm 700\n')).str('unixsocketperm')).toBe('700');
    expect(() => new Config(parseConfigFile('unixsocketperm 800\n'))).toThrow(/unixsocketperm/);
  });
  it('refuse a Unix socket path the kernel would cut short', () => {
    expect(() => new Config([['unixsocket', `/tmp/${'s'.repeat(120)}.sock`]])).toThrow(/unixsocket path too long \(107 chars max\)/);
  });
  it('allow no port when a Unix socket serves clients', () => {
    expect(() => new Config([['port', '0']])).toThrow(/no client could connect/);
    expect(new Config([['port', '0'], ['unixsocket', '/tmp/x.sock']]).int('port')).toBe(0);
  });
});

describe('CONFIG REWRITE', () => {
  const valuesOf = (c: Config): Array<readonly [string, string]> => SETTINGS.map((s) => [s.name, c.str(s.name)] as const);
  const defaultOf = (s: (typeof SETTINGS)[number]): string => normalizeSetting(s, s.default);

  it('keeps comments and order, updates settings in place, drops repeats and old names, adds changed ones', () => {
    const original = '# top\nport 7000\nsave 900 1\nsave 300 10\nhash-max-ziplist-entries 100\nunknown-directive x\n\n';
    const c = new Config(parseConfigFile(original.replace('unknown-directive x\n', '')));
    c.set('maxmemory', '10mb');
    c.set('hash-max-listpack-entries', '200');
    const text = rewriteConfig({ original, values: valuesOf(c), defaultOf, users: ['user default on nopass ~* &* +@all'] });
    expect(text).toBe(['# top', 'port 7000', 'save 900 1 300 10', 'hash-max-listpack-entries 200', 'unknown-directive x',
      REWRITE_MARKER, 'maxmemory 10mb', 'user default on nopass ~* &* +@all', ''].join('\n'));
  });
  it('writes every setting when forced, and what it writes reads back to the same values', () => {
    const c = new Config(parseConfigFile('save ""\nrequirepass "p w"\nnotify-keyspace-events ""\nbind 127.0.0.1 -::1\n'));
    const text = rewriteConfig({ original: '', values: valuesOf(c), defaultOf, force: true });
    const again = new Config(parseConfigFile(text));
    for (const s of SETTINGS) expect([s.name, again.str(s.name)]).toEqual([s.name, c.str(s.name)]);
  });
});
