import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface StatFields {
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses, so split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); fields 14..17 (utime, stime, cutime, cstime) sit at 11..14.
  const num = (i: number): number => Number(rest[i] ?? 0);
  return { ppid: num(1), ticks: num(11) + num(12) + num(13) + num(14) };
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat === null) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU consumed so far by a process, its threads and its process tree, in clock ticks.
 * Children are included (live ones directly, reaped ones through cutime/cstime) so that
 * forked persistence work or cluster child processes are charged to the server.
 */
export function processTreeTicks(pid: number): number {
  const own = readStat(pid);
  if (own === null) throw new Error(`process ${pid} is gone`);
  let total = own.ticks;
  for (const child of descendants(pid)) total += readStat(child)?.ticks ?? 0;
  return total;
}

let cachedHz: number | null = null;

/** USER_HZ; Node exposes no sysconf, and 100 is what Linux reports on every common architecture. */
export function clockTicksPerSecond(): number {
  if (cachedHz !== null) return cachedHz;
  try {
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    cachedHz = Number.isFinite(hz) && hz > 0 ? hz : 100;
  } catch {
    cachedHz = 100;
  }
  return cachedHz;
}
