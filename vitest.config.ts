import { defineConfig } from 'vitest/config';

// Suites that need a database read CASHLOOP_TEST_DB (sqlite | postgres); see tests/README.md.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Generous: several tests start the CLI or a browser a few times, which takes seconds each on
    // a busy 2-core machine. A test that hangs still fails.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
