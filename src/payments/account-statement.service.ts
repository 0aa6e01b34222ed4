import type { Core } from '../core.ts';
import { notFound } from '../shared/errors.ts';
import { addDays, daysBetween, parseBusinessDate } from '../shared/dates.ts';
import { formatAmount } from '../shared/money.ts';
import { requireId } from '../shared/validate.ts';

/** Aging buckets by days past due, as in DESIGN.md. */
export const AGING_BUCKETS = ['current', '1-30', '31-60', '61-90', '91-120', '120+'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];

export function agingBucket(daysPastDue: number): AgingBucket {
  if (daysPastDue <= 0) return 'current';
  if (daysPastDue <= 30) return '1-30';
  if (daysPastDue <= 60) return '31-60';
  if (daysPastDue <= 90) return '61-90';
  if (daysPastDue <= 120) return '91-120';
  return '120+';
}

export interface AccountStatementLine {
  date: string;
  kind: 'invoice' | 'credit_note' | 'payment' | 'payment_reversal' | 'write_off';
  document: string;
  description: string;
  debitMinor: number;
  creditMinor: number;
  balanceMinor: number;
}

export interface AccountStatement {
  customerId: number;
  customerName: string;
  currency: string;
  from: string;
  to: string;
  openingBalanceMinor: number;
  closingBalanceMinor: number;
  lines: AccountStatementLine[];
  aging: Record<AgingBucket, number>;
  openInvoices: { number: string; invoiceDate: string; dueDate: string; daysPastDue: number; balanceMinor: number; balance: string }[];
}

/**
 * A customer's statement of account between two dates: the opening balance, every document
 * (invoices and reversals add, credit notes, payments and write-offs subtract) with a
 * running balance, the closing balance, and the aging of what is open on `to`. A negative
 * balance is money the customer has paid ahead.
 */
export async function accountStatement(core: Core, input: { customerId: number | string; from?: string; to?: string }): Promise<AccountStatement> {
  const customerId = requireId(input.customerId, 'customerId');
  const db = core.db.kysely;
  const customer = await db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
  if (!customer) throw notFound('customer', customerId);
  const to = input.to ? parseBusinessDate(input.to, 'to') : core.clock.now().toISOString().slice(0, 10);
  const from = input.from ? parseBusinessDate(input.from, 'from') : addDays(to, -90);
  const rows = await statementRows(core, [customerId]);
  return buildStatement(customer, rows.get(customerId) ?? EMPTY_ROWS, from, to);
}

/**
 * The statements of many customers over the same period, read together: the same reads as
 * `accountStatement`, one per table for up to 500 customers instead of one per table and
 * customer (the reminder run writes a letter per customer, each with its statement). Each
 * statement is the one `accountStatement` returns; a customer that does not exist is left out.
 */
export async function accountStatements(core: Core, customerIds: number[], from: string, to: string): Promise<Map<number, AccountStatement>> {
  const out = new Map<number, AccountStatement>();
  const ids = [...new Set(customerIds)];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const customers = await core.db.kysely.selectFrom('customers').selectAll().where('id', 'in', chunk).execute();
    const rows = await statementRows(core, chunk);
    for (const c of customers) out.set(c.id, buildStatement(c, rows.get(c.id) ?? EMPTY_ROWS, from, to));
  }
  return out;
}

type CustomerRow = { id: number; name: string; currency: string };

/**
 * What a statement is computed from: a customer's documents, in the order SQLite has always
 * read them for one customer (its indexes' order: invoices by status, due date and id,
 * payments by status and id), so the statements, and the letters that carry them, stay
 * exactly what they were; on PostgreSQL the order is now fixed too.
 */
interface StatementRows {
  invoices: { id: number; number: string; currency: string; invoice_date: string; due_date: string; total_minor: number }[];
  notes: { invoice_id: number; number: string; amount_minor: number; credit_date: string; reason: string }[];
  payments: { id: number; amount_minor: number; payment_date: string; bank_reference: string | null; method: string; status: string; reversed_at: string | null; reversal_reason: string | null }[];
  writeOffs: { amount_minor: number; write_off_date: string; reason: string; number: string }[];
  allocations: { invoice_id: number; amount_minor: number; applied_on: string; reversed: number; reversed_at: string | null }[];
}

const EMPTY_ROWS: StatementRows = { invoices: [], notes: [], payments: [], writeOffs: [], allocations: [] };

