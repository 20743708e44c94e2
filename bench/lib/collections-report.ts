import { builtinAnchor, median, type BuiltinResult, type CollectionsReport, type DelResult, type MemoryResult, type OpResult } from './collections.js';

/** The collections issue's goals: big/small throughput >= 0.7 on ringkv; DEL of a big set < 10 ms. */
export const SIZE_RATIO_TARGET = 0.7;
export const DEL_TARGET_MS = 10;

type Table = (header: readonly string[], rows: readonly string[][], leftColumns: number) => string;

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : 'n/a');
const us = (n: number): string => n.toFixed(1);
const mib = (kb: number | null): string => (kb === null ? 'n/a' : (kb / 1024).toFixed(1));

const OP_HEADER = ['operation', 'server', 'small ops/s', 'big ops/s', 'big/small', 'CPU µs/req small', 'CPU µs/req big', 'size after small / big', 'target'];

function opLabel(r: OpResult): string {
  return r.pairedWith === undefined ? r.op : `${r.op} (with ${r.pairedWith})`;
}

function opCells(r: OpResult): string[] {
  const ringkv = r.server.startsWith('ringkv');
  if (r.status !== 'ok' || r.small === undefined || r.big === undefined) {
    return [opLabel(r), r.server, r.status, '', '', '', '', '', r.status === 'unsupported' ? '' : (r.message ?? '').slice(0, 80)];
  }
  const sizeRatio = r.big.rps / r.small.rps;
  return [
    opLabel(r),
    r.server,
    int(r.small.rps),
    int(r.big.rps),
    ratio(sizeRatio),
    us(r.small.cpuUsPerRequest),
    us(r.big.cpuUsPerRequest),
    `${r.small.sizeAfter ?? '?'} / ${r.big.sizeAfter ?? '?'}`,
    ringkv ? (sizeRatio >= SIZE_RATIO_TARGET ? `met (>= ${SIZE_RATIO_TARGET})` : `missed (>= ${SIZE_RATIO_TARGET})`) : '',
  ];
}

/** Rows grouped by operation, servers in run order within each, so Redis sits above ringkv. */
function opRows(ops: readonly OpResult[]): string[][] {
  const order = [...new Set(ops.map((o) => o.op))];
  return order.flatMap((op) => ops.filter((o) => o.op === op).map(opCells));
}

const BUILTIN_HEADER = ['test', 'redis ops/s', 'ringkv ops/s', 'ringkv/redis', 'anchor', 'ratio ÷ anchor ratio', 'CPU µs/req redis', 'CPU µs/req ringkv', 'CPU ringkv/redis'];

function builtinRows(builtins: readonly BuiltinResult[]): string[][] {
  const redisOf = (test: string): BuiltinResult | undefined => builtins.find((b) => b.server === 'redis' && b.test === test);
  const ringkvOf = (test: string): BuiltinResult | undefined => builtins.find((b) => b.server === 'ringkv' && b.test === test);
  const throughputRatio = (test: string): number => {
    const a = ringkvOf(test)?.measurement;
    const b = redisOf(test)?.measurement;
    return a !== undefined && b !== undefined ? a.rps / b.rps : Number.NaN;
  };
  const tests = [...new Set(builtins.map((b) => b.test))];
  return tests.map((test) => {
    const redis = redisOf(test);
    const ringkv = ringkvOf(test);
    const shown = (b: BuiltinResult | undefined): string => (b === undefined ? 'not run' : b.measurement !== undefined ? int(b.measurement.rps) : b.status);
    const cpu = (b: BuiltinResult | undefined): string =>
      b?.measurement === undefined ? '' : `${us(b.measurement.cpuUsPerRequest)}${b.cpuEstimated === true ? ' (est.)' : ''}`;
    const r = throughputRatio(test);
    const anchor = builtinAnchor(test);
    const anchored = test === anchor || !Number.isFinite(r) ? '' : ratio(r / throughputRatio(anchor));
    const cpuRatio =
      redis?.measurement !== undefined && ringkv?.measurement !== undefined && redis.measurement.cpuUsPerRequest > 0
        ? ratio(ringkv.measurement.cpuUsPerRequest / redis.measurement.cpuUsPerRequest)
        : '';
    return [test.toUpperCase(), shown(redis), shown(ringkv), Number.isFinite(r) ? ratio(r) : '', test === anchor ? '(anchor)' : anchor.toUpperCase(), anchored, cpu(redis), cpu(ringkv), cpuRatio];
  });
}

const DEL_HEADER = ['server', 'type', 'elements', 'DEL ms, each', 'DEL ms, median', 'target', 'DEL of 1 element ms, median', 'lazyfree-lazy-user-del', 'prefill s, each'];

