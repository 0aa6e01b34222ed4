import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestCore, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { createProduct } from '../../src/catalog/product.service.ts';

/**
 * Two imports of one product file at the same time (two users, or a retry while the first
 * still runs): a product code from the other system names one product, never two. The
 * unique index on products.external_code holds it; the check before the insert alone does
 * not, as the PostgreSQL pass of this test shows when the index is dropped.
 */
describe('product external codes under concurrent imports', () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z', undefined, { poolSize: 8 });
  });
  afterAll(async () => t.cleanup());

  it('one product per external code, whichever import wins', async () => {
    const codes = Array.from({ length: 20 }, (_, i) => `BANK CHARGES ${i}`);
    const outcomes = await Promise.all(
      codes.map((code, i) =>
        Promise.allSettled([
          createProduct(t.core, { sku: `A-${i}`, name: code, price: '0', externalCode: code }, actor),
          createProduct(t.core, { sku: `B-${i}`, name: code, price: '0', externalCode: code }, actor),
        ]),
      ),
    );
    for (const pair of outcomes) expect(pair.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rows = await sql<{ external_code: string; n: number }>`select external_code, count(*) as n from products group by external_code`.execute(t.core.db.kysely);
    expect(rows.rows.map((r) => [r.external_code, Number(r.n)]).sort()).toEqual(codes.map((c) => [c, 1]).sort());
  });
});