async function statementRows(core: Core, customerIds: number[]): Promise<Map<number, StatementRows>> {
  const db = core.db.kysely;
  const invoices = await db.selectFrom('invoices').selectAll().where('customer_id', 'in', customerIds).where('status', '!=', 'cancelled').orderBy('customer_id').orderBy('status').orderBy('due_date').orderBy('id').execute();
  const notes = await db.selectFrom('credit_notes').selectAll().where('customer_id', 'in', customerIds).orderBy('id').execute();
  const payments = await db.selectFrom('payments').selectAll().where('customer_id', 'in', customerIds).orderBy('customer_id').orderBy('status').orderBy('id').execute();
  const writeOffs = await db
    .selectFrom('write_offs')
    .innerJoin('invoices', 'invoices.id', 'write_offs.invoice_id')
    .select(['invoices.customer_id', 'write_offs.amount_minor', 'write_offs.write_off_date', 'write_offs.reason', 'invoices.number'])
    .where('invoices.customer_id', 'in', customerIds)
    .orderBy('invoices.customer_id').orderBy('invoices.status').orderBy('invoices.due_date').orderBy('invoices.id').orderBy('write_offs.id')
    .execute();
  const allocations = await db
    .selectFrom('payment_allocations')
    .innerJoin('invoices', 'invoices.id', 'payment_allocations.invoice_id')
    .innerJoin('payments', 'payments.id', 'payment_allocations.payment_id')
    .select(['invoices.customer_id', 'payment_allocations.invoice_id', 'payment_allocations.amount_minor', 'payment_allocations.applied_on', 'payment_allocations.reversed', 'payments.reversed_at'])
    .where('invoices.customer_id', 'in', customerIds)
    .orderBy('invoices.customer_id').orderBy('invoices.status').orderBy('invoices.due_date').orderBy('invoices.id').orderBy('payment_allocations.id')
    .execute();
  const out = new Map<number, StatementRows>();
  const of = (id: number) => {
    let r = out.get(id);
    if (!r) out.set(id, (r = { invoices: [], notes: [], payments: [], writeOffs: [], allocations: [] }));
    return r;
  };
  for (const r of invoices) of(r.customer_id).invoices.push(r);
  for (const r of notes) of(r.customer_id).notes.push(r);
  for (const r of payments) of(r.customer_id).payments.push(r);
  for (const r of writeOffs) of(r.customer_id).writeOffs.push(r);
  for (const r of allocations) of(r.customer_id).allocations.push(r);
  return out;
}

function buildStatement(customer: CustomerRow, rows: StatementRows, from: string, to: string): AccountStatement {
  const customerId = customer.id;
  const { invoices, notes, payments, writeOffs, allocations } = rows;
  const all: Omit<AccountStatementLine, 'balanceMinor'>[] = [
    ...invoices.map((i) => ({ date: i.invoice_date, kind: 'invoice' as const, document: i.number, description: `invoice due ${i.due_date}`, debitMinor: i.total_minor, creditMinor: 0 })),
    ...notes.map((n) => ({ date: n.credit_date, kind: 'credit_note' as const, document: n.number, description: n.reason, debitMinor: 0, creditMinor: n.amount_minor })),
    ...payments.map((p) => ({ date: p.payment_date, kind: 'payment' as const, document: `PAY-${p.id}`, description: p.bank_reference ?? p.method, debitMinor: 0, creditMinor: p.amount_minor })),
    ...payments
      .filter((p) => p.status === 'reversed' && p.reversed_at)
      .map((p) => ({ date: p.reversed_at!.slice(0, 10), kind: 'payment_reversal' as const, document: `PAY-${p.id}`, description: `reversed: ${p.reversal_reason ?? ''}`, debitMinor: p.amount_minor, creditMinor: 0 })),
    ...writeOffs.map((w) => ({ date: w.write_off_date, kind: 'write_off' as const, document: w.number, description: `written off: ${w.reason}`, debitMinor: 0, creditMinor: w.amount_minor })),
  ];
  const order = { invoice: 0, payment_reversal: 1, credit_note: 2, payment: 3, write_off: 4 };
  all.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : order[a.kind] - order[b.kind] || a.document.localeCompare(b.document)));
  const opening = all.filter((l) => l.date < from).reduce((s, l) => s + l.debitMinor - l.creditMinor, 0);
  let running = opening;
  const lines: AccountStatementLine[] = [];
  for (const l of all.filter((x) => x.date >= from && x.date <= to)) {
    running += l.debitMinor - l.creditMinor;
    lines.push({ ...l, balanceMinor: running });
  }

  // Aging on `to`: each invoice's balance counting only what was dated on or before `to`.
  const aging = Object.fromEntries(AGING_BUCKETS.map((b) => [b, 0])) as Record<AgingBucket, number>;
  const openInvoices: AccountStatement['openInvoices'] = [];
  for (const inv of invoices.filter((i) => i.invoice_date <= to).sort((a, b) => (a.due_date < b.due_date ? -1 : 1))) {
    const paid = allocations
      .filter((a) => a.invoice_id === inv.id && a.applied_on <= to && !(a.reversed === 1 && a.reversed_at !== null && a.reversed_at.slice(0, 10) <= to))
      .reduce((s, a) => s + a.amount_minor, 0);
    const credited = notes.filter((n) => n.invoice_id === inv.id && n.credit_date <= to).reduce((s, n) => s + n.amount_minor, 0);
    const written = writeOffs.filter((w) => w.number === inv.number && w.write_off_date <= to).reduce((s, w) => s + w.amount_minor, 0);
    const balance = inv.total_minor - paid - credited - written;
    if (balance <= 0) continue;
    const dpd = daysBetween(inv.due_date, to);
    aging[agingBucket(dpd)] += balance;
    openInvoices.push({ number: inv.number, invoiceDate: inv.invoice_date, dueDate: inv.due_date, daysPastDue: dpd, balanceMinor: balance, balance: formatAmount(balance, inv.currency) });
  }
  return { customerId, customerName: customer.name, currency: customer.currency, from, to, openingBalanceMinor: opening, closingBalanceMinor: running, lines, aging, openInvoices };
}
