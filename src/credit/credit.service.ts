import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ChangeScope, Core, Tx } from '../core.ts';
import { runChange } from '../core.ts';
import type { DialectName } from '../db/connection.ts';
import type { CreditDecisionKind, CreditDecisionsTable, CustomerRow, Database, OrderRow } from '../db/schema.ts';
import { badTransition, conflict, DomainError, invalid, notFound } from '../shared/errors.ts';
import { displayMoney } from '../shared/figures.ts';
import { requireId, requireText } from '../shared/validate.ts';
import { pageOf, pageQuery, type ListPage, type ListPageQuery } from '../shared/facing.ts';
import { getSettings, type Settings } from '../settings/settings.service.ts';
import { getOrder, orderAsWritten, priceOrderLines, toOrder, type Order, type OrderLineInput } from '../orders/order.service.ts';
import { documentTotals } from '../orders/order.totals.ts';
import { getCustomer, type Customer } from '../customers/customer.service.ts';
import { notifyCreditHold } from '../notifications/notification.service.ts';
import { lockCustomerOfOrder, lockOrder, moveOrder, reserveOrderStock } from '../orders/order.workflow.ts';
import { customerForCreditCheck, exposureFigures, finalNoticeInvoices, prepaidNotInvoicedMinor, unappliedCashMinor, type ExposureFigures } from './credit.repository.ts';
import { evaluateCredit, type CreditEvaluation } from './credit.rules.ts';
import { prepared } from '../db/prepared.ts';
import { UNBILLED_STATUSES } from '../exposure/exposure.workflow.ts';

export interface SubmitResult extends Order {
  credit: CreditEvaluation;
}

type NewDecision = Omit<Insertable<CreditDecisionsTable>, 'id'>;
const DECISION_COLUMNS = [
  'order_id', 'decision', 'automatic', 'exposure_minor', 'credit_limit_minor', 'open_ar_minor', 'unbilled_minor', 'order_total_minor', 'overdue_minor',
  'max_days_overdue', 'risk_class', 'reasons', 'rules', 'decided_by', 'decided_at',
] as const satisfies readonly (keyof NewDecision)[];
// Built once (src/db/prepared.ts): every submission writes one.
const insertDecision = prepared(
  (db, _d, ...values: unknown[]) => db.insertInto('credit_decisions').values(Object.fromEntries(DECISION_COLUMNS.map((c, i) => [c, values[i]])) as unknown as NewDecision).returningAll(),
  DECISION_COLUMNS.length,
);

async function recordDecision(trx: Tx, order: OrderRow, decision: CreditDecisionKind, automatic: boolean, evaluation: CreditEvaluation, inputs: Awaited<ReturnType<typeof exposureFigures>> & { limit: number; riskClass: string | null }, reasons: string[], actor: string, at: string) {
  const row: NewDecision = {
      order_id: order.id,
      decision,
      automatic: automatic ? 1 : 0,
      exposure_minor: evaluation.exposureMinor,
      credit_limit_minor: inputs.limit,
      open_ar_minor: inputs.openArMinor,
      unbilled_minor: inputs.unbilledMinor,
      order_total_minor: order.total_minor,
      overdue_minor: inputs.overdueMinor,
      max_days_overdue: inputs.oldestDaysOverdue,
      risk_class: inputs.riskClass,
      reasons: JSON.stringify(reasons),
      rules: JSON.stringify(evaluation.rules),
      decided_by: actor,
      decided_at: at,
  };
  return insertDecision.one(trx, ...DECISION_COLUMNS.map((c) => row[c]));
}

type Reader = Kysely<Database>;

/**
 * The credit check's inputs and verdict for an order of `orderTotalMinor` by a customer;
 * `orderId`, once the order exists, is left out of the unbilled figure. A customer read with
 * `final_notice` (`customerForCreditCheck`) has the final-notice invoices read only when it is set.
 */
