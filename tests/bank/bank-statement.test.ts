import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents } from '../helpers/fixtures.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { getInvoice } from '../../src/invoicing/invoice.service.ts';
import { getPayment } from '../../src/payments/payment.service.ts';
import { importBankStatement, listBankEntries, listUnmatched, matchEntry } from '../../src/bank/bank.service.ts';
import { parseCamt053 } from '../../src/bank/camt053.ts';
import { DomainError } from '../../src/shared/errors.ts';
import fs from 'node:fs';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/bank');
const camt = path.join(fixtures, 'camt053-2026-03-02.xml');

async function seed(core: TestCore['core']) {
  const acme = await createCustomer(core, { name: 'Acme GmbH', externalId: 'C1', currency: 'EUR', iban: 'DE89370400440532013000' }, actor);
  const beta = await createCustomer(core, { name: 'Beta AG', externalId: 'C2', currency: 'EUR', iban: 'DE02120300000000202051' }, actor);
  const gamma = await createCustomer(core, { name: 'Gamma SARL', externalId: 'C3', currency: 'EUR' }, actor);
  const inv = (customerId: number, externalRef: string, amount: string) => importHistoricalInvoice(core, { customerId, externalRef, invoiceDate: '2026-01-15', dueDate: '2026-02-14', amount }, actor);
  await inv(acme.id, 'AR-10001', '150.00');
  await inv(acme.id, 'AR-10002', '80.00');
  await inv(beta.id, 'AR-10003', '240.50');
  await inv(gamma.id, 'AR-10004', '99.00');
  await inv(beta.id, 'AR-10005', '60.00');
  return { acme, beta, gamma };
}

