import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The SDK and emulator packages are built first: tests run on their builds (workspace-builds.ts).
    globalSetup: ['test/support/workspace-builds.ts', 'test/support/global-setup.ts'],
    // vitest's own (the github-actions one only there), then a test skipped for want of something on the machine
    // (Chromium) named in the last lines; under CI such a skip fails the run.
    reporters: [
      'default',
      ...(process.env['GITHUB_ACTIONS'] === 'true' ? ['github-actions'] : []),
      './test/support/skip-summary.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // DynamoDB Local is one JVM shared by all files; keep the 2-core machine from thrashing.
    maxWorkers: 2,
    // Handlers log JSON lines through Powertools; tests that check logs raise the level themselves.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
