/**
 * Runs after every test file (vitest.config.ts setupFiles): the processes and temporary
 * directories the file's tests made go with it, also when a test failed before its own cleanup.
 * Registered first, so it runs after the file's own afterAll hooks (vitest runs them as a stack).
 *
 * RINGKV_TEST_CPU_LOG=<file> appends one line per test file: its path and the CPU seconds it cost,
 * its worker's own and that of every process the worker started and reaped (node processes,
 * redis-server, redis-cli, python), which is what the suite's wall time on two cores follows.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, expect } from 'vitest';
import { releaseTestResources } from './server.js';

/** utime + stime + cutime + cstime of this process, in clock ticks (/proc/self/stat). */
function cpuTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command name start at field 3 (state): utime is field 14.
  return [11, 12, 13, 14].reduce((s, i) => s + Number(fields[i]), 0);
}

const cpuLog = process.env.RINGKV_TEST_CPU_LOG;
if (cpuLog) {
  const start = cpuTicks();
  const file = expect.getState().testPath ?? 'unknown';
  afterAll(async () => {
    // SIGKILLed processes are reaped (and counted in cutime) when libuv handles their SIGCHLD.
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync(cpuLog, `${((cpuTicks() - start) / 100).toFixed(1)} ${file}\n`);
  });
}
afterAll(() => releaseTestResources());