async function evaluateFor(db: Reader, customer: CustomerRow & { final_notice?: unknown }, currency: string, orderTotalMinor: number, today: string, orderId?: number, lock = false) {
  const settings = await getSettings(db);
  const figures = await exposureFigures(db, customer.id, today, orderId, lock);
  const evaluation = evaluateCredit({
    currency,
    customerStatus: customer.status,
    riskClass: customer.risk_class,
    creditLimitMinor: customer.credit_limit_minor,
    openArMinor: figures.openArMinor,
    unappliedCashMinor: figures.unappliedCashMinor,
    unbilledMinor: figures.unbilledMinor,
    orderTotalMinor,
    overdueMinor: figures.overdueMinor,
    oldestDaysOverdue: figures.oldestDaysOverdue,
    maxDaysOverdueAllowed: settings['credit.max_days_overdue'],
    classDLimitSharePercent: settings['credit.class_d_limit_share'],
    finalNoticeInvoices: customer.final_notice === undefined || Boolean(customer.final_notice) ? await finalNoticeInvoices(db, customer.id) : [],
  });
  return { evaluation, figures, prepayment: onPrepaymentTerms(settings, customer), inputs: { ...figures, limit: customer.credit_limit_minor, riskClass: customer.risk_class } };
}

/**
 * Payment terms follow the assessment, as a credit department decides them: a customer whose
 * risk class is listed in `credit.prepayment_classes` pays before the goods leave. A customer
 * who is not active is held as before: prepayment does not unblock an account.
 */
export function onPrepaymentTerms(settings: Pick<Settings, 'credit.prepayment_classes'>, customer: { risk_class: string | null; status: string }): boolean {
  const classes = settings['credit.prepayment_classes'].split(',').filter((c) => c !== '');
  return customer.status === 'active' && customer.risk_class !== null && classes.includes(customer.risk_class);
}

async function evaluate(trx: Tx, order: OrderRow, today: string, dialect: DialectName) {
  const customer = await customerForCreditCheck.one(trx, order.customer_id);
  // The order's own unbilled amount is left out of the figures; an order counts (has an
  // exposure item) only in the unbilled statuses, and the figures are read after the change's
  // pending exposure is brought up to date, so a submitted or held order has nothing to leave
  // out and its item is not read.
  const counts = (UNBILLED_STATUSES as readonly string[]).includes(order.status);
  return { customer, ...(await evaluateFor(trx, customer, order.currency, order.total_minor, today, counts ? order.id : undefined, dialect === 'postgres')) };
}

export interface CreditPreview {
  customer: Customer;
  /** The customer buys on prepayment terms: the order will wait for a payment covering it (the credit verdict then does not apply). */
  prepayment: boolean;
  currency: string;
  lines: { sku: string; name: string; quantity: number; unitPriceMinor: number; totalMinor: number }[];
  orderTotalMinor: number;
  figures: ExposureFigures;
  evaluation: CreditEvaluation;
}

/**
 * What the credit check would decide if this order were submitted now: the lines priced as
 * the order will be (`priceOrderLines`), the same figures and the same rules the submission
 * runs (`evaluateFor`). Read outside the customer's lock and writing nothing, so a change made
 * meanwhile may still turn the verdict at submission — which is the one that counts.
 */
export async function previewCredit(core: Core, customerId: unknown, lines: OrderLineInput[]): Promise<CreditPreview> {
  const customer = await getCustomer(core, requireId(customerId, 'customerId'));
  if (!Array.isArray(lines) || lines.length === 0) throw invalid('an order needs at least one line', { entity: 'order', field: 'lines', value: lines, rule: 'lines_required' });
  const db = core.db.kysely;
  const row = await db.selectFrom('customers').selectAll().where('id', '=', customer.id).executeTakeFirstOrThrow();
  const priced = await priceOrderLines(db, row, lines);
  const total = documentTotals(priced.map((p) => p.amounts)).total;
  const { evaluation, figures, prepayment } = await evaluateFor(db, row, row.currency, total, core.clock.now().toISOString().slice(0, 10));
  return {
    customer,
    prepayment,
    currency: row.currency,
    lines: priced.map((p) => ({ sku: p.sku, name: p.name, quantity: p.quantity, unitPriceMinor: p.unit_price_minor, totalMinor: p.amounts.total })),
    orderTotalMinor: total,
    figures,
    evaluation,
  };
}

