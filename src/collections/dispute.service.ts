import type { Kysely, Selectable } from 'kysely';
import type { Core } from '../core.ts';
import { forUpdate, lockCustomer, runChange } from '../core.ts';
import type { Database, DisputeStatus, DisputesTable } from '../db/schema.ts';
import { badTransition, invalid, notFound } from '../shared/errors.ts';
import { formatAmount, parsePositiveAmount } from '../shared/money.ts';
import { displayMoney } from '../shared/figures.ts';
import { oneOf, optionalText, requireId, requireInt, requireText } from '../shared/validate.ts';
import { findByNumber, issueCreditNote } from '../invoicing/invoice.service.ts';
import { invoiceBalances } from '../invoicing/invoice.repository.ts';
import { insertAction } from './action.service.ts';
import { findDispute } from './collections.repository.ts';

/**
 * Disputes: a customer contests an invoice or one of its lines (wrong price, damaged goods,
 * never delivered). While a dispute is open the invoice carries the `disputed` flag and is
 * left out of reminders. A dispute ends in a credit note (the customer was right, in whole
 * or in part), a rejection (the invoice stands), or a withdrawal by the customer; each end
 * is recorded with who decided it.
 */
export type DisputeRow = Selectable<DisputesTable>;

export interface Dispute {
  id: number;
  invoice: string;
  invoiceId: number;
  line: number | null;
  customerId: number;
  reason: string;
  amountMinor: number;
  amount: string;
  currency: string;
  status: DisputeStatus;
  resolutionNote: string | null;
  creditNote: string | null;
  openedBy: string;
  openedOn: string;
  resolvedBy: string | null;
  resolvedOn: string | null;
}

async function toDispute(db: Kysely<Database>, r: DisputeRow): Promise<Dispute> {
  const inv = await db.selectFrom('invoices').select('number').where('id', '=', r.invoice_id).executeTakeFirstOrThrow();
  const line = r.invoice_line_id === null ? null : await db.selectFrom('invoice_lines').select('id').where('invoice_id', '=', r.invoice_id).where('id', '<=', r.invoice_line_id).execute();
  const note = r.credit_note_id === null ? null : await db.selectFrom('credit_notes').select('number').where('id', '=', r.credit_note_id).executeTakeFirst();
  return {
    id: r.id, invoice: inv.number, invoiceId: r.invoice_id, line: line ? line.length : null, customerId: r.customer_id, reason: r.reason, amountMinor: Number(r.amount_minor), amount: formatAmount(Number(r.amount_minor), r.currency),
    currency: r.currency, status: r.status, resolutionNote: r.resolution_note, creditNote: note?.number ?? null, openedBy: r.opened_by, openedOn: r.opened_on, resolvedBy: r.resolved_by, resolvedOn: r.resolved_on,
  };
}

export interface OpenDisputeInput {
  invoice: string;
  reason: string;
  /** Line number on the invoice (1 = first line); none: the whole invoice. */
  line?: number | string | null;
  /** Decimal amount contested; default: the line's total or the invoice's open balance (capped at it). */
  amount?: string | number | null;
}

/** Opens a dispute on an invoice or one of its lines; dunning pauses for the invoice. */
export async function openDispute(core: Core, input: OpenDisputeInput, actor: string): Promise<Dispute> {
  const target = await findByNumber(core, input.invoice);
  const reason = requireText(input.reason, 'reason', 500);
  const lineNo = input.line === undefined || input.line === null || input.line === '' ? null : requireInt(input.line, 'line', 1, 10_000);
  return runChange(core, actor, async ({ trx, at, today, dialect }) => {
    await forUpdate(trx.selectFrom('invoices').select('id').where('id', '=', target.id), dialect).execute();
    const [inv] = await invoiceBalances(trx, { invoiceIds: [target.id] });
    if (!inv || inv.balance_minor <= 0 || inv.status === 'cancelled') throw badTransition('invoice', target.number, inv?.status ?? 'unknown', 'disputed', 'only an invoice with an open balance can be disputed');
    let lineId: number | null = null;
    let ceiling = inv.balance_minor;
    if (lineNo !== null) {
      const lines = await trx.selectFrom('invoice_lines').select(['id', 'total_minor']).where('invoice_id', '=', inv.id).orderBy('id').execute();
      const line = lines[lineNo - 1];
      if (!line) throw invalid(`line ${lineNo} does not exist on invoice ${inv.number} (it has ${lines.length})`, { entity: 'invoice', id: inv.number, field: 'line', value: input.line, rule: 'line_exists' });
      lineId = line.id;
      ceiling = Math.min(ceiling, Number(line.total_minor));
    }
    const amount = input.amount === undefined || input.amount === null || input.amount === '' ? ceiling : parsePositiveAmount(input.amount, inv.currency, 'amount');
    if (amount > ceiling) {
      throw invalid(`amount ${displayMoney(amount, inv.currency)} is more than the ${lineNo === null ? 'open balance' : `line's total (or the open balance)`} ${displayMoney(ceiling, inv.currency)} of invoice ${inv.number}`, {
        entity: 'invoice', id: inv.number, field: 'amount', value: input.amount, rule: 'amount_within_balance',
      });
    }
    const row = await trx
      .insertInto('disputes')
      .values({ invoice_id: inv.id, invoice_line_id: lineId, customer_id: inv.customer_id, reason, amount_minor: amount, currency: inv.currency, status: 'open', resolution_note: null, credit_note_id: null, opened_by: actor, opened_on: today, resolved_by: null, resolved_on: null, created_at: at, updated_at: at })
      .returningAll()
      .executeTakeFirstOrThrow();
    const invoice = await trx.updateTable('invoices').set({ disputed: 1, updated_at: at }).where('id', '=', inv.id).returningAll().executeTakeFirstOrThrow();
    const action = await insertAction(trx, { customer_id: inv.customer_id, invoice_id: inv.id, kind: 'dispute', note: `dispute ${row.id} opened on ${inv.number}${lineNo ? ` line ${lineNo}` : ''} for ${displayMoney(amount, inv.currency)}: ${reason}`, next_action: 'settle the dispute', next_action_on: null, action_date: today, actor, created_at: at });
    return { result: await toDispute(trx, row), events: [{ type: 'dispute.opened', aggregate: 'invoice', id: inv.id, after: { disputes: [row], invoices: [invoice], collection_actions: [action] } }] };
  });
}

