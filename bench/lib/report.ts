import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Generator, Measurement } from './benchmark.js';
import type { DisruptionReport, LoadStats } from './disruption.js';
import type { FailoverReport } from './failover.js';
import { failoverSummaryLines, failoverTables, sideBySide } from './failover-report.js';
import type { CollectionsReport } from './collections.js';
import { collectionsSections } from './collections-report.js';
import { streamsTable, type StreamsRow } from './streams.js';
import { scriptingTable, type ScriptingRow } from './scripting.js';
import { quorumLabel, SCENARIOS, STRICT_QUORUM, type ScenarioName, type ServerName } from './servers.js';

export interface ResultRow extends Measurement {
  scenario: ScenarioName;
  server: ServerName;
  /** Empty for a single node; the cluster's shape otherwise ("3 masters", "N3 W2 R2"). */
  variant: string;
  nodes: number;
  /** Throughput of every repeat; the row's other figures come from the median one. */
  repeatRps: number[];
}

export interface Ratio {
  scenario: ScenarioName;
  /** The ringkv variant compared (a cluster scenario may have several). */
  variant: string;
  /** The redis-server setup it is compared with ("" for a single node, "3 masters", ...). */
  anchor: string;
  test: string;
  generator: Generator;
  pipeline: number;
  /** ringkv ops/s divided by redis ops/s: above 1 means ringkv is faster. */
  throughput: number;
  /** ringkv CPU per request divided by redis's: above 1 means ringkv burns more CPU. */
  cpuPerRequest: number;
}

export interface Summary {
  generatedAt: string;
  environment: Record<string, string | number>;
  config: Record<string, string | number | boolean>;
  results: ResultRow[];
  ratios: Ratio[];
  /** Failure and rebalance runs. */
  disruptions: DisruptionReport[];
  /** Failover and partition runs, at default settings, both servers. */
  failovers: FailoverReport[];
  /** The collections scenario's runs (one per run of the scenario). */
  collections: CollectionsReport[];
  /** The streams scenario's rows, when it ran. */
  streams?: StreamsRow[];
  /** The scripting scenario's rows, when it ran. */
  scripting?: ScriptingRow[];
}

/** A throughput goal for ringkv / redis in one scenario, for every test or one of them. */
export interface PlanTarget {
  scenario: ScenarioName;
  variant: string;
  /** Upper-case command name; all tests of the scenario when absent. */
  test?: string;
  minThroughputRatio: number;
  /** Where the goal comes from. */
  source: string;
}

const STRICT = quorumLabel(STRICT_QUORUM);

/**
 * The goals checked in the output: the product plan's (N3 W2 at 0.6x a 3-master Redis Cluster),
 * and the performance issue's against a Redis Cluster with a replica per master (unpipelined
 * SET 0.5x, GET 0.8x; pipelined, in either shape, 0.3x).
 */
export const PLAN_TARGETS: readonly PlanTarget[] = [
  { scenario: 'cluster', variant: STRICT, minThroughputRatio: 0.6, source: 'product plan' },
  { scenario: 'cluster-replicas', variant: STRICT, test: 'SET', minThroughputRatio: 0.5, source: 'performance issue' },
  { scenario: 'cluster-replicas', variant: STRICT, test: 'GET', minThroughputRatio: 0.8, source: 'performance issue' },
  { scenario: 'cluster-pipelined', variant: STRICT, minThroughputRatio: 0.3, source: 'performance issue' },
];

/**
 * "SET", "SET -P16" (redis-benchmark; with --cluster each connection's pipeline stays in one
 * slot), "SET mixed x16" (mixed-slot generator, 16 commands in flight per connection).
 */
export function testLabel(test: string, pipeline: number, generator: Generator = 'redis-benchmark'): string {
  if (generator === 'mixed-slot') return `${test} mixed x${pipeline}`;
  return pipeline > 1 ? `${test} -P${pipeline}` : test;
}

export function computeRatios(results: readonly ResultRow[]): Ratio[] {
  const ratios: Ratio[] = [];
  for (const ringkv of results.filter((r) => r.server === 'ringkv')) {
    const redis = results.find(
      (r) =>
        r.server === 'redis' &&
        r.scenario === ringkv.scenario &&
        r.test === ringkv.test &&
        r.generator === ringkv.generator &&
        r.pipeline === ringkv.pipeline,
    );
    if (redis === undefined) continue;
    ratios.push({
      scenario: ringkv.scenario,
      variant: ringkv.variant,
      anchor: redis.variant,
      test: ringkv.test,
      generator: ringkv.generator,
      pipeline: ringkv.pipeline,
      throughput: ringkv.rps / redis.rps,
      cpuPerRequest: redis.cpuUsPerRequest > 0 ? ringkv.cpuUsPerRequest / redis.cpuUsPerRequest : Number.NaN,
    });
  }
  return ratios;
}

