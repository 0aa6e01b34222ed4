import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { generateDemo, type DemoResult } from '../../src/demo/generator.ts';
import { MANIFEST_FILE, type DemoManifest } from '../../src/demo/manifest.ts';
import { invoiceBalances } from '../../src/invoicing/invoice.repository.ts';
import { DomainError } from '../../src/shared/errors.ts';
import type { Core } from '../../src/core.ts';
import { exportCanonical } from '../../src/demo/export.ts';
import { importFile } from '../../src/onboarding/import.service.ts';

/** Small enough for the suite (15 customers × 4 months), big enough for every phenomenon. */
const SIZE = { seed: 12, customers: 15, months: 4, start: '2024-01-01' };

async function scalar(core: Core, query: string): Promise<number> {
  const r = await sql<{ n: number | string | null }>`${sql.raw(query)}`.execute(core.db.kysely);
  return Number(r.rows[0]?.n ?? 0);
}

/** A fingerprint of the documents: same seed, same documents, same numbers, same amounts. */
async function fingerprint(core: Core) {
  const db = core.db.kysely;
  return {
    invoices: await db.selectFrom('invoices').select(['number', 'customer_id', 'invoice_date', 'due_date', 'total_minor', 'status']).orderBy('id').execute(),
    payments: await db.selectFrom('payments').select(['customer_id', 'amount_minor', 'payment_date', 'status']).orderBy('id').execute(),
    creditNotes: await db.selectFrom('credit_notes').select(['number', 'amount_minor', 'kind']).orderBy('id').execute(),
    events: await scalar(core, 'select count(*) as n from events'),
  };
}

