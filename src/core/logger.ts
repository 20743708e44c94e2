import { openSync } from 'node:fs';
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type pretty from 'pino-pretty';
import { StartupError, errnoText } from './startup-error.js';

export type { Logger };

/** Redis loglevel names → pino levels. */
const LEVELS: Record<string, pino.LevelWithSilent> = {
  debug: 'debug', verbose: 'debug', notice: 'info', warning: 'warn', nothing: 'silent',
};

/**
 * A person at a terminal gets one readable line per record: local time, level name, message, then
 * the fields as `key: value` on the same line (`node`, `addr`, `change` for membership events).
 * Everything else (a pipe, a file, a container's log driver) gets pino's JSON, one object per line,
 * for machines to parse. The prettifier runs in this thread as a stream, not as a worker transport,
 * so a line logged just before process.exit is still written.
 */
function terminalStream(): NodeJS.WritableStream {
  // Loaded only for a terminal: nodes started by tools and services log JSON and skip its cost.
  const build = createRequire(import.meta.url)('pino-pretty') as typeof pretty;
  return build({
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    hideObject: true,
    messageFormat: (log, messageKey) => [String(log[messageKey] ?? ''), ...fieldsOf(log, messageKey)].join('  '),
    sync: true,
    destination: 1,
  });
}

const NOT_FIELDS = new Set(['level', 'time', 'pid', 'hostname']);

/** `key=value` for every field of a record; an error shows its message (its stack is in JSON logs). */
function fieldsOf(log: Record<string, unknown>, messageKey: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(log)) {
    if (k === messageKey || NOT_FIELDS.has(k)) continue;
    const value = v instanceof Object && 'message' in v && typeof v.message === 'string' ? v.message : v;
    out.push(`${k}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`);
  }
  return out;
}

export function createLogger(opts: { loglevel: string; logfile?: string; name?: string }): Logger {
  const level = LEVELS[opts.loglevel] ?? 'info';
  let dest: pino.DestinationStream;
  if (opts.logfile) {
    // Opened here, synchronously: a path that cannot be written is one line at start-up (it was an
    // unhandled stream error), and lines are on disk before a process that is stopping exits.
    let fd: number;
    try {
      fd = openSync(opts.logfile, 'a');
    } catch (err) {
      throw new StartupError(`cannot open logfile ${opts.logfile}: ${errnoText(err)}`);
    }
    dest = pino.destination({ dest: fd, sync: true });
  }
  else if (process.stdout.isTTY) dest = terminalStream();
  else dest = process.stdout;
  return pino({ level, base: opts.name ? { node: opts.name } : { pid: process.pid } }, dest);
}

/** A logger that drops everything (tests of pure logic, tools). */
export const silentLogger: Logger = pino({ level: 'silent' });
