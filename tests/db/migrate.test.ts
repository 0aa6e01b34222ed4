import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrate } from '../../src/db/migrate.ts';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';

describe(`migrations (${testDialect})`, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore();
  });
  afterAll(async () => t.cleanup());

  it('creates the core tables once and is idempotent', async () => {
    const again = await migrate(t.core.db);
    expect(again.applied).toEqual([]);
    const rows = await sql<{ version: string }>`select version from schema_migrations order by version`.execute(t.core.db.kysely);
    expect(rows.rows.map((r) => r.version)).toContain('0001_core');
    const n = await t.core.db.kysely.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(0);
  });
});