function delCells(d: DelResult): string[] {
  if (d.status !== 'ok') return [d.server, d.type, int(d.elements), d.status, '', '', '', d.lazyfreeUserDel ?? '', d.status === 'unsupported' ? '' : (d.message ?? '').slice(0, 80)];
  const med = median(d.delMs);
  return [
    d.server,
    d.type,
    int(d.elements),
    d.delMs.map((ms) => ms.toFixed(2)).join(' / '),
    med.toFixed(2),
    d.server.startsWith('ringkv') ? `${med < DEL_TARGET_MS ? 'met' : 'missed'} (< ${DEL_TARGET_MS} ms)` : '',
    d.oneElementMs.length > 0 ? median(d.oneElementMs).toFixed(2) : 'n/a',
    d.lazyfreeUserDel ?? 'n/a',
    d.fillSeconds.map((s) => s.toFixed(1)).join(' / '),
  ];
}

const MEMORY_HEADER = ['server', 'collections', 'types', 'when', 'RSS MiB', 'anonymous MiB', 'file MiB'];

function memoryRows(memory: readonly MemoryResult[]): string[][] {
  return memory.flatMap((m) => {
    const what = `${m.stoppedAtLimitMiB === undefined ? m.collections : `${m.elementsFilled / m.elementsEach} (RSS limit)`} x ${int(m.elementsEach)}`;
    if (m.status !== 'ok') return [[m.server, what, m.types.join(', '), `${m.status}: ${(m.message ?? '').slice(0, 80)}`, '', '', '']];
    return m.samples.map((s) => [m.server, what, m.types.join(', '), s.label === 'after prefill' ? `${s.label} (${m.fillSeconds.toFixed(1)} s)` : s.label, mib(s.rssKb), mib(s.anonKb), mib(s.fileKb)]);
  });
}

/**
 * Per server, how much the last anonymous-memory reading of the big run exceeds the small run's,
 * per extra element: about 0 if memory does not grow with the data.
 */
export function anonymousPerElement(memory: readonly MemoryResult[]): Array<{ server: string; bytes: number }> {
  const out: Array<{ server: string; bytes: number }> = [];
  for (const server of [...new Set(memory.map((m) => m.server))]) {
    const runs = memory.filter((m) => m.server === server && m.status === 'ok');
    if (runs.length < 2) continue;
    const big = runs.reduce((a, b) => (b.elementsFilled > a.elementsFilled ? b : a));
    const small = runs.reduce((a, b) => (b.elementsFilled < a.elementsFilled ? b : a));
    const anon = (m: MemoryResult): number | null => m.samples[m.samples.length - 1]?.anonKb ?? null;
    const a = anon(big);
    const b = anon(small);
    if (a === null || b === null || big.elementsFilled === small.elementsFilled) continue;
    out.push({ server, bytes: ((a - b) * 1024) / (big.elementsFilled - small.elementsFilled) });
  }
  return out;
}

/** Titled tables of one collections run, for the text and the markdown summary alike. */
export function collectionsSections(report: CollectionsReport, table: Table): Array<{ title: string; body: string }> {
  const sections: Array<{ title: string; body: string }> = [];
  const { small, big } = report.sizes;
  if (report.ops.length > 0) {
    sections.push({
      title: `Collections: each operation on ${int(small)} and ${int(big)} elements (big/small target for ringkv >= ${SIZE_RATIO_TARGET})`,
      body: table(OP_HEADER, opRows(report.ops), 2),
    });
  }
  if (report.builtins.length > 0) {
    sections.push({
      title: 'Collections: redis-benchmark -t tests, single nodes (writes read against SET\'s ratio, reads against GET\'s)',
      body: table(BUILTIN_HEADER, builtinRows(report.builtins), 1),
    });
  }
  if (report.dels.length > 0) {
    sections.push({ title: `Collections: DEL of one big collection, client round trip (ringkv target < ${DEL_TARGET_MS} ms)`, body: table(DEL_HEADER, report.dels.map(delCells), 2) });
  }
  if (report.memory.length > 0) {
    const perElement = anonymousPerElement(report.memory)
      .map((p) => `${p.server}: anonymous memory ${p.bytes.toFixed(0)} bytes per element more (last readings, big run against small run)`)
      .join('\n');
    sections.push({
      title: 'Collections: a fresh node\'s memory (/proc/<pid>/status VmRSS, RssAnon, RssFile)',
      body: `${table(MEMORY_HEADER, memoryRows(report.memory), 4)}${perElement === '' ? '' : `\n\n${perElement}`}`,
    });
  }
  return sections;
}
