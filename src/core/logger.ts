import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type { Logger };

/** Redis loglevel names → pino levels. */
const LEVELS: Record<string, pino.LevelWithSilent> = {
  debug: 'debug', verbose: 'debug', notice: 'info', warning: 'warn', nothing: 'silent',
};

const LEVEL_LABEL: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One readable line per record for people at a terminal; JSON everywhere else. */
class PrettyLines extends Writable {
  constructor(private readonly out: NodeJS.WritableStream) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      try {
        const { time, level, msg, pid: _pid, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
        const ts = new Date(Number(time)).toISOString().slice(11, 23);
        this.out.write(`${ts} ${LEVEL_LABEL[Number(level)] ?? level} ${String(msg ?? '')}${extra}\n`);
      } catch {
        this.out.write(line + '\n');
      }
    }
    done();
  }
}

export function createLogger(opts: { loglevel: string; logfile?: string; name?: string }): Logger {
  const level = LEVELS[opts.loglevel] ?? 'info';
  let dest: NodeJS.WritableStream;
  if (opts.logfile) dest = createWriteStream(opts.logfile, { flags: 'a' });
  else if (process.stdout.isTTY) dest = new PrettyLines(process.stdout);
  else dest = process.stdout;
  return pino({ level, base: opts.name ? { node: opts.name } : { pid: process.pid } }, dest);
}

/** A logger that drops everything (tests of pure logic, tools). */
export const silentLogger: Logger = pino({ level: 'silent' });
