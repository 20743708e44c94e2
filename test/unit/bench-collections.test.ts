/**
 * Goal: the collections bench scenario (bench/lib/collections.ts) measures what it claims: its
 * prefill names elements exactly as redis-benchmark prints `__rand_int__`, so a write with `-r SIZE`
 * overwrites an existing element and the collection keeps its size; every key of a run shares one
 * hash tag (one cluster slot); and the report keeps unsupported commands as rows and judges only
 * ringkv against the targets. Method: the pure helpers and the table renderer on hand-made results.
 */
import { describe, expect, it } from 'vitest';
import { builtinAnchor, collectionKey, COLLECTION_OPS, elementName, HASH_TAG, type CollectionsReport, type SizedMeasurement } from '../../bench/lib/collections.js';
import { collectionsSections } from '../../bench/lib/collections-report.js';
import { textTable } from '../../bench/lib/report.js';
import { keySlot } from '../../src/cluster/slot.js';

function measurement(rps: number, sizeAfter: number): SizedMeasurement {
  return {
    test: 'HSET', generator: 'redis-benchmark', pipeline: 1, requests: 1000, rps, p50Ms: 0.1, p99Ms: 0.2, avgMs: 0.1,
    cpuTicks: 10, cpuUsPerRequest: 100, wallSeconds: 1, sizeAfter, repeatRps: [rps],
  };
}

describe('collections bench scenario', () => {
  it('names elements as redis-benchmark formats __rand_int__ (12 digits, zero-padded)', () => {
    expect(elementName('f:', 42)).toBe('f:000000000042');
    expect(elementName('m:', 99_999)).toBe('m:000000099999');
  });

  it('puts every key of every operation in the slot of its hash tag', () => {
    const slot = keySlot(Buffer.from(HASH_TAG.slice(1, -1)));
    for (const op of COLLECTION_OPS) {
      for (const size of [100, 100_000]) {
        const key = collectionKey(op.type, size);
        expect(keySlot(Buffer.from(key))).toBe(slot);
        for (const words of op.commands(key)) expect(words[1]).toBe(key);
      }
    }
  });

  it('reads writes against SET and reads against GET', () => {
    expect(builtinAnchor('lpush')).toBe('set');
    expect(builtinAnchor('zpopmin')).toBe('set');
    expect(builtinAnchor('lrange_100')).toBe('get');
    expect(builtinAnchor('get')).toBe('get');
  });

  it('keeps unsupported commands as rows and judges only ringkv against the 0.7 target', () => {
    const report: CollectionsReport = {
      sizes: { small: 100, big: 100_000 },
      parts: ['ops'],
      ops: [
        { server: 'redis', op: 'HSET', type: 'hash', status: 'ok', small: measurement(1000, 100), big: measurement(500, 100_000) },
        { server: 'ringkv', op: 'HSET', type: 'hash', status: 'ok', small: measurement(1000, 100), big: measurement(800, 100_000) },
        { server: 'ringkv N3 W2 R2', op: 'HSET', type: 'hash', status: 'ok', small: measurement(1000, 100), big: measurement(600, 100_000) },
        { server: 'ringkv', op: 'SADD', type: 'set', status: 'unsupported', message: "ERR unknown command 'SADD'" },
      ],
      builtins: [],
      dels: [],
      memory: [],
    };
    const [section] = collectionsSections(report, textTable);
    const lines = section!.body.split('\n');
    const row = (server: string, op: string): string => lines.find((l) => l.startsWith(op) && l.includes(` ${server} `))!;
    expect(row('redis', 'HSET')).toContain('0.50x');
    expect(row('redis', 'HSET')).not.toMatch(/met|missed/);
    expect(row('ringkv', 'HSET')).toContain('met');
    expect(row('ringkv N3 W2 R2', 'HSET')).toContain('missed');
    expect(row('ringkv', 'SADD')).toContain('unsupported');
  });
});
