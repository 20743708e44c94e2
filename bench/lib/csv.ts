/** Splits one CSV line; redis-benchmark quotes every field and never embeds quotes or newlines. */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        current += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      fields.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  fields.push(current);
  return fields;
}

export interface BenchmarkRow {
  test: string;
  rps: number;
  /** Latency columns appeared in redis-benchmark 6.2; older versions print only test and rps. */
  avgMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

function numberOrNull(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * Parses `redis-benchmark --csv` output, e.g.
 *   "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
 *   "SET","78740.16","0.381","0.176","0.327","0.647","0.927","2.295"
 * Columns are looked up by header name so a version with a different column set still parses.
 */
export function parseBenchmarkCsv(output: string): BenchmarkRow[] {
  // Progress lines and warnings can share stdout with the CSV; only quoted lines are data.
  const lines = output
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('"'));
  if (lines.length === 0) return [];
  const header = parseCsvLine(lines[0]);
  const hasHeader = header[0] === 'test';
  const columns = hasHeader ? header : ['test', 'rps'];
  const rows: BenchmarkRow[] = [];
  for (const line of hasHeader ? lines.slice(1) : lines) {
    const fields = parseCsvLine(line);
    const get = (name: string): string | undefined => {
      const idx = columns.indexOf(name);
      return idx >= 0 ? fields[idx] : undefined;
    };
    const rps = numberOrNull(get('rps'));
    const test = get('test');
    if (test === undefined || rps === null) continue;
    rows.push({
      test,
      rps,
      avgMs: numberOrNull(get('avg_latency_ms')),
      p50Ms: numberOrNull(get('p50_latency_ms')),
      p99Ms: numberOrNull(get('p99_latency_ms')),
    });
  }
  return rows;
}
