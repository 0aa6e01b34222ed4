import type { Core, Tx } from '../core.ts';
import { forUpdate, runChange } from '../core.ts';
import type { DialectName } from '../db/connection.ts';
import type { OrderLineRow } from '../db/schema.ts';
import { invalid, notFound } from '../shared/errors.ts';
import { optionalText, requireInt, requireQuantity, requireText } from '../shared/validate.ts';
import { MAX_QUANTITY } from '../shared/bounds.ts';
import { toProduct, type Product } from './product.service.ts';

/**
 * Stock on hand and reserved per product. Approval reserves what is free; what is not
 * becomes backorder and is reserved first-come-first-served when stock arrives; stock
 * leaves at shipment.
 */
async function lockedStock(trx: Tx, sku: string, dialect: DialectName) {
  const product = await trx.selectFrom('products').selectAll().where('sku', '=', sku).executeTakeFirst();
  if (!product) throw notFound('product', sku);
  const stock = await forUpdate(trx.selectFrom('stock_levels').selectAll().where('product_id', '=', product.id), dialect).executeTakeFirstOrThrow();
  return { product, stock };
}

/**
 * Gives free stock of a product to approved order lines still waiting for it (oldest order
 * first). Returns the lines it changed so the caller records them in its event.
 */
export async function reserveBackorders(trx: Tx, productId: number, dialect: DialectName): Promise<OrderLineRow[]> {
  const stock = await forUpdate(trx.selectFrom('stock_levels').selectAll().where('product_id', '=', productId), dialect).executeTakeFirstOrThrow();
  let free = stock.on_hand - stock.reserved;
  if (free <= 0) return [];
  const waiting = await trx
    .selectFrom('order_lines')
    .innerJoin('orders', 'orders.id', 'order_lines.order_id')
    .selectAll('order_lines')
    .where('order_lines.product_id', '=', productId)
    .where('orders.status', 'in', ['approved', 'partially_shipped'])
    .whereRef('order_lines.quantity', '>', (eb) => eb('order_lines.shipped_qty', '+', eb.ref('order_lines.reserved_qty')))
    .orderBy('orders.id')
    .orderBy('order_lines.line_no')
    .execute();
  const changed: OrderLineRow[] = [];
  let reservedNow = 0;
  for (const line of waiting) {
    if (free <= 0) break;
    const take = Math.min(free, line.quantity - line.shipped_qty - line.reserved_qty);
    const updated = await trx.updateTable('order_lines').set({ reserved_qty: line.reserved_qty + take }).where('id', '=', line.id).returningAll().executeTakeFirstOrThrow();
    changed.push(updated);
    free -= take;
    reservedNow += take;
  }
  if (reservedNow > 0) {
    await trx.updateTable('stock_levels').set({ reserved: stock.reserved + reservedNow }).where('product_id', '=', productId).execute();
  }
  return changed;
}

/**
 * Stock on hand stays within MAX_QUANTITY. Checked on the row locked for this change: two
 * receipts at once each see the other's quantity, so together they cannot pass it either.
 */
function checkOnHand(sku: string, onHand: number, field: string, value: number): void {
  if (onHand > MAX_QUANTITY) {
    throw invalid(`product ${sku} would hold ${onHand} on hand, above the largest quantity cashloop holds (${MAX_QUANTITY})`, { entity: 'product', id: sku, field, value, rule: 'quantity_max' });
  }
}

export async function receiveStock(core: Core, input: { sku: string; quantity: number | string; reference?: string | null }, actor: string): Promise<Product> {
  const sku = requireText(input.sku, 'sku', 64);
  const quantity = requireQuantity(input.quantity, 'quantity');
  const reference = optionalText(input.reference, 'reference');
  return runChange(core, actor, async ({ trx, at, dialect }) => {
    const { product, stock } = await lockedStock(trx, sku, dialect);
    checkOnHand(sku, stock.on_hand + quantity, 'quantity', quantity);
    const movement = await trx.insertInto('stock_movements').values({ product_id: product.id, kind: 'receipt', quantity, reason: 'receipt', reference, created_at: at }).returningAll().executeTakeFirstOrThrow();
    await trx.updateTable('stock_levels').set({ on_hand: stock.on_hand + quantity, updated_at: at }).where('product_id', '=', product.id).execute();
    const lines = await reserveBackorders(trx, product.id, dialect);
    const after = await trx.selectFrom('stock_levels').selectAll().where('product_id', '=', product.id).executeTakeFirstOrThrow();
    return {
      result: toProduct(product, after),
      events: [{ type: 'stock.received', aggregate: 'product', id: product.id, after: { stock_levels: [after], stock_movements: [movement], order_lines: lines } }],
    };
  });
}

/** Corrects stock on hand by `delta` (counting, damage, loss) with a reason. */
export async function adjustStock(core: Core, input: { sku: string; delta: number | string; reason: string }, actor: string): Promise<Product> {
  const sku = requireText(input.sku, 'sku', 64);
  const delta = requireInt(input.delta, 'delta', -MAX_QUANTITY, MAX_QUANTITY, 'quantity_max');
  const reason = requireText(input.reason, 'reason');
  if (delta === 0) throw invalid('delta must not be zero', { field: 'delta', value: input.delta, rule: 'non_zero' });
  return runChange(core, actor, async ({ trx, at, dialect }) => {
    const { product, stock } = await lockedStock(trx, sku, dialect);
    if (stock.on_hand + delta < stock.reserved) {
      throw invalid(`product ${sku} cannot go to ${stock.on_hand + delta} on hand: ${stock.reserved} are reserved for orders`, {
        entity: 'product', id: sku, field: 'delta', value: delta, rule: 'on_hand_covers_reserved',
      });
    }
    checkOnHand(sku, stock.on_hand + delta, 'delta', delta);
    const movement = await trx.insertInto('stock_movements').values({ product_id: product.id, kind: 'adjustment', quantity: delta, reason, reference: null, created_at: at }).returningAll().executeTakeFirstOrThrow();
    await trx.updateTable('stock_levels').set({ on_hand: stock.on_hand + delta, updated_at: at }).where('product_id', '=', product.id).execute();
    const lines = delta > 0 ? await reserveBackorders(trx, product.id, dialect) : [];
    const after = await trx.selectFrom('stock_levels').selectAll().where('product_id', '=', product.id).executeTakeFirstOrThrow();
    return {
      result: toProduct(product, after),
      events: [{ type: 'stock.adjusted', aggregate: 'product', id: product.id, after: { stock_levels: [after], stock_movements: [movement], order_lines: lines } }],
    };
  });
}
