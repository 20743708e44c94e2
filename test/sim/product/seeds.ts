import { envInt } from '../../helpers/env.js';
import type { ProductSimReport } from './run.js';

/**
 * The seeds a file runs: SIM_SEED=<n> replays one, SIM_SEEDS=<count> runs that many (the soak),
 * SIM_SEED_BASE=<n> starts elsewhere; otherwise `ciCount` seeds from `base`.
 */
export function seedList(ciCount: number, base: number): number[] {
  const one = envInt('SIM_SEED');
  if (one !== undefined) return [one];
  const from = envInt('SIM_SEED_BASE') ?? base;
  return Array.from({ length: envInt('SIM_SEEDS') ?? ciCount }, (_, i) => from + i);
}

/**
 * Violations that fail a run. A mismatch on a key after one of its writes had an unknown outcome
 * ('resurfaced') is a known finding (docs/reliability.md), reported but only failing with SIM_STRICT=1.
 */
export function failures(report: ProductSimReport): string[] {
  const strict = process.env.SIM_STRICT === '1';
  return report.violations.filter((v) => strict || v.kind !== 'resurfaced').map((v) => `${v.kind}: ${v.text}`);
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
  const resurfaced = r.violations.filter((v) => v.kind === 'resurfaced').length;
  return [
    `seed=${r.seed} nodes=${r.nodes} events=${s.events}`,
    `batches=${s.batches} commands=${s.commands} checked=${s.checkedReplies} lost-replies=${s.lostReplies}`,
    `incr acked/unknown=${s.incrAcked}/${s.incrUncertain} quorum-failures=${s.quorumFailures} restamps=${s.restamps}`,
    `faults: crashes=${s.crashes} partitions=${s.partitions} one-way=${s.oneWay} clock-jumps=${s.clockJumps} loss-bursts=${s.lossBursts}`,
    `net: messages=${s.messages} dropped=${s.dropped} dup=${s.duplicated} blocked=${s.blocked} timeouts=${s.timeouts}`,
    ...(resurfaced > 0 ? [`resurfaced=${resurfaced} (known finding)`] : []),
  ].join(' | ') + r.violations.filter((v) => v.kind === 'resurfaced').map((v) => `\n  resurfaced: ${v.text}`).join('');
}
