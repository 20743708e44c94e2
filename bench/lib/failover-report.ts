/** The failover runs in the text output and the markdown summary. */
import type { ReadbackResult } from './ack-messages.js';
import { RATIO_WINDOW_S, type FailoverReport, type FailoverSecond } from './failover.js';

/** Renders a table; the first `left` columns are text, the rest numbers. */
export type TableRenderer = (header: readonly string[], rows: readonly string[][], left: number) => string;

const FAULT_TITLE = { kill: 'SIGKILL of one node', partition: 'partition-one' } as const;
const MIX_TITLE = { set: 'SET on fresh keys', 'set,incr': 'SET on fresh keys alternating with INCR on shared counters' } as const;

function label(r: FailoverReport): string {
  return r.server === 'redis' ? `Redis Cluster ${r.variant}` : `ringkv ${r.variant}`;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

function readbackLine(what: string, r: ReadbackResult | null): string {
  if (r === null) return `${what}: not run.`;
  const bad = r.missing + r.wrong + r.errors + r.unanswered;
  return (
    `${what}: ${r.keys === r.acknowledged ? `all ${int(r.keys)}` : `${int(r.keys)} drawn at random of ${int(r.acknowledged)}`} in ${r.seconds.toFixed(1)} s: ${int(r.ok)} read back` +
    (bad === 0 ? ', none missing, wrong or failed.' : `; ${r.missing} missing, ${r.wrong} wrong, ${r.errors} errors, ${r.unanswered} unanswered.`) +
    (r.errorSamples.length > 0 ? ` Errors: ${r.errorSamples.map(([m, n]) => `${m} (${n})`).join('; ')}.` : '')
  );
}

/** The figures of one run in a few sentences. */
export function failoverSummaryLines(r: FailoverReport): string[] {
  const lines = [
    `${label(r)}, ${FAULT_TITLE[r.fault]} (${r.victim}), ${r.clients} workers, ${MIX_TITLE[r.mix]}. ` +
      `Settings: ${Object.entries(r.settings).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Acknowledged commands: ${int(r.beforeOkPerS)}/s before, ${int(r.after10OkPerS)}/s in the ${RATIO_WINDOW_S} s after ` +
      `(${(r.ratio * 100).toFixed(1)}% of the rate before); errors ${int(r.beforeErrPerS)}/s before, ${int(r.after10ErrPerS)}/s after.`,
    readbackLine('Keys acknowledged before the fault, read back from t=1 s', r.readback),
    readbackLine('Every key acknowledged in the run, read back after the load stopped', r.final),
  ];
  if (r.counters !== null) {
    const c = r.counters;
    lines.push(
      `Counters: ${c.counters}, ${int(c.acked)} INCRs acknowledged, ${int(c.failed)} failed, ${c.pending} in flight at the end; ` +
        `${c.lost} counters below their acknowledged INCRs (${c.lostIncrements} increments lost), ` +
        `${c.excess} above acknowledged + failed + in flight (${c.excessIncrements} increments more than were issued), ${c.unread} unread.` +
        (r.counterErrors.length > 0 ? ` ${r.counterErrors.slice(0, 3).join('; ')}` : ''),
    );
  }
  return lines;
}

const ms = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));

/** One run: events, per-second timeline, client errors. */
export function failoverTables(r: FailoverReport, table: TableRenderer): string[] {
  const incr = r.mix === 'set,incr';
  const header = ['t s', 'SET ok', 'SET err', ...(incr ? ['INCR ok', 'INCR err'] : []), 'p99 ms', 'read-back GET ok', 'GET err'];
  const rows = r.seconds.map((s) => [
    String(s.t), int(s.setOk), int(s.setErr), ...(incr ? [int(s.incrOk), int(s.incrErr)] : []), ms(s.p99Ms), int(s.getOk), int(s.getErr),
  ]);
  const parts = [
    table(['t s', 'event'], r.events.map((e) => [e.atS.toFixed(2), e.name]), 2),
    table(header, rows, 0),
  ];
  parts.push(
    r.errorMessages.length === 0
      ? 'The client saw no errors.'
      : table(['client error (sampled)', '100 ms slices with it'], r.errorMessages.slice(0, 8).map((e) => [e.message, String(e.slices)]), 1),
  );
  return parts;
}

/** Runs of the same fault and workload on both servers, one row per second: the comparison to read. */
export function sideBySide(reports: readonly FailoverReport[], table: TableRenderer): Array<{ title: string; table: string }> {
  const out: Array<{ title: string; table: string }> = [];
  const keys = [...new Set(reports.map((r) => `${r.fault}|${r.mix}`))];
  for (const key of keys) {
    const group = reports.filter((r) => `${r.fault}|${r.mix}` === key);
    if (group.length < 2) continue;
    const first = group[0]!;
    const ok = (s: FailoverSecond | undefined): string => (s === undefined ? '-' : int(s.setOk + s.incrOk));
    const err = (s: FailoverSecond | undefined): string => (s === undefined ? '-' : int(s.setErr + s.incrErr));
    const header = ['t s', ...group.flatMap((r) => [`${label(r)} ok/s`, 'err/s'])];
    const rows = first.seconds.map((s) => [String(s.t), ...group.flatMap((r) => {
      const same = r.seconds.find((x) => x.t === s.t);
      return [ok(same), err(same)];
    })]);
    rows.push([`ratio ${RATIO_WINDOW_S} s after / before`, ...group.flatMap((r) => [`${(r.ratio * 100).toFixed(1)}%`, ''])]);
    out.push({ title: `${FAULT_TITLE[first.fault]}, ${MIX_TITLE[first.mix]}: acknowledged commands and errors per second (t=0 is the fault)`, table: table(header, rows, 0) });
  }
  return out;
}
