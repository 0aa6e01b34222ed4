import type { Core, Tx } from '../core.ts';
import { forUpdate, runChange } from '../core.ts';
import type { DialectName } from '../db/connection.ts';
import type { PaymentRow } from '../db/schema.ts';
import { badTransition, conflict, invalid, notFound } from '../shared/errors.ts';
import { applyRate, formatAmount, formatMoney, parseCurrency, parsePositiveAmount } from '../shared/money.ts';
import { daysBetween, parseBusinessDate, yearOf } from '../shared/dates.ts';
import { nextDocumentNumber } from '../invoicing/numbering.ts';
import { optionalText, requireId, requireText } from '../shared/validate.ts';
import { invoiceBalances } from '../invoicing/invoice.repository.ts';
import { settleStatus } from '../invoicing/invoice.workflow.ts';
import { refreshOrderStatus } from '../orders/order.workflow.ts';
import { planCashApplication } from './cash-application.ts';

export interface PaymentInput {
  customerId: number | string;
  /** Decimal in the customer's currency. */
  amount: string | number;
  currency?: string;
  date?: string;
  method?: string;
  /** Remittance text: an invoice number here pays that invoice first. */
  reference?: string | null;
  payer?: string | null;
  /** The bank's or the old system's id: recording it twice returns the first payment. */
  externalId?: string | null;
}

export interface Payment {
  id: number;
  customerId: number;
  currency: string;
  amountMinor: number;
  amount: string;
  paymentDate: string;
  method: string;
  reference: string | null;
  payer: string | null;
  externalId: string | null;
  status: string;
  reversalReason: string | null;
  appliedMinor: number;
  unappliedMinor: number;
  allocations: { invoiceNumber: string; amountMinor: number; rule: string; appliedOn: string; reversed: boolean }[];
}

export async function getPayment(core: Core, id: number | string): Promise<Payment> {
  const paymentId = requireId(id, 'paymentId');
  const p = await core.db.kysely.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
  if (!p) throw notFound('payment', paymentId);
  return toPayment(core, p);
}

async function toPayment(core: Core, p: PaymentRow): Promise<Payment> {
  const allocations = await core.db.kysely
    .selectFrom('payment_allocations')
    .innerJoin('invoices', 'invoices.id', 'payment_allocations.invoice_id')
    .select(['invoices.number', 'payment_allocations.amount_minor', 'payment_allocations.rule', 'payment_allocations.applied_on', 'payment_allocations.reversed'])
    .where('payment_id', '=', p.id)
    .orderBy('payment_allocations.id')
    .execute();
  const applied = allocations.filter((a) => a.reversed === 0).reduce((s, a) => s + a.amount_minor, 0);
  return {
    id: p.id,
    customerId: p.customer_id,
    currency: p.currency,
    amountMinor: p.amount_minor,
    amount: formatAmount(p.amount_minor, p.currency),
    paymentDate: p.payment_date,
    method: p.method,
    reference: p.bank_reference,
    payer: p.payer,
    externalId: p.external_id,
    status: p.status,
    reversalReason: p.reversal_reason,
    appliedMinor: applied,
    unappliedMinor: p.status === 'received' ? p.amount_minor - applied : 0,
    allocations: allocations.map((a) => ({ invoiceNumber: a.number, amountMinor: a.amount_minor, rule: a.rule, appliedOn: a.applied_on, reversed: a.reversed === 1 })),
  };
}

export async function listPayments(core: Core, options: { customerId?: number; afterId?: number; limit?: number } = {}): Promise<Payment[]> {
  let q = core.db.kysely.selectFrom('payments').selectAll().orderBy('id').limit(options.limit ?? 100);
  if (options.customerId !== undefined) q = q.where('customer_id', '=', options.customerId);
  if (options.afterId) q = q.where('id', '>', options.afterId);
  return Promise.all((await q.execute()).map((p) => toPayment(core, p)));
}

/**
 * The early-payment discount a receipt dated `date` earns on an invoice: the customer's
 * discount rate on the invoice total while `date` is within the discount days of the invoice
 * date and nothing has been paid or credited yet; otherwise zero.
 */
export function earlyDiscount(
  customer: { early_discount_bp: number | null; early_discount_days: number | null },
  invoice: { invoice_date: string; total_minor: number; balance_minor: number },
  date: string,
): number {
  if (!customer.early_discount_bp || customer.early_discount_days === null) return 0;
  if (invoice.balance_minor !== invoice.total_minor) return 0;
  if (daysBetween(invoice.invoice_date, date) > customer.early_discount_days || date < invoice.invoice_date) return 0;
  return applyRate(invoice.total_minor, customer.early_discount_bp);
}

