import type { Kysely } from 'kysely';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { Database, PromiseStatus, PromisesToPayTable } from '../db/schema.ts';
import type { Selectable } from 'kysely';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { addDays, parseBusinessDate } from '../shared/dates.ts';
import { formatAmount, parsePositiveAmount } from '../shared/money.ts';
import { displayMoney } from '../shared/figures.ts';
import { optionalText, requireId } from '../shared/validate.ts';
import { getSettings } from '../settings/settings.service.ts';
import { openItemsAsOf, paidBetween } from './collections.repository.ts';
import { insertAction } from './action.service.ts';

/**
 * Promises to pay: a customer promises an amount by a date for some of its invoices. A
 * standing promise pauses dunning for those invoices. It is kept when the invoices receive
 * the amount (or are settled) by the promised date plus a grace period
 * (`collections.promise_grace_days`), and broken when that day passes without it; a broken
 * promise's invoices are dunned again. Each customer's share of promises kept is its
 * promise reliability, which the worklist uses.
 */
export type PromiseRow = Selectable<PromisesToPayTable>;

export interface PromiseToPay {
  id: number;
  customerId: number;
  invoices: string[];
  promisedDate: string;
  amountMinor: number;
  amount: string;
  currency: string;
  promisedBy: string | null;
  note: string | null;
  status: PromiseStatus;
  paidMinor: number;
  resolvedOn: string | null;
  recordedOn: string;
  recordedBy: string;
}

const toPromise = (r: PromiseRow, invoices: string[]): PromiseToPay => ({
  id: r.id, customerId: r.customer_id, invoices, promisedDate: r.promised_date, amountMinor: Number(r.amount_minor), amount: formatAmount(Number(r.amount_minor), r.currency),
  currency: r.currency, promisedBy: r.promised_by, note: r.note, status: r.status, paidMinor: Number(r.paid_minor), resolvedOn: r.resolved_on, recordedOn: r.recorded_on, recordedBy: r.recorded_by,
});

export interface PromiseInput {
  customerId: number | string;
  /** Invoice numbers; none: every invoice of the customer open today. */
  invoices?: string[];
  /** Promised payment date, YYYY-MM-DD, not before today. */
  date: string;
  /** Decimal amount; default: the invoices' open balance. */
  amount?: string | number | null;
  promisedBy?: string | null;
  note?: string | null;
}

/** Records a promise to pay and logs it as a collections action. */
export async function recordPromise(core: Core, input: PromiseInput, actor: string): Promise<PromiseToPay> {
  const customerId = requireId(input.customerId, 'customerId');
  const promisedDate = parseBusinessDate(input.date, 'date');
  const promisedBy = optionalText(input.promisedBy, 'promisedBy', 200);
  const note = optionalText(input.note, 'note', 2000);
  return runChange(core, actor, async ({ trx, at, today }) => {
    const customer = await trx.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
    if (!customer) throw notFound('customer', customerId);
    if (promisedDate < today) throw invalid(`date ${promisedDate} is in the past; a promise is for today or later (today is ${today})`, { field: 'date', value: input.date, rule: 'not_in_past' });
    const open = await openItemsAsOf(trx, today, { customerIds: [customerId] });
    let items = open;
    if (input.invoices && input.invoices.length > 0) {
      items = input.invoices.map((n, i) => {
        const found = open.find((o) => o.number === n);
        if (!found) throw invalid(`invoices.${i}: ${n} is not an open invoice of customer ${customerId}`, { field: `invoices.${i}`, value: n, rule: 'open_invoice_of_customer' });
        return found;
      });
    }
    if (items.length === 0) throw invalid(`customer ${customerId} has no open invoice to promise payment for`, { field: 'invoices', rule: 'open_invoice_of_customer' });
    const currency = customer.currency;
    const balance = items.reduce((s, o) => s + o.balance_minor, 0);
    const amount = input.amount === undefined || input.amount === null || input.amount === '' ? balance : parsePositiveAmount(input.amount, currency, 'amount');
    if (amount > balance) {
      throw invalid(`amount ${displayMoney(amount, currency)} is more than the invoices' open balance ${displayMoney(balance, currency)}`, { field: 'amount', value: input.amount, rule: 'amount_within_balance' });
    }
    const standing = await trx
      .selectFrom('promise_invoices as pi')
      .innerJoin('promises_to_pay as p', 'p.id', 'pi.promise_id')
      .innerJoin('invoices as i', 'i.id', 'pi.invoice_id')
      .select(['i.number', 'p.id'])
      .where('p.status', '=', 'open')
      .where('pi.invoice_id', 'in', items.map((o) => o.invoice_id))
      .executeTakeFirst();
    if (standing) throw conflict(`invoice ${standing.number} is already under promise ${standing.id}; resolve or cancel it first`, { entity: 'promise', id: standing.id, field: 'invoices', value: standing.number, rule: 'one_standing_promise' });
    const row = await trx
      .insertInto('promises_to_pay')
      .values({ customer_id: customerId, promised_date: promisedDate, amount_minor: amount, currency, promised_by: promisedBy, note, status: 'open', paid_minor: 0, resolved_on: null, recorded_by: actor, recorded_on: today, created_at: at, updated_at: at })
      .returningAll()
      .executeTakeFirstOrThrow();
    const links = items.map((o) => ({ promise_id: row.id, invoice_id: o.invoice_id }));
    await trx.insertInto('promise_invoices').values(links).execute();
    const action = await insertAction(trx, {
      customer_id: customerId, invoice_id: items.length === 1 ? items[0]!.invoice_id : null, kind: 'promise',
      note: `promised ${displayMoney(amount, currency)} by ${promisedDate} for ${items.map((o) => o.number).join(', ')}${promisedBy ? ` (${promisedBy})` : ''}${note ? `: ${note}` : ''}`,
      next_action: 'check the promised payment', next_action_on: addDays(promisedDate, 1), action_date: today, actor, created_at: at,
    });
    return {
      result: toPromise(row, items.map((o) => o.number)),
      events: [{ type: 'promise.recorded', aggregate: 'customer', id: customerId, after: { promises_to_pay: [row], promise_invoices: links, collection_actions: [action] } }],
    };
  });
}

