import { defineConfig } from 'vitest/config';

/**
 * RINGKV_TEST_REPORT=<file> adds vitest's JSON reporter beside the default one; .ci/run reads it
 * to find tests that did not run (test/allowed-skips.txt lists the ones that may not).
 */
const jsonReport = process.env.RINGKV_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/file-cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real server processes, and the fault suite's files mostly wait (a
    // fixed workload time, failure detection): on two cores, three files at a time kept the CPU
    // 99% busy and ran the suite in 880 s against 998 s with two, every file passing.
    maxWorkers: 3,
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