/** Locks a customer's open invoices (PostgreSQL) so concurrent receipts queue on them. */
async function lockOpenInvoices(trx: Tx, customerId: number, dialect: DialectName) {
  await forUpdate(trx.selectFrom('invoices').select('id').where('customer_id', '=', customerId).where('status', 'in', ['open', 'partially_paid']), dialect).execute();
  return (await invoiceBalances(trx, { customerId, openOnly: true })).filter((i) => i.balance_minor > 0);
}

/** Settles the touched invoices and moves their orders; returns rows for the event. */
async function settleTouched(trx: Tx, invoiceIds: number[], onDate: string, at: string, actor: string, dialect: DialectName) {
  const invoices = [];
  const orders = [];
  const history = [];
  for (const id of [...new Set(invoiceIds)]) {
    const inv = await settleStatus(trx, id, onDate, at);
    invoices.push(inv);
    if (inv.order_id) {
      const change = await refreshOrderStatus(trx, inv.order_id, at, actor, dialect);
      orders.push(change.order);
      if (change.history) history.push(change.history);
    }
  }
  return { invoices, orders, order_status_history: history };
}

/**
 * Records a receipt and applies it (see cash-application.ts). An overpayment stays as
 * unapplied credit. With an external id the call is idempotent.
 */
export async function recordPayment(core: Core, input: PaymentInput, actor: string): Promise<Payment & { created: boolean }> {
  const customerId = requireId(input.customerId, 'customerId');
  const db = core.db.kysely;
  const customer = await db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
  if (!customer) throw notFound('customer', customerId);
  const currency = input.currency ? parseCurrency(input.currency) : customer.currency;
  if (currency !== customer.currency) {
    throw invalid(`customer ${customerId} is invoiced in ${customer.currency}; a payment in ${currency} cannot be applied`, { entity: 'payment', field: 'currency', value: currency, rule: 'currency_match' });
  }
  const amount = parsePositiveAmount(input.amount, currency, 'amount');
  const reference = optionalText(input.reference, 'reference', 500);
  const payer = optionalText(input.payer, 'payer', 200);
  const method = optionalText(input.method, 'method', 50) ?? 'bank_transfer';
  const externalId = optionalText(input.externalId, 'externalId', 200);
  if (externalId) {
    const existing = await db.selectFrom('payments').selectAll().where('external_id', '=', externalId).executeTakeFirst();
    if (existing) {
      if (existing.customer_id !== customerId || existing.amount_minor !== amount) {
        throw conflict(`payment ${externalId} was already recorded with other details (payment ${existing.id})`, { entity: 'payment', id: existing.id, field: 'externalId', value: externalId, rule: 'idempotent_retry' });
      }
      return { ...(await toPayment(core, existing)), created: false };
    }
  }
  const paymentId = await runChange(core, actor, async ({ trx, at, today, dialect }) => {
    const date = input.date ? parseBusinessDate(input.date, 'date') : today;
    if (date > today) throw invalid(`payment date ${date} is in the future`, { field: 'date', value: date, rule: 'not_future' });
    const open = await lockOpenInvoices(trx, customerId, dialect);
    const payment = await trx
      .insertInto('payments')
      .values({ customer_id: customerId, currency, amount_minor: amount, payment_date: date, method, bank_reference: reference, payer, external_id: externalId, status: 'received', reversal_reason: null, reversed_at: null, created_at: at })
      .returningAll()
      .executeTakeFirstOrThrow();
    const plan = planCashApplication(
      amount,
      reference,
      open.map((i) => ({ id: i.id, number: i.number, externalRef: i.external_ref, dueDate: i.due_date, balanceMinor: i.balance_minor, discountMinor: earlyDiscount(customer, i, date) })),
    );
    const allocations = [];
    for (const a of plan.allocations) {
      allocations.push(
        await trx.insertInto('payment_allocations').values({ payment_id: payment.id, invoice_id: a.invoiceId, amount_minor: a.amountMinor, rule: a.rule, applied_on: date, reversed: 0, created_at: at }).returningAll().executeTakeFirstOrThrow(),
      );
    }
    const discounts = [];
    for (const a of plan.allocations.filter((x) => x.discountMinor > 0)) {
      const number = await nextDocumentNumber(trx, 'CN', yearOf(date));
      discounts.push(
        await trx
          .insertInto('credit_notes')
          .values({ number, invoice_id: a.invoiceId, customer_id: customerId, currency, amount_minor: a.discountMinor, kind: 'early_payment_discount', reason: `early-payment discount for payment ${payment.id}`, credit_date: date, created_at: at })
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
    }
    const touched = await settleTouched(trx, plan.allocations.map((a) => a.invoiceId), date, at, actor, dialect);
    const after = { payments: [payment], payment_allocations: allocations, ...(discounts.length ? { credit_notes: discounts } : {}), ...touched };
    return { result: payment.id, events: [{ type: 'payment.recorded', aggregate: 'payment', id: payment.id, after }] };
  });
  return { ...(await getPayment(core, paymentId)), created: true };
}

/**
 * Reverses a payment (bounced, returned by the bank): its allocations are undone and the
 * invoices it paid open again; their orders go back from paid to invoiced.
 */
export async function reversePayment(core: Core, id: number | string, reason: string, actor: string): Promise<Payment> {
  const paymentId = requireId(id, 'paymentId');
  const why = requireText(reason, 'reason', 500);
  await runChange(core, actor, async ({ trx, at, today, dialect }) => {
    const p = await forUpdate(trx.selectFrom('payments').selectAll().where('id', '=', paymentId), dialect).executeTakeFirst();
    if (!p) throw notFound('payment', paymentId);
    if (p.status !== 'received') throw badTransition('payment', paymentId, p.status, 'reversed', 'it is already reversed');
    const reversed = await trx.updateTable('payments').set({ status: 'reversed', reversal_reason: why, reversed_at: at }).where('id', '=', paymentId).returningAll().executeTakeFirstOrThrow();
    const allocations = await trx.updateTable('payment_allocations').set({ reversed: 1 }).where('payment_id', '=', paymentId).where('reversed', '=', 0).returningAll().execute();
    const touched = await settleTouched(trx, allocations.map((a) => a.invoice_id), today, at, actor, dialect);
    return { result: null, events: [{ type: 'payment.reversed', aggregate: 'payment', id: paymentId, after: { payments: [reversed], payment_allocations: allocations, ...touched } }] };
  });
  return getPayment(core, paymentId);
}

/**
 * Applies a payment's unapplied credit to a named invoice by hand (a collector matching a
 * remittance the rules could not read).
 */
export async function applyPaymentToInvoice(core: Core, input: { paymentId: number | string; invoice: string; amount?: string | number }, actor: string): Promise<Payment> {
  const paymentId = requireId(input.paymentId, 'paymentId');
  const number = requireText(input.invoice, 'invoice', 100);
  await runChange(core, actor, async ({ trx, at, today, dialect }) => {
    const p = await forUpdate(trx.selectFrom('payments').selectAll().where('id', '=', paymentId), dialect).executeTakeFirst();
    if (!p) throw notFound('payment', paymentId);
    if (p.status !== 'received') throw badTransition('payment', paymentId, p.status, 'applied', 'a reversed payment cannot be applied');
    const inv = await trx.selectFrom('invoices').selectAll().where((eb) => eb.or([eb('number', '=', number), eb('external_ref', '=', number)])).executeTakeFirst();
    if (!inv) throw notFound('invoice', number);
    if (inv.customer_id !== p.customer_id) throw notFound('invoice', number);
    const open = await lockOpenInvoices(trx, p.customer_id, dialect);
    const target = open.find((i) => i.id === inv.id);
    if (!target) throw badTransition('invoice', inv.number, inv.status, 'paid', 'it has no open balance');
    const applied = await trx.selectFrom('payment_allocations').select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount_minor'), eb.lit(0)).as('s')).where('payment_id', '=', paymentId).where('reversed', '=', 0).executeTakeFirstOrThrow();
    const unapplied = p.amount_minor - Number(applied.s);
    const wanted = input.amount === undefined ? Math.min(unapplied, target.balance_minor) : parsePositiveAmount(input.amount, p.currency, 'amount');
    if (wanted > unapplied || wanted <= 0) {
      throw conflict(`payment ${paymentId} has ${formatMoney(unapplied, p.currency)} unapplied; it cannot pay ${formatMoney(wanted, p.currency)}`, { entity: 'payment', id: paymentId, field: 'amount', value: input.amount, rule: 'within_unapplied' });
    }
    if (wanted > target.balance_minor) {
      throw conflict(`invoice ${inv.number} cannot take ${formatMoney(wanted, p.currency)}: open balance is ${formatMoney(target.balance_minor, p.currency)}`, { entity: 'invoice', id: inv.number, field: 'amount', value: input.amount, rule: 'within_balance' });
    }
    const allocation = await trx.insertInto('payment_allocations').values({ payment_id: paymentId, invoice_id: inv.id, amount_minor: wanted, rule: 'manual', applied_on: today, reversed: 0, created_at: at }).returningAll().executeTakeFirstOrThrow();
    const touched = await settleTouched(trx, [inv.id], today, at, actor, dialect);
    return { result: null, events: [{ type: 'payment.applied', aggregate: 'payment', id: paymentId, after: { payment_allocations: [allocation], ...touched } }] };
  });
  return getPayment(core, paymentId);
}
