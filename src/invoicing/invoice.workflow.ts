import type { Tx } from '../core.ts';
import { lockCustomer } from '../core.ts';
import type { DialectName } from '../db/connection.ts';
import type { InvoiceRow, InvoiceStatus, OrderLineRow, PaymentAllocationsTable } from '../db/schema.ts';
import type { Selectable } from 'kysely';
import { addDays, yearOf } from '../shared/dates.ts';
import { partAmounts, sumAmounts } from '../orders/order.totals.ts';
import { refreshOrderStatus } from '../orders/order.workflow.ts';
import { invoiceBalance, unappliedPayments } from './invoice.repository.ts';
import { syncExposure } from '../exposure/exposure.workflow.ts';
import { nextDocumentNumber } from './numbering.ts';
import { prepared } from '../db/prepared.ts';

// The statements invoicing runs once per delivery, built once (src/db/prepared.ts).
const shipmentById = prepared((db, _d, id: number) => db.selectFrom('shipments').selectAll().where('id', '=', id));
const orderById = prepared((db, _d, id: number) => db.selectFrom('orders').selectAll().where('id', '=', id));
const customerById = prepared((db, _d, id: number) => db.selectFrom('customers').selectAll().where('id', '=', id));
const shippedLines = prepared((db, _d, shipmentId: number) =>
  db
    .selectFrom('shipment_lines')
    .innerJoin('order_lines', 'order_lines.id', 'shipment_lines.order_line_id')
    .innerJoin('products', 'products.id', 'order_lines.product_id')
    .selectAll('order_lines')
    .select(['shipment_lines.quantity as ship_qty', 'products.sku', 'products.name as product_name'])
    .where('shipment_lines.shipment_id', '=', shipmentId)
    .orderBy('order_lines.line_no'),
);
const invoicedBefore = prepared((db, _d, orderLineId: number) =>
  db
    .selectFrom('invoice_lines')
    .innerJoin('invoices', 'invoices.id', 'invoice_lines.invoice_id')
    .select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('invoice_lines.quantity'), eb.lit(0)).as('q'), eb.fn.coalesce(eb.fn.sum<number>('invoice_lines.net_minor'), eb.lit(0)).as('n'), eb.fn.coalesce(eb.fn.sum<number>('invoice_lines.tax_minor'), eb.lit(0)).as('t')])
    .where('invoice_lines.order_line_id', '=', orderLineId)
    .where('invoices.status', '!=', 'cancelled'),
);
const insertInvoice = prepared(
  (db, _d, number: string, customerId: number, orderId: number, shipmentId: number, currency: string, invoiceDate: string, dueDate: string, subtotal: number, tax: number, total: number, at: string) =>
    db
      .insertInto('invoices')
      .values({
        number,
        external_ref: null,
        customer_id: customerId,
        order_id: orderId,
        shipment_id: shipmentId,
        currency,
        invoice_date: invoiceDate,
        due_date: dueDate,
        status: 'open',
        subtotal_minor: subtotal,
        tax_minor: tax,
        total_minor: total,
        disputed: 0,
        settled_date: null,
        created_at: at,
        updated_at: at,
      })
      .returningAll(),
);
const setInvoicedQty = prepared((db, _d, id: number, invoiced: number) => db.updateTable('order_lines').set({ invoiced_qty: invoiced }).where('id', '=', id).returningAll());
const insertCreditAllocation = prepared((db, _d, paymentId: number, invoiceId: number, amount: number, onDate: string, at: string) =>
  db.insertInto('payment_allocations').values({ payment_id: paymentId, invoice_id: invoiceId, amount_minor: amount, rule: 'unapplied_credit', applied_on: onDate, reversed: 0, created_at: at }).returningAll(),
);
const setInvoiceStatus = prepared((db, _d, id: number, status: InvoiceStatus, settled: string | null, at: string) =>
  db.updateTable('invoices').set({ status, settled_date: settled, updated_at: at }).where('id', '=', id).returningAll(),
);

/**
 * Sets an invoice's status from its derived balance: open (nothing paid), partially_paid,
 * or paid (balance zero; `settled_date` is the day that happened). Returns the new row.
 */
export async function settleStatus(trx: Tx, invoiceId: number, onDate: string, at: string): Promise<InvoiceRow> {
  const inv = await invoiceBalance(trx, invoiceId);
  if (!inv) throw new Error(`invoice ${invoiceId} vanished`);
  let row: InvoiceRow = inv;
  const status: InvoiceStatus = inv.balance_minor <= 0 ? 'paid' : inv.paid_minor > 0 ? 'partially_paid' : 'open';
  const settled = status === 'paid' ? (inv.status === 'paid' && inv.settled_date ? inv.settled_date : onDate) : null;
  if (inv.status !== 'cancelled' && (status !== inv.status || settled !== inv.settled_date)) {
    row = await setInvoiceStatus.one(trx, invoiceId, status, settled, at);
  }
  // Every change to a balance (payment, credit note, write-off) settles the invoice here: its open balance moves the customer's exposure.
  await syncExposure(trx, { invoices: [invoiceId] });
  return row;
}

