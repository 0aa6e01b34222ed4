import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';

/**
 * 0020: the reminder run's question "highest level already announced for these invoices"
 * (collections.repository.ts `sentLevels`) is answered from an index on
 * `dunning_notices (invoice_id, level)`, not a scan of every notice ever written.
 */
describe(`dunning notices by invoice (${testDialect})`, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore();
  });
  afterAll(async () => t.cleanup());

  it('has the index, and SQLite plans the sent-levels lookup with it', async () => {
    const db = t.core.db.kysely;
    if (testDialect === 'postgres') {
      const rows = await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = 'dunning_notices_invoice'`.execute(db);
      expect(rows.rows.map((r) => r.indexdef)).toEqual([expect.stringMatching(/ON public\.dunning_notices USING btree \(invoice_id, level\)/)]);
      return;
    }
    const plan = (await sql<{ detail: string }>`explain query plan select invoice_id, level, notice_date from dunning_notices where invoice_id in (1, 2, 3)`.execute(db)).rows.map((r) => r.detail).join(' | ');
    expect(plan).toContain('USING INDEX dunning_notices_invoice');
    expect(plan).not.toMatch(/SCAN dunning_notices(?! USING)/);
  });
});