async function approveInTx(trx: Tx, order: OrderRow, at: string, actor: string, dialect: DialectName, reason: string | null) {
  const moved = await moveOrder(trx, order, 'approved', at, actor, reason);
  const reserved = await reserveOrderStock(trx, order.id, at, dialect);
  return { moved, reserved };
}

/**
 * Submits a draft order and runs the credit check in the same transaction: the order ends
 * approved (stock reserved, shortages on backorder) or on credit_hold with every reason.
 * The decision is stored with its inputs. Exposure is read under the customer's lock, so
 * orders submitted at once are decided one after the other, each seeing the ones before.
 */
export async function submitOrder(core: Core, id: number | string, actor: string): Promise<SubmitResult> {
  const orderId = requireId(id, 'orderId');
  const { evaluation, order } = await runChange(core, actor, async (scope) => {
    const { trx, at, today, dialect } = scope;
    await lockCustomerOfOrder(scope, orderId);
    const draft = await lockOrder(trx, orderId, dialect);
    const submitted = await moveOrder(trx, draft, 'submitted', at, actor);
    const { evaluation, inputs, prepayment, customer } = await evaluate(trx, submitted.order, today, dialect);
    if (prepayment) {
      const why = `prepayment terms (risk class ${inputs.riskClass}): the order ships once a payment covers ${displayMoney(submitted.order.total_minor, submitted.order.currency)}`;
      const decision = await recordDecision(trx, submitted.order, 'prepayment', true, evaluation, inputs, [why], actor, at);
      const waiting = await moveOrder(trx, submitted.order, 'awaiting_prepayment', at, actor, why);
      return {
        result: { evaluation, order: await orderAsWritten(trx, waiting.order) },
        events: [{ type: 'order.awaiting_prepayment', aggregate: 'order', id: orderId, after: { orders: [waiting.order], order_status_history: [submitted.history, waiting.history], credit_decisions: [decision] } }],
      };
    }
    const decision = await recordDecision(trx, submitted.order, evaluation.approved ? 'approved' : 'credit_hold', true, evaluation, inputs, evaluation.reasons, actor, at);
    if (evaluation.approved) {
      const { moved, reserved } = await approveInTx(trx, submitted.order, at, actor, dialect, null);
      return {
        result: { evaluation, order: toOrder(moved.order, reserved.all) },
        events: [{ type: 'order.approved', aggregate: 'order', id: orderId, after: { orders: [moved.order], order_status_history: [submitted.history, moved.history], credit_decisions: [decision], order_lines: reserved.lines, stock_levels: reserved.stock } }],
      };
    }
    const held = await moveOrder(trx, submitted.order, 'credit_hold', at, actor, evaluation.reasons.join('; '));
    const told = await notifyCreditHold(trx, { orderId, customerId: held.order.customer_id, customerName: customer.name, totalMinor: held.order.total_minor, currency: held.order.currency, reasons: evaluation.reasons }, at);
    return {
      result: { evaluation, order: await orderAsWritten(trx, held.order) },
      events: [{ type: 'order.credit_held', aggregate: 'order', id: orderId, after: { orders: [held.order], order_status_history: [submitted.history, held.history], credit_decisions: [decision], ...(told.length ? { notifications: told } : {}) } }],
    };
  });
  // The order as the change left it (read in its transaction), not read again after the commit.
  return { ...order, credit: evaluation };
}

/** A credit controller releases a held order (it is approved and reserves stock). */
export async function releaseOrder(core: Core, id: number | string, reason: string, actor: string): Promise<Order> {
  return decide(core, id, 'released', reason, actor);
}

