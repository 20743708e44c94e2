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
    // Integration tests start real server processes; two cores cannot run many at once.
    maxWorkers: 2,
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