/**
 * Uses a customer's unapplied cash (overpayments, payments made ahead) on an invoice,
 * oldest payment first. The caller holds the customer's lock (`lockCustomer`): the cash
 * read here is spent by this change alone.
 */
export async function applyUnappliedCash(trx: Tx, invoice: InvoiceRow, onDate: string, at: string): Promise<Selectable<PaymentAllocationsTable>[]> {
  const credits = await unappliedPayments(trx, invoice.customer_id);
  let left = invoice.total_minor;
  const allocations: Selectable<PaymentAllocationsTable>[] = [];
  for (const p of credits) {
    if (left <= 0) break;
    if (p.currency !== invoice.currency) continue;
    const amount = Math.min(left, p.unapplied_minor);
    allocations.push(await insertCreditAllocation.one(trx, p.id, invoice.id, amount, onDate, at));
    left -= amount;
  }
  if (allocations.length) await syncExposure(trx, { invoices: [invoice.id], payments: allocations.map((a) => a.payment_id) });
  return allocations;
}

export interface InvoiceCreated {
  invoices: InvoiceRow[];
  invoice_lines: unknown[];
  order_lines: OrderLineRow[];
  payment_allocations: Selectable<PaymentAllocationsTable>[];
}

/**
 * Invoices what a shipment carried: one line per shipped order line, priced as ordered; the
 * last part of a line takes the rest of its amounts so partial invoices add up to the order.
 * Due date = invoice date + the customer's terms. Unapplied cash is used at once.
 */
export async function invoiceShipment(trx: Tx, shipmentId: number, today: string, at: string, actor: string, dialect: DialectName): Promise<InvoiceCreated & { orderChange: Awaited<ReturnType<typeof refreshOrderStatus>> }> {
  const shipment = await shipmentById.one(trx, shipmentId);
  const order = await orderById.one(trx, shipment.order_id);
  const customer = await customerById.one(trx, order.customer_id);
  const shipped = await shippedLines.execute(trx, shipmentId);
  const parts = [];
  for (const l of shipped) {
    const before = await invoicedBefore.one(trx, l.id);
    const amounts = partAmounts(l, l.ship_qty, { quantity: Number(before.q), net: Number(before.n), tax: Number(before.t) });
    parts.push({ line: l, amounts });
  }
  const totals = sumAmounts(parts.map((p) => p.amounts));
  const number = await nextDocumentNumber(trx, 'INV', yearOf(today));
  const invoice = await insertInvoice.one(trx, number, order.customer_id, order.id, shipmentId, order.currency, today, addDays(today, customer.payment_terms_days), totals.net, totals.tax, totals.total, at);
  const invoiceLines = await trx
    .insertInto('invoice_lines')
    .values(
      parts.map((p) => ({
        invoice_id: invoice.id,
        order_line_id: p.line.id,
        product_id: p.line.product_id,
        description: `${p.line.sku} ${p.line.product_name}`,
        quantity: p.line.ship_qty,
        unit_price_minor: p.line.unit_price_minor,
        net_minor: p.amounts.net,
        tax_rate_bp: p.line.tax_rate_bp,
        tax_minor: p.amounts.tax,
        total_minor: p.amounts.total,
      })),
    )
    .returningAll()
    .execute();
  const orderLines: OrderLineRow[] = [];
  for (const p of parts) {
    orderLines.push(await setInvoicedQty.one(trx, p.line.id, p.line.invoiced_qty + p.line.ship_qty));
  }
  // Invoiced, the amount moves from the order's unbilled to the invoice's open balance.
  await syncExposure(trx, { invoices: [invoice.id], orders: [order.id] });
  // Taken first by the callers; taken here again (at once) so no caller can spend the cash without it.
  await lockCustomer({ trx, dialect }, order.customer_id);
  const allocations = await applyUnappliedCash(trx, invoice, today, at);
  const settledInvoice = allocations.length ? await settleStatus(trx, invoice.id, today, at) : invoice;
  const orderChange = await refreshOrderStatus(trx, order.id, at, actor, dialect);
  return { invoices: [settledInvoice], invoice_lines: invoiceLines, order_lines: orderLines, payment_allocations: allocations, orderChange };
}