/** A credit controller rejects a held (or just submitted) order. */
export async function rejectOrder(core: Core, id: number | string, reason: string, actor: string): Promise<Order> {
  return decide(core, id, 'rejected', reason, actor);
}

export interface PrepaymentCover {
  orderId: number;
  currency: string;
  orderTotalMinor: number;
  /** The customer's payments not yet applied to invoices. */
  unappliedCashMinor: number;
  /** What of that cash other orders released on prepayment terms already hold (until they are invoiced). */
  heldForOtherOrdersMinor: number;
  /** What is free for this order: unapplied cash less what other prepaid orders hold. */
  availableMinor: number;
  covered: boolean;
}

async function coverOf(db: Reader, order: OrderRow): Promise<PrepaymentCover> {
  const unapplied = await unappliedCashMinor(db, order.customer_id);
  const held = await prepaidNotInvoicedMinor(db, order.customer_id, order.id);
  const available = unapplied - held;
  return { orderId: order.id, currency: order.currency, orderTotalMinor: order.total_minor, unappliedCashMinor: unapplied, heldForOtherOrdersMinor: held, availableMinor: available, covered: available >= order.total_minor };
}

/** How far the customer's payments cover an order waiting for its prepayment (read only). */
export async function prepaymentCover(core: Core, id: number | string): Promise<PrepaymentCover> {
  const orderId = requireId(id, 'orderId');
  const order = await core.db.kysely.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  if (!order) throw notFound('order', orderId);
  return coverOf(core.db.kysely, order);
}

/**
 * Releases an order waiting for its prepayment once the customer's unapplied cash covers it:
 * the order is approved and reserves stock. The cash stays the customer's (it is applied
 * when the order is invoiced), but it is held for this order: another prepaid order counts
 * only what is left. Done under the customer's lock, so two orders cannot both count the same
 * payment. Refused (`prepayment_not_covered`) with the figures while the cash falls short.
 */
export async function confirmPrepayment(core: Core, id: number | string, actor: string): Promise<Order & { cover: PrepaymentCover }> {
  const orderId = requireId(id, 'orderId');
  const cover = await runChange(core, actor, async (scope) => {
    const { trx, at, dialect } = scope;
    await lockCustomerOfOrder(scope, orderId);
    const order = await lockOrder(trx, orderId, dialect);
    if (order.status !== 'awaiting_prepayment') throw badTransition('order', orderId, order.status, 'approved', 'only an order awaiting its prepayment is released by a payment');
    const cover = await coverOf(trx, order);
    if (!cover.covered) {
      const m = (x: number) => `${displayMoney(x, order.currency)}`;
      throw conflict(`order ${orderId} needs a prepayment of ${m(order.total_minor)}; the customer's unapplied payments of ${m(cover.unappliedCashMinor)}${cover.heldForOtherOrdersMinor > 0 ? `, less ${m(cover.heldForOtherOrdersMinor)} held for other prepaid orders,` : ''} leave ${m(Math.max(0, cover.availableMinor))}`, {
        entity: 'order', id: orderId, field: 'payment', value: cover.availableMinor, rule: 'prepayment_not_covered',
      });
    }
    const why = `prepayment received: ${displayMoney(cover.availableMinor, order.currency)} unapplied covers the order`;
    const { moved, reserved } = await approveInTx(trx, order, at, actor, dialect, why);
    return { result: cover, events: [{ type: 'order.prepaid', aggregate: 'order', id: orderId, after: { orders: [moved.order], order_status_history: [moved.history], order_lines: reserved.lines, stock_levels: reserved.stock } }] };
  });
  return { ...(await getOrder(core, orderId)), cover };
}

/**
 * Every order of a customer waiting for its prepayment that the customer's payments now
 * cover, oldest first, released one after the other (each under the customer's lock). Run
 * after a payment is recorded; answers the orders released.
 */
