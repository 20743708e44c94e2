import type { SessionState } from './session-state.js';
import { redactSecrets } from './redact.js';

/**
 * Redis's sdscatrepr: the argument quoted, with `\\`, `"`, `\n`, `\r`, `\t`, `\a`, `\b` escaped and
 * other bytes outside printable ASCII as `\xHH`.
 */
export function quoteArg(arg: Buffer): string {
  let s = '"';
  for (const c of arg) {
    if (c === 0x5c) s += '\\\\';
    else if (c === 0x22) s += '\\"';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x07) s += '\\a';
    else if (c === 0x08) s += '\\b';
    else if (c >= 0x20 && c <= 0x7e) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${s}"`;
}

/** One MONITOR line as Redis writes it: `+<sec>.<usec> [0 <addr>] "cmd" "arg" …`. */
export function monitorLine(nowUs: bigint, addr: string, argv: readonly Buffer[]): Buffer {
  const sec = nowUs / 1_000_000n;
  const usec = (nowUs % 1_000_000n).toString().padStart(6, '0');
  return Buffer.from(`+${sec}.${usec} [0 ${addr}] ${redactSecrets(argv).map(quoteArg).join(' ')}\r\n`, 'latin1');
}

/**
 * Sessions whose commands monitors never see: those a node runs on a client's behalf (MIGRATE's
 * WATCH, DUMP, PTTL …). Redis shows only the client's own command.
 */
const unmonitored = new WeakSet<SessionState>();

export function hideFromMonitors(session: SessionState): void {
  unmonitored.add(session);
}

/** Connections in MONITOR mode, and the feed of every command the node is asked to run. */
export class MonitorFeed {
  private readonly monitors = new Set<SessionState>();

  get size(): number {
    return this.monitors.size;
  }

  add(session: SessionState): void {
    this.monitors.add(session);
  }

  remove(session: SessionState): void {
    this.monitors.delete(session);
  }

  has(session: SessionState): boolean {
    return this.monitors.has(session);
  }

  /** Shows a command to every monitor (Redis leaves out admin commands and those flagged skip_monitor). */
  feed(session: SessionState, argv: readonly Buffer[]): void {
    if (this.monitors.size === 0 || unmonitored.has(session)) return;
    this.send(session.addr, argv);
  }

  /** A command a script ran, shown as Redis shows it: from the client `lua`, after the script's own line. */
  feedScriptCall(session: SessionState, argv: readonly Buffer[]): void {
    if (this.monitors.size === 0 || unmonitored.has(session)) return;
    this.send('lua', argv);
  }

  private send(addr: string, argv: readonly Buffer[]): void {
    const nowUs = BigInt(Date.now()) * 1000n + BigInt(Math.floor(process.hrtime()[1] / 1000) % 1000);
    const line = monitorLine(nowUs, addr, argv);
    for (const m of this.monitors) m.deliver(line);
  }
}
