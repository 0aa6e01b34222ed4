import { defineConfig } from 'vitest/config';

// Suites that need a database read CASHLOOP_TEST_DB (sqlite | postgres); see tests/README.md.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
