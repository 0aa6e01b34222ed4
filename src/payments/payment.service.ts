import type { Kysely } from 'kysely';
import type { Change, ChangeOutcome, ChangeScope, Core } from '../core.ts';
import { lockCustomer, runChange } from '../core.ts';
import type { Database, PaymentRow } from '../db/schema.ts';
import { badTransition, conflict, invalid, notFound } from '../shared/errors.ts';
import { applyRate, formatAmount, parseCurrency, parsePositiveAmount } from '../shared/money.ts';
import { displayMoney } from '../shared/figures.ts';
import { daysBetween, parseBusinessDate } from '../shared/dates.ts';
import { optionalText, requireId, requireText } from '../shared/validate.ts';
import { findCustomer } from '../customers/customer.repository.ts';
import { findInvoiceByNumberOrRef, invoiceBalances, openInvoiceBalances } from '../invoicing/invoice.repository.ts';
import { issueCreditNote } from '../invoicing/invoice.service.ts';
import { settleStatus } from '../invoicing/invoice.workflow.ts';
import { refreshOrderStatus } from '../orders/order.workflow.ts';
import { cashKeptForPrepayment, releaseCoveredOrdersInChange } from '../credit/credit.service.ts';
import { rewaitUncoveredOrders } from './prepayment-reversal.ts';
import { syncExposure } from '../exposure/exposure.workflow.ts';
import { planCashApplication, planChosenApplication, type ChosenAllocation } from './cash-application.ts';
import { appliedMinor, findPayment, findPaymentByExternalId, insertAllocation, insertPayment, listPaymentRows, markPaymentReversed, paymentAllocations, reverseAllocations } from './payment.repository.ts';

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
  /** A person's own split (cash application by hand): exactly these, the rest unapplied; absent: the rules decide. */
  allocations?: readonly ChosenAllocation[];
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
  const p = await findPayment(core.db.kysely, paymentId);
  if (!p) throw notFound('payment', paymentId);
  return toPayment(core.db.kysely, p);
}

