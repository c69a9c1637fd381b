import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // DynamoDB Local is one JVM shared by all files; keep the 2-core machine from thrashing.
    maxWorkers: 2,
  },
});
