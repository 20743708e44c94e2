/**
 * Runs after every test file (vitest.config.ts setupFiles): the processes and temporary
 * directories the file's tests made go with it, also when a test failed before its own cleanup.
 * Registered first, so it runs after the file's own afterAll hooks (vitest runs them as a stack).
 */
import { afterAll } from 'vitest';
import { releaseTestResources } from './server.js';

afterAll(() => releaseTestResources());