export async function releasePrepaidOrders(core: Core, customerId: number | string, actor: string): Promise<number[]> {
  const id = requireId(customerId, 'customerId');
  const waiting = await core.db.kysely.selectFrom('orders').select('id').where('customer_id', '=', id).where('status', '=', 'awaiting_prepayment').orderBy('id').execute();
  const released: number[] = [];
  for (const o of waiting) {
    const cover = await prepaymentCover(core, o.id);
    if (!cover.covered) continue;
    try {
      await confirmPrepayment(core, o.id, actor);
      released.push(o.id);
    } catch (error) {
      // Another request released it or took the cash meanwhile: that outcome stands.
      if (!(error instanceof DomainError) || (error.kind !== 'conflict' && error.kind !== 'transition')) throw error;
    }
  }
  return released;
}

/**
 * How much of a payment about to be recorded stays unapplied for prepayment terms, so the
 * automatic cash application does not spend it on other invoices: first what orders already
 * released on prepayment terms hold (until they are invoiced) beyond the unapplied cash there
 * is, then each order waiting for its prepayment that the cash now covers in full, oldest
 * first (as `releasePrepaidOrders` takes them). Read under the customer's lock, before the
 * payment is written. A person's own split is not limited by it.
 */
export async function cashKeptForPrepayment(db: Reader, customerId: number, newCashMinor: number): Promise<number> {
  let free = (await unappliedCashMinor(db, customerId)) - (await prepaidNotInvoicedMinor(db, customerId)) + newCashMinor;
  const waiting = await db.selectFrom('orders').select(['id', 'total_minor']).where('customer_id', '=', customerId).where('status', '=', 'awaiting_prepayment').orderBy('id').execute();
  for (const o of waiting) if (o.total_minor <= free) free -= o.total_minor;
  return newCashMinor - Math.min(newCashMinor, Math.max(0, free));
}

/**
 * Inside a change that holds the customer's lock (recording a payment): releases every order
 * of the customer waiting for its prepayment that the unapplied cash now covers, oldest
 * first, as `confirmPrepayment` does one by one. Answers the orders released and their events.
 */
export async function releaseCoveredOrdersInChange(scope: ChangeScope, customerId: number): Promise<{ released: number[]; events: { type: string; aggregate: string; id: number; after: unknown }[] }> {
  const { trx, at, actor, dialect } = scope;
  const waiting = await trx.selectFrom('orders').select('id').where('customer_id', '=', customerId).where('status', '=', 'awaiting_prepayment').orderBy('id').execute();
  const released: number[] = [];
  const events = [];
  for (const w of waiting) {
    const order = await lockOrder(trx, w.id, dialect);
    if (order.status !== 'awaiting_prepayment') continue;
    const cover = await coverOf(trx, order);
    if (!cover.covered) continue;
    const why = `prepayment received: ${displayMoney(cover.availableMinor, order.currency)} unapplied covers the order`;
    const { moved, reserved } = await approveInTx(trx, order, at, actor, dialect, why);
    released.push(order.id);
    events.push({ type: 'order.prepaid', aggregate: 'order', id: order.id, after: { orders: [moved.order], order_status_history: [moved.history], order_lines: reserved.lines, stock_levels: reserved.stock } });
  }
  return { released, events };
}

/** Every order waiting for its prepayment that payments now cover, of every customer (the scheduler runs it). Answers the orders released. */
export async function releaseAllPrepaidOrders(core: Core, actor: string): Promise<number[]> {
  const customers = await core.db.kysely.selectFrom('orders').select('customer_id').distinct().where('status', '=', 'awaiting_prepayment').orderBy('customer_id').execute();
  const released: number[] = [];
  for (const c of customers) released.push(...(await releasePrepaidOrders(core, c.customer_id, actor)));
  return released;
}

