import { Redis } from 'ioredis';
import { UsageError } from '../core/startup-error.js';

interface Row {
  id: string;
  address: string;
  flags: string;
  link: string;
  slots: number;
  epoch: string;
}

/** What one node says about its own part in a rebalance (INFO ringkv); undefined when unreachable. */
interface Progress {
  moving: string;
  slotsIn: string;
  slotsOut: string;
  windowMs: string;
  aeQueued: string;
  status: string;
}

function countSlots(tokens: string[]): number {
  let n = 0;
  for (const t of tokens) {
    const [a, b] = t.split('-');
    n += b === undefined ? 1 : Number(b) - Number(a) + 1;
  }
  return n;
}

const infoField = (text: string, name: string): string => new RegExp(`(?:^|\\n)${name}:(\\S+)`).exec(text)?.[1] ?? '?';

/** Each node is asked itself: slots moving in and out and the window are per node, not gossiped. */
async function progressOf(address: string, password: string | undefined): Promise<Progress | undefined> {
  const i = address.lastIndexOf(':');
  const r = new Redis({
    host: address.slice(0, i), port: Number(address.slice(i + 1)), password, lazyConnect: true,
    connectTimeout: 1000, commandTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const info = (await r.call('info', 'ringkv')) as string;
    return {
      moving: infoField(info, 'ringkv_rebalance_slots_moving'), slotsIn: infoField(info, 'ringkv_rebalance_slots_in'),
      slotsOut: infoField(info, 'ringkv_rebalance_slots_out'), windowMs: infoField(info, 'ringkv_rebalance_window_left_ms'),
      aeQueued: infoField(info, 'ringkv_ae_slots_queued'), status: infoField(info, 'ringkv_member_status'),
    };
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

function stateOf(row: Row, progress: Progress | undefined): string {
  // A decommissioned node is listed (flag nofailover, no slots) until forgotten; it may still be up.
  if (row.flags.includes('nofailover') || progress?.status === 'left') return 'left';
  if (progress?.status === 'leaving') return 'leaving';
  return row.flags.includes('fail?') ? 'suspect' : row.flags.includes('fail') ? 'dead' : 'alive';
}

/** How often `--watch` redraws when no interval is given. */
const WATCH_DEFAULT_SECONDS = 2;

/**
 * The status text of the cluster as the node at host:port sees it: the cluster's nodes, their
 * state, slot share and topology epoch, and per node its part in a rebalance (slots moving in and
 * out, the time left in the rebalance window, slots queued for anti-entropy), as a table.
 */
async function statusText(host: string, port: number, password: string | undefined): Promise<string> {
  const r = new Redis({ host, port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000, commandTimeout: 3000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const nodes = (await r.call('cluster', 'nodes')) as string;
    const info = (await r.call('cluster', 'info')) as string;
    const rows: Row[] = nodes.split('\n').filter(Boolean).map((line) => {
      const f = line.split(' ');
      return { id: f[0]!, address: f[1]!.split('@')[0]!, flags: f[2]!, link: f[7]!, slots: countSlots(f.slice(8)), epoch: f[6]! };
    });
    const progress = await Promise.all(rows.map((row) => progressOf(row.address, password)));
    const field = (name: string): string => infoField(info, name);
    const lines: string[] = [];
    lines.push(`cluster_state: ${field('cluster_state')}   known nodes: ${field('cluster_known_nodes')}   topology epoch: ${field('cluster_current_epoch')}`);
    const moving = Math.max(0, ...progress.map((p) => Number(p?.moving ?? 0) || 0));
    const window = Math.max(0, ...progress.map((p) => Number(p?.windowMs ?? 0) || 0));
    const queued = progress.reduce((s, p) => s + (Number(p?.aeQueued ?? 0) || 0), 0);
    lines.push(moving > 0 || queued > 0
      ? `rebalance: ${moving} slots moving, window ${(window / 1000).toFixed(1)} s left, ${queued} slots queued for anti-entropy`
      : 'rebalance: none in progress');
    const header = ['NODE', 'ADDRESS', 'STATE', 'LINK', 'SLOTS', 'SHARE', 'EPOCH', 'IN', 'OUT', 'WINDOW', 'AE-QUEUE'];
    const table = rows.map((row, i) => {
      const p = progress[i];
      return [
        row.id.slice(0, 12), row.address, stateOf(row, p), row.link, String(row.slots), `${((row.slots / 16384) * 100).toFixed(1)}%`, row.epoch,
        p?.slotsIn ?? '-', p?.slotsOut ?? '-', p && p.windowMs !== '?' ? `${(Number(p.windowMs) / 1000).toFixed(1)}s` : (p?.windowMs ?? '-'), p?.aeQueued ?? '-',
      ];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
    const fmt = (cols: string[]): string => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    lines.push(fmt(header));
    for (const t of table) lines.push(fmt(t));
    return lines.join('\n');
  } finally {
    r.disconnect();
  }
}

/**
 * `ringkv status`: the table once, or with `--watch [seconds]` redrawn until Ctrl-C (the screen
 * is cleared between draws on a terminal; elsewhere each draw follows the last, stamped with the
 * time). A node that stops answering while watched is reported and asked again next time.
 */
export async function runStatus(args: string[]): Promise<void> {
  let host = '127.0.0.1';
  let port = 7000;
  let password: string | undefined;
  let watchSeconds: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`, 'status');
      return v;
    };
    if (a === '--host') host = value();
    else if (a === '--port') port = Number(value());
    else if (a === '-a' || a === '--password') password = value();
    else if (a === '--watch' || a === '-w') {
      const next = args[i + 1];
      watchSeconds = next !== undefined && /^\d+(\.\d+)?$/.test(next) ? Number(args[++i]) : WATCH_DEFAULT_SECONDS;
      if (!(watchSeconds >= 0.1)) throw new UsageError('--watch interval must be at least 0.1 seconds', 'status');
    } else throw new UsageError(`unknown option '${a}'`, 'status');
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('--port must be 1..65535', 'status');
  if (watchSeconds === undefined) {
    try {
      console.log(await statusText(host, port, password));
    } catch (err) {
      console.error(`ringkv status: cannot read the cluster at ${host}:${port}: ${(err as Error).message}`);
      process.exitCode = 1;
    }
    return;
  }
  const tty = process.stdout.isTTY === true;
  let stopped = false;
  process.once('SIGINT', () => (stopped = true));
  process.once('SIGTERM', () => (stopped = true));
  while (!stopped) {
    let text: string;
    try {
      text = await statusText(host, port, password);
    } catch (err) {
      text = `cannot read the cluster at ${host}:${port}: ${(err as Error).message}`;
    }
    if (stopped) break;
    const stamp = `${new Date().toISOString().slice(11, 19)}  ringkv status ${host}:${port}, every ${watchSeconds} s (Ctrl-C stops)`;
    process.stdout.write((tty ? '\x1b[H\x1b[2J' : '\n') + stamp + '\n' + text + '\n');
    const until = Date.now() + watchSeconds * 1000;
    while (!stopped && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
  }
}
