import type { Core } from '../core.ts';
import { invalid } from '../shared/errors.ts';
import { requireId } from '../shared/validate.ts';
import { accountStatement, type AccountStatement, type AccountStatementLine } from './account-statement.service.ts';
import { statementDocumentDetails } from './account.repository.ts';

/**
 * A customer's account as the customer sees it (the portal, the statement and invoice PDFs):
 * the summary on top of every page and the statement with a label on every line.
 *
 * Both come from one statement of account (`accountStatement`), so the balance, the number
 * of open invoices and what is overdue cannot disagree: the balance is the statement's
 * closing balance, the open invoices are the statement's open items on the same day, and
 * the credit on account is what separates the two (payments received and not yet applied).
 */
export interface OpenItem {
  number: string;
  invoiceDate: string;
  dueDate: string;
  /** Days past the due date on `asOf` (negative: due in that many days). */
  daysPastDue: number;
  balanceMinor: number;
}

export interface AccountSummary {
  customerId: number;
  customerName: string;
  currency: string;
  asOf: string;
  /** Oldest due first. */
  openInvoices: OpenItem[];
  openMinor: number;
  overdueCount: number;
  overdueMinor: number;
  notYetDueMinor: number;
  /** Payments received and not yet applied to an invoice. */
  creditOnAccountMinor: number;
  /** What the customer owes on `asOf`: open invoices less credit on account (negative: paid ahead). */
  balanceMinor: number;
}

/**
 * Runs `read` on one snapshot of the database: the statement reads several tables one after
 * the other, and a payment committed between two of them would be counted in one (its
 * allocation: the invoice less open) and not in the other (the payment: the balance not
 * lower), showing a credit or a debt that never existed. On PostgreSQL a read-only
 * REPEATABLE READ transaction; SQLite's transaction reads one snapshot of its file.
 */
async function inOneSnapshot<T>(core: Core, read: (snapshot: Core) => Promise<T>): Promise<T> {
  let tx = core.db.kysely.transaction();
  if (core.db.dialect === 'postgres') tx = tx.setIsolationLevel('repeatable read').setAccessMode('read only');
  return tx.execute((trx) => read({ ...core, db: { ...core.db, kysely: trx } }));
}

/** The account summary on a day (default today), from the statement of account of that day. */
export async function accountSummary(core: Core, customerId: number | string, asOf?: string): Promise<AccountSummary> {
  const id = requireId(customerId, 'customerId');
  // A statement of one day: its closing balance counts every document up to that day.
  const day = asOf ?? core.clock.now().toISOString().slice(0, 10);
  return summaryOf(await inOneSnapshot(core, (snapshot) => accountStatement(snapshot, { customerId: id, from: day, to: day })));
}

/** The summary a statement implies on its last day. */
export function summaryOf(s: AccountStatement): AccountSummary {
  const openInvoices = s.openInvoices
    .map((i) => ({ number: i.number, invoiceDate: i.invoiceDate, dueDate: i.dueDate, daysPastDue: i.daysPastDue, balanceMinor: i.balanceMinor }))
    // Oldest due first, as cash application pays them; numbers in order within a day.
    .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.number.localeCompare(b.number)));
  const overdue = openInvoices.filter((i) => i.daysPastDue > 0);
  const openMinor = openInvoices.reduce((sum, i) => sum + i.balanceMinor, 0);
  const overdueMinor = overdue.reduce((sum, i) => sum + i.balanceMinor, 0);
  return {
    customerId: s.customerId,
    customerName: s.customerName,
    currency: s.currency,
    asOf: s.to,
    openInvoices,
    openMinor,
    overdueCount: overdue.length,
    overdueMinor,
    notYetDueMinor: openMinor - overdueMinor,
    creditOnAccountMinor: openMinor - s.closingBalanceMinor,
    balanceMinor: s.closingBalanceMinor,
  };
}

/** What a statement line is, in words a customer reads. */
export type LineLabel = 'Invoice' | 'Payment' | 'Payment returned' | 'Credit note' | 'Returned goods' | 'Price correction' | 'Dispute settled' | 'Early-payment discount' | 'Written off' | 'Bad debt written off';

export interface LabelledLine extends AccountStatementLine {
  label: LineLabel;
  /** The line's particulars: the reference a payment quoted, a credit note's reason (null for invoices: see dueDate). */
  detail: string | null;
  /** An invoice's due date and order. */
  dueDate: string | null;
  orderId: number | null;
}

export interface LabelledStatement extends Omit<AccountStatement, 'lines'> {
  lines: LabelledLine[];
  summary: AccountSummary;
}

const CREDIT_NOTE_LABELS: Record<string, LineLabel> = { return: 'Returned goods', price_correction: 'Price correction', dispute: 'Dispute settled', early_payment_discount: 'Early-payment discount', other: 'Credit note' };
const METHODS: Record<string, string> = { bank_transfer: 'bank transfer', card: 'card', cash: 'cash', cheque: 'cheque', direct_debit: 'direct debit' };

/**
 * The statement of account between two dates (default: the last 90 days) with a label and
 * particulars on every line, and the summary on its last day.
 */
export async function labelledStatement(core: Core, input: { customerId: number | string; from?: string; to?: string }): Promise<LabelledStatement> {
  const { statement, details } = await inOneSnapshot(core, async (snapshot) => {
    const read = await accountStatement(snapshot, input);
    return { statement: read, details: await statementDocumentDetails(snapshot.db.kysely, read.customerId) };
  });
  if (statement.from > statement.to) throw invalid(`from ${statement.from} is after to ${statement.to}: a statement runs from its first day to its last`, { field: 'from', value: input.from ?? statement.from, rule: 'from_not_after_to' });
  const lines = statement.lines.map((l): LabelledLine => {
    const base = { ...l, dueDate: null, orderId: null };
    switch (l.kind) {
      case 'invoice': {
        const inv = details.invoices.get(l.document);
        return { ...base, label: 'Invoice', detail: null, dueDate: inv?.dueDate ?? null, orderId: inv?.orderId ?? null };
      }
      case 'credit_note': {
        const note = details.creditNotes.get(l.document);
        return { ...base, label: CREDIT_NOTE_LABELS[note?.kind ?? 'other'] ?? 'Credit note', detail: note?.reason || l.description || 'credit note' };
      }
      case 'payment':
      case 'payment_reversal': {
        const p = details.payments.get(Number(l.document.replace(/^PAY-/, '')));
        const how = p ? METHODS[p.method] ?? p.method.replaceAll('_', ' ') : 'payment';
        if (l.kind === 'payment_reversal') return { ...base, label: 'Payment returned', detail: l.description.replace(/^reversed: ?/, '') || how };
        return { ...base, label: 'Payment', detail: p?.reference ? `${how}, ref. ${p.reference}` : how };
      }
      case 'write_off': {
        const w = details.writeOffs.get(`${l.document}|${l.date}`);
        return { ...base, label: w?.kind === 'bad_debt' ? 'Bad debt written off' : 'Written off', detail: w?.reason || l.description };
      }
    }
  });
  return { ...statement, lines, summary: summaryOf(statement) };
}
