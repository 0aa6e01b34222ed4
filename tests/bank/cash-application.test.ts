import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { getInvoice } from '../../src/invoicing/invoice.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment } from '../../src/shipping/shipment.service.ts';
import { getPayment } from '../../src/payments/payment.service.ts';
import { importBankStatement } from '../../src/bank/bank.service.ts';
import { applyEntry, exactCombinations, looseInvoiceNumbers, nameKey, suggestionsFor, unmatchedLines } from '../../src/bank/suggestion.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

const MAPPING = path.resolve(import.meta.dirname, '../fixtures/bank/bank-export.mapping.json');

/** Bank lines in the savings-bank CSV layout of tests/fixtures/bank, imported through the bank service. */
async function importLines(t: TestCore, name: string, lines: { ref: string; amount: string; payer?: string; iban?: string; text?: string }[]) {
  const file = path.join(t.dataDir, `${name}.csv`);
  const rows = lines.map((l) => `02.03.2026;02.03.2026;${l.amount.replace('.', ',')};EUR;${l.payer ?? 'Unbekannt'};${l.iban ?? ''};${l.text ?? 'Zahlung'};${l.ref}`);
  fs.writeFileSync(file, ['Buchungstag;Valuta;Betrag;Waehrung;Auftraggeber;IBAN;Verwendungszweck;Buchungsreferenz', ...rows].join('\n') + '\n');
  return importBankStatement(t.core, { file, mapping: MAPPING, actor });
}