/** Withdraws a standing promise (the customer took it back, or it was recorded in error). */
export async function cancelPromise(core: Core, id: number | string, reason: string, actor: string): Promise<PromiseToPay> {
  const promiseId = requireId(id, 'promiseId');
  const why = optionalText(reason, 'reason', 500);
  return runChange(core, actor, async ({ trx, at, today }) => {
    const p = await trx.selectFrom('promises_to_pay').selectAll().where('id', '=', promiseId).executeTakeFirst();
    if (!p) throw notFound('promise', promiseId);
    if (p.status !== 'open') throw conflict(`promise ${promiseId} is already ${p.status}`, { entity: 'promise', id: promiseId, value: p.status, rule: 'promise_open' });
    const row = await trx.updateTable('promises_to_pay').set({ status: 'cancelled', resolved_on: today, note: why ? `${p.note ? `${p.note}; ` : ''}cancelled: ${why}` : p.note, updated_at: at }).where('id', '=', promiseId).returningAll().executeTakeFirstOrThrow();
    return { result: toPromise(row, await promiseInvoiceNumbers(trx, promiseId)), events: [{ type: 'promise.cancelled', aggregate: 'customer', id: p.customer_id, after: { promises_to_pay: [row] } }] };
  });
}

async function promiseInvoiceNumbers(db: Kysely<Database>, promiseId: number): Promise<string[]> {
  const rows = await db.selectFrom('promise_invoices as pi').innerJoin('invoices as i', 'i.id', 'pi.invoice_id').select('i.number').where('pi.promise_id', '=', promiseId).orderBy('i.number').execute();
  return rows.map((r) => r.number);
}

/**
 * The outcome of a promise on a day, from the payments alone: `kept` (on the day the
 * promised amount had arrived, or every invoice was settled), `broken` (the grace period
 * ended first, on the day after it), or still `open`.
 */
export function promiseOutcome(p: { promisedDate: string; amountMinor: number; recordedOn: string }, paid: { paidMinor: number; lastDate: string | null }, allSettled: boolean, asOf: string, graceDays: number): { status: 'open' | 'kept' | 'broken'; on: string | null } {
  const deadline = addDays(p.promisedDate, graceDays);
  if (paid.paidMinor >= p.amountMinor || allSettled) return { status: 'kept', on: paid.lastDate ?? asOf };
  if (asOf > deadline) return { status: 'broken', on: addDays(deadline, 1) };
  return { status: 'open', on: null };
}

interface PromiseDecision {
  promise: PromiseRow;
  invoiceIds: number[];
  status: 'kept' | 'broken';
  on: string;
  paidMinor: number;
  deadline: string;
}

/**
 * What `asOf` decides about the standing promises recorded by then, without writing: kept
 * or broken from the payments applied to their invoices between the recording and the end
 * of the grace period.
 */