async function decide(core: Core, id: number | string, decision: 'released' | 'rejected', reason: string, actor: string): Promise<Order> {
  const orderId = requireId(id, 'orderId');
  const why = requireText(reason, 'reason', 500);
  await runChange(core, actor, async (scope) => {
    const { trx, at, today, dialect } = scope;
    // A release uses credit as an approval does: the same lock, the same order of locks.
    await lockCustomerOfOrder(scope, orderId);
    const order = await lockOrder(trx, orderId, dialect);
    if (order.status !== 'credit_hold' && !(decision === 'rejected' && order.status === 'submitted')) {
      throw badTransition('order', orderId, order.status, decision === 'released' ? 'approved' : 'rejected', 'only an order on credit hold can be released or rejected');
    }
    const { evaluation, inputs } = await evaluate(trx, order, today, dialect);
    const row = await recordDecision(trx, order, decision, false, evaluation, inputs, [why], actor, at);
    if (decision === 'released') {
      const { moved, reserved } = await approveInTx(trx, order, at, actor, dialect, why);
      return { result: null, events: [{ type: 'order.credit_released', aggregate: 'order', id: orderId, after: { orders: [moved.order], order_status_history: [moved.history], credit_decisions: [row], order_lines: reserved.lines, stock_levels: reserved.stock } }] };
    }
    const moved = await moveOrder(trx, order, 'rejected', at, actor, why);
    return { result: null, events: [{ type: 'order.credit_rejected', aggregate: 'order', id: orderId, after: { orders: [moved.order], order_status_history: [moved.history], credit_decisions: [row] } }] };
  });
  return getOrder(core, orderId);
}

export interface CreditDecision {
  id: number;
  orderId: number;
  decision: CreditDecisionKind;
  automatic: boolean;
  exposureMinor: number;
  creditLimitMinor: number;
  openArMinor: number;
  unbilledMinor: number;
  orderTotalMinor: number;
  overdueMinor: number;
  maxDaysOverdue: number;
  riskClass: string | null;
  reasons: string[];
  rules: unknown;
  decidedBy: string;
  decidedAt: string;
}

/**
 * A page of an order's credit decisions, each naming the order's currency so its figures are
 * written in it: what `GET /orders/:id/credit-decisions` and `cashloop credit decisions` both answer.
 */
export async function orderCreditDecisions(core: Core, id: number | string, query: ListPageQuery = {}): Promise<ListPage<CreditDecision & { currency: string }>> {
  const paging = pageQuery(query);
  const decisions = await creditDecisions(core, id);
  const { currency } = await getOrder(core, id);
  return pageOf(decisions.map((d) => ({ ...d, currency })), paging);
}

export async function creditDecisions(core: Core, id: number | string): Promise<CreditDecision[]> {
  const orderId = requireId(id, 'orderId');
  const exists = await core.db.kysely.selectFrom('orders').select('id').where('id', '=', orderId).executeTakeFirst();
  if (!exists) throw notFound('order', orderId);
  const rows = await core.db.kysely.selectFrom('credit_decisions').selectAll().where('order_id', '=', orderId).orderBy('id').execute();
  return rows.map(toDecision);
}

const toDecision = (r: Selectable<CreditDecisionsTable>): CreditDecision => ({
    id: r.id,
    orderId: r.order_id,
    decision: r.decision,
    automatic: r.automatic === 1,
    exposureMinor: r.exposure_minor,
    creditLimitMinor: r.credit_limit_minor,
    openArMinor: r.open_ar_minor,
    unbilledMinor: r.unbilled_minor,
    orderTotalMinor: r.order_total_minor,
    overdueMinor: r.overdue_minor,
    maxDaysOverdue: r.max_days_overdue,
    riskClass: r.risk_class,
    reasons: JSON.parse(r.reasons) as string[],
    rules: JSON.parse(r.rules) as unknown,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
  });

