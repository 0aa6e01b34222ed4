import type { Core } from '../core.ts';
import { lockCustomer, runChange, type Change, type ChangeScope } from '../core.ts';
import type { CreditNoteKind } from '../db/schema.ts';
import { badTransition, conflict, invalid, notFound } from '../shared/errors.ts';
import { formatAmount, parsePositiveAmount } from '../shared/money.ts';
import { displayMoney } from '../shared/figures.ts';
import { daysBetween, parseBusinessDate, yearOf } from '../shared/dates.ts';
import { oneOf, requireText } from '../shared/validate.ts';
import { getSettings } from '../settings/settings.service.ts';
import { refreshOrderStatus } from '../orders/order.workflow.ts';
import { findInvoice, findInvoiceByNumberOrRef, invoiceBalances, type InvoiceBalance } from './invoice.repository.ts';
import { settleStatus } from './invoice.workflow.ts';
import { nextDocumentNumber } from './numbering.ts';

export interface Invoice {
  id: number;
  number: string;
  externalRef: string | null;
  customerId: number;
  orderId: number | null;
  shipmentId: number | null;
  currency: string;
  invoiceDate: string;
  dueDate: string;
  status: string;
  disputed: boolean;
  subtotalMinor: number;
  taxMinor: number;
  totalMinor: number;
  creditedMinor: number;
  paidMinor: number;
  writtenOffMinor: number;
  balanceMinor: number;
  total: string;
  balance: string;
  settledDate: string | null;
}

export function toInvoice(b: InvoiceBalance): Invoice {
  return {
    id: b.id,
    number: b.number,
    externalRef: b.external_ref,
    customerId: b.customer_id,
    orderId: b.order_id,
    shipmentId: b.shipment_id,
    currency: b.currency,
    invoiceDate: b.invoice_date,
    dueDate: b.due_date,
    status: b.status,
    disputed: b.disputed === 1,
    subtotalMinor: b.subtotal_minor,
    taxMinor: b.tax_minor,
    totalMinor: b.total_minor,
    creditedMinor: b.credited_minor,
    paidMinor: b.paid_minor,
    writtenOffMinor: b.written_off_minor,
    balanceMinor: b.balance_minor,
    total: formatAmount(b.total_minor, b.currency),
    balance: formatAmount(b.balance_minor, b.currency),
    settledDate: b.settled_date,
  };
}

export interface InvoiceDetail extends Invoice {
  lines: { description: string; quantity: number; unitPriceMinor: number; netMinor: number; taxRateBp: number; taxMinor: number; totalMinor: number }[];
  creditNotes: { number: string; amountMinor: number; kind: string; reason: string; creditDate: string }[];
  payments: { paymentId: number; amountMinor: number; rule: string; appliedOn: string; reversed: boolean }[];
  writeOffs: { amountMinor: number; reason: string; date: string }[];
}

/** Finds an invoice with its balance by number, or by the number it had in an imported system. */
export async function findByNumber(core: Core, number: string): Promise<InvoiceBalance> {
  const num = requireText(number, 'invoice', 100);
  const [inv] = await invoiceBalances(core.db.kysely, { number: num });
  if (inv) return inv;
  // Imported invoices are also found by the number they had in the old system.
  const byRef = await core.db.kysely.selectFrom('invoices').select('number').where('external_ref', '=', num).executeTakeFirst();
  if (byRef) return (await invoiceBalances(core.db.kysely, { number: byRef.number }))[0]!;
  throw notFound('invoice', num);
}

