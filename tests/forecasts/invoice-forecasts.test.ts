import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents } from '../helpers/fixtures.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { customerForecasts, forecastsByInvoice, invoiceForecast, replaceInvoiceForecasts, type InvoiceForecastInput } from '../../src/forecasts/forecast.service.ts';

/**
 * Invoice forecasts return to the core through its own service: the whole set replaced in
 * one transaction, every row checked before anything is written, read by customer and by
 * invoice. Run on SQLite and (CASHLOOP_TEST_DB=postgres) PostgreSQL.
 */
describe(`invoice forecasts in the core (${testDialect})`, () => {
  let t: TestCore;
  let customers: number[];
  let invoices: { id: number; customerId: number }[];
  const forecast = (inv: { id: number; customerId: number }, asOf: string, over: Partial<InvoiceForecastInput> = {}): InvoiceForecastInput => ({
    invoiceId: inv.id, customerId: inv.customerId, asOf, predictedPayDate: '2026-02-10', payDateLow: '2026-02-01', payDateHigh: '2026-02-28',
    probLateBp: 2500, amountAtRiskMinor: 1000, model: 'payment-date/test@1', ...over,
  });

  beforeAll(async () => {
    t = await createTestCore('2026-01-31T09:00:00Z', testDialect, { poolSize: 12 });
    customers = [];
    invoices = [];
    for (const name of ['Acme GmbH', 'Bolt SA']) {
      const c = await createCustomer(t.core, { name, creditLimit: '10000', paymentTermsDays: 30, currency: 'EUR' }, actor);
      customers.push(c.id);
      for (let k = 0; k < 3; k++) {
        const inv = await importHistoricalInvoice(t.core, { customerId: c.id, externalRef: `${name.slice(0, 4)}-${k}`, invoiceDate: '2026-01-05', dueDate: '2026-02-04', amount: '40.00' }, actor);
        invoices.push({ id: inv.id, customerId: c.id });
      }
    }
  });
  afterAll(async () => t.cleanup());

  it('replaces the whole set at once and reads it by customer and by invoice', async () => {
    await replaceInvoiceForecasts(t.core, invoices.map((i) => forecast(i, '2026-01-30')), actor);
    const r = await replaceInvoiceForecasts(t.core, invoices.slice(0, 2).map((i) => forecast(i, '2026-01-31', { probLateBp: 10_000, amountAtRiskMinor: 4000 })), actor);
    expect(r).toEqual({ written: 2, asOf: '2026-01-31' });
    const all = await forecastsByInvoice(t.core);
    expect([...all.keys()].sort((a, b) => a - b)).toEqual(invoices.slice(0, 2).map((i) => i.id));
    expect((await customerForecasts(t.core, customers[0]!)).map((f) => [f.asOf, f.probLateBp, f.amountAtRiskMinor])).toEqual([['2026-01-31', 10_000, 4000], ['2026-01-31', 10_000, 4000]]);
    expect(await customerForecasts(t.core, customers[1]!)).toEqual([]);
    expect(await invoiceForecast(t.core, invoices[5]!.id)).toBeNull();
    expect((await invoiceForecast(t.core, invoices[0]!.id))?.predictedPayDate).toBe('2026-02-10');
  });

  it('refuses a bad row with its field, value and rule, and writes nothing', async () => {
    const before = [...(await forecastsByInvoice(t.core)).keys()];
    const events = await countEvents(t.core);
    const cases: [Partial<InvoiceForecastInput>, string, string][] = [
      [{ probLateBp: 10_001 }, 'forecasts.1.probLateBp', 'range'],
      [{ probLateBp: 0.25 }, 'forecasts.1.probLateBp', 'range'],
      [{ amountAtRiskMinor: Number.NaN }, 'forecasts.1.amountAtRiskMinor', 'non_negative'],
      [{ amountAtRiskMinor: -1 }, 'forecasts.1.amountAtRiskMinor', 'non_negative'],
      [{ payDateHigh: '2026-02-30' }, 'forecasts.1.payDateHigh', 'date_format'],
      [{ payDateLow: '2026-02-11' }, 'forecasts.1.predictedPayDate', 'within_interval'],
      [{ invoiceId: 999_999 }, 'forecasts.1.invoiceId', 'exists'],
      [{ customerId: customers[1]! }, 'forecasts.1.customerId', 'owner'],
    ];
    for (const [over, field, rule] of cases) {
      const rows = [forecast(invoices[0]!, '2026-02-01'), forecast(invoices[1]!, '2026-02-01', over)];
      await expect(replaceInvoiceForecasts(t.core, rows, actor), field).rejects.toMatchObject({ kind: 'invalid', detail: { field, rule } });
    }
    await expect(replaceInvoiceForecasts(t.core, [forecast(invoices[0]!, '2026-02-01'), forecast(invoices[0]!, '2026-02-01')], actor)).rejects.toMatchObject({ detail: { rule: 'unique' } });
    expect([...(await forecastsByInvoice(t.core)).keys()]).toEqual(before);
    expect(await countEvents(t.core)).toBe(events);
  });

  it('two forecast runs at once leave one whole set, never a mix or a failure', async () => {
    for (let round = 0; round < 4; round++) {
      const runs = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04'].map((asOf, k) =>
        replaceInvoiceForecasts(t.core, invoices.filter((_, n) => (n + k) % 2 === 0 || k === 3).map((i) => forecast(i, asOf)), actor),
      );
      const results = await Promise.allSettled(runs);
      expect(results.filter((x) => x.status === 'rejected')).toEqual([]);
      const held = [...(await forecastsByInvoice(t.core)).values()];
      const asOfs = new Set(held.map((f) => f.asOf));
      expect(asOfs.size).toBe(1);
      const k = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04'].indexOf([...asOfs][0]!);
      expect(held.map((f) => f.invoiceId).sort((a, b) => a - b)).toEqual(invoices.filter((_, n) => (n + k) % 2 === 0 || k === 3).map((i) => i.id));
    }
  });
});