/** Why each order is held: the reasons of its latest credit decision, by order id. */
export async function holdReasons(core: Core, orderIds: number[]): Promise<Map<number, string[]>> {
  const reasons = new Map<number, string[]>();
  if (orderIds.length === 0) return reasons;
  const rows = await core.db.kysely.selectFrom('credit_decisions').select(['order_id', 'reasons']).where('order_id', 'in', orderIds).orderBy('id').execute();
  for (const r of rows) reasons.set(r.order_id, JSON.parse(r.reasons) as string[]);
  return reasons;
}

/** An order on credit hold as every face lists it: the order's figures and why the credit check held it. */
export type CreditHold = Awaited<ReturnType<typeof listHolds>>[number] & { reasons: string[] };

/**
 * A page of the orders on credit hold, oldest first, each with the reasons of its hold: what
 * `GET /credit/holds` and `cashloop credit holds` both answer (`after` a position, `limit` 1 to 500).
 */
export async function creditHolds(core: Core, query: ListPageQuery = {}): Promise<ListPage<CreditHold>> {
  const paging = pageQuery(query);
  const holds = await listHolds(core);
  const reasons = await holdReasons(core, holds.map((h) => h.id));
  return pageOf(holds.map((h) => ({ ...h, reasons: reasons.get(h.id) ?? [] })), paging);
}

/** Orders waiting for a credit controller, oldest first. */
export async function listHolds(core: Core) {
  return core.db.kysely
    .selectFrom('orders')
    .innerJoin('customers', 'customers.id', 'orders.customer_id')
    .select(['orders.id', 'orders.customer_id', 'customers.name as customer_name', 'orders.total_minor', 'orders.currency', 'orders.submitted_at'])
    .where('orders.status', '=', 'credit_hold')
    .orderBy('orders.id')
    .execute();
}

export interface HeldOrder {
  id: number;
  customerId: number;
  totalMinor: number;
  currency: string;
  submittedAt: string | null;
  /** The check that held it: its reasons in money and days, and the figures it rested on. */
  decision: CreditDecision | null;
  customer: Customer;
}

/**
 * The hold queue, oldest first, paged on the database (`afterId`: the last order of the
 * previous page): each held order with the automatic decision that held it and its customer
 * as they are now (risk class, limit, status). `total` counts every held order.
 */
export async function holdQueue(core: Core, options: { afterId?: unknown; limit?: unknown } = {}): Promise<{ items: HeldOrder[]; next: number | null; total: number }> {
  const after = options.afterId === undefined || options.afterId === '' || options.afterId === 0 || options.afterId === '0' ? 0 : requireId(options.afterId, 'after');
  const limit = options.limit === undefined ? 20 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw invalid(`limit must be a whole number from 1 to 100000, got ${String(options.limit)}`, { field: 'limit', value: options.limit, rule: 'range' });
  const db = core.db.kysely;
  const rows = await db.selectFrom('orders').selectAll().where('status', '=', 'credit_hold').where('id', '>', after).orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const ids = page.map((o) => o.id);
  const customerIds = [...new Set(page.map((o) => o.customer_id))];
  const [decisions, customers, count] = await Promise.all([
    ids.length ? db.selectFrom('credit_decisions').selectAll().where('order_id', 'in', ids).where('automatic', '=', 1).orderBy('id').execute() : Promise.resolve([]),
    Promise.all(customerIds.map((id) => getCustomer(core, id))),
    db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'credit_hold').executeTakeFirstOrThrow(),
  ]);
  const latest = new Map<number, CreditDecision>();
  for (const d of decisions) latest.set(d.order_id, toDecision(d));
  const byId = new Map(customers.map((c) => [c.id, c]));
  return {
    items: page.map((o) => ({ id: o.id, customerId: o.customer_id, totalMinor: o.total_minor, currency: o.currency, submittedAt: o.submitted_at, decision: latest.get(o.id) ?? null, customer: byId.get(o.customer_id)! })),
    next: rows.length > limit ? page.at(-1)!.id : null,
    total: Number(count.n),
  };
}
