/**
 * Goal: LATENCY and INFO latencystats as Redis 7.0 has them. Where the answer does not depend on
 * timing (HELP, errors, an empty LATEST, HISTORY of an unknown event, RESET's count, DOCTOR with
 * monitoring off, the config settings, the shape of LATENCY HISTOGRAM and of the latencystats
 * lines in RESP2 and RESP3, the calls it counts) ringkv answers byte for byte or shape for shape
 * as redis-server does; where it does, the behaviour is real: a DEBUG SLEEP 0.3 above a 100 ms
 * latency-monitor-threshold appears in LATEST and HISTORY, RESET forgets it, latency-tracking no
 * stops the counting.
 * Method: a redis-server and a ringkv node, raw RESP connections, replies compared as text.
 */
import { describe, expect, it } from 'vitest';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { RespConn, show, type Reply } from '../helpers/resp-conn.js';

const DETERMINISTIC: string[][] = [
  ['LATENCY', 'HELP'],
  ['LATENCY', 'LATEST'],
  ['LATENCY', 'HISTORY', 'command'],
  ['LATENCY', 'RESET'],
  ['LATENCY', 'RESET', 'command', 'nosuch'],
  ['LATENCY', 'GRAPH', 'command'],
  ['LATENCY', 'DOCTOR'],
  ['LATENCY', 'NOSUCH'],
  ['LATENCY'],
  ['LATENCY', 'HISTORY'],
  ['LATENCY', 'LATEST', 'extra'],
  ['LATENCY', 'HISTOGRAM', 'nosuchcommand'],
  ['CONFIG', 'GET', 'latency-tracking'],
  ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
  ['CONFIG', 'GET', 'latency-monitor-threshold'],
  ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50.0 99.990 100'],
  ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
  ['CONFIG', 'SET', 'latency-tracking-info-percentiles', ' 50 99'], ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50  99'],
  ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 101'], ['CONFIG', 'SET', 'latency-tracking-info-percentiles', 'x'],
  ['CONFIG', 'SET', 'latency-tracking-info-percentiles', ''], ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
  ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9'],
];

const BUCKET_NAMES = new Set(Array.from({ length: 21 }, (_, k) => Math.floor((2 ** (10 + k) + 2 ** (3 + k) - 1) / 1000)));

/** LATENCY HISTOGRAM's reply with the bucket bounds (timing) replaced by their checks. */
function histogramShape(r: Reply): unknown {
  const pairs = (x: Reply): Array<[Reply, Reply]> => {
    if (x.t === 'map') return x.v;
    if (x.t !== 'array') throw new Error(`not a map: ${show(x)}`);
    const out: Array<[Reply, Reply]> = [];
    for (let i = 0; i < x.v.length; i += 2) out.push([x.v[i]!, x.v[i + 1]!]);
    return out;
  };
  return pairs(r).map(([name, body]) => {
    const [calls, hist] = pairs(body);
    const buckets = pairs(hist![1]).map(([k, v]) => [Number((k as { v: bigint }).v), Number((v as { v: bigint }).v)]);
    const total = Number((calls![1] as { v: bigint }).v);
    return {
      kind: r.t,
      name: show(name),
      calls: [show(calls![0]), total],
      histogram: show(hist![0]),
      // Redis names bucket k by its highest equivalent value: (2^(10+k) + 2^(3+k) - 1) ns in µs.
      redisBucketNames: buckets.every(([k]) => BUCKET_NAMES.has(k!)),
      cumulative: buckets.every(([, v], i) => i === 0 || v! > buckets[i - 1]![1]!),
      lastIsCalls: buckets[buckets.length - 1]?.[1] === total,
    };
  });
}