describe(`bank statements (${testDialect})`, () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await createTestCore('2026-03-05T09:00:00Z');
  });
  afterEach(async () => t.cleanup());

  it('reads a camt.053.001.08 statement: booked entries only, structured and unstructured remittance, the return reason', () => {
    const entries = parseCamt053(fs.readFileSync(camt, 'utf8'));
    expect(entries.map((e) => e.entryRef)).toEqual(['0001', '0002', '0003', '0004', '0005', '0006', '0007']);
    expect(entries[0]).toMatchObject({ statementId: 'STMT-2026-03-02', direction: 'credit', amountMinor: 15000, currency: 'EUR', structuredRefs: ['AR-10001'], endToEndId: 'E2E-ACME-0001', payerIban: 'DE89370400440532013000', accountIban: 'DE44500105175407324931' });
    expect(entries[1]).toMatchObject({ amountMinor: 24050, unstructured: ['Payment of invoice AR-10003, thank you'], endToEndId: null, payerName: 'Beta AG' });
    expect(entries[2]!.payerIban).toBe('DE89370400440532013000');
    expect(entries[5]).toMatchObject({ direction: 'debit', returnReason: 'AC04 Account closed', endToEndId: 'E2E-ACME-0001' });
    expect(entries[6]).toMatchObject({ direction: 'debit', returnReason: null, amountMinor: 250 });
  });

  it('books credits as payments matched by reference, by IBAN + amount, by name + amount; leaves the rest unmatched; a return reverses its payment', async () => {
    await seed(t.core);
    const r = await importBankStatement(t.core, { file: camt, actor });
    expect(r).toMatchObject({ format: 'camt.053', entries: 7, matched: 4, unmatched: 1, reversed: 1, ignored: 1, unchanged: 0 });
    expect(r.results.map((x) => [x.key, x.status, x.rule, x.invoiceNumber])).toEqual([
      ['STMT-2026-03-02/0001', 'reversed', 'reference', 'IMP-AR-10001'],
      ['STMT-2026-03-02/0002', 'matched', 'reference', 'IMP-AR-10003'],
      ['STMT-2026-03-02/0003', 'matched', 'amount', 'IMP-AR-10002'],
      ['STMT-2026-03-02/0004', 'matched', 'amount', 'IMP-AR-10004'],
      ['STMT-2026-03-02/0005', 'unmatched', null, null],
      ['STMT-2026-03-02/0006', 'matched', 'return', 'IMP-AR-10001'],
      ['STMT-2026-03-02/0007', 'ignored', null, null],
    ].map(([k, s, rule, inv], i) => (i === 0 ? [k, 'matched', rule, inv] : [k, s, rule, inv])));
    // The first credit was returned: its entry now reads reversed, its payment is reversed, the invoice is open again.
    const first = (await listBankEntries(t.core)).find((e) => e.entryRef === '0001')!;
    expect(first.status).toBe('reversed');
    const payment = await getPayment(t.core, first.paymentId!);
    expect(payment.status).toBe('reversed');
    expect(payment.reversalReason).toMatch(/AC04/);
    expect((await getInvoice(t.core, 'AR-10001')).balanceMinor).toBe(15000);
    expect((await getInvoice(t.core, 'AR-10002')).status).toBe('paid');
    expect((await getInvoice(t.core, 'AR-10003')).status).toBe('paid');
    expect((await getInvoice(t.core, 'AR-10004')).status).toBe('paid');
    const p2 = await getPayment(t.core, (await listBankEntries(t.core)).find((e) => e.entryRef === '0002')!.paymentId!);
    expect(p2).toMatchObject({ externalId: 'STMT-2026-03-02/0002', paymentDate: '2026-03-02', payer: 'Beta AG' });
  });

  it('importing the same statement twice changes nothing', async () => {
    await seed(t.core);
    await importBankStatement(t.core, { file: camt, actor });
    const events = await countEvents(t.core);
    const again = await importBankStatement(t.core, { file: camt, actor });
    expect(again).toMatchObject({ entries: 7, unchanged: 7, matched: 0, unmatched: 0, reversed: 0 });
    expect(await countEvents(t.core)).toBe(events);
  });

  it('the unmatched list is worked by hand: match records the payment for the invoice customer', async () => {
    const { beta } = await seed(t.core);
    await importBankStatement(t.core, { file: camt, actor });
    const [open] = await listUnmatched(t.core);
    expect(open).toMatchObject({ entryRef: '0005', amount: '42.00', payerName: 'Zeta Trading Ltd', status: 'unmatched' });
    const done = await matchEntry(t.core, open!.id, 'AR-10005', actor);
    expect(done).toMatchObject({ status: 'matched', matchRule: 'manual', invoiceNumber: 'IMP-AR-10005', customerId: beta.id });
    expect((await getInvoice(t.core, 'AR-10005')).balanceMinor).toBe(1800);
    expect(await listUnmatched(t.core)).toEqual([]);
    await expect(matchEntry(t.core, open!.id, 'AR-10005', actor)).rejects.toMatchObject({ kind: 'transition' });
    await expect(matchEntry(t.core, 9999, 'AR-10005', actor)).rejects.toMatchObject({ kind: 'not_found' });
    // re-importing after the manual match still changes nothing
    expect(await importBankStatement(t.core, { file: camt, actor })).toMatchObject({ unchanged: 7 });
  });

  it('a CSV statement with BOM, semicolons, decimal commas and a quoted newline goes through a mapping', async () => {
    await seed(t.core);
    const r = await importBankStatement(t.core, { file: path.join(fixtures, 'bank-export.csv'), mapping: path.join(fixtures, 'bank-export.mapping.json'), actor });
    expect(r).toMatchObject({ format: 'csv', entries: 3, matched: 1, unmatched: 1, ignored: 1 });
    expect((await getInvoice(t.core, 'AR-10005')).status).toBe('paid');
    const entries = await listBankEntries(t.core);
    expect(entries.map((e) => [e.key, e.direction, e.amountMinor, e.status])).toEqual([
      ['SPK-2026-03-03/B-77001', 'credit', 6000, 'matched'],
      ['SPK-2026-03-03/B-77002', 'debit', 1290, 'ignored'],
      ['SPK-2026-03-03/B-77003', 'credit', 123456, 'unmatched'],
    ]);
    expect(entries[0]!.remittance).toBe('Rechnung AR-10005\nVielen Dank');
  });

  it('a return whose payment is unknown waits in the unmatched list and cannot be matched to an invoice', async () => {
    await seed(t.core);
    const file = path.join(t.dataDir, 'returns.csv');
    fs.writeFileSync(file, 'entry_ref,booking_date,amount,currency,payer_name,end_to_end_id,return_reason\nR-1,2026-03-03,-75.00,EUR,Acme GmbH,E2E-UNKNOWN,MD06 refund request\n');
    const r = await importBankStatement(t.core, { file, actor });
    expect(r).toMatchObject({ format: 'csv', entries: 1, unmatched: 1, reversed: 0 });
    const [open] = await listUnmatched(t.core);
    expect(open).toMatchObject({ direction: 'debit', amountMinor: 7500, returnReason: 'MD06 refund request', endToEndId: 'E2E-UNKNOWN', statementId: 'returns' });
    await expect(matchEntry(t.core, open!.id, 'AR-10001', actor)).rejects.toMatchObject({ kind: 'transition' });
  });

  it('broken statements name the entry and field, and write nothing', async () => {
    await seed(t.core);
    const before = await countEvents(t.core);
    const fail = async (file: string, mapping?: string) => {
      try {
        await importBankStatement(t.core, { file: path.join(fixtures, file), mapping: mapping && path.join(fixtures, mapping), actor });
      } catch (e) {
        return e as DomainError;
      }
      throw new Error(`${file} was accepted`);
    };
    const truncated = await fail('camt053-truncated.xml');
    expect(truncated.detail.rule).toBe('xml_well_formed');
    expect(truncated.message).toMatch(/line \d+/);
    const noCcy = await fail('camt053-broken-entry.xml');
    expect(noCcy.problems[0]).toMatchObject({ field: 'Amt/@Ccy', rule: 'currency_code' });
    expect(noCcy.problems[0]!.message).toMatch(/entry 2 \(0002\)/);
    const csv = await fail('bank-broken.csv', 'bank-export.mapping.json');
    expect(csv.problems.map((p) => [p.id, p.field, p.rule])).toEqual([
      ['row 1 (line 2)', 'booking_date', 'date_format'],
      ['row 2 (line 3)', 'amount', 'amount_format'],
    ]);
    expect(await countEvents(t.core)).toBe(before);
    expect(await listBankEntries(t.core)).toEqual([]);
  });
});
