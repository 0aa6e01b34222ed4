import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openCore, closeCore, type Core } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';

/**
 * The database the suite runs on: `CASHLOOP_TEST_DB=postgres` for PostgreSQL (a fresh
 * database per test core, dropped afterwards), anything else for a SQLite file in a
 * temporary folder. `.ci/run` runs the suite once with each.
 */
export const testDialect: 'sqlite' | 'postgres' = process.env.CASHLOOP_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

export const pgAdminUrl = process.env.CASHLOOP_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestCore {
  core: Core;
  clock: ManualClock;
  /** URL or file of the database, for a second connection or a CLI child process. */
  url: string;
  dataDir: string;
  cleanup(): Promise<void>;
}

let counter = 0;

export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `cashloop_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = pgAdminUrl.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: pgAdminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * A migrated core on a fresh database, with a manual clock at `start`. `poolSize` sets the
 * PostgreSQL pool (default 10) for suites that need many transactions in flight at once.
 */
export async function createTestCore(start = '2026-01-05T09:00:00Z', dialect = testDialect, options: { poolSize?: number } = {}): Promise<TestCore> {
  const clock = new ManualClock(start);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-test-'));
  if (dialect === 'postgres') {
    const database = await createPgDatabase();
    const core = await openCore({ url: database.url, clock, poolSize: options.poolSize });
    return {
      core,
      clock,
      url: database.url,
      dataDir,
      async cleanup() {
        await closeCore(core);
        await database.drop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const file = path.join(dataDir, 'cashloop.db');
  const core = await openCore({ url: `sqlite:${file}`, clock });
  return {
    core,
    clock,
    url: `sqlite:${file}`,
    dataDir,
    async cleanup() {
      await closeCore(core);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