export async function getInvoice(core: Core, number: string): Promise<InvoiceDetail> {
  const inv = await findByNumber(core, number);
  const db = core.db.kysely;
  const lines = await db.selectFrom('invoice_lines').selectAll().where('invoice_id', '=', inv.id).orderBy('id').execute();
  const notes = await db.selectFrom('credit_notes').selectAll().where('invoice_id', '=', inv.id).orderBy('id').execute();
  const allocations = await db.selectFrom('payment_allocations').selectAll().where('invoice_id', '=', inv.id).orderBy('id').execute();
  const writeOffs = await db.selectFrom('write_offs').selectAll().where('invoice_id', '=', inv.id).orderBy('id').execute();
  return {
    ...toInvoice(inv),
    lines: lines.map((l) => ({ description: l.description, quantity: l.quantity, unitPriceMinor: l.unit_price_minor, netMinor: l.net_minor, taxRateBp: l.tax_rate_bp, taxMinor: l.tax_minor, totalMinor: l.total_minor })),
    creditNotes: notes.map((n) => ({ number: n.number, amountMinor: n.amount_minor, kind: n.kind, reason: n.reason, creditDate: n.credit_date })),
    payments: allocations.map((a) => ({ paymentId: a.payment_id, amountMinor: a.amount_minor, rule: a.rule, appliedOn: a.applied_on, reversed: a.reversed === 1 })),
    writeOffs: writeOffs.map((w) => ({ amountMinor: w.amount_minor, reason: w.reason, date: w.write_off_date })),
  };
}

export async function listInvoices(core: Core, options: { customerId?: number; openOnly?: boolean; orderId?: number; afterId?: number; limit?: number } = {}): Promise<Invoice[]> {
  const rows = await invoiceBalances(core.db.kysely, options);
  return rows.map(toInvoice);
}

export interface CreditNoteInput {
  invoice: string;
  /** Decimal in the invoice's currency. */
  amount: string | number;
  reason: string;
  kind?: CreditNoteKind;
  date?: string;
}

/**
 * Issues a credit note against an invoice (goods returned, price corrected, dispute
 * settled). It reduces the invoice's balance and may not exceed it.
 */
export function creditNoteChange(input: CreditNoteInput) {
  const number = requireText(input.invoice, 'invoice', 100);
  const reason = requireText(input.reason, 'reason', 500);
  const kind = oneOf(input.kind ?? 'other', 'kind', ['return', 'price_correction', 'dispute', 'other'] as const);
  return (async (scope) => {
    const target = await findInvoiceByNumberOrRef(scope.trx, number);
    if (!target) throw notFound('invoice', number);
    const amount = parsePositiveAmount(input.amount, target.currency, 'amount');
    const date = input.date ? parseBusinessDate(input.date, 'date') : scope.today;
    const { result, after } = await issueCreditNote(scope, { invoiceId: target.id, number: target.number, amountMinor: amount, amountText: input.amount, kind, reason, date });
    return { result, events: [{ type: 'credit_note.issued', aggregate: 'invoice', id: target.id, after }] };
  }) satisfies Change<unknown>;
}

export async function createCreditNote(core: Core, input: CreditNoteInput, actor: string) {
  return runChange(core, actor, creditNoteChange(input));
}

/**
 * The one writer of credit notes, for a change that is already open (a dispute settled by a
 * credit note, an early-payment discount granted with its payment): takes the customer's
 * lock (at once if the change holds it already), checks the balance, numbers the note,
 * settles the invoice's status. Returns the note and the rows for the change's event.
 */
export async function issueCreditNote(
  scope: Pick<ChangeScope, 'trx' | 'at' | 'actor' | 'dialect'>,
  input: { invoiceId: number; number: string; amountMinor: number; amountText?: unknown; kind: CreditNoteKind; reason: string; date: string },
) {
  const { trx, at, actor, dialect } = scope;
  const { amountMinor: amount, kind, reason, date } = input;
  const owner = await findInvoice(trx, input.invoiceId);
  if (!owner) throw notFound('invoice', input.number);
  await lockCustomer(scope, owner.customer_id);
  const [inv] = await invoiceBalances(trx, { invoiceIds: [input.invoiceId] });
  if (!inv) throw notFound('invoice', input.number);
  if (inv.status === 'cancelled') throw badTransition('invoice', inv.number, inv.status, 'credited', 'the invoice is cancelled');
  if (amount > inv.balance_minor) {
    throw conflict(`invoice ${inv.number} cannot take a credit note of ${displayMoney(amount, inv.currency)}: open balance is ${displayMoney(inv.balance_minor, inv.currency)}`, {
      entity: 'invoice', id: inv.number, field: 'amount', value: input.amountText ?? formatAmount(amount, inv.currency), rule: 'credit_within_balance',
    });
  }
  const number = await nextDocumentNumber(trx, 'CN', yearOf(date));
  const note = await trx.insertInto('credit_notes').values({ number, invoice_id: inv.id, customer_id: inv.customer_id, currency: inv.currency, amount_minor: amount, kind, reason, credit_date: date, created_at: at }).returningAll().executeTakeFirstOrThrow();
  const invoice = await settleStatus(trx, inv.id, date, at);
  const after: Record<string, unknown[]> = { credit_notes: [note], invoices: [invoice] };
  if (inv.order_id) {
    const change = await refreshOrderStatus(trx, inv.order_id, at, actor, dialect);
    after.orders = [change.order];
    after.order_status_history = change.history ? [change.history] : [];
  }
  const [balance] = await invoiceBalances(trx, { invoiceIds: [inv.id] });
  return {
    result: { number, invoice: toInvoice(balance!), amountMinor: amount, amount: formatAmount(amount, inv.currency), kind, reason, date },
    note,
    after,
  };
}

