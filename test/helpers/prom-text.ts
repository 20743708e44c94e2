/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): every line is parsed,
 * and the rules a scraper relies on are checked. Returns the families found, or throws naming the
 * line that breaks a rule.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string | undefined;
  type: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value '${text}'`);
  return Number(text);
}

/** Parses `name{a="x",b="y"} value [timestamp]`, with escapes in label values. */
function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) throw new Error(`${where}: bad metric name`);
  const name = m[1]!;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
      if (!lm || !LABEL_NAME.test(lm[1]!)) throw new Error(`${where}: bad label at column ${i}`);
      i += lm[0].length;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        i++;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i++];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else throw new Error(`${where}: bad escape \\${e}`);
        } else value += c;
      }
      if (lm[1]! in labels) throw new Error(`${where}: label ${lm[1]} twice`);
      labels[lm[1]!] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${where}: expected , or } at column ${i}`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
  const rest = line.slice(i + 1).split(' ');
  if (rest.length > 2 || rest[0] === '') throw new Error(`${where}: bad value/timestamp '${line.slice(i + 1)}'`);
  if (rest[1] !== undefined && !/^-?\d+$/.test(rest[1])) throw new Error(`${where}: bad timestamp`);
  return { name, labels, value: parseValue(rest[0]!, where) };
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct && direct.type !== 'histogram' && direct.type !== 'summary') return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return direct;
}

export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const families = new Map<string, Family>();
  const done = new Set<string>();
  let current: Family | undefined;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, n) => {
    const where = `line ${n + 1} (${JSON.stringify(line.slice(0, 120))})`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // another comment
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      if (done.has(name)) throw new Error(`${where}: ${name} declared again after its samples`);
      let f = families.get(name);
      if (!f) families.set(name, (f = { name, help: undefined, type: undefined, samples: [] }));
      if (f.samples.length > 0) throw new Error(`${where}: ${kind} after samples of ${name}`);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        f.help = rest;
      } else {
        if (f.type !== undefined) throw new Error(`${where}: second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        f.type = rest;
      }
      if (current && current !== f) done.add(current.name);
      current = f;
      return;
    }
    const sample = parseSample(line, where);
    const f = familyOf(sample.name, families);
    if (!f) throw new Error(`${where}: sample of an undeclared metric`);
    if (f.help === undefined || f.type === undefined) throw new Error(`${where}: sample before HELP and TYPE of ${f.name}`);
    if (current !== f) throw new Error(`${where}: samples of ${f.name} are not together`);
    f.samples.push(sample);
  });
  return families;
}

/**
 * Checks what the format promises per type: counters end in `_total` and never go negative,
 * histogram buckets are ascending in `le`, cumulative, end in `+Inf`, and come with `_sum` and a
 * `_count` equal to the `+Inf` bucket.
 */
export function checkFamilies(families: Map<string, Family>): void {
  for (const f of families.values()) {
    if (f.type === 'counter') {
      if (!f.name.endsWith('_total')) throw new Error(`counter ${f.name} does not end in _total`);
      for (const s of f.samples) if (!(s.value >= 0)) throw new Error(`counter ${f.name} has value ${s.value}`);
    }
    if (f.type !== 'histogram') continue;
    const series = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
    for (const s of f.samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      let e = series.get(key);
      if (!e) series.set(key, (e = { buckets: [] }));
      if (s.name === `${f.name}_bucket`) {
        if (le === undefined) throw new Error(`${f.name}_bucket without le`);
        e.buckets.push([le === '+Inf' ? Infinity : parseValue(le, f.name), s.value]);
      } else if (s.name === `${f.name}_sum`) e.sum = s.value;
      else if (s.name === `${f.name}_count`) e.count = s.value;
      else throw new Error(`histogram ${f.name} has sample ${s.name}`);
    }
    for (const [key, e] of series) {
      const where = `${f.name}${key}`;
      if (e.buckets.length === 0) throw new Error(`${where}: no buckets`);
      for (let i = 1; i < e.buckets.length; i++) {
        if (!(e.buckets[i]![0] > e.buckets[i - 1]![0])) throw new Error(`${where}: le not ascending`);
        if (e.buckets[i]![1] < e.buckets[i - 1]![1]) throw new Error(`${where}: buckets not cumulative`);
      }
      const last = e.buckets[e.buckets.length - 1]!;
      if (last[0] !== Infinity) throw new Error(`${where}: no +Inf bucket`);
      if (e.sum === undefined) throw new Error(`${where}: no _sum`);
      if (e.count !== last[1]) throw new Error(`${where}: _count ${e.count} differs from the +Inf bucket ${last[1]}`);
    }
  }
}

/** The value of one sample, by family name and labels that must match. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}, family = name): number | undefined {
  const f = families.get(family);
  return f?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
