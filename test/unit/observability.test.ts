/**
 * Goal: the pure pieces behind metrics and the dashboard hold: command families, latency buckets
 * and quantiles, slot shares, and the strict exposition reader the metrics tests rely on rejects
 * what a scraper would reject.
 */
import { describe, expect, it } from 'vitest';
import { commandFamily } from '../../src/server/command-family.js';
import { LatencyHistogram, bucketQuantile, LATENCY_BOUNDS_SECONDS } from '../../src/server/latency-histogram.js';
import { buildCommandTable } from '../../src/commands/table.js';
import { checkFamilies, parseExposition } from '../helpers/prom-text.js';

describe('command families', () => {
  const table = buildCommandTable([]);
  const family = (name: string): string => commandFamily(table.get(name)!);
  it('follows the data type a command works on', () => {
    expect(['get', 'set', 'incr', 'mset'].map(family)).toEqual(['string', 'string', 'string', 'string']);
    expect(['hset', 'hgetall'].map(family)).toEqual(['hash', 'hash']);
    expect(['lpush', 'blpop'].map(family)).toEqual(['list', 'list']);
    expect(['sadd', 'sinter'].map(family)).toEqual(['set', 'set']);
    expect(['zadd', 'zrange'].map(family)).toEqual(['zset', 'zset']);
    expect(['del', 'expire', 'scan'].map(family)).toEqual(['keyspace', 'keyspace', 'keyspace']);
    expect(['eval', 'fcall'].map(family)).toEqual(['scripting', 'scripting']);
    expect(['multi', 'exec'].map(family)).toEqual(['transaction', 'transaction']);
    expect(['ping', 'hello'].map(family)).toEqual(['connection', 'connection']);
    expect(['cluster', 'readonly', 'asking'].map(family)).toEqual(['cluster', 'cluster', 'cluster']);
    expect(['info', 'config', 'flushall'].map(family)).toEqual(['server', 'server', 'keyspace']);
  });
});

describe('latency histogram', () => {
  it('puts an observation in the first bucket whose bound it does not exceed', () => {
    const h = new LatencyHistogram(2);
    h.observe(1, 0.00001); // on a bound: that bucket (le is inclusive)
    h.observe(1, 0.0003);
    h.observe(1, 99); // above every bound: +Inf
    expect(h.counts[0]!.every((c) => c === 0)).toBe(true);
    expect(h.counts[1]![0]).toBe(1);
    expect(h.counts[1]![LATENCY_BOUNDS_SECONDS.indexOf(0.0005)]).toBe(1);
    expect(h.counts[1]![LATENCY_BOUNDS_SECONDS.length]).toBe(1);
    expect(h.count(1)).toBe(3);
    expect(h.sums[1]).toBeCloseTo(99.00031, 6);
  });

  it('interpolates quantiles inside a bucket as histogram_quantile does', () => {
    const bounds = [1, 2, 4];
    expect(bucketQuantile(0.5, bounds, [0, 0, 0, 0])).toBeUndefined();
    expect(bucketQuantile(0.5, bounds, [0, 10, 0, 0])).toBeCloseTo(1.5);
    expect(bucketQuantile(0.9, bounds, [5, 5, 0, 0])).toBeCloseTo(1.8);
    expect(bucketQuantile(0.99, bounds, [0, 0, 0, 3])).toBe(4);
  });
});

describe('strict exposition reader', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total 3\n# HELP h H.\n# TYPE h histogram\n' +
    'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n';
  it('accepts a well-formed exposition', () => {
    const f = parseExposition(ok);
    checkFamilies(f);
    expect(f.get('h')!.samples).toHaveLength(4);
  });
  it.each([
    ['a sample before its TYPE', '# HELP x X.\nx 1\n# TYPE x gauge\n'],
    ['an undeclared sample', 'y 1\n'],
    ['a bad name', '# HELP 1x X.\n'],
    ['a bad value', '# HELP x X.\n# TYPE x gauge\nx one\n'],
    ['an unterminated label', '# HELP x X.\n# TYPE x gauge\nx{a="b} 1\n'],
    ['no final newline', '# HELP x X.\n# TYPE x gauge\nx 1'],
    ['samples split apart', '# HELP x X.\n# TYPE x gauge\nx{a="1"} 1\n# HELP y Y.\n# TYPE y gauge\ny 1\nx{a="2"} 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => checkFamilies(parseExposition(text))).toThrow();
  });
  it.each([
    ['a counter without _total', '# HELP c C.\n# TYPE c counter\nc 1\n'],
    ['buckets that are not cumulative', '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a histogram without +Inf', '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['a _count unlike +Inf', '# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
    ['a histogram without _sum', '# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => checkFamilies(parseExposition(text))).toThrow();
  });
});