export const OUTCOMES = ['credit', 'reject', 'withdraw'] as const;
export type DisputeOutcome = (typeof OUTCOMES)[number];

/**
 * Ends a dispute: `credit` issues a dispute credit note (default: the contested amount, at
 * most the open balance) in the same change; `reject` keeps the invoice as it is; `withdraw`
 * records that the customer dropped it. The invoice's flag clears when no dispute on it is
 * left open, and dunning resumes for what is still owed.
 */
export async function resolveDispute(core: Core, id: number | string, input: { outcome: string; note?: string | null; amount?: string | number | null }, actor: string): Promise<Dispute> {
  const disputeId = requireId(id, 'disputeId');
  const outcome = oneOf(input.outcome, 'outcome', OUTCOMES);
  const note = optionalText(input.note, 'note', 2000);
  if (outcome !== 'credit' && input.amount !== undefined && input.amount !== null) throw invalid(`amount is only for outcome credit, not ${outcome}`, { field: 'amount', value: input.amount, rule: 'amount_for_credit_only' });
  return runChange(core, actor, async (scope) => {
    const { trx, at, today } = scope;
    const found = await findDispute(trx, disputeId);
    if (!found) throw notFound('dispute', disputeId);
    // The customer's lock first (a credit note moves their money), then the dispute as it
    // stands now: two people settling it at once cannot both credit it.
    await lockCustomer(scope, found.customer_id);
    const d = (await findDispute(trx, disputeId))!;
    const status: DisputeStatus = outcome === 'credit' ? 'credited' : outcome === 'reject' ? 'rejected' : 'withdrawn';
    if (d.status !== 'open') throw badTransition('dispute', disputeId, d.status, status, 'the dispute is already settled');
    const after: Record<string, unknown[]> = {};
    let creditNoteId: number | null = null;
    if (outcome === 'credit') {
      const amount = input.amount === undefined || input.amount === null || input.amount === '' ? Number(d.amount_minor) : parsePositiveAmount(input.amount, d.currency, 'amount');
      const inv = await trx.selectFrom('invoices').select('number').where('id', '=', d.invoice_id).executeTakeFirstOrThrow();
      const issued = await issueCreditNote(scope, { invoiceId: d.invoice_id, number: inv.number, amountMinor: amount, amountText: input.amount ?? undefined, kind: 'dispute', reason: `dispute ${disputeId}: ${d.reason}`, date: today });
      creditNoteId = issued.note.id;
      Object.assign(after, issued.after);
    }
    const row = await trx.updateTable('disputes').set({ status, resolution_note: note, credit_note_id: creditNoteId, resolved_by: scope.actor, resolved_on: today, updated_at: at }).where('id', '=', disputeId).returningAll().executeTakeFirstOrThrow();
    const stillOpen = await trx.selectFrom('disputes').select('id').where('invoice_id', '=', d.invoice_id).where('status', '=', 'open').executeTakeFirst();
    if (!stillOpen) {
      const invoice = await trx.updateTable('invoices').set({ disputed: 0, updated_at: at }).where('id', '=', d.invoice_id).returningAll().executeTakeFirstOrThrow();
      after.invoices = [invoice];
    }
    const action = await insertAction(trx, { customer_id: d.customer_id, invoice_id: d.invoice_id, kind: 'dispute', note: `dispute ${disputeId} ${status}${note ? `: ${note}` : ''}`, next_action: null, next_action_on: null, action_date: today, actor: scope.actor, created_at: at });
    return { result: await toDispute(trx, row), events: [{ type: `dispute.${status}`, aggregate: 'invoice', id: d.invoice_id, after: { ...after, disputes: [row], collection_actions: [action] } }] };
  });
}

export async function getDispute(core: Core, id: number | string): Promise<Dispute> {
  const disputeId = requireId(id, 'disputeId');
  const row = await findDispute(core.db.kysely, disputeId);
  if (!row) throw notFound('dispute', disputeId);
  return toDispute(core.db.kysely, row);
}

/** The statuses a dispute goes through, as lists filter by them (`?status=`, `--status`). */
export const DISPUTE_STATUSES = ['open', 'credited', 'rejected', 'withdrawn'] as const satisfies readonly DisputeStatus[];

export async function listDisputes(db: Kysely<Database>, filter: { customerId?: number; status?: DisputeStatus } = {}): Promise<Dispute[]> {
  let q = db.selectFrom('disputes').selectAll().orderBy('id', 'desc');
  if (filter.customerId !== undefined) q = q.where('customer_id', '=', filter.customerId);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  const rows = await q.limit(500).execute();
  const out: Dispute[] = [];
  for (const r of rows) out.push(await toDispute(db, r));
  return out;
}
