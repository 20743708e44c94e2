import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Measurement } from './benchmark.js';
import { SCENARIOS, type ScenarioName, type ServerName } from './servers.js';

export interface ResultRow extends Measurement {
  scenario: ScenarioName;
  server: ServerName;
}

export interface Ratio {
  scenario: ScenarioName;
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
}

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

const RESULT_HEADER = ['scenario', 'server', 'test', 'ops/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'CPU ticks'];
const RATIO_HEADER = ['scenario', 'test', 'throughput ringkv/redis', 'CPU per request ringkv/redis'];

function scenarioTitle(name: ScenarioName): string {
  return SCENARIOS.find((s) => s.name === name)?.title ?? name;
}

function resultCells(r: ResultRow): string[] {
  return [
    scenarioTitle(r.scenario),
    r.server,
    testLabel(r.test, r.pipeline),
    fmt.int(r.rps),
    fmt.ms(r.p50Ms),
    fmt.ms(r.p99Ms),
    fmt.us(r.cpuUsPerRequest),
    String(r.cpuTicks),
  ];
}

function ratioCells(r: Ratio): string[] {
  return [scenarioTitle(r.scenario), testLabel(r.test, r.pipeline), fmt.ratio(r.throughput), fmt.ratio(r.cpuPerRequest)];
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
  const parts = [textTable(RESULT_HEADER, summary.results.map(resultCells))];
  if (summary.ratios.length > 0) parts.push(textTable(RATIO_HEADER, summary.ratios.map(ratioCells), 2));
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
    '## Results',
    markdownTable(RESULT_HEADER, summary.results.map(resultCells), 3),
  ];
  if (summary.ratios.length > 0) {
    parts.push(
      '## Ratios',
      'Throughput above 1x means ringkv is faster; CPU per request above 1x means ringkv spends more server CPU per request.',
      markdownTable(RATIO_HEADER, summary.ratios.map(ratioCells), 2),
    );
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
