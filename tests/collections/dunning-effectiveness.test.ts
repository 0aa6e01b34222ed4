import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { readWarehouse, tempDir } from '../pipelines/ledger.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { createCreditNote } from '../../src/invoicing/invoice.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';

/**
 * metrics.dunning_effectiveness on a hand-computed history (EUR cents), all invoices due 2026-01-10:
 *
 *   I1 100.00  reminded at level 2 on 01-17; paid in full 01-20 (3 days later)
 *   I2 200.00  reminded at level 2 on 01-17; 120.00 paid 01-25 (8 days), reminded at level 3
 *              on 02-07 for the 80.00 left, paid 02-10 (3 days after the level 3 reminder)
 *   I3  50.00  reminded at level 2 on 01-17; credit note 01-22 (settled, nothing collected)
 *
 * As of 2026-02-20:
 *   level 2,  7 days: 3 notices, settled I1 I3 = 2, collected 100.00 of 350.00
 *   level 2, 14 days: 3 notices, settled 2, collected 100.00 + 120.00 = 220.00
 *   level 2, 30 days: 3 notices, settled 3, collected 100.00 + 200.00 = 300.00
 *   level 3,  7 days: 1 notice (80.00), settled 1, collected 80.00
 *   level 3, 14 and 30 days: not yet over (02-21, 03-09) — no rows
 * As of 2026-02-10 the level 2 thirty-day window (to 02-16) has not ended: no row.
 */
describe(`dunning effectiveness, hand-computed (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  beforeAll(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z');
    const { core, clock } = t;
    const c = await createCustomer(core, { name: 'Delta KG', creditLimit: '5000', paymentTermsDays: 30, currency: 'EUR' }, actor);
    for (const [ref, amount] of [['I1', '100.00'], ['I2', '200.00'], ['I3', '50.00']]) {
      await importHistoricalInvoice(core, { customerId: c.id, externalRef: ref!, invoiceDate: '2025-12-11', dueDate: '2026-01-10', amount: amount! }, actor);
    }
    const at = (d: string) => clock.set(`${d}T09:00:00Z`);
    at('2026-01-17');
    expect((await runReminders(core, actor, { asOf: '2026-01-17' })).messages).toHaveLength(1);
    at('2026-01-20');
    await recordPayment(core, { customerId: c.id, amount: '100.00', reference: 'IMP-I1', date: '2026-01-20' }, actor);
    at('2026-01-22');
    await createCreditNote(core, { invoice: 'IMP-I3', amount: '50.00', reason: 'returned', kind: 'return' }, actor);
    at('2026-01-25');
    await recordPayment(core, { customerId: c.id, amount: '120.00', reference: 'IMP-I2', date: '2026-01-25' }, actor);
    at('2026-02-07');
    expect((await runReminders(core, actor, { asOf: '2026-02-07' })).messages.map((m) => m.level)).toEqual([3]);
    at('2026-02-10');
    await recordPayment(core, { customerId: c.id, amount: '80.00', reference: 'IMP-I2', date: '2026-02-10' }, actor);
    at('2026-02-21');
    dir = tempDir();
  });
  afterAll(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rows = async (asOf: string) => {
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf, quiet: true, steps: ['ingest', 'transform'] });
    return readWarehouse(
      warehousePaths(dir).warehouse,
      `select level, window_days, notices::int as notices, settled::int as settled, round(share_settled, 4) as share_settled, reminded_cents::int as reminded_cents, collected_cents::int as collected_cents, round(share_collected, 4) as share_collected
       from metrics.dunning_effectiveness order by level, window_days`,
    );
  };

  it('counts, per level and window, the reminders settled and the share of their balance collected', async () => {
    expect(await rows('2026-02-20')).toEqual([
      { level: 2, window_days: 7, notices: 3, settled: 2, share_settled: 0.6667, reminded_cents: 35_000, collected_cents: 10_000, share_collected: 0.2857 },
      { level: 2, window_days: 14, notices: 3, settled: 2, share_settled: 0.6667, reminded_cents: 35_000, collected_cents: 22_000, share_collected: 0.6286 },
      { level: 2, window_days: 30, notices: 3, settled: 3, share_settled: 1, reminded_cents: 35_000, collected_cents: 30_000, share_collected: 0.8571 },
      { level: 3, window_days: 7, notices: 1, settled: 1, share_settled: 1, reminded_cents: 8_000, collected_cents: 8_000, share_collected: 1 },
    ]);
  });

  it('counts only windows that have ended by the as-of date', async () => {
    expect((await rows('2026-02-10')).map((r) => [r.level, r.window_days])).toEqual([[2, 7], [2, 14]]); // level 3's week ends 02-14
  });
});