describe(`demo company generator (${testDialect})`, () => {
  let a: TestCore;
  let b: TestCore;
  let ra: DemoResult;
  let rb: DemoResult;
  beforeAll(async () => {
    a = await createTestCore(`${SIZE.start}T07:00:00Z`);
    b = await createTestCore(`${SIZE.start}T07:00:00Z`);
    ra = await generateDemo(a.core, a.clock, { ...SIZE, dataDir: a.dataDir });
    // The second company commits each service call on its own, as the generator did before a
    // day's calls were batched into one transaction: the two must not differ in anything.
    rb = await generateDemo(b.core, b.clock, { ...SIZE, commit: 'call' });
  }, 900_000); // two companies; on PostgreSQL on a loaded machine each takes minutes
  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
  });

  it('is deterministic: the same seed gives the same counts, totals and documents, one transaction a day or one a call', async () => {
    const strip = (m: DemoManifest) => ({ ...m });
    expect(strip(rb.manifest)).toEqual(strip(ra.manifest));
    expect(await fingerprint(b.core)).toEqual(await fingerprint(a.core));
  });

  it('makes the same company for the seed as before its writes were batched (figures printed by the generator on main)', () => {
    // `cashloop demo generate --seed 12 --customers 15 --months 4 --start 2024-01-01 --json`
    // on main before a day's calls shared a transaction; the payment habits and forecast
    // evaluations depend on these companies staying what they were.
    const m = ra.manifest;
    expect(m.counts).toEqual({
      customers: 15, customersJoinedLater: 4, products: 20, orders: 82, orderLines: 196, creditHolds: 16, holdsReleased: 13, holdsRejected: 2, creditLimitRaises: 9, backorderedOrders: 27,
      cancelledOrders: 0, purchaseOrders: 48, supplierDelays: 6, shipments: 112, partialShipments: 61, delayedDeliveries: 8, failedDeliveries: 7, invoices: 110, payments: 73, partialPayments: 13,
      shortPayments: 2, overpayments: 3, reversedPayments: 2, creditAppliedByHand: 0, disputes: 3, disputesOpened: 3, promises: 11, reminders: 87, disputeCreditNotes: 2, disputesConceded: 0,
      writeOffs: 2, badDebtWriteOffs: 0, customersStopped: 1, customersBlocked: 0,
    });
    expect(m.totals).toEqual({ invoicedMinor: 32463744, creditNotesMinor: 195900, allocatedMinor: 17659677, writtenOffMinor: 437, receivedMinor: 17659677, unappliedMinor: 0, openArMinor: 14607730 });
    expect(m.database).toEqual({ customers: 15, products: 20, orders: 82, shipments: 112, invoices: 110, creditNotes: 2, payments: 73, reversedPayments: 2, writeOffs: 2, events: 709 });
  });

  it('makes every promised phenomenon happen, as the database records it', async () => {
    const c = ra.manifest.counts;
    // The collections desk's history: reminder runs, promises to pay, disputes raised.
    for (const key of ['reminders', 'promises', 'disputesOpened'] as const) expect(c[key], key).toBeGreaterThan(0);
    expect(await scalar(a.core, 'select count(*) as n from dunning_notices')).toBeGreaterThanOrEqual(c.reminders); // a letter lists one or more invoices
    expect(await scalar(a.core, 'select count(*) as n from promises_to_pay')).toBe(c.promises);
    expect(await scalar(a.core, 'select count(*) as n from disputes')).toBe(c.disputesOpened);
    expect(await scalar(a.core, "select count(*) as n from promises_to_pay where status in ('kept', 'broken')")).toBeGreaterThan(0);
    expect(await scalar(a.core, 'select count(*) as n from outbox_messages')).toBe(c.reminders);
    for (const key of ['holdsReleased', 'holdsRejected', 'backorderedOrders', 'partialShipments', 'failedDeliveries', 'delayedDeliveries', 'partialPayments', 'shortPayments', 'overpayments', 'reversedPayments', 'disputeCreditNotes', 'writeOffs'] as const) {
      expect(c[key], key).toBeGreaterThan(0);
    }
    const n = (q: string) => scalar(a.core, q);
    expect(await n(`select count(*) as n from credit_decisions where decision = 'released'`)).toBe(c.holdsReleased);
    expect(await n(`select count(*) as n from credit_decisions where decision = 'rejected'`)).toBe(c.holdsRejected);
    expect(await n(`select count(*) as n from shipment_events where status = 'failed'`)).toBe(c.failedDeliveries);
    expect(await n(`select count(*) as n from shipment_events where status = 'in_transit'`)).toBe(c.delayedDeliveries);
    // partial shipments: orders with more than one shipment
    expect(await n(`select count(*) as n from (select order_id from shipments group by order_id having count(*) > 1) x`)).toBeGreaterThan(0);
    // backorders: stock received later was reserved for waiting order lines
    expect(await n(`select count(*) as n from events where event_type = 'stock.received' and payload like '%"order_lines":[{%'`)).toBeGreaterThan(0);
    expect(await n(`select count(*) as n from payments where status = 'reversed'`)).toBe(c.reversedPayments);
    expect(await n(`select count(*) as n from credit_notes where kind = 'dispute'`)).toBe(c.disputeCreditNotes);
    expect(await n(`select count(*) as n from write_offs`)).toBe(c.writeOffs);
    // partial payments: invoices paid by more than one receipt
    expect(await n(`select count(*) as n from (select invoice_id from payment_allocations where reversed = 0 group by invoice_id having count(distinct payment_id) > 1) x`)).toBeGreaterThan(0);
    // overpayments: receipts larger than what they paid on the day, the surplus used later or still open
    expect(await n(`select count(*) as n from payment_allocations where rule = 'unapplied_credit' or rule = 'oldest_due'`)).toBeGreaterThan(0);
    expect(await n(`select count(*) as n from customers where status = 'blocked'`)).toBe(c.customersBlocked);
    expect(ra.manifest.database.orders).toBe(c.orders);
  });

  it('balances the books: invoiced − credit notes − active allocations − write-offs = open AR', async () => {
    const n = (q: string) => scalar(a.core, q);
    const invoiced = await n('select coalesce(sum(total_minor), 0) as n from invoices');
    const credited = await n('select coalesce(sum(amount_minor), 0) as n from credit_notes');
    const allocated = await n('select coalesce(sum(amount_minor), 0) as n from payment_allocations where reversed = 0');
    const writtenOff = await n('select coalesce(sum(amount_minor), 0) as n from write_offs');
    const open = (await invoiceBalances(a.core.db.kysely)).reduce((s, i) => s + i.balance_minor, 0);
    expect(invoiced - credited - allocated - writtenOff).toBe(open);
    expect(open).toBeGreaterThan(0);
    expect(ra.manifest.books).toEqual({ balanced: true, differenceMinor: 0 });
    expect(ra.manifest.totals.openArMinor).toBe(open);
    // Cash: every received payment is applied or still unapplied, never lost.
    const received = await n(`select coalesce(sum(amount_minor), 0) as n from payments where status = 'received'`);
    expect(received).toBe(allocated + ra.manifest.totals.unappliedMinor);
  });

  it('writes the manifest with every customer\'s habit, and the habits show in the payments', () => {
    const file = JSON.parse(fs.readFileSync(path.join(a.dataDir, MANIFEST_FILE), 'utf8')) as DemoManifest;
    expect(file).toEqual(JSON.parse(JSON.stringify(ra.manifest)));
    expect(file.customerHabits).toHaveLength(15);
    expect(new Set(file.customerHabits.map((c) => c.habit)).size).toBe(7);
    const late = (h: keyof DemoManifest['byHabit']) => file.byHabit[h].meanDaysLate!;
    // Settled dates: a prompt customer's rare instalment or disputed invoice settles weeks after
    // its due date, so the mean of a few customers sits at a day or two, far below the late payers.
    expect(late('prompt')).toBeLessThan(3);
    expect(late('steady_late')).toBeGreaterThan(late('prompt') + 10);
  });

  it('refuses a database that is not empty, and writes nothing', async () => {
    const before = await scalar(a.core, 'select count(*) as n from events');
    const err = await generateDemo(a.core, a.clock, { ...SIZE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).kind).toBe('conflict');
    expect((err as DomainError).message).toContain('is not empty');
    expect(await scalar(a.core, 'select count(*) as n from events')).toBe(before);
  });

  it('rejects bad options with the field named', async () => {
    const err = (await generateDemo(b.core, b.clock, { ...SIZE, months: 0 }).catch((e: unknown) => e)) as DomainError;
    expect(err.detail).toMatchObject({ field: 'months', rule: 'range' });
  });

  it('proves the migration path: export, import into an empty database, same open receivables per customer', async () => {
    const dir = path.join(a.dataDir, 'extract');
    const summary = await exportCanonical(a.core, dir);
    expect(summary.files.map((f) => f.file)).toEqual(['customers.csv', 'products.csv', 'order_lines.csv', 'invoices.csv', 'payments.csv']);
    expect(summary.files.every((f) => f.rows > 0)).toBe(true);
    const openByCustomer = async (core: Core) => {
      const keys = new Map((await core.db.kysely.selectFrom('customers').select(['id', 'external_id']).execute()).map((c) => [c.id, c.external_id]));
      const open: Record<string, number> = {};
      for (const i of await invoiceBalances(core.db.kysely)) if (i.balance_minor !== 0) open[keys.get(i.customer_id)!] = (open[keys.get(i.customer_id)!] ?? 0) + i.balance_minor;
      return open;
    };
    const target = await createTestCore(`${ra.manifest.end}T20:00:00Z`);
    try {
      const files: [string, string][] = [['customers', 'customers.csv'], ['products', 'products.csv'], ['orders', 'order_lines.csv'], ['invoices', 'invoices.csv'], ['payments', 'payments.csv']];
      for (const [entity, file] of files) {
        const report = await importFile(target.core, { entity, file: path.join(dir, file), actor: 'test:migration' });
        expect(report.rejected, `${file}: ${JSON.stringify(report.problems.slice(0, 3))}`).toBe(0);
        expect(report.accepted).toBe(summary.files.find((f) => f.file === file)!.rows);
        if (report.tieOutAgrees !== null) expect(report.tieOutAgrees, file).toBe(true);
      }
      const before = await openByCustomer(a.core);
      expect(Object.keys(before).length).toBeGreaterThan(5);
      expect(await openByCustomer(target.core)).toEqual(before);
    } finally {
      await target.cleanup();
    }
  });
});
