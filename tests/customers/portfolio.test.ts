import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { recordPromise, resolvePromises } from '../../src/collections/promise.service.ts';
import { salesPortfolio } from '../../src/customers/portfolio.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

describe(`sales portfolio (${testDialect})`, () => {
  let t: TestCore;
  const ids: Record<string, number> = {};
  beforeAll(async () => {
    t = await createTestCore('2026-01-10T09:00:00Z');
    const { core } = t;
    const mk = async (name: string, rep: string, currency = 'EUR') => (ids[name] = (await createCustomer(core, { name, creditLimit: '100000', paymentTermsDays: 30, currency, salesRep: rep }, actor)).id);
    await mk('Fast Ltd', 'sam');
    await mk('Slow AG', 'sam');
    await mk('Yen KK', 'sam', 'JPY');
    await mk('Other Co', 'ola');
    const inv = (name: string, ref: string, date: string, due: string, amount: string) => importHistoricalInvoice(core, { customerId: ids[name]!, externalRef: ref, invoiceDate: date, dueDate: due, amount }, actor);
    await inv('Fast Ltd', 'F-OLD', '2024-06-01', '2024-07-01', '5000.00'); // before the window: not in sales
    await inv('Fast Ltd', 'F1', '2025-11-01', '2025-12-01', '1000.00');
    await inv('Fast Ltd', 'F2', '2025-12-01', '2025-12-31', '3000.00');
    await inv('Slow AG', 'S1', '2025-10-01', '2025-10-31', '200.00');
    await inv('Slow AG', 'S2', '2025-12-15', '2026-01-14', '300.00');
    await inv('Yen KK', 'Y1', '2025-12-01', '2025-12-31', '12000');
    await inv('Other Co', 'O1', '2025-12-01', '2025-12-31', '999.00');
    // Fast pays F1 on 2025-11-21 (20 days, 10 early) and F2 on 2026-01-05 (35 days, 5 late); the old one stays open.
    t.clock.set('2026-01-10T09:00:00Z');
    await recordPayment(core, { customerId: ids['Fast Ltd']!, amount: '1000.00', reference: 'IMP-F1', date: '2025-11-21' }, actor);
    await recordPayment(core, { customerId: ids['Fast Ltd']!, amount: '3000.00', reference: 'IMP-F2', date: '2026-01-05' }, actor);
    // Slow promises S1 for 2026-01-12 and breaks it; pays 50.00 of it.
    await recordPromise(core, { customerId: ids['Slow AG']!, invoices: ['IMP-S1'], date: '2026-01-12' }, actor);
    await recordPayment(core, { customerId: ids['Slow AG']!, amount: '50.00', reference: 'IMP-S1', date: '2026-01-10' }, actor);
    t.clock.set('2026-01-20T09:00:00Z');
    await resolvePromises(core, '2026-01-20', actor);
  });
  afterAll(async () => t.cleanup());

  it("gives each of the rep's customers sales against payment speed, open and overdue amounts and broken promises", async () => {
    const p = await salesPortfolio(t.core, { rep: 'sam' });
    expect(p).toMatchObject({ rep: 'sam', asOf: '2026-01-20', from: '2025-01-21', nextAfterId: null });
    expect(p.customers.map((c) => c.name)).toEqual(['Fast Ltd', 'Slow AG', 'Yen KK']);
    const [fast, slow, yen] = p.customers;
    // Weighted by the totals: (1000 × 20 + 3000 × 35) / 4000 = 31.25 → 31.3; (1000 × −10 + 3000 × 5) / 4000 = 1.25 → 1.3.
    expect(fast).toMatchObject({ salesMinor: 400_000, invoices: 2, settledInvoices: 2, avgDaysToPay: 31.3, avgDaysLate: 1.3, openMinor: 500_000, overdueMinor: 500_000, brokenPromises: 0 });
    expect(fast!.oldestOverdueDays).toBe(568); // 2024-07-01 → 2026-01-20
    expect(slow).toMatchObject({ salesMinor: 50_000, settledInvoices: 0, avgDaysToPay: null, avgDaysLate: null, openMinor: 45_000, overdueMinor: 45_000, oldestOverdueDays: 81, brokenPromises: 1 });
    expect(yen).toMatchObject({ currency: 'JPY', salesMinor: 12_000, openMinor: 12_000, overdueMinor: 12_000 });
    expect(p.totals).toEqual([
      { currency: 'EUR', customers: 2, salesMinor: 450_000, openMinor: 545_000, overdueMinor: 545_000, brokenPromises: 1 },
      { currency: 'JPY', customers: 1, salesMinor: 12_000, openMinor: 12_000, overdueMinor: 12_000, brokenPromises: 0 },
    ]);
  });

  it('pages by customer id in SQL, and refuses a bad cursor with the field and the rule', async () => {
    const first = await salesPortfolio(t.core, { rep: 'sam', limit: 2 });
    expect(first.customers.map((c) => c.name)).toEqual(['Fast Ltd', 'Slow AG']);
    expect(first.nextAfterId).toBe(ids['Slow AG']);
    const second = await salesPortfolio(t.core, { rep: 'sam', limit: 2, afterId: first.nextAfterId! });
    expect(second.customers.map((c) => c.name)).toEqual(['Yen KK']);
    expect(second.nextAfterId).toBeNull();
    expect((await salesPortfolio(t.core, { rep: 'nobody' })).customers).toEqual([]);
    for (const afterId of ['-1', 'abc', '1.5']) {
      const error = await salesPortfolio(t.core, { rep: 'sam', afterId }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).detail).toMatchObject({ field: 'after', rule: 'page_cursor' });
    }
  });
});