/**
 * Writes off what is left of an invoice. A small balance is written off only within the
 * tolerance (setting `payments.write_off_tolerance_minor`): short payments, bank charges.
 * A bad debt (`badDebt`: the customer will not pay, the account went to collections or
 * insolvency) writes off any remainder, with its reason.
 */
export function writeOffChange(number: string, reason: string, date?: string, options: { badDebt?: boolean } = {}) {
  const wanted = requireText(number, 'invoice', 100);
  const why = requireText(reason, 'reason', 500);
  return (async (scope) => {
    const { trx, at, today, actor, dialect } = scope;
    const target = await findInvoiceByNumberOrRef(trx, wanted);
    if (!target) throw notFound('invoice', wanted);
    await lockCustomer(scope, target.customer_id);
    const day = date ? parseBusinessDate(date, 'date') : today;
    const tolerance = (await getSettings(trx))['payments.write_off_tolerance_minor'];
    const [inv] = await invoiceBalances(trx, { invoiceIds: [target.id] });
    if (!inv) throw notFound('invoice', target.number);
    if (inv.balance_minor <= 0) throw badTransition('invoice', inv.number, inv.status, 'written_off', 'nothing is left to write off');
    if (!options.badDebt && inv.balance_minor > tolerance) {
      throw invalid(`invoice ${inv.number} has ${displayMoney(inv.balance_minor, inv.currency)} open; only up to ${displayMoney(tolerance, inv.currency)} may be written off (a bad debt is written off as such)`, {
        entity: 'invoice', id: inv.number, field: 'balance', value: formatAmount(inv.balance_minor, inv.currency), rule: 'write_off_tolerance',
      });
    }
    const row = await trx.insertInto('write_offs').values({ invoice_id: inv.id, kind: options.badDebt ? 'bad_debt' : 'small_balance', amount_minor: inv.balance_minor, reason: why, write_off_date: day, created_at: at }).returningAll().executeTakeFirstOrThrow();
    const invoice = await settleStatus(trx, inv.id, day, at);
    const after: Record<string, unknown[]> = { write_offs: [row], invoices: [invoice] };
    if (inv.order_id) {
      const change = await refreshOrderStatus(trx, inv.order_id, at, actor, dialect);
      after.orders = [change.order];
      after.order_status_history = change.history ? [change.history] : [];
    }
    return { result: { number: inv.number, kind: row.kind, writtenOffMinor: row.amount_minor, writtenOff: formatAmount(row.amount_minor, inv.currency) }, events: [{ type: 'invoice.written_off', aggregate: 'invoice', id: inv.id, after }] };
  }) satisfies Change<unknown>;
}

export async function writeOffInvoice(core: Core, number: string, reason: string, actor: string, date?: string, options: { badDebt?: boolean } = {}) {
  return runChange(core, actor, writeOffChange(number, reason, date, options));
}

/** Days past due of an open invoice on `asOf` (negative while not yet due). */
export const daysPastDue = (inv: { due_date: string }, asOf: string): number => daysBetween(inv.due_date, asOf);