const fmt = {
  int: (n: number): string => Math.round(n).toLocaleString('en-US'),
  ms: (n: number | null): string => (n === null ? 'n/a' : n.toFixed(3)),
  us: (n: number): string => n.toFixed(2),
  ratio: (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : 'n/a'),
};

const RESULT_HEADER = ['scenario', 'server', 'test', 'ops/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'CPU ticks', 'spread'];

/** (max - min) / median throughput over the repeats: how far to trust the row. */
function spread(r: ResultRow): string {
  if (r.repeatRps.length < 2) return '-';
  return `${(((Math.max(...r.repeatRps) - Math.min(...r.repeatRps)) / r.rps) * 100).toFixed(0)}%`;
}
const RATIO_HEADER = ['scenario', 'ringkv', 'redis', 'test', 'throughput ringkv/redis', 'CPU per request ringkv/redis'];

function serverLabel(server: string, variant: string): string {
  return variant === '' ? server : `${server} ${variant}`;
}

function scenarioTitle(name: ScenarioName): string {
  return SCENARIOS.find((s) => s.name === name)?.title ?? name;
}

function resultCells(r: ResultRow): string[] {
  return [
    scenarioTitle(r.scenario),
    serverLabel(r.server, r.variant),
    testLabel(r.test, r.pipeline, r.generator),
    fmt.int(r.rps),
    fmt.ms(r.p50Ms),
    fmt.ms(r.p99Ms),
    fmt.us(r.cpuUsPerRequest),
    String(r.cpuTicks),
    spread(r),
  ];
}

function ratioCells(r: Ratio): string[] {
  return [
    scenarioTitle(r.scenario),
    r.variant === '' ? 'single node' : r.variant,
    r.anchor === '' ? 'single node' : r.anchor,
    testLabel(r.test, r.pipeline, r.generator),
    fmt.ratio(r.throughput),
    fmt.ratio(r.cpuPerRequest),
  ];
}

const TARGET_HEADER = ['scenario', 'ringkv', 'redis', 'test', 'from', 'verdict', 'throughput ringkv/redis', 'target'];

function targetFor(r: Ratio): PlanTarget | undefined {
  return PLAN_TARGETS.find((t) => t.scenario === r.scenario && t.variant === r.variant && (t.test === undefined || t.test === r.test.toUpperCase()));
}

function targetRows(ratios: readonly Ratio[]): string[][] {
  const rows: string[][] = [];
  for (const r of ratios) {
    const target = targetFor(r);
    if (target === undefined) continue;
    rows.push([
      scenarioTitle(r.scenario),
      r.variant,
      r.anchor,
      testLabel(r.test, r.pipeline, r.generator),
      target.source,
      r.throughput >= target.minThroughputRatio ? 'met' : 'missed',
      fmt.ratio(r.throughput),
      `>= ${target.minThroughputRatio.toFixed(2)}x`,
    ]);
  }
  return rows;
}

const TARGET_TITLE = 'Targets: ringkv throughput / the Redis setup beside it in the same run';

const LOAD_HEADER = ['SET ops/s', 'SET p50', 'SET p99', 'SET err', 'GET ops/s', 'GET p50', 'GET p99', 'GET err'];
const PHASE_HEADER = ['phase', 'from s', 'to s', ...LOAD_HEADER, 'longest stall s'];
const WINDOW_HEADER = ['phase', 't s', ...LOAD_HEADER];

function loadCells(s: LoadStats): string[] {
  return [
    fmt.int(s.setRps), fmt.ms(s.setP50Ms), fmt.ms(s.setP99Ms), String(s.setErrors),
    fmt.int(s.getRps), fmt.ms(s.getP50Ms), fmt.ms(s.getP99Ms), String(s.getErrors),
  ];
}

function disruptionTables(f: DisruptionReport, table: (header: readonly string[], rows: readonly string[][], left: number) => string): string[] {
  const events = table(['event', 't s'], f.events.map((e) => [e.name, e.atS.toFixed(2)]), 1);
  const phases = table(
    PHASE_HEADER,
    f.phases.map((p) => [p.phase, p.fromS.toFixed(2), p.toS.toFixed(2), ...loadCells(p), p.stallSeconds.toFixed(1)]),
    1,
  );
  const windows = table(WINDOW_HEADER, f.windows.map((w) => [w.phase, String(w.startS), ...loadCells(w)]), 1);
  const errors =
    f.errorMessages.length === 0
      ? 'The client saw no errors.'
      : table(['client error (sampled)', '100 ms slices with it'], f.errorMessages.map((e) => [e.message, String(e.slices)]), 1);
  return [events, phases, windows, errors];
}

/** Columns after the first three are numeric, so they are right-aligned. */
export function textTable(header: readonly string[], rows: readonly string[][], leftColumns = 3): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function markdownTable(header: readonly string[], rows: readonly string[][], leftColumns: number): string {
  const align = header.map((_, i) => (i < leftColumns ? '---' : '---:'));
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

/** One line per row that got error replies: a throughput figure is only worth as much as its replies. */
function errorLines(results: readonly ResultRow[]): string[] {
  return results
    .filter((r) => (r.errors ?? 0) > 0)
    .map((r) => {
      const samples = (r.errorSamples ?? []).map(([e, n]) => `${e} (${n})`).join('; ');
      return `${serverLabel(r.server, r.variant)} ${testLabel(r.test, r.pipeline, r.generator)}: ${r.errors} error replies of ${r.requests}: ${samples}`;
    });
}

export function renderText(summary: Summary): string {
  const parts: string[] = [];
  if (summary.results.length > 0) parts.push(textTable(RESULT_HEADER, summary.results.map(resultCells)));
  const errors = errorLines(summary.results);
  if (errors.length > 0) parts.push(`Error replies (not counted in ops/s):\n${errors.join('\n')}`);
  if (summary.ratios.length > 0) parts.push(textTable(RATIO_HEADER, summary.ratios.map(ratioCells), 4));
  const targets = targetRows(summary.ratios);
  if (targets.length > 0) parts.push(`${TARGET_TITLE}\n${textTable(TARGET_HEADER, targets, 6)}`);
  for (const f of summary.disruptions) parts.push(f.title, ...disruptionTables(f, textTable));
  for (const f of summary.failovers) parts.push(failoverSummaryLines(f).join('\n'), ...failoverTables(f, textTable));
  for (const s of sideBySide(summary.failovers, textTable)) parts.push(s.title, s.table);
  for (const c of summary.collections) for (const s of collectionsSections(c, textTable)) parts.push(s.title, s.body);
  if (summary.streams !== undefined && summary.streams.length > 0) parts.push('Streams', streamsTable(summary.streams, textTable));
  if (summary.scripting !== undefined && summary.scripting.length > 0) parts.push('Scripting', scriptingTable(summary.scripting, textTable));
  return parts.join('\n\n');
}

export function renderMarkdown(summary: Summary): string {
  const kv = (record: Record<string, string | number | boolean>): string =>
    Object.entries(record)
      .map(([k, v]) => `- ${k}: ${String(v)}`)
      .join('\n');
  const parts = [
    '# ringkv vs redis-server',
    `Generated ${summary.generatedAt}.`,
    '## Environment',
    kv(summary.environment),
    '## Configuration',
    kv(summary.config),
  ];
  if (summary.results.length > 0) parts.push('## Results', markdownTable(RESULT_HEADER, summary.results.map(resultCells), 3));
  const errors = errorLines(summary.results);
  if (errors.length > 0) parts.push('Error replies (not counted in ops/s):', errors.map((e) => `- ${e}`).join('\n'));
  if (summary.ratios.length > 0) {
    parts.push(
      '## Ratios',
      'Throughput above 1x means ringkv is faster; CPU per request above 1x means ringkv spends more server CPU per request.',
      markdownTable(RATIO_HEADER, summary.ratios.map(ratioCells), 4),
    );
  }
  const targets = targetRows(summary.ratios);
  if (targets.length > 0) parts.push('## Targets', `${TARGET_TITLE}.`, markdownTable(TARGET_HEADER, targets, 6));
  for (const f of summary.disruptions) {
    parts.push(`## ${f.heading}`, f.title, ...disruptionTables(f, markdownTable));
  }
  const sides = sideBySide(summary.failovers, markdownTable);
  if (sides.length > 0) parts.push('## Failover side by side');
  for (const s of sides) parts.push(`${s.title}:`, s.table);
  for (const f of summary.failovers) {
    parts.push(`## Failover: ${f.server} ${f.variant}, ${f.fault}, ${f.mix}`, failoverSummaryLines(f).map((l) => `- ${l}`).join('\n'), ...failoverTables(f, markdownTable));
  }
  for (const c of summary.collections) for (const s of collectionsSections(c, markdownTable)) parts.push(`## ${s.title}`, s.body);
  if (summary.streams !== undefined && summary.streams.length > 0) parts.push('## Streams', streamsTable(summary.streams, markdownTable));
  if (summary.scripting !== undefined && summary.scripting.length > 0) parts.push('## Scripting', scriptingTable(summary.scripting, markdownTable));
  return `${parts.join('\n\n')}\n`;
}

/** Writes the markdown to `outPath` and the raw data next to it with a .json extension. */
export function writeSummary(summary: Summary, outPath: string): { markdown: string; json: string } {
  mkdirSync(path.dirname(outPath), { recursive: true });
  const parsed = path.parse(outPath);
  const jsonPath = path.join(parsed.dir, `${parsed.name}.json`);
  const markdownPath = parsed.ext === '.json' ? path.join(parsed.dir, `${parsed.name}.md`) : outPath;
  writeFileSync(markdownPath, renderMarkdown(summary));
  writeFileSync(jsonPath, `${JSON.stringify(summary, null, 2)}\n`);
  return { markdown: markdownPath, json: jsonPath };
}
