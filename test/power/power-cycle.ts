/**
 * One power-loss cycle: a node whose --dir lies on a lazyfs mount takes the workload, the power is
 * cut (now, or when an armed operation arrives), the node is killed, the mount is made again over
 * what reached the disk, the node restarts on it, and every connection's history is checked.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { startNode, tempDir, type NodeProcess } from '../helpers/server.js';
import { LazyMount, type CutStatus } from './lazy-mount.js';
import { checkConnection, observe, runWorkload, type Verdict } from './power-workload.js';

export interface Rig {
  mount: LazyMount;
  node: NodeProcess;
}

/** A lazyfs mount over a fresh backing directory and a node running on it. */
export async function startRig(args: string[]): Promise<Rig> {
  const base = tempDir('ringkv-power-');
  const backing = path.join(base, 'disk');
  const mnt = path.join(base, 'mnt');
  // The data directory exists before the node starts (as an operator or a volume provides it), so
  // its own entry is durable; everything the node creates inside it is the node's to make durable.
  mkdirSync(path.join(backing, 'data'), { recursive: true });
  mkdirSync(mnt);
  const mount = new LazyMount(backing, mnt);
  await mount.mount();
  const node = await startNode({ dir: path.join(mnt, 'data'), args });
  return { mount, node };
}

export async function stopRig(rig: Rig | undefined): Promise<void> {
  if (!rig) return;
  await rig.node.kill9();
  await rig.mount.unmount();
  // The worker may end without running exit handlers; nothing of the rig is needed any more.
  if (!rig.mount.mounted()) rmSync(path.dirname(rig.mount.backing), { recursive: true, force: true });
}

export interface CycleResult {
  verdicts: Verdict[];
  status: CutStatus;
  /** Warnings and errors the node logged while starting on the cut disk. */
  startLog: string;
  /** A start that logged a torn log tail being cut off. */
  tornTail: boolean;
}

export interface CycleOptions {
  /** The name of this cycle's keys (distinct per cycle). */
  prefix: string;
  seed: number;
  /** Cut this many ms after the first acknowledgements... */
  cutAfterMs?: number;
  /** ...or arm this cut and wait (up to armWaitMs) for the matching operation. */
  arm?: { pattern: string; k: number };
  armWaitMs?: number;
  /** Acknowledgements to wait for before the cut is armed or its delay starts (default 200). */
  ackedFirst?: number;
  torn: boolean;
  connections?: number;
}

export async function powerCycle(rig: Rig, opts: CycleOptions): Promise<CycleResult> {
  let stop = false;
  const progress = { acked: 0 };
  const work = runWorkload(rig.node.port, opts.prefix, opts.connections ?? 4, () => stop, opts.seed, progress);
  const tornSeed = opts.torn ? opts.seed : undefined;
  // Some acknowledged writes first (the disk is slow when the machine is busy), so every cut has
  // acknowledged work to lose, and armed cuts meet checkpoints of it, not only of the replay.
  const started = Date.now();
  while (progress.acked < (opts.ackedFirst ?? 200) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 5));
  if (opts.arm) {
    rig.mount.arm(opts.arm.pattern, opts.arm.k, tornSeed);
    const deadline = Date.now() + (opts.armWaitMs ?? 20_000);
    while (!rig.mount.status().dead && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!rig.mount.status().dead) rig.mount.cut(tornSeed); // the armed operation never came: cut anyway
  } else {
    await new Promise((r) => setTimeout(r, opts.cutAfterMs ?? 500));
    rig.mount.cut(tornSeed);
  }
  await rig.node.kill9();
  stop = true;
  const histories = await work;
  const status = rig.mount.status();
  await rig.mount.unmount();
  await rig.mount.mount();
  // POWER_KEEP=<dir>: a copy of each disk as the cut left it, to study a failure offline.
  if (process.env.POWER_KEEP) cpSync(rig.mount.backing, path.join(process.env.POWER_KEEP, opts.prefix), { recursive: true });
  const from = rig.node.output().length;
  await rig.node.restart();
  const startLog = rig.node.output().slice(from);
  // A reply that never comes (a collection whose count and elements disagree) fails the check
  // instead of hanging it.
  const client = new Redis({ port: rig.node.port, maxRetriesPerRequest: 1, commandTimeout: 10_000 });
  try {
    const verdicts: Verdict[] = [];
    for (const h of histories) verdicts.push(checkConnection(h, await observe(client, h)));
    return { verdicts, status, startLog, tornTail: /torn tail truncated/.test(startLog) };
  } finally {
    client.disconnect();
  }
}

/** Sums a cycle's verdicts for a log line and assertions. */
export function summary(r: CycleResult): { sent: number; acked: number; survived: number; lostAcked: number; lost: string[]; problems: string[] } {
  const s = { sent: 0, acked: 0, survived: 0, lostAcked: 0, lost: [] as string[], problems: [] as string[] };
  for (const v of r.verdicts) {
    s.sent += v.sent;
    s.acked += v.acked;
    s.survived += v.survived;
    s.lostAcked += v.lostAcked;
    s.lost.push(...v.lost.map((l) => `${v.prefix} ${l}`));
    s.problems.push(...v.problems);
  }
  return s;
}