const lineId = async (t: TestCore, ref: string) => (await t.core.db.kysely.selectFrom('bank_entries').select('id').where('entry_ref', '=', ref).executeTakeFirstOrThrow()).id;
const paymentCount = async (t: TestCore) => Number((await t.core.db.kysely.selectFrom('payments').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('reading a bank line', () => {
  it('reads invoice numbers written loosely, company names without their legal form, and amounts made of several invoices', () => {
    expect(looseInvoiceNumbers('Rechnung inv 2026 000123 und 2026-000124, imp2025000007')).toEqual(['INV-2026-000123', 'INV-2026-000124', 'IMP-2025-000007']);
    expect(looseInvoiceNumbers('Kundennr 12345')).toEqual([]);
    expect(nameKey('ACME GmbH.')).toBe('acme');
    expect(nameKey('Société Générale S.A.')).toBe('societe generale');
    const items = [100, 250, 400, 50].map((b, i) => ({ i, b }));
    expect(exactCombinations(items, 350, (x) => x.b).map((c) => c.map((x) => x.b))).toEqual([[100, 250]]);
    expect(exactCombinations(items, 450, (x) => x.b).map((c) => c.map((x) => x.b))).toEqual([[400, 50]]);
    expect(exactCombinations(items, 400, (x) => x.b).map((c) => c.map((x) => x.b))).toEqual([[100, 250, 50]]);
    expect(exactCombinations(items, 1234, (x) => x.b)).toEqual([]);
  });
});

describe(`cash application by hand (${testDialect})`, () => {
  let t: TestCore;
  let acme: number;
  let beta: number;
  let shipped: string;
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    const { core } = t;
    const basics = await seedBasics(core, { customer: { name: 'Acme GmbH' } });
    acme = basics.customer.id;
    await core.db.kysely.updateTable('customers').set({ iban: 'DE89370400440532013000' }).where('id', '=', acme).execute();
    beta = (await createCustomer(core, { name: 'Beta AG', creditLimit: '10000', paymentTermsDays: 30, currency: 'EUR' }, actor)).id;
    for (const [ref, due, amount] of [['A1', '2026-01-31', '100.00'], ['A2', '2026-02-10', '250.00'], ['A3', '2026-02-20', '400.00']] as const) await importHistoricalInvoice(core, { customerId: acme, externalRef: ref, invoiceDate: '2026-01-01', dueDate: due, amount }, actor);
    await importHistoricalInvoice(core, { customerId: beta, externalRef: 'B1', invoiceDate: '2026-01-01', dueDate: '2026-02-01', amount: '99.00' }, actor);
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    const o = await createOrder(core, { customerId: beta, lines: [{ sku: 'WIDGET', quantity: 2 }] }, actor); // 30.00
    await submitOrder(core, o.id, actor);
    shipped = (await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: 'T1' }, actor)).invoiceNumber!;
    const report = await importLines(t, 'day', [
      { ref: 'L-SUM', amount: '350.00', payer: 'ACME GMBH.' }, // the name as the bank wrote it; two invoices add up to it
      { ref: 'L-PART', amount: '75.00', payer: 'Acme', iban: 'DE89370400440532013000' }, // IBAN on file; less than any invoice
      { ref: 'L-EXACT', amount: '99.00', payer: 'Someone' }, // nobody known; one invoice of exactly that
      { ref: 'L-LOOSE', amount: '30.00', payer: 'Someone else', text: `Rechnung ${shipped.replace(/-/g, ' ').toLowerCase()}` },
      { ref: 'L-KEEP', amount: '12.00', payer: 'Someone else' },
      { ref: 'L-RACE1', amount: '5.00', payer: 'Nobody' },
      { ref: 'L-RACE2', amount: '6.00', payer: 'Nobody' },
      { ref: 'L-RACE3', amount: '7.00', payer: 'Nobody' },
    ]);
    expect(report.unmatched).toBe(8);
  });
  afterAll(async () => t.cleanup());

  it('suggests for a page of lines read together exactly what it suggests for each line alone', async () => {
    const page = await unmatchedLines(t.core, { limit: 100 });
    expect(page.lines.length).toBe(8);
    const rows = await t.core.db.kysely.selectFrom('bank_entries').selectAll().where('status', '=', 'unmatched').execute();
    for (const line of page.lines) expect(line.suggestions).toEqual(await suggestionsFor(t.core, rows.find((r) => r.id === line.id)!));
    // The lines do not all suggest the same: the reads of the page reach the right line.
    expect(new Set(page.lines.map((l) => JSON.stringify(l.suggestions))).size).toBeGreaterThan(4);
  });

  it('suggests matches for each unmatched line with the reason for each, paged in SQL', async () => {
    const page = await unmatchedLines(t.core, { limit: 4 });
    expect(page.total).toBe(8);
    expect(page.lines.map((l) => l.entryRef)).toEqual(['L-SUM', 'L-PART', 'L-EXACT', 'L-LOOSE']);
    const [sum, part, exact, loose] = page.lines;
    expect(sum!.suggestions[0]).toMatchObject({ kind: 'several_invoices', customerId: acme, unappliedMinor: 0, allocations: [{ invoice: 'IMP-A1', amountMinor: 10_000 }, { invoice: 'IMP-A2', amountMinor: 25_000 }] });
    expect(sum!.suggestions[0]!.reason).toBe(`The payer's name "ACME GMBH." reads as Acme GmbH, and IMP-A1 + IMP-A2 together are exactly 350.00 EUR.`);
    expect(part!.suggestions.map((s) => s.kind)).toEqual(['oldest_first']);
    expect(part!.suggestions[0]).toMatchObject({ allocations: [{ invoice: 'IMP-A1', amountMinor: 7_500, balanceMinor: 10_000 }], unappliedMinor: 0 });
    expect(part!.suggestions[0]!.reason).toBe("The payer's IBAN DE89370400440532013000 is on file for Acme GmbH; 75.00 EUR pays their oldest invoices first: IMP-A1 in part (75.00 EUR of 100.00 EUR).");
    expect(exact!.suggestions.map((s) => [s.kind, s.customerId, s.allocations.map((a) => a.invoice)])).toEqual([['exact_amount', beta, ['IMP-B1']]]);
    expect(exact!.suggestions[0]!.reason).toBe('IMP-B1 of Beta AG is open for exactly 99.00 EUR (due 2026-02-01); the payer is not on file.');
    expect(loose!.suggestions[0]).toMatchObject({ kind: 'reference', customerId: beta, allocations: [{ invoice: shipped, amountMinor: 3_000 }], unappliedMinor: 0 });
    expect(loose!.suggestions[0]!.reason).toContain(`names ${shipped} (open 30.00 EUR)`);
    expect((await unmatchedLines(t.core, { from: 4, limit: 4 })).lines.map((l) => l.entryRef)).toEqual(['L-KEEP', 'L-RACE1', 'L-RACE2', 'L-RACE3']);
  });

  it('splits a line across invoices as a person chose, the rest unapplied on the account', async () => {
    const id = await lineId(t, 'L-SUM');
    const done = await applyEntry(t.core, id, { allocations: [{ invoice: 'IMP-A3', amount: '300.00' }, { invoice: 'imp-a1', amount: '50' }] }, actor);
    expect(done).toMatchObject({ customerId: acme, appliedMinor: 35_000, unappliedMinor: 0 });
    const payment = await getPayment(t.core, done.paymentId);
    expect(payment.allocations.map((a) => [a.invoiceNumber, a.amountMinor, a.rule])).toEqual([['IMP-A3', 30_000, 'manual'], ['IMP-A1', 5_000, 'manual']]);
    expect(payment).toMatchObject({ externalId: 'SPK-2026-03-03/L-SUM', paymentDate: '2026-03-02', amountMinor: 35_000 });
    expect((await getInvoice(t.core, 'IMP-A3')).balanceMinor).toBe(10_000);
    expect((await getInvoice(t.core, 'IMP-A1')).status).toBe('partially_paid');
    const line = await t.core.db.kysely.selectFrom('bank_entries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(line).toMatchObject({ status: 'matched', match_rule: 'manual', customer_id: acme, payment_id: done.paymentId });
    // Settled once: a second click is told so and writes nothing.
    const before = await paymentCount(t);
    const again = await applyEntry(t.core, id, { allocations: [], customerId: acme }, actor).catch((e: unknown) => e);
    expect((again as DomainError).detail).toMatchObject({ rule: 'already_matched' });
    expect(await paymentCount(t)).toBe(before);
  });

  it('keeps a line on the customer account unapplied in one click', async () => {
    const done = await applyEntry(t.core, await lineId(t, 'L-KEEP'), { customerId: beta, allocations: [] }, actor);
    expect(done).toMatchObject({ customerId: beta, appliedMinor: 0, unappliedMinor: 1_200 });
    expect((await getInvoice(t.core, 'IMP-B1')).balanceMinor).toBe(9_900);
  });

  it('refuses a split that does not fit with the field and the rule, writing nothing', async () => {
    const id = await lineId(t, 'L-PART');
    const before = await paymentCount(t);
    const cases: [Parameters<typeof applyEntry>[2], string, string][] = [
      [{ allocations: [{ invoice: 'IMP-A2', amount: '80.00' }] }, 'allocations.0.amount', 'within_receipt'],
      [{ allocations: [{ invoice: 'IMP-A3', amount: '50.00' }, { invoice: 'IMP-A3', amount: '1.00' }] }, 'allocations.1.invoice', 'unique_invoice'],
      [{ allocations: [{ invoice: 'IMP-A1', amount: '60.00' }] }, 'allocations.0.amount', 'within_balance'],
      [{ allocations: [{ invoice: 'IMP-A2', amount: '10.00' }, { invoice: 'IMP-B1', amount: '10.00' }] }, 'allocations.1.invoice', 'one_customer'],
      [{ allocations: [{ invoice: 'NOPE-1', amount: '10.00' }] }, 'allocations.0.invoice', 'exists'],
      [{ allocations: [{ invoice: 'IMP-A2', amount: '10.001' }] }, 'allocations.0.amount', 'amount_precision'],
      [{ allocations: [{ invoice: 'IMP-A2', amount: '0' }] }, 'allocations.0.amount', 'amount_positive'],
      [{ allocations: [] }, 'customerId', 'required'],
      [{ allocations: [{ invoice: 'IMP-A2', amount: '10.00' }], customerId: beta }, 'allocations.0.invoice', 'one_customer'],
    ];
    for (const [input, field, rule] of cases) {
      const error = await applyEntry(t.core, id, input, actor).catch((e: unknown) => e);
      expect(error, JSON.stringify(input)).toBeInstanceOf(DomainError);
      expect((error as DomainError).detail, JSON.stringify(input)).toMatchObject({ field, rule });
    }
    expect(await paymentCount(t)).toBe(before);
    expect((await t.core.db.kysely.selectFrom('bank_entries').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('unmatched');
  });

  it('two people settling one bank line at once record one payment; the other is told it is matched', async () => {
    const db = t.core.db.kysely;
    for (const ref of ['L-RACE1', 'L-RACE2', 'L-RACE3']) {
      const id = await lineId(t, ref);
      // One keeps it on Acme's account, the other on Beta's: different customers, different customer locks.
      const results = await Promise.allSettled([applyEntry(t.core, id, { customerId: acme, allocations: [] }, 'ann'), applyEntry(t.core, id, { customerId: beta, allocations: [] }, 'bob')]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as DomainError);
      expect(ok, ref).toHaveLength(1);
      expect(refused.map((e) => [e.kind, e.detail.rule]), ref).toEqual([['conflict', 'already_matched']]);
      const payments = await db.selectFrom('payments').select(['id', 'customer_id']).where('external_id', '=', `SPK-2026-03-03/${ref}`).execute();
      expect(payments, ref).toHaveLength(1);
      const line = await db.selectFrom('bank_entries').select(['status', 'payment_id', 'customer_id']).where('id', '=', id).executeTakeFirstOrThrow();
      expect(line, ref).toEqual({ status: 'matched', payment_id: payments[0]!.id, customer_id: payments[0]!.customer_id });
    }
  });
});
