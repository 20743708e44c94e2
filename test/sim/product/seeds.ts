import { envInt } from '../../helpers/env.js';
import type { ProductSimReport } from './run.js';

/**
 * The seeds a file runs: SIM_SEED=<n> replays one, SIM_SEEDS=<count> runs that many (the soak),
 * SIM_SEED_BASE=<n> starts elsewhere; otherwise `ciCount` seeds from `base`, and the
 * `regressions` (seeds that once failed).
 */
export function seedList(ciCount: number, base: number, regressions: readonly number[] = []): number[] {
  const one = envInt('SIM_SEED');
  if (one !== undefined) return [one];
  const from = envInt('SIM_SEED_BASE') ?? base;
  const soak = envInt('SIM_SEEDS');
  const run = Array.from({ length: soak ?? ciCount }, (_, i) => from + i);
  // Seeds that once failed run in CI beside the consecutive ones (a soak runs only its range).
  return soak === undefined ? [...run, ...regressions.filter((s) => !run.includes(s))] : run;
}

/**
 * Violations of known findings (docs/reliability.md): reported, failing a run only with SIM_STRICT=1.
 * `quorum-read`: findings 4 and 5 of the product simulation (a rebalance moves a slot from one old
 * owner only; a node restarted during a rebalance forgets it). `split`: finding 9 (a two-key write
 * of unknown outcome applied to one of its keys).
 */
const KNOWN = new Set(['resurfaced', 'contested', 'quorum-read', 'split']);

/** Violations that fail a run. */
export function failures(report: ProductSimReport): string[] {
  const strict = process.env.SIM_STRICT === '1';
  return report.violations.filter((v) => strict || !KNOWN.has(v.kind)).map((v) => `${v.kind}: ${v.text}`);
}

/**
 * SIM_TRACE=<text> prints, for keys containing the text, every store write on every node and every
 * reply, with the faults around them: how a replayed seed's violation came about.
 */
export function traceOptions(): { traceKey?: string; trace?: (line: string) => void } {
  const key = process.env.SIM_TRACE;
  if (key === undefined || key === '') return {};
  return { traceKey: key, trace: (line) => console.log(line) };
}

export function figures(r: ProductSimReport): string {
  const s = r.stats;
  const known = r.violations.filter((v) => KNOWN.has(v.kind));
  return [
    `seed=${r.seed} nodes=${r.nodes} events=${s.events}`,
    `batches=${s.batches} commands=${s.commands} checked=${s.checkedReplies} lost-replies=${s.lostReplies}`,
    `incr acked/unknown=${s.incrAcked}/${s.incrUncertain} quorum-failures=${s.quorumFailures} hedged-reads=${s.hedgedReads} shared-reads=${s.sharedReads} grouped-jobs=${s.groupedJobs} restamps=${s.restamps} contested-slots=${s.contestedSlots}`,
    `hints stored/delivered=${s.hints}/${s.hintsDelivered}`,
    `faults: crashes=${s.crashes} partitions=${s.partitions} one-way=${s.oneWay} clock-jumps=${s.clockJumps} loss-bursts=${s.lossBursts}${s.stalls ? ` stalls=${s.stalls}` : ''}`,
    `errors: ${Object.entries(r.errors).sort().map(([k, v]) => `${k}=${v}`).join(', ') || 'none'}`,
    `net: messages=${s.messages} dropped=${s.dropped} dup=${s.duplicated} blocked=${s.blocked} timeouts=${s.timeouts}`,
    ...(s.catchUps !== undefined
      ? [`catch-ups begun/ended=${s.catchUps}/${s.catchUpsEnded} records pulled=${s.catchUpPulled} fresh-reads R=1 read/checked=${s.freshReads}/${s.freshChecked} behind=${s.freshBehind} (writes acked ${s.freshWrites})`]
      : []),
    ...(s.joins !== undefined
      ? [`membership: joined at ${s.joinedAt} left at ${s.leftAt} decommissioned at ${s.decommissionedAt}${s.leaveUnfinished ? ' (rebalance unfinished)' : ''} windows opened/closed/open-at-end=${s.windowsOpened}/${s.windowsClosed}/${s.windowsOpenAtEnd} rebalance slots=${s.rebalanceSlotsCompared} records pulled/pushed=${s.rebalancePulled}/${s.rebalancePushed}`]
      : []),
    ...(known.length > 0 ? [`known findings=${known.length}`] : []),
  ].join(' | ') + known.map((v) => `\n  ${v.kind}: ${v.text}`).join('');
}
