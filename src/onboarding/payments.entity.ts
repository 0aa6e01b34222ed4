/** Onboarding's payments file: payments through cash application, rows naming an invoice first; settlements the rows cover are replaced. */
import { recordPayment, reversePayment } from '../payments/payment.service.ts';
import { formatAmount } from '../shared/money.ts';
import { textMax } from '../extract/contract.ts';
import { duplicate, IMPORT_METHOD, knownCustomer, REPEATED, SETTLEMENT_METHOD, type EntitySpec, type ImportContext } from './entity.ts';

export interface PaymentRecord {
  externalId: string;
  customerId: number;
  currency: string;
  date: string;
  amountMinor: number;
  /** The invoice the row names (its external ref or number), if any. */
  invoiceRef: string | null;
  invoiceId: number | null;
}

export const payments: EntitySpec<PaymentRecord> = {
  entity: 'payments',
  columns: ['payment_id', 'customer_id', 'payment_date', 'amount', 'currency', 'invoice_id'],
  required: ['payment_id', 'customer_id', 'payment_date', 'amount'],
  idColumn: 'payment_id',
  phases: 2,
  async check(f, ctx) {
    const externalId = f.text('payment_id', { required: true, max: textMax('payments', 'payment_id') });
    const seen = duplicate(f, ctx, 'payment_id', externalId, this.columns);
    if (seen === 'repeat') return REPEATED;
    if (seen === 'conflict') return null;
    const customer = await knownCustomer(f, ctx);
    const date = f.date('payment_date', { required: true });
    if (date && date > ctx.today) f.problem('payment_date', date, 'not_future', `payment_date ${date} is after today (${ctx.today})`);
    const amount = customer ? f.amount('amount', customer.currency, { required: true, sign: 'positive' }) : null;
    const invoiceRef = f.text('invoice_id', { max: textMax('payments', 'invoice_id') });
    let invoiceId: number | null = null;
    if (invoiceRef && customer) {
      // The old system's number first: a cashloop number that happens to be equal is not it.
      const db = ctx.core.db.kysely;
      const inv =
        (await db.selectFrom('invoices').select(['id', 'customer_id', 'number']).where('external_ref', '=', invoiceRef).executeTakeFirst()) ??
        (await db.selectFrom('invoices').select(['id', 'customer_id', 'number']).where('number', '=', invoiceRef).executeTakeFirst());
      if (!inv && ctx.pending?.invoices.has(`${invoiceRef}\u0000${customer.id}`)) invoiceId = null;
      else if (!inv) f.problem('invoice_id', invoiceRef, 'unknown_invoice', `invoice_id ${invoiceRef} is not an invoice in cashloop (import invoices first)`);
      else if (inv.customer_id !== customer.id) f.problem('invoice_id', invoiceRef, 'invoice_customer', `invoice ${invoiceRef} belongs to another customer than ${customer.externalId}`);
      else invoiceId = inv.id;
    }
    if (f.problems.length || !externalId || !customer || !date || amount === null) return null;
    const existing = await ctx.core.db.kysely.selectFrom('payments').select(['id', 'customer_id', 'amount_minor']).where('external_id', '=', externalId).executeTakeFirst();
    if (existing && (existing.customer_id !== customer.id || existing.amount_minor !== amount)) {
      f.problem('payment_id', externalId, 'idempotent_retry', `payment_id ${externalId} is already in cashloop (payment ${existing.id}) with another customer or amount`);
      return null;
    }
    if (!existing && invoiceId !== null) ctx.covered.set(invoiceId, (ctx.covered.get(invoiceId) ?? 0) + amount);
    return { record: { externalId, customerId: customer.id, currency: customer.currency, date, amountMinor: amount, invoiceRef, invoiceId }, exists: existing !== undefined };
  },
  amount: (r) => ({ currency: r.currency, minor: r.amountMinor }),
  customerOf: (r) => r.customerId,
  beforeLoad: settlePayments,
  async load(ctx, r, phase) {
    // Rows that name an invoice go first, so rows that do not cannot take its balance.
    if ((phase === 0) !== (r.invoiceId !== null)) return 'skip';
    const p = await recordPayment(
      ctx.core,
      { customerId: r.customerId, amount: formatAmount(r.amountMinor, r.currency), currency: r.currency, date: r.date, method: IMPORT_METHOD, reference: r.invoiceRef, externalId: r.externalId },
      ctx.actor,
    );
    return p.created ? 'created' : 'unchanged';
  },
};

/**
 * Before payment rows are written: an invoice that was imported as settled (with a
 * settlement payment standing in for the missing rows) and that rows of this file pay now
 * keeps a settlement only for what those rows do not cover — the standing one is reversed
 * and, if anything is left, replaced by a smaller one on the same date.
 */
async function settlePayments(ctx: ImportContext): Promise<void> {
  const db = ctx.core.db.kysely;
  for (const [invoiceId, newlyCovered] of ctx.covered) {
    const inv = await db.selectFrom('invoices').select(['id', 'external_ref', 'number', 'customer_id', 'currency', 'total_minor']).where('id', '=', invoiceId).executeTakeFirstOrThrow();
    const ref = inv.external_ref ?? inv.number;
    const settlements = await db.selectFrom('payments').selectAll().where('method', '=', SETTLEMENT_METHOD).where('customer_id', '=', inv.customer_id).where('bank_reference', '=', ref).orderBy('id').execute();
    if (settlements.length === 0) continue;
    const before = await db
      .selectFrom('payments')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount_minor'), eb.lit(0)).as('s'))
      .where('method', '=', IMPORT_METHOD)
      .where('status', '=', 'received')
      .where('customer_id', '=', inv.customer_id)
      .where('bank_reference', '=', ref)
      .executeTakeFirstOrThrow();
    const needed = Math.max(0, inv.total_minor - Number(before.s) - newlyCovered);
    const live = settlements.filter((s) => s.status === 'received');
    if (live.length === 1 && live[0]!.amount_minor === needed) continue;
    if (live.length === 0 && needed === 0) continue;
    for (const s of live) await reversePayment(ctx.core, s.id, `replaced: payment rows of the import cover invoice ${ref}`, ctx.actor);
    if (needed > 0) {
      await recordPayment(
        ctx.core,
        { customerId: inv.customer_id, amount: formatAmount(needed, inv.currency), currency: inv.currency, date: settlements[0]!.payment_date, method: SETTLEMENT_METHOD, reference: ref, externalId: `settled:${ref}:${settlements.length + 1}` },
        ctx.actor,
      );
    }
  }
}
