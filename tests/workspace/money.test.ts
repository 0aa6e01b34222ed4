import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { countEvents } from '../helpers/fixtures.ts';
import { signedIn, textOf, type Browser } from '../helpers/workspace.ts';
import { buildServer } from '../../src/api/server.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { getInvoice } from '../../src/invoicing/invoice.service.ts';
import { assignCustomer } from '../../src/collections/policy.service.ts';
import { importBankStatement } from '../../src/bank/bank.service.ts';
import { parse } from 'csv-parse/sync';

const parseCsv = (text: string): Record<string, string>[] => parse(text.replace(/^\uFEFF/, ''), { columns: true, skip_empty_lines: true });
const MAPPING = path.resolve(import.meta.dirname, '../fixtures/bank/bank-export.mapping.json');

/**
 * The money pages of the workspace through their routes, the way a browser sends them: the
 * collections worklist by account, the cash page's suggestions applied, split and kept on
 * account, the sales portfolio — with their refusals, paging and CSV.
 */
describe(`workspace money pages on ${testDialect}`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let finance: Browser;
  let collector: Browser;
  let sales: Browser;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    const { core } = t;
    for (const [name, collectorName, rep] of [['Alpha GmbH', 'cole', 'sam'], ['Bravo AG', 'cole', 'sam'], ['Charlie SA', 'dora', 'sam'], ['Delta BV', null, 'ola']] as const) {
      ids[name] = (await createCustomer(core, { name, creditLimit: '100000', paymentTermsDays: 30, currency: 'EUR', salesRep: rep }, 'test')).id;
      if (collectorName) await assignCustomer(core, { customerId: ids[name]!, collector: collectorName }, 'test');
    }
    // A customer in yen, which has no minor unit: its money shows without decimals.
    ids['Echo KK'] = (await createCustomer(core, { name: 'Echo KK', creditLimit: '2500000', paymentTermsDays: 30, currency: 'JPY', salesRep: 'ola' }, 'test')).id;
    const inv = (name: string, ref: string, due: string, amount: string) => importHistoricalInvoice(core, { customerId: ids[name]!, externalRef: ref, invoiceDate: '2026-01-01', dueDate: due, amount }, 'test');
    await inv('Alpha GmbH', 'A1', '2026-02-20', '100.00'); // 10 days × 100
    await inv('Alpha GmbH', 'A2', '2026-02-25', '250.00'); // 5 days × 250
    await inv('Bravo AG', 'B1', '2026-02-25', '500.00'); // 5 days × 500
    await inv('Charlie SA', 'C1', '2026-02-10', '80.00'); // 20 days × 80
    await inv('Delta BV', 'D1', '2026-03-10', '99.00');
    const file = path.join(t.dataDir, 'day.csv');
    fs.writeFileSync(file, ['Buchungstag;Valuta;Betrag;Waehrung;Auftraggeber;IBAN;Verwendungszweck;Buchungsreferenz',
      '02.03.2026;02.03.2026;350,00;EUR;ALPHA GMBH.;;Sammelzahlung;L1',
      '02.03.2026;02.03.2026;120,00;EUR;Unbekannt;;Zahlung;L2'].join('\n') + '\n');
    await importBankStatement(core, { file, mapping: MAPPING, actor: 'test' });
    app = await buildServer(core, { rateLimitPerMinute: 1_000_000 });
    finance = await signedIn(app, core, 'finance', 'fin');
    collector = await signedIn(app, core, 'collector', 'cole');
    sales = await signedIn(app, core, 'sales', 'sam');
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('lists one row per account, ranked, filterable to mine, paged, and downloadable as CSV', async () => {
    const page = textOf((await collector.get('/app/collections')).body);
    expect(page).toContain('4 accounts with an open balance on 2026-03-02');
    const order = ['Bravo AG', 'Alpha GmbH', 'Charlie SA', 'Delta BV'].map((n) => page.indexOf(n));
    expect(order.every((x, i) => x > 0 && (i === 0 || x > order[i - 1]!))).toBe(true);
    expect(page).toContain('IMP-B1 · 5 days late');
    const mine = textOf((await collector.get('/app/collections?mine=1')).body);
    expect(mine).toContain('2 accounts');
    expect(mine).not.toContain('Charlie SA');
    const csv = parseCsv((await collector.get('/app/collections?format=csv')).body);
    expect(csv.map((r) => [r.rank, r.customer, r.overdue, r.oldest_invoice])).toEqual([['1', 'Bravo AG', '500.00', 'IMP-B1'], ['2', 'Alpha GmbH', '350.00', 'IMP-A1'], ['3', 'Charlie SA', '80.00', 'IMP-C1'], ['4', 'Delta BV', '0.00', 'IMP-D1']]);
    // A promise recorded through the customer view moves Bravo below Alpha and Charlie at once (2,500 × 0.5 = 1,250 < 1,600 < 2,250).
    const promised = await collector.post(`/app/collections/customers/${ids['Bravo AG']}/promise`, { date: '2026-03-09', invoices: 'IMP-B1' });
    expect(promised.statusCode).toBe(303);
    const after = parseCsv((await collector.get('/app/collections?format=csv')).body);
    expect(after.map((r) => [r.customer, r.next_promise_date])).toEqual([['Alpha GmbH', ''], ['Charlie SA', ''], ['Bravo AG', '2026-03-09'], ['Delta BV', '']]);
  });

  it('suggests matches with their reason and applies one in a click', async () => {
    const page = textOf((await finance.get('/app/cash')).body);
    expect(page).toContain('2 bank lines without a match.');
    expect(page).toContain(`The payer's name "ALPHA GMBH." reads as Alpha GmbH, and IMP-A1 + IMP-A2 together are exactly 350.00 EUR.`);
    const line = Number(/Bank line (\d+): 350\.00 EUR/.exec(page)![1]);
    const done = await finance.post(`/app/cash/entries/${line}/apply`, { customerId: String(ids['Alpha GmbH']), invoice: ['IMP-A1', 'IMP-A2'], amount: ['100.00', '250.00'] });
    expect(done.statusCode, done.body).toBe(303);
    expect(textOf((await finance.get(done.headers.location as string)).body)).toMatch(new RegExp(`Bank line ${line} recorded as payment \\d+\\.`));
    expect((await getInvoice(t.core, 'IMP-A1')).status).toBe('paid');
    expect((await getInvoice(t.core, 'IMP-A2')).status).toBe('paid');
    // The second click of the same button is told the line is matched.
    const again = await finance.post(`/app/cash/entries/${line}/apply`, { customerId: String(ids['Alpha GmbH']), invoice: ['IMP-A1', 'IMP-A2'], amount: ['100.00', '250.00'] });
    expect(again.statusCode).toBe(200);
    expect(textOf(again.body)).toMatch(new RegExp(`Not saved\\. bank line ${line} is already matched \\(payment \\d+\\) \\(rule: already_matched\\)`));
  });

  it('refuses a split that does not fit beside the field, with the rule, and a write without a CSRF token', async () => {
    const page = textOf((await finance.get('/app/cash')).body);
    const line = Number(/Bank line (\d+): 120\.00 EUR/.exec(page)![1]);
    const before = await countEvents(t.core);
    const refused = await finance.post(`/app/cash/entries/${line}/apply`, { customerId: String(ids['Charlie SA']), invoice: ['IMP-C1', '', ''], amount: ['90.00', '', ''] });
    expect(refused.statusCode).toBe(200);
    expect(refused.body).toMatch(new RegExp(`id="split-${line}-amount-0"[^>]*aria-invalid="true"`));
    expect(textOf(refused.body)).toContain('invoice IMP-C1 is open for less than that (rule: within_balance)');
    expect(refused.body).toContain('value="90.00"');
    const noToken = await finance.post(`/app/cash/entries/${line}/apply`, { customerId: String(ids['Charlie SA']), invoice: 'IMP-C1', amount: '80.00' }, { csrf: null });
    expect(noToken.statusCode).toBe(403);
    const notMine = await sales.post(`/app/cash/entries/${line}/apply`, { customerId: String(ids['Charlie SA']), invoice: '', amount: '' });
    expect(notMine.statusCode).toBe(403);
    expect(await countEvents(t.core)).toBe(before);
    // Split: 80.00 settles C1, the 40.00 left stays on Charlie's account.
    const split = await finance.post(`/app/cash/entries/${line}/apply`, { customerId: String(ids['Charlie SA']), invoice: ['IMP-C1', '', ''], amount: ['80.00', '', ''] });
    expect(split.statusCode, split.body).toBe(303);
    expect((await getInvoice(t.core, 'IMP-C1')).status).toBe('paid');
    const payment = await t.core.db.kysely.selectFrom('payments').select(['amount_minor', 'customer_id']).where('customer_id', '=', ids['Charlie SA']!).executeTakeFirstOrThrow();
    expect(Number(payment.amount_minor)).toBe(12_000);
    expect(textOf((await finance.get('/app/cash')).body)).toContain('Every bank line is matched.');
    const csv = parseCsv((await finance.get('/app/cash?format=csv')).body);
    expect(csv).toEqual([]);
  });

  it("shows a salesperson's portfolio with sales, payment speed, overdue amounts and broken promises, as CSV too", async () => {
    const page = textOf((await sales.get('/app/sales')).body);
    expect(page).toContain('Sales: customers of sam');
    expect(page).toContain('3 customers in EUR: sales 930.00, open 500.00, overdue 500.00, 0 broken promises — 12 months from 2025-03-03 to 2026-03-02.');
    // Alpha paid both invoices today, 60 days after issue: (100 × 10 + 250 × 5) / 350 = 6.4 days past due, weighted.
    expect(page).toContain('Alpha GmbH 350.00 EUR 60.0 d 6.4 d late 0.00 EUR 0.00 EUR 0');
    expect(page).not.toContain('Delta BV');
    const csv = parseCsv((await sales.get('/app/sales?format=csv')).body);
    expect(csv.map((r) => [r.customer, r.sales_12_months, r.overdue, r.broken_promises])).toEqual([['Alpha GmbH', '350.00', '0.00', '0'], ['Bravo AG', '500.00', '500.00', '0'], ['Charlie SA', '80.00', '0.00', '0']]);
    // Money on a page is grouped by thousands, as in the reports, in the currency's decimals;
    // the value of a form's input and the CSV keep the plain figure a person types.
    const customers = textOf((await sales.get('/app/customers')).body);
    expect(customers).toContain('100,000.00 EUR');
    expect(customers).toContain('2,500,000 JPY');
    expect(customers).not.toContain('100000.00');
    const alpha = (await sales.get(`/app/customers/${ids['Alpha GmbH']}`)).body;
    expect(textOf(alpha)).toContain('Credit limit 100,000.00 EUR');
    expect(alpha).toMatch(/name="creditLimit"[^>]*value="100000\.00"/);
    const echo = (await sales.get(`/app/customers/${ids['Echo KK']}`)).body;
    expect(textOf(echo)).toContain('Credit limit 2,500,000 JPY');
    expect(echo).toMatch(/name="creditLimit"[^>]*value="2500000"/);
    const customerCsv = parseCsv((await sales.get('/app/customers?format=csv')).body);
    expect(customerCsv.filter((r) => r.name === 'Alpha GmbH' || r.name === 'Echo KK').map((r) => [r.name, r.credit_limit])).toEqual([['Alpha GmbH', '100000.00'], ['Echo KK', '2500000']]);
    const bad = await sales.get('/app/sales?after=-1');
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad.body)).toContain('page_cursor');
  });
});
