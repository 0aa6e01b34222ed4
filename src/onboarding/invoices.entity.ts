/** Onboarding's invoices file: historical invoices `IMP-<invoice_id>`; a settled date becomes a settlement payment. */
import { importHistoricalInvoice } from '../invoicing/invoice-import.service.ts';
import { recordPayment } from '../payments/payment.service.ts';
import { formatAmount } from '../shared/money.ts';
import { displayMoney } from '../shared/figures.ts';
import { textMax } from '../extract/contract.ts';
import { duplicate, knownCustomer, REPEATED, SETTLEMENT_METHOD, type EntitySpec } from './entity.ts';

export interface InvoiceRecord {
  externalRef: string;
  customerId: number;
  currency: string;
  invoiceDate: string;
  dueDate: string;
  amountMinor: number;
  disputed: boolean;
  settledDate: string | null;
}

export const invoices: EntitySpec<InvoiceRecord> = {
  entity: 'invoices',
  columns: ['invoice_id', 'customer_id', 'invoice_date', 'due_date', 'amount', 'currency', 'disputed', 'settled_date'],
  required: ['invoice_id', 'customer_id', 'invoice_date', 'due_date', 'amount'],
  idColumn: 'invoice_id',
  phases: 1,
  async check(f, ctx) {
    const ref = f.text('invoice_id', { required: true, max: textMax('invoices', 'invoice_id') });
    const seen = duplicate(f, ctx, 'invoice_id', ref, this.columns);
    if (seen === 'repeat') return REPEATED;
    if (seen === 'conflict') return null;
    const customer = await knownCustomer(f, ctx);
    const invoiceDate = f.date('invoice_date', { required: true });
    const dueDate = f.date('due_date', { required: true });
    const settledDate = f.date('settled_date');
    // A zero-amount invoice (free of charge) is a document like any other: it is paid on its date.
    const amount = customer ? f.amount('amount', customer.currency, { required: true, sign: 'not_negative' }) : null;
    const disputed = f.bool('disputed');
    if (invoiceDate && dueDate && dueDate < invoiceDate) f.problem('due_date', dueDate, 'due_after_invoice_date', `due_date ${dueDate} is before invoice_date ${invoiceDate}`);
    if (invoiceDate && settledDate && settledDate < invoiceDate) f.problem('settled_date', settledDate, 'settled_after_invoice_date', `settled_date ${settledDate} is before invoice_date ${invoiceDate}`);
    if (settledDate && settledDate > ctx.today) f.problem('settled_date', settledDate, 'not_future', `settled_date ${settledDate} is after today (${ctx.today})`);
    if (f.problems.length || !ref || !customer || !invoiceDate || !dueDate || amount === null) return null;
    const existing = await ctx.core.db.kysely.selectFrom('invoices').select(['number', 'customer_id', 'total_minor']).where('external_ref', '=', ref).executeTakeFirst();
    if (existing && (existing.customer_id !== customer.id || existing.total_minor !== amount)) {
      f.problem('invoice_id', ref, 'idempotent_retry', `invoice_id ${ref} is already in cashloop as ${existing.number} with another customer or amount (${displayMoney(existing.total_minor, customer.currency)})`);
      return null;
    }
    return {
      record: { externalRef: ref, customerId: customer.id, currency: customer.currency, invoiceDate, dueDate, amountMinor: amount, disputed: disputed ?? false, settledDate },
      exists: existing !== undefined,
    };
  },
  amount: (r) => ({ currency: r.currency, minor: r.amountMinor }),
  customerOf: (r) => r.customerId,
  remember(memory, r) {
    memory.invoices.add(`${r.externalRef}\u0000${r.customerId}`);
  },
  async load(ctx, r) {
    const inv = await importHistoricalInvoice(
      ctx.core,
      { customerId: r.customerId, externalRef: r.externalRef, invoiceDate: r.invoiceDate, dueDate: r.dueDate, amount: formatAmount(r.amountMinor, r.currency), currency: r.currency, disputed: r.disputed },
      ctx.actor,
    );
    let created = inv.created;
    if (r.settledDate && r.amountMinor > 0) {
      // DESIGN.md: a settled_date no payment row covers means "paid in full on that date".
      // The import records that as a payment of its own; a later payments import that
      // covers the invoice replaces it (see settlePayments).
      const p = await recordPayment(
        ctx.core,
        { customerId: r.customerId, amount: formatAmount(r.amountMinor, r.currency), currency: r.currency, date: r.settledDate, method: SETTLEMENT_METHOD, reference: r.externalRef, externalId: `settled:${r.externalRef}` },
        ctx.actor,
      );
      created ||= p.created;
    }
    return created ? 'created' : 'unchanged';
  },
};
