import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Measurement } from './benchmark.js';
import type { DisruptionReport, LoadStats } from './disruption.js';
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
  test: string;
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
}

/** The product plan's throughput goal: a 3-node ringkv at N=3 W=2 reaches 0.6x a 3-master Redis Cluster. */
export const PLAN_TARGET = { scenario: 'cluster' as ScenarioName, variant: quorumLabel(STRICT_QUORUM), minThroughputRatio: 0.6 };

export function testLabel(test: string, pipeline: number): string {
  return pipeline > 1 ? `${test} -P${pipeline}` : test;
}

export function computeRatios(results: readonly ResultRow[]): Ratio[] {
  const ratios: Ratio[] = [];
  for (const ringkv of results.filter((r) => r.server === 'ringkv')) {
    const redis = results.find(
      (r) => r.server === 'redis' && r.scenario === ringkv.scenario && r.test === ringkv.test && r.pipeline === ringkv.pipeline,
    );
    if (redis === undefined) continue;
    ratios.push({
      scenario: ringkv.scenario,
      variant: ringkv.variant,
      test: ringkv.test,
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
const RATIO_HEADER = ['scenario', 'ringkv', 'test', 'throughput ringkv/redis', 'CPU per request ringkv/redis'];

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
    testLabel(r.test, r.pipeline),
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
    testLabel(r.test, r.pipeline),
    fmt.ratio(r.throughput),
    fmt.ratio(r.cpuPerRequest),
  ];
}

const TARGET_HEADER = ['test', 'verdict', 'throughput ringkv/redis', 'target'];

function targetRows(ratios: readonly Ratio[]): string[][] {
  return ratios
    .filter((r) => r.scenario === PLAN_TARGET.scenario && r.variant === PLAN_TARGET.variant)
    .map((r) => [
      testLabel(r.test, r.pipeline),
      r.throughput >= PLAN_TARGET.minThroughputRatio ? 'met' : 'missed',
      fmt.ratio(r.throughput),
      `>= ${PLAN_TARGET.minThroughputRatio.toFixed(2)}x`,
    ]);
}

const TARGET_TITLE = `Plan target: ringkv ${PLAN_TARGET.variant} at >= ${PLAN_TARGET.minThroughputRatio}x the throughput of a 3-master Redis Cluster`;

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

function markdownTable(header: readonly string[], rows: readonly string[][], leftColumns: number): string {
  const align = header.map((_, i) => (i < leftColumns ? '---' : '---:'));
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

export function renderText(summary: Summary): string {
  const parts: string[] = [];
  if (summary.results.length > 0) parts.push(textTable(RESULT_HEADER, summary.results.map(resultCells)));
  if (summary.ratios.length > 0) parts.push(textTable(RATIO_HEADER, summary.ratios.map(ratioCells), 3));
  const targets = targetRows(summary.ratios);
  if (targets.length > 0) parts.push(`${TARGET_TITLE}\n${textTable(TARGET_HEADER, targets, 2)}`);
  for (const f of summary.disruptions) parts.push(f.title, ...disruptionTables(f, textTable));
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
  if (summary.ratios.length > 0) {
    parts.push(
      '## Ratios',
      'Throughput above 1x means ringkv is faster; CPU per request above 1x means ringkv spends more server CPU per request.',
      markdownTable(RATIO_HEADER, summary.ratios.map(ratioCells), 3),
    );
  }
  const targets = targetRows(summary.ratios);
  if (targets.length > 0) parts.push('## Plan target', `${TARGET_TITLE}.`, markdownTable(TARGET_HEADER, targets, 2));
  for (const f of summary.disruptions) {
    parts.push(`## ${f.heading}`, f.title, ...disruptionTables(f, markdownTable));
  }
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
