import type { Prng } from '../prng.js';
import type { Scheduler } from './scheduler.js';
import type { SimNet } from './sim-network.js';

/** What the nemesis does to the cluster. */
export interface FaultActions {
  crash(i: number): void;
  restart(i: number): void;
  jumpClock(i: number, deltaMs: number): void;
  /** Node i is cut off both ways for `ms` (told, not done: the blocks below do it). */
  isolate?(i: number, ms: number): void;
  /**
   * Node i's process stands still for `ms` (a GC pause, SIGSTOP). Only runs that pass it get
   * stalls: they take a share of the cut-offs' draws, so other runs' schedules stay as they were.
   */
  stall?(i: number, ms: number): void;
}

export interface FaultCounts {
  crashes: number;
  partitions: number;
  oneWay: number;
  clockJumps: number;
  lossBursts: number;
  stalls: number;
}

/** The network's background misbehaviour outside bursts. */
export const BASE_DROP_RATE = 0.005;
export const BASE_DUP_RATE = 0.01;
export const BASE_DELAY_MAX_MS = 4;

/**
 * Schedules the faults of one run, one every 100–400 ms until shortly before `untilMs`: power loss
 * of one node or two at once (restarted 100–800 ms later), a node cut off both ways or one
 * direction between two nodes blocked (100–900 ms), a clock jump of up to ±2 s, or a burst of loss,
 * duplicates and delay (100–500 ms). `healed()` tells a burst ending after healing to leave the
 * network clean.
 */
export function scheduleFaults(
  sched: Scheduler,
  prng: Prng,
  net: SimNet,
  count: number,
  untilMs: number,
  act: FaultActions,
  healed: () => boolean,
  trace?: (line: string) => void,
): FaultCounts {
  const counts: FaultCounts = { crashes: 0, partitions: 0, oneWay: 0, clockJumps: 0, lossBursts: 0, stalls: 0 };
  // Overlapping blocks of one direction (a one-way block inside an isolation) last until the later
  // one ends: the earlier one lifting must not open a link the other still cuts.
  const blockedUntil = new Map<string, number>();
  const block = (from: number, to: number, ms: number): void => {
    const k = `${from}>${to}`;
    const until = Math.max(blockedUntil.get(k) ?? 0, sched.now + ms);
    blockedUntil.set(k, until);
    net.blocks.add(k);
    sched.after(ms, () => {
      if (sched.now >= blockedUntil.get(k)!) net.blocks.delete(k);
    });
  };
  for (let t = prng.int(50, 200); t < untilMs - 100; t += prng.int(100, 400)) {
    sched.after(t, () => {
      const p = prng.next();
      const i = prng.int(0, count - 1);
      if (p < 0.25) {
        // A node (sometimes two at once) loses power; it comes back with what it had synced.
        const victims = prng.chance(0.3) ? [i, (i + 1) % count] : [i];
        for (const v of victims) {
          act.crash(v);
          sched.after(prng.int(100, 800), () => act.restart(v));
        }
      } else if (p < 0.45 && act.stall !== undefined && p >= 0.38) {
        counts.stalls++;
        const ms = prng.int(100, 900);
        trace?.(`t=${sched.now} stall node ${i} for ${ms} ms`);
        act.stall(i, ms);
      } else if (p < 0.45) {
        counts.partitions++;
        const ms = prng.int(100, 900);
        trace?.(`t=${sched.now} isolate node ${i} for ${ms} ms`);
        for (let j = 0; j < count; j++) if (j !== i) { block(i, j, ms); block(j, i, ms); }
        act.isolate?.(i, ms);
      } else if (p < 0.6) {
        counts.oneWay++;
        const j = (i + prng.int(1, count - 1)) % count;
        const ms = prng.int(100, 900);
        trace?.(`t=${sched.now} block ${i} -> ${j} for ${ms} ms`);
        block(i, j, ms);
      } else if (p < 0.75) {
        counts.clockJumps++;
        const delta = prng.chance(0.5) ? prng.int(1, 2000) : -prng.int(1, 2000);
        trace?.(`t=${sched.now} clock of node ${i} jumps ${delta} ms`);
        act.jumpClock(i, delta);
      } else {
        counts.lossBursts++;
        net.dropRate = prng.next() * 0.2;
        net.dupRate = prng.next() * 0.2;
        net.delayMax = prng.int(4, 60);
        sched.after(prng.int(100, 500), () => {
          if (healed()) return;
          net.dropRate = BASE_DROP_RATE;
          net.dupRate = BASE_DUP_RATE;
          net.delayMax = BASE_DELAY_MAX_MS;
        });
      }
    });
  }
  return counts;
}

/** A membership change: true once done, false when it must wait (no member runs to take it). */
export interface MembershipActions {
  join(): boolean;
  leave(): boolean;
}

/**
 * Schedules one join and one leave during the workload, the first at 150–500 ms and the second
 * 300–600 ms after the first took place, so the second often lands inside the first one's rebalance window. Three nodes
 * join first (a leave first would leave fewer members than N); five draw the order. A change that
 * finds no member running is tried again 50 ms later.
 */
export function scheduleMembership(sched: Scheduler, prng: Prng, count: number, act: MembershipActions): void {
  const order: Array<keyof MembershipActions> = count > 3 && prng.chance(0.5) ? ['leave', 'join'] : ['join', 'leave'];
  const first = prng.int(150, 500);
  const gap = prng.int(300, 600);
  const attempt = (k: number): void => {
    if (!act[order[k]!]()) {
      sched.after(50, () => attempt(k));
      return;
    }
    if (k === 0) sched.after(gap, () => attempt(1));
  };
  sched.after(first, () => attempt(0));
}
