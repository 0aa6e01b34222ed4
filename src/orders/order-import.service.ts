import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { parseBusinessDate } from '../shared/dates.ts';
import { requireId, requireInt, requireQuantity, requireText } from '../shared/validate.ts';
import { MAX_AMOUNT_MINOR, MAX_QUANTITY } from '../shared/bounds.ts';
import { documentTotals, lineAmounts } from './order.totals.ts';

export interface HistoricalOrderLine {
  lineNo: number;
  productId: number;
  quantity: number;
  /** Net unit price in minor units of the order's currency, as the old system sold it. */
  unitPriceMinor: number;
}

export interface HistoricalOrderInput {
  customerId: number | string;
  /** The order's id in the old system; the key of a re-run. */
  externalId: string;
  orderDate: string;
  currency: string;
  lines: HistoricalOrderLine[];
}

/**
 * Writes an order that was taken, shipped and invoiced in another system (legacy import),
 * as history: status `invoiced`, every line shipped and invoiced in full, no stock reserved
 * or moved (today's stock is what the stock count says, not what old orders took), no tax
 * (the canonical extract carries net prices). Its invoices arrive through the invoices
 * import and are not linked line by line. Idempotent by external id.
 *
 * @example importHistoricalOrder(core, { customerId: 3, externalId: 'SO-1001', orderDate: '2025-11-02', currency: 'EUR', lines: [{ lineNo: 1, productId: 7, quantity: 4, unitPriceMinor: 1250 }] }, 'import')
 */
export async function importHistoricalOrder(core: Core, input: HistoricalOrderInput, actor: string): Promise<{ id: number; externalId: string; totalMinor: number; created: boolean }> {
  const customerId = requireId(input.customerId, 'customerId');
  const externalId = requireText(input.externalId, 'externalId', 100);
  const orderDate = parseBusinessDate(input.orderDate, 'orderDate');
  if (input.lines.length === 0) throw invalid(`order ${externalId} has no lines`, { entity: 'order', id: externalId, field: 'lines', rule: 'lines_required' });
  const lines = input.lines.map((l, i) => ({
    lineNo: requireInt(l.lineNo, `lines.${i}.lineNo`, 1, MAX_QUANTITY),
    productId: requireId(l.productId, `lines.${i}.productId`),
    quantity: requireQuantity(l.quantity, `lines.${i}.quantity`),
    unitPriceMinor: requireInt(l.unitPriceMinor, `lines.${i}.unitPrice`, 0, MAX_AMOUNT_MINOR, 'amount_max'),
  }));
  const priced = lines.map((l, i) => ({ ...l, amounts: lineAmounts(l.quantity, l.unitPriceMinor, 0, 0, `lines.${i}.quantity`) }));
  const totals = documentTotals(priced.map((p) => p.amounts));
  const db = core.db.kysely;
  const customer = await db.selectFrom('customers').select(['id', 'currency']).where('id', '=', customerId).executeTakeFirst();
  if (!customer) throw notFound('customer', customerId);
  if (customer.currency !== input.currency) {
    throw invalid(`customer ${customerId} is invoiced in ${customer.currency}; order ${externalId} is in ${input.currency}`, { entity: 'order', id: externalId, field: 'currency', value: input.currency, rule: 'currency_match' });
  }
  const existing = await db.selectFrom('orders').select(['id', 'customer_id', 'total_minor']).where('external_id', '=', externalId).executeTakeFirst();
  if (existing) {
    if (existing.customer_id !== customerId || existing.total_minor !== totals.total) {
      throw conflict(`order ${externalId} was already imported (order ${existing.id}) with another customer or total`, { entity: 'order', id: externalId, field: 'externalId', value: externalId, rule: 'idempotent_retry' });
    }
    return { id: existing.id, externalId, totalMinor: existing.total_minor, created: false };
  }
  return runChange(core, actor, async ({ trx, at }) => {
    const order = await trx
      .insertInto('orders')
      .values({
        customer_id: customerId, status: 'invoiced', currency: input.currency, order_date: orderDate, idempotency_key: null, external_id: externalId,
        subtotal_minor: totals.gross, discount_minor: 0, tax_minor: 0, total_minor: totals.total, cancel_reason: null, created_at: at,
        submitted_at: at, approved_at: at, shipped_at: at, delivered_at: at, invoiced_at: at, paid_at: null, cancelled_at: null, updated_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const orderLines = await trx
      .insertInto('order_lines')
      .values(
        priced.map((p) => ({
          order_id: order.id, line_no: p.lineNo, product_id: p.productId, quantity: p.quantity, unit_price_minor: p.unitPriceMinor, discount_bp: 0, tax_rate_bp: 0,
          gross_minor: p.amounts.gross, discount_minor: 0, net_minor: p.amounts.net, tax_minor: 0, total_minor: p.amounts.total, reserved_qty: 0, shipped_qty: p.quantity, invoiced_qty: p.quantity,
        })),
      )
      .returningAll()
      .execute();
    const history = await trx.insertInto('order_status_history').values({ order_id: order.id, from_status: null, to_status: 'invoiced', reason: 'imported from the legacy system', actor, at }).returningAll().executeTakeFirstOrThrow();
    return {
      result: { id: order.id, externalId, totalMinor: order.total_minor, created: true },
      events: [{ type: 'order.imported', aggregate: 'order', id: order.id, after: { orders: [order], order_lines: orderLines, order_status_history: [history] } }],
    };
  });
}
