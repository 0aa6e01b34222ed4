import type { Insertable, Kysely, Selectable } from 'kysely';
import { syncExposure } from '../exposure/exposure.workflow.ts';
import type { AllocationRule, Database, PaymentAllocationsTable, PaymentRow, PaymentsTable, PaymentStatus } from '../db/schema.ts';
import { prepared } from '../db/prepared.ts';

// The statements recording a payment runs, built once (src/db/prepared.ts).
const paymentById = prepared((db, _d, id: number) => db.selectFrom('payments').selectAll().where('id', '=', id));
const paymentByExternalId = prepared((db, _d, externalId: string) => db.selectFrom('payments').selectAll().where('external_id', '=', externalId));
const insertPaymentRow = prepared(
  (
    db,
    _d,
    customerId: number,
    currency: string,
    amount: number,
    paymentDate: string,
    method: string,
    bankReference: string | null,
    payer: string | null,
    externalId: string | null,
    status: PaymentStatus,
    reversalReason: string | null,
    reversedAt: string | null,
    createdAt: string,
  ) =>
    db
      .insertInto('payments')
      .values({
        customer_id: customerId,
        currency,
        amount_minor: amount,
        payment_date: paymentDate,
        method,
        bank_reference: bankReference,
        payer,
        external_id: externalId,
        status,
        reversal_reason: reversalReason,
        reversed_at: reversedAt,
        created_at: createdAt,
      })
      .onConflict((oc) => oc.column('external_id').doNothing())
      .returningAll(),
);
const allocationsOfPayment = prepared((db, _d, paymentId: number) =>
  db
    .selectFrom('payment_allocations')
    .innerJoin('invoices', 'invoices.id', 'payment_allocations.invoice_id')
    .select(['invoices.number', 'payment_allocations.amount_minor', 'payment_allocations.rule', 'payment_allocations.applied_on', 'payment_allocations.reversed'])
    .where('payment_id', '=', paymentId)
    .orderBy('payment_allocations.id'),
);
const insertAllocationRow = prepared((db, _d, paymentId: number, invoiceId: number, amount: number, rule: AllocationRule, appliedOn: string, at: string) =>
  db.insertInto('payment_allocations').values({ payment_id: paymentId, invoice_id: invoiceId, amount_minor: amount, rule, applied_on: appliedOn, reversed: 0, created_at: at }).returningAll(),
);

/** All SQL about payments and their allocations. */
export type AllocationRow = Selectable<PaymentAllocationsTable>;

export function findPayment(db: Kysely<Database>, id: number): Promise<PaymentRow | undefined> {
  return paymentById.first(db, id);
}

export function findPaymentByExternalId(db: Kysely<Database>, externalId: string): Promise<PaymentRow | undefined> {
  return paymentByExternalId.first(db, externalId);
}

export function listPaymentRows(db: Kysely<Database>, options: { customerId?: number; afterId?: number; limit?: number } = {}): Promise<PaymentRow[]> {
  let q = db.selectFrom('payments').selectAll().orderBy('id').limit(options.limit ?? 100);
  if (options.customerId !== undefined) q = q.where('customer_id', '=', options.customerId);
  if (options.afterId) q = q.where('id', '>', options.afterId);
  return q.execute();
}

/**
 * `exposureLater`: the caller writes several rows in a row (a payment and its allocations)
 * and brings the maintained exposure up to date once for all of them (`syncExposure` with
 * every row it wrote), in the same transaction and before anything reads the exposure.
 * One sync instead of one per row: recording a payment made 28 statements, 4 of them this.
 */
export interface ExposureLater {
  exposureLater?: boolean;
}

/**
 * Inserts a payment unless its external id is already taken; then it returns undefined.
 * On PostgreSQL a transaction racing on the same id waits for the one ahead of it to
 * commit and then inserts nothing, instead of failing with a unique-key error.
 */
export async function insertPayment(db: Kysely<Database>, values: Insertable<PaymentsTable>, options: ExposureLater = {}): Promise<PaymentRow | undefined> {
  const v = values;
  const row = await insertPaymentRow.first(db, v.customer_id, v.currency, v.amount_minor, v.payment_date, v.method, v.bank_reference ?? null, v.payer ?? null, v.external_id ?? null, v.status, v.reversal_reason ?? null, v.reversed_at ?? null, v.created_at);
  if (row && !options.exposureLater) await syncExposure(db, { payments: [row.id] });
  return row;
}

export async function markPaymentReversed(db: Kysely<Database>, id: number, reason: string, at: string): Promise<PaymentRow> {
  const row = await db.updateTable('payments').set({ status: 'reversed', reversal_reason: reason, reversed_at: at }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  await syncExposure(db, { payments: [id] });
  return row;
}

/** Where a payment went, in the order it was applied, with the invoice numbers. */
export function paymentAllocations(db: Kysely<Database>, paymentId: number) {
  return allocationsOfPayment.execute(db, paymentId);
}

/** What a payment has paid off so far (allocations not reversed). */
export async function appliedMinor(db: Kysely<Database>, paymentId: number): Promise<number> {
  const row = await db
    .selectFrom('payment_allocations')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount_minor'), eb.lit(0)).as('s'))
    .where('payment_id', '=', paymentId)
    .where('reversed', '=', 0)
    .executeTakeFirstOrThrow();
  return Number(row.s);
}

export async function insertAllocation(db: Kysely<Database>, a: { paymentId: number; invoiceId: number; amountMinor: number; rule: AllocationRule; appliedOn: string; at: string }, options: ExposureLater = {}): Promise<AllocationRow> {
  const row = await insertAllocationRow.one(db, a.paymentId, a.invoiceId, a.amountMinor, a.rule, a.appliedOn, a.at);
  if (!options.exposureLater) await syncExposure(db, { payments: [a.paymentId], invoices: [a.invoiceId] });
  return row;
}

/** Undoes a payment's allocations (a reversal); returns them. */
export async function reverseAllocations(db: Kysely<Database>, paymentId: number): Promise<AllocationRow[]> {
  const rows = await db.updateTable('payment_allocations').set({ reversed: 1 }).where('payment_id', '=', paymentId).where('reversed', '=', 0).returningAll().execute();
  await syncExposure(db, { payments: [paymentId], invoices: rows.map((r) => r.invoice_id) });
  return rows;
}
