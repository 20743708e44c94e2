/**
 * HyperLogLog and bitmap commands beside redis-server, in one run: PFADD into one HyperLogLog
 * (random elements, so it turns dense as Redis's would), PFCOUNT of it, SETBIT in the middle of one
 * 1 Mbit bitmap and BITCOUNT of the whole of it. Each test runs with redis-benchmark's
 * arbitrary-command form, unpipelined and -P 16, against each server in turn (fresh, no
 * persistence, one node); throughput and the server's CPU per request are printed as a table,
 * with ringkv's ratio to Redis.
 *
 *   npm run build && node dist/bench/bitmaps-hll.js [--requests N] [--clients N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runSampled } from './lib/benchmark.js';
import { clockTicksPerSecond } from './lib/cpu.js';
import { parseBenchmarkCsv } from './lib/csv.js';
import { freePort } from './lib/ports.js';
import { runManaged, spawnManaged, stopManaged, waitForPing, type ManagedProcess } from './lib/proc.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '50' },
  },
});
const REQUESTS = Number(args.requests);
const CLIENTS = Number(args.clients);
const HOST = '127.0.0.1';
const BITS = 1 << 20;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Test {
  label: string;
  command: string[];
}

const TESTS: readonly Test[] = [
  { label: 'PFADD', command: ['PFADD', '{bh}hll', 'e:__rand_int__'] },
  { label: 'PFCOUNT', command: ['PFCOUNT', '{bh}hll'] },
  // One offset: redis-benchmark's random numbers carry leading zeros, which a bit offset may not.
  { label: 'SETBIT', command: ['SETBIT', '{bh}bm', '524287', '1'] },
  { label: 'BITCOUNT', command: ['BITCOUNT', '{bh}bm'] },
];

interface Row {
  server: string;
  test: string;
  pipeline: number;
  rps: number;
  cpuUsPerRequest: number;
}

async function start(server: 'redis' | 'ringkv', port: number, dir: string): Promise<ManagedProcess> {
  const proc = server === 'redis'
    ? spawnManaged('redis-server', 'redis-server', ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', ''])
    : spawnManaged('ringkv', process.execPath, [path.join(ROOT, 'dist/bundle/ringkv.js'), 'server', '--port', String(port), '--dir', dir, '--appendfsync', 'no', '--loglevel', 'warning']);
  await waitForPing(proc, HOST, port);
  return proc;
}

async function run(server: 'redis' | 'ringkv', port: number, pid: number, test: Test, pipeline: number): Promise<Row> {
  const requests = pipeline > 1 ? REQUESTS * 4 : REQUESTS;
  const argv = ['-h', HOST, '-p', String(port), '-c', String(CLIENTS), '-n', String(requests), '-P', String(pipeline), '-r', String(BITS), '--csv', ...test.command];
  const [sample] = await runSampled('redis-benchmark', [argv], [pid], 300_000);
  if (!sample!.result.ok) throw new Error(`redis-benchmark ${argv.join(' ')}: ${sample!.result.output}`);
  const row = parseBenchmarkCsv(sample!.result.stdout)[0];
  if (row === undefined) throw new Error(`no result row: ${sample!.result.output}`);
  return { server, test: test.label, pipeline, rps: row.rps, cpuUsPerRequest: (sample!.ticks * 1e6) / clockTicksPerSecond() / requests };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const server of ['redis', 'ringkv'] as const) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `bench-bh-${server}-`));
    const port = await freePort(HOST);
    const proc = await start(server, port, dir);
    try {
      // The bitmap at its full size first, so SETBIT and BITCOUNT work on 1 Mbit from the start.
      const set = await runManaged('redis-cli', 'redis-cli', ['-h', HOST, '-p', String(port), 'SETBIT', '{bh}bm', String(BITS - 1), '1'], 10_000);
      if (!set.ok) throw new Error(`SETBIT: ${set.output}`);
      for (const pipeline of [1, 16]) {
        for (const test of TESTS) {
          const r = await run(server, port, proc.pid, test, pipeline);
          rows.push(r);
          console.log(`${server.padEnd(7)} ${test.label.padEnd(9)} -P${String(pipeline).padEnd(3)} ${Math.round(r.rps).toLocaleString('en-US').padStart(9)} ops/s  ${r.cpuUsPerRequest.toFixed(1).padStart(6)} µs CPU/req`);
        }
      }
    } finally {
      await stopManaged(proc);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log('\n| test | pipeline | redis ops/s | ringkv ops/s | ratio | redis CPU µs/req | ringkv CPU µs/req |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows.filter((x) => x.server === 'ringkv')) {
    const base = rows.find((x) => x.server === 'redis' && x.test === r.test && x.pipeline === r.pipeline)!;
    console.log(`| ${r.test} | ${r.pipeline} | ${Math.round(base.rps).toLocaleString('en-US')} | ${Math.round(r.rps).toLocaleString('en-US')} | ${(r.rps / base.rps).toFixed(2)}x | ${base.cpuUsPerRequest.toFixed(1)} | ${r.cpuUsPerRequest.toFixed(1)} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
