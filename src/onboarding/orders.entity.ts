/** Onboarding's order lines file: the lines of one order follow each other and are written as one historical order. */
import { importHistoricalOrder } from '../orders/order-import.service.ts';
import { displayMoney } from '../shared/figures.ts';
import { MAX_AMOUNT_MINOR, MAX_QUANTITY } from '../shared/bounds.ts';
import { textMax } from '../extract/contract.ts';
import { contentOf, knownCustomer, REPEATED, type EntitySpec } from './entity.ts';
import { productByCode } from './products.entity.ts';

export interface OrderLineRecord {
  externalId: string;
  lineNo: number;
  customerId: number;
  currency: string;
  orderDate: string;
  productId: number;
  quantity: number;
  unitPriceMinor: number;
}

export const orders: EntitySpec<OrderLineRecord> = {
  entity: 'orders',
  columns: ['order_id', 'line_no', 'customer_id', 'order_date', 'product_id', 'quantity', 'unit_price', 'currency'],
  required: ['order_id', 'line_no', 'customer_id', 'order_date', 'product_id', 'quantity', 'unit_price'],
  idColumn: 'order_id',
  phases: 1,
  groupBy: 'order_id',
  async check(f, ctx) {
    const externalId = f.text('order_id', { required: true, max: textMax('order_lines', 'order_id') });
    if (externalId !== null && ctx.group?.key !== externalId) {
      if (!ctx.seen.add(externalId)) f.problem('order_id', externalId, 'order_lines_together', `order_id ${externalId} appeared earlier in the file: the lines of an order must follow each other`);
      ctx.group = { key: externalId, customerId: null, orderDate: null, lineNos: new Map(), totalMinor: 0 };
    }
    const lineNo = f.int('line_no', 1, 100_000);
    if (lineNo === null && !f.raw('line_no')) f.problem('line_no', '', 'required', 'line_no is required');
    // A line written twice with the same values is one line: it counts once.
    if (lineNo !== null && ctx.group?.key === externalId && ctx.group.lineNos.get(lineNo) === contentOf(f, this.columns)) return REPEATED;
    const customer = await knownCustomer(f, ctx);
    const orderDate = f.date('order_date', { required: true });
    const code = f.text('product_id', { required: true, max: textMax('order_lines', 'product_id') });
    let productId: number | null = null;
    if (code !== null) {
      productId = (await productByCode(ctx, code))?.id ?? null;
      if (productId === null) f.problem('product_id', code, 'unknown_product', `product_id ${code} is not a product in cashloop (import products first)`);
    }
    const quantity = f.int('quantity', 1, MAX_QUANTITY);
    if (quantity === null && !f.raw('quantity')) f.problem('quantity', '', 'required', 'quantity is required');
    const price = customer ? f.amount('unit_price', customer.currency, { required: true, sign: 'not_negative' }) : null;
    const g = ctx.group;
    if (quantity !== null && price !== null) {
      // Both are bounded, so the product is exact below 10^22 in BigInt and the running total
      // (of lines each at most the maximum) stays exact as a number until it passes it.
      const line = BigInt(quantity) * BigInt(price);
      const orderTotal = g && externalId === g.key ? g.totalMinor + Number(line) : Number(line);
      if (line > BigInt(MAX_AMOUNT_MINOR) || orderTotal > MAX_AMOUNT_MINOR) {
        f.problem('quantity', f.raw('quantity'), 'amount_max', `quantity ${quantity} × unit_price ${f.raw('unit_price')} takes ${line > BigInt(MAX_AMOUNT_MINOR) ? 'the line' : `order ${externalId}`} above the largest amount cashloop holds (${displayMoney(MAX_AMOUNT_MINOR, customer!.currency)})`);
      } else if (g && externalId === g.key) {
        g.totalMinor = orderTotal;
      }
    }
    if (g && externalId === g.key) {
      if (lineNo !== null && g.lineNos.has(lineNo)) f.problem('line_no', String(lineNo), 'duplicate_id', `line_no ${lineNo} appears twice in order ${externalId} with other values`);
      if (lineNo !== null && !g.lineNos.has(lineNo)) g.lineNos.set(lineNo, contentOf(f, this.columns));
      if (customer && g.customerId !== null && g.customerId !== customer.id) f.problem('customer_id', customer.externalId, 'order_consistent', `customer_id ${customer.externalId} differs from the order's first line`);
      if (orderDate && g.orderDate !== null && g.orderDate !== orderDate) f.problem('order_date', orderDate, 'order_consistent', `order_date ${orderDate} differs from the order's first line (${g.orderDate})`);
      if (customer && g.customerId === null) g.customerId = customer.id;
      if (orderDate && g.orderDate === null) g.orderDate = orderDate;
    }
    if (f.problems.length || !externalId || lineNo === null || !customer || !orderDate || productId === null || quantity === null || price === null) return null;
    const existing = await ctx.core.db.kysely.selectFrom('orders').select('id').where('external_id', '=', externalId).executeTakeFirst();
    return { record: { externalId, lineNo, customerId: customer.id, currency: customer.currency, orderDate, productId, quantity, unitPriceMinor: price }, exists: existing !== undefined };
  },
  amount: (r) => ({ currency: r.currency, minor: r.quantity * r.unitPriceMinor }),
  async load() {
    throw new Error('order lines are loaded per order (loadGroup)');
  },
  async loadGroup(ctx, lines) {
    const first = lines[0]!;
    const o = await importHistoricalOrder(ctx.core, { customerId: first.customerId, externalId: first.externalId, orderDate: first.orderDate, currency: first.currency, lines }, ctx.actor);
    return o.created ? 'created' : 'unchanged';
  },
};