async function scene(port: number): Promise<{ fixed: string[]; histograms: unknown[]; latencystats: string[] }> {
  const c = await RespConn.connect(port);
  try {
    const fixed = await c.pipelineText(DETERMINISTIC);
    await c.call('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 5; i++) await c.call('SET', 'k', String(i));
    await c.call('GET', 'k');
    const histograms: unknown[] = [];
    histograms.push(histogramShape(await c.call('LATENCY', 'HISTOGRAM', 'set', 'GET', 'nosuch')));
    await c.call('HELLO', '3');
    histograms.push(histogramShape(await c.call('LATENCY', 'HISTOGRAM', 'set')));
    await c.call('HELLO', '2');
    const info = show(await c.call('INFO', 'latencystats'));
    // Redis lists commands in its hash table's order: compared sorted.
    const latencystats = info.split(/\\r\\n|\r\n/).filter((l) => l.startsWith('latency_percentiles_usec_set') || l.startsWith('latency_percentiles_usec_get') || l.includes('# Latencystats'))
      .map((l) => l.replace(/=\d+\.\d{3}/g, '=<usec>')).sort();
    return { fixed, histograms, latencystats };
  } finally {
    c.close();
  }
}

describe.skipIf(!haveRedisServer)('LATENCY and INFO latencystats against redis-server', () => {
  const both = nodeBesideRedis([]);

  it('answers what does not depend on timing as redis-server does', async () => {
    const redis = await scene(both.ref.ports[0]!);
    const ringkv = await scene(both.node.port);
    expect(ringkv.fixed).toEqual(redis.fixed);
    expect(ringkv.histograms).toEqual(redis.histograms);
    expect(ringkv.latencystats).toEqual(redis.latencystats);
    // The comparisons above saw real content: two commands with their calls, one percentile line each.
    expect(JSON.stringify(ringkv.histograms)).toContain('"calls":["\\"calls\\"",5]');
    expect(ringkv.latencystats).toHaveLength(3);
    expect(ringkv.latencystats[0]).toContain('# Latencystats');
  });

  it('records a slow command above latency-monitor-threshold in LATEST and HISTORY, and forgets it on RESET', async () => {
    const c = await RespConn.connect(both.node.port);
    try {
      await c.call('LATENCY', 'RESET');
      await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '100');
      await c.call('DEBUG', 'SLEEP', '0');
      expect(show(await c.call('LATENCY', 'LATEST'))).toBe('[]');
      const before = Math.floor(Date.now() / 1000);
      await c.call('DEBUG', 'SLEEP', '0.3');
      const latest = await c.call('LATENCY', 'LATEST');
      expect(latest.t).toBe('array');
      const rows = (latest as { v: Reply[] }).v.map((row) => (row as { v: Reply[] }).v);
      expect(rows).toHaveLength(1);
      const [event, time, ms, max] = rows[0]!;
      expect(show(event!)).toBe('"command"');
      expect(Number((time as { v: bigint }).v)).toBeGreaterThanOrEqual(before);
      expect(Number((ms as { v: bigint }).v)).toBeGreaterThanOrEqual(300);
      expect(Number((max as { v: bigint }).v)).toBeGreaterThanOrEqual(300);
      const history = (await c.call('LATENCY', 'HISTORY', 'command')) as { v: Reply[] };
      expect(history.v).toHaveLength(1);
      expect(Number(((history.v[0] as { v: Reply[] }).v[1] as { v: bigint }).v)).toBeGreaterThanOrEqual(300);
      expect(show(await c.call('LATENCY', 'DOCTOR'))).toContain('command');
      expect(show(await c.call('LATENCY', 'GRAPH', 'command'))).toContain('command - high');
      expect(show(await c.call('LATENCY', 'RESET', 'command', 'command'))).toBe(':1');
      expect(show(await c.call('LATENCY', 'HISTORY', 'command'))).toBe('[]');
      // Off again: nothing is recorded however slow.
      await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
      await c.call('DEBUG', 'SLEEP', '0.2');
      expect(show(await c.call('LATENCY', 'LATEST'))).toBe('[]');
    } finally {
      c.close();
    }
  });

  it('records the background expiry of a big collection as expire-cycle events', async () => {
    const c = await RespConn.connect(both.node.port);
    try {
      await c.call('CONFIG', 'SET', 'active-expire-effort', '10');
      await c.call('EVAL', "for i = 1, 100000 do redis.call('sadd', KEYS[1], i) end", '1', 'lat:big');
      await c.call('LATENCY', 'RESET');
      await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '1');
      await c.call('PEXPIRE', 'lat:big', '20');
      // Each tick reclaims a few thousand of its elements: milliseconds of work, over the threshold.
      const deadline = Date.now() + 15_000;
      let latest = '';
      while (!latest.includes('expire-cycle') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        latest = show(await c.call('LATENCY', 'LATEST'));
      }
      expect(latest).toContain('"expire-cycle"');
    } finally {
      await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
      await c.call('CONFIG', 'SET', 'active-expire-effort', '1');
      c.close();
    }
  });

  it('counts every call in LATENCY HISTOGRAM while latency-tracking is on, none while it is off', async () => {
    const c = await RespConn.connect(both.node.port);
    try {
      await c.call('CONFIG', 'RESETSTAT');
      await c.pipeline(Array.from({ length: 200 }, (_, i) => ['INCR', `n${i % 7}`]));
      await c.call('CONFIG', 'SET', 'latency-tracking', 'no');
      await c.pipeline(Array.from({ length: 50 }, () => ['INCR', 'n0']));
      await c.call('CONFIG', 'SET', 'latency-tracking', 'yes');
      const [shape] = histogramShape(await c.call('LATENCY', 'HISTOGRAM', 'incr')) as Array<{ calls: [string, number]; lastIsCalls: boolean }>;
      expect(shape!.calls[1]).toBe(200);
      expect(shape!.lastIsCalls).toBe(true);
      const info = show(await c.call('INFO', 'latencystats'));
      expect(info).toMatch(/latency_percentiles_usec_incr:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}/);
    } finally {
      c.close();
    }
  });
});