async function toPayment(db: Kysely<Database>, p: PaymentRow): Promise<Payment> {
  const allocations = await paymentAllocations(db, p.id);
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
  const db = core.db.kysely;
  return Promise.all((await listPaymentRows(db, options)).map((p) => toPayment(db, p)));
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

/** Settles the touched invoices and moves their orders; returns rows for the event. */
async function settleTouched(scope: ChangeScope, invoiceIds: number[], onDate: string) {
  const { trx, at, actor, dialect } = scope;
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

/** A recorded payment; `releasedOrders`: orders waiting for their prepayment that it released. */
type Recorded = Payment & { created: boolean; releasedOrders?: number[] };

/**
 * The answer to a payment whose external id is already recorded: the first payment
 * (`created: false`, nothing written) when customer, currency and amount match, a conflict
 * otherwise.
 */
async function replayPayment(db: Kysely<Database>, existing: PaymentRow, customerId: number, input: PaymentInput): Promise<ChangeOutcome<Recorded>> {
  const same =
    existing.customer_id === customerId &&
    (!input.currency || parseCurrency(input.currency) === existing.currency) &&
    existing.amount_minor === parsePositiveAmount(input.amount, existing.currency, 'amount');
  if (!same) {
    throw conflict(`payment ${existing.external_id} was already recorded with other details (payment ${existing.id})`, { entity: 'payment', id: existing.id, field: 'externalId', value: existing.external_id, rule: 'idempotent_retry' });
  }
  return { result: { ...(await toPayment(db, existing)), created: false }, events: [], unchanged: true };
}

/**
 * Records a receipt and applies it (see cash-application.ts), as a change that can share a
 * transaction (the bank import books an entry and its payment together). An overpayment
 * stays as unapplied credit. Prepayment terms come first: the rules do not spend cash that
 * orders released on prepayment terms hold, nor what now pays in full for orders waiting for
 * their prepayment (oldest first); those orders are released in the same transaction, under
 * the customer's lock (`releasedOrders`). A person's own split is applied as chosen, and
 * whatever it leaves unapplied releases what it covers. With an external id the change is idempotent: it is checked
 * under the customer's lock, so of many identical requests at once one records the
 * payment and the others get it back with `created: false` and write nothing.
 */
export function recordPaymentChange(input: PaymentInput): Change<Recorded> {
  const customerId = requireId(input.customerId, 'customerId');
  const reference = optionalText(input.reference, 'reference', 500);
  const payer = optionalText(input.payer, 'payer', 200);
  const method = optionalText(input.method, 'method', 50) ?? 'bank_transfer';
  const externalId = optionalText(input.externalId, 'externalId', 200);
  return async (scope) => {
    const { trx, at, today } = scope;
    await lockCustomer(scope, customerId);
    const customer = await findCustomer(trx, customerId);
    if (!customer) throw notFound('customer', customerId);
    const currency = input.currency ? parseCurrency(input.currency) : customer.currency;
    if (currency !== customer.currency) {
      throw invalid(`customer ${customerId} is invoiced in ${customer.currency}; a payment in ${currency} cannot be applied`, { entity: 'payment', field: 'currency', value: currency, rule: 'currency_match' });
    }
    const amount = parsePositiveAmount(input.amount, currency, 'amount');
    if (externalId) {
      const existing = await findPaymentByExternalId(trx, externalId);
      if (existing) return replayPayment(trx, existing, customerId, input);
    }
    const date = input.date ? parseBusinessDate(input.date, 'date') : today;
    if (date > today) throw invalid(`payment date ${date} is in the future`, { field: 'date', value: date, rule: 'not_future' });
    const open = (await openInvoiceBalances(trx, customerId)).filter((i) => i.balance_minor > 0);
    // Cash that prepaid orders hold, or that now pays for orders waiting for their prepayment, is not spent on other invoices by the rules.
    const kept = input.allocations ? 0 : await cashKeptForPrepayment(trx, customerId, amount);
    const payment = await insertPayment(trx, { customer_id: customerId, currency, amount_minor: amount, payment_date: date, method, bank_reference: reference, payer, external_id: externalId, status: 'received', reversal_reason: null, reversed_at: null, created_at: at }, { exposureLater: true });
    if (!payment) {
      // Another customer's transaction committed this external id after our check: the
      // customer lock does not order us against it, the unique key did.
      const existing = await findPaymentByExternalId(trx, externalId!);
      if (!existing) throw new Error(`payment ${externalId} was neither inserted nor found`);
      return replayPayment(trx, existing, customerId, input);
    }
    const items = open.map((i) => ({ id: i.id, number: i.number, externalRef: i.external_ref, dueDate: i.due_date, balanceMinor: i.balance_minor, discountMinor: earlyDiscount(customer, i, date) }));
    const plan = input.allocations ? planChosenApplication(amount, input.allocations, items) : planCashApplication(amount - kept, reference, items);
    const allocations = [];
    for (const a of plan.allocations) allocations.push(await insertAllocation(trx, { paymentId: payment.id, invoiceId: a.invoiceId, amountMinor: a.amountMinor, rule: a.rule, appliedOn: date, at }, { exposureLater: true }));
    // The payment and its allocations move the customer's exposure once, before anything below reads it.
    await syncExposure(trx, { payments: [payment.id], invoices: plan.allocations.map((a) => a.invoiceId) });
    // The discount that settles an invoice is a credit note like any other, from the one writer.
    const discounts = [];
    const discountHistory: unknown[] = [];
    for (const a of plan.allocations.filter((x) => x.discountMinor > 0)) {
      const inv = open.find((i) => i.id === a.invoiceId)!;
      const issued = await issueCreditNote(scope, { invoiceId: a.invoiceId, number: inv.number, amountMinor: a.discountMinor, kind: 'early_payment_discount', reason: `early-payment discount for payment ${payment.id}`, date });
      discounts.push(issued.note);
      discountHistory.push(...(issued.after.order_status_history ?? []));
    }
    const touched = await settleTouched(scope, plan.allocations.map((a) => a.invoiceId), date);
    // Orders waiting for their prepayment that the cash now covers are released with it, under the same lock.
    const prepaid = await releaseCoveredOrdersInChange(scope, customerId);
    const after = {
      payments: [payment],
      payment_allocations: allocations,
      ...(discounts.length ? { credit_notes: discounts } : {}),
      ...touched,
      order_status_history: [...discountHistory, ...touched.order_status_history],
    };
    return { result: { ...(await toPayment(trx, payment)), created: true, releasedOrders: prepaid.released }, events: [{ type: 'payment.recorded', aggregate: 'payment', id: payment.id, after }, ...prepaid.events] };
  };
}

/** Records a receipt in its own transaction (see `recordPaymentChange`). */
export async function recordPayment(core: Core, input: PaymentInput, actor: string): Promise<Recorded> {
  const externalId = optionalText(input.externalId, 'externalId', 200);
  if (externalId) {
    // A re-run import or a retried request mostly finds its payment here, without a write
    // transaction; the check under the lock stays the one that decides.
    const existing = await findPaymentByExternalId(core.db.kysely, externalId);
    if (existing) return (await replayPayment(core.db.kysely, existing, requireId(input.customerId, 'customerId'), input)).result;
  }
  return runChange(core, actor, recordPaymentChange(input));
}

/** The customer a payment belongs to, read before the customer lock is taken; it never changes. */
async function customerOfPayment(db: Kysely<Database>, paymentId: number): Promise<number> {
  const p = await findPayment(db, paymentId);
  if (!p) throw notFound('payment', paymentId);
  return p.customer_id;
}

/**
 * Reverses a payment (bounced, returned by the bank): its allocations are undone and the
 * invoices it paid open again; their orders go back from paid to invoiced. Orders released
 * on prepayment terms that the customer's cash no longer covers, and that have not shipped,
 * wait for their prepayment again, in the same transaction (`rewaitUncoveredOrders`).
 */
export function reversePaymentChange(id: number | string, reason: string): Change<Reversed> {
  const paymentId = requireId(id, 'paymentId');
  const why = requireText(reason, 'reason', 500);
  return async (scope) => {
    const { trx, at, today } = scope;
    await lockCustomer(scope, await customerOfPayment(trx, paymentId));
    const p = (await findPayment(trx, paymentId))!;
    if (p.status !== 'received') throw badTransition('payment', paymentId, p.status, 'reversed', 'it is already reversed');
    const reversed = await markPaymentReversed(trx, paymentId, why, at);
    const allocations = await reverseAllocations(trx, paymentId);
    const touched = await settleTouched(scope, allocations.map((a) => a.invoice_id), today);
    const rewaited = await rewaitUncoveredOrders(scope, p.customer_id, paymentId);
    return {
      result: { ...(await toPayment(trx, reversed)), rewaitedOrders: rewaited.map((r) => r.orderId) },
      events: [{ type: 'payment.reversed', aggregate: 'payment', id: paymentId, after: { payments: [reversed], payment_allocations: allocations, ...touched } }, ...rewaited.map((r) => r.event)],
    };
  };
}

/** A reversed payment; `rewaitedOrders`: orders released on prepayment terms that wait for their prepayment again. */
export type Reversed = Payment & { rewaitedOrders: number[] };

export async function reversePayment(core: Core, id: number | string, reason: string, actor: string): Promise<Reversed> {
  return runChange(core, actor, reversePaymentChange(id, reason));
}

export interface ApplyInput {
  paymentId: number | string;
  /** Invoice number (or the old system's number of an imported invoice). */
  invoice: string;
  /** Decimal; default: as much as the payment has left and the invoice is open for. */
  amount?: string | number;
}

/**
 * Applies a payment's unapplied credit to a named invoice by hand (a collector matching a
 * remittance the rules could not read).
 */
export function applyPaymentChange(input: ApplyInput): Change<Payment> {
  const paymentId = requireId(input.paymentId, 'paymentId');
  const number = requireText(input.invoice, 'invoice', 100);
  return async (scope) => {
    const { trx, at, today } = scope;
    await lockCustomer(scope, await customerOfPayment(trx, paymentId));
    const p = (await findPayment(trx, paymentId))!;
    if (p.status !== 'received') throw badTransition('payment', paymentId, p.status, 'applied', 'a reversed payment cannot be applied');
    const inv = await findInvoiceByNumberOrRef(trx, number);
    if (!inv || inv.customer_id !== p.customer_id) throw notFound('invoice', number);
    const [target] = (await invoiceBalances(trx, { invoiceIds: [inv.id], openOnly: true })).filter((i) => i.balance_minor > 0);
    if (!target) throw badTransition('invoice', inv.number, inv.status, 'paid', 'it has no open balance');
    const unapplied = p.amount_minor - (await appliedMinor(trx, paymentId));
    const wanted = input.amount === undefined ? Math.min(unapplied, target.balance_minor) : parsePositiveAmount(input.amount, p.currency, 'amount');
    if (wanted > unapplied || wanted <= 0) {
      throw conflict(`payment ${paymentId} has ${displayMoney(unapplied, p.currency)} unapplied; it cannot pay ${displayMoney(wanted, p.currency)}`, { entity: 'payment', id: paymentId, field: 'amount', value: input.amount, rule: 'within_unapplied' });
    }
    if (wanted > target.balance_minor) {
      throw conflict(`invoice ${inv.number} cannot take ${displayMoney(wanted, p.currency)}: open balance is ${displayMoney(target.balance_minor, p.currency)}`, { entity: 'invoice', id: inv.number, field: 'amount', value: input.amount, rule: 'within_balance' });
    }
    const allocation = await insertAllocation(trx, { paymentId, invoiceId: inv.id, amountMinor: wanted, rule: 'manual', appliedOn: today, at });
    const touched = await settleTouched(scope, [inv.id], today);
    return { result: await toPayment(trx, p), events: [{ type: 'payment.applied', aggregate: 'payment', id: paymentId, after: { payment_allocations: [allocation], ...touched } }] };
  };
}

export async function applyPaymentToInvoice(core: Core, input: ApplyInput, actor: string): Promise<Payment> {
  return runChange(core, actor, applyPaymentChange(input));
}