export async function decidePromises(db: Kysely<Database>, asOf: string): Promise<PromiseDecision[]> {
  const grace = (await getSettings(db))['collections.promise_grace_days'];
  const open = await db.selectFrom('promises_to_pay').selectAll().where('status', '=', 'open').where('recorded_on', '<=', asOf).orderBy('id').execute();
  const out: PromiseDecision[] = [];
  for (const p of open) {
    const links = await db.selectFrom('promise_invoices').select('invoice_id').where('promise_id', '=', p.id).execute();
    const ids = links.map((l) => l.invoice_id);
    const deadline = addDays(p.promised_date, grace);
    const until = asOf < deadline ? asOf : deadline;
    const paid = await paidBetween(db, ids, p.recorded_on, until);
    const stillOpen = await openItemsAsOf(db, until, { invoiceIds: ids });
    const outcome = promiseOutcome({ promisedDate: p.promised_date, amountMinor: Number(p.amount_minor), recordedOn: p.recorded_on }, paid, stillOpen.length === 0, asOf, grace);
    if (outcome.status !== 'open') out.push({ promise: p, invoiceIds: ids, status: outcome.status, on: outcome.on!, paidMinor: paid.paidMinor, deadline });
  }
  return out;
}

/** Decides the standing promises on `asOf` and records each decision as one change with its event. */
export async function resolvePromises(core: Core, asOf: string, actor: string): Promise<PromiseToPay[]> {
  const decided: PromiseToPay[] = [];
  for (const d of await decidePromises(core.db.kysely, asOf)) {
    const { promise: p, status, on, paidMinor, invoiceIds: ids } = d;
    decided.push(
      await runChange(core, actor, async ({ trx, at }) => {
        const row = await trx.updateTable('promises_to_pay').set({ status, paid_minor: paidMinor, resolved_on: on, updated_at: at }).where('id', '=', p.id).where('status', '=', 'open').returningAll().executeTakeFirst();
        if (!row) throw conflict(`promise ${p.id} was decided meanwhile`, { entity: 'promise', id: p.id, rule: 'promise_open' });
        const action = await insertAction(trx, {
          customer_id: p.customer_id, invoice_id: ids.length === 1 ? ids[0]! : null, kind: 'promise',
          note: status === 'kept' ? `promise ${p.id} kept: ${displayMoney(paidMinor, p.currency)} received` : `promise ${p.id} broken: ${displayMoney(paidMinor, p.currency)} of ${displayMoney(Number(p.amount_minor), p.currency)} received by ${d.deadline}; dunning resumes`,
          next_action: status === 'broken' ? 'call about the broken promise' : null, next_action_on: status === 'broken' ? on : null, action_date: on, actor, created_at: at,
        });
        return { result: toPromise(row, await promiseInvoiceNumbers(trx, p.id)), events: [{ type: `promise.${status}`, aggregate: 'customer', id: p.customer_id, after: { promises_to_pay: [row], collection_actions: [action] } }] };
      }),
    );
  }
  return decided;
}

/** The statuses a promise to pay goes through, as lists filter by them (`?status=`, `--status`). */
export const PROMISE_STATUSES = ['open', 'kept', 'broken', 'cancelled'] as const satisfies readonly PromiseStatus[];

export async function listPromises(db: Kysely<Database>, filter: { customerId?: number; status?: PromiseStatus } = {}): Promise<PromiseToPay[]> {
  let q = db.selectFrom('promises_to_pay').selectAll().orderBy('id', 'desc');
  if (filter.customerId !== undefined) q = q.where('customer_id', '=', filter.customerId);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  const rows = await q.limit(500).execute();
  const out: PromiseToPay[] = [];
  for (const r of rows) out.push(toPromise(r, await promiseInvoiceNumbers(db, r.id)));
  return out;
}

/** Share of decided promises kept, per customer (customers with none decided are absent). */
export async function promiseReliability(db: Kysely<Database>): Promise<Map<number, { kept: number; broken: number; reliability: number }>> {
  const rows = await db.selectFrom('promises_to_pay').select(['customer_id', 'status']).where('status', 'in', ['kept', 'broken']).execute();
  const out = new Map<number, { kept: number; broken: number; reliability: number }>();
  for (const r of rows) {
    const c = out.get(r.customer_id) ?? { kept: 0, broken: 0, reliability: 0 };
    if (r.status === 'kept') c.kept++;
    else c.broken++;
    c.reliability = c.kept / (c.kept + c.broken);
    out.set(r.customer_id, c);
  }
  return out;
}
