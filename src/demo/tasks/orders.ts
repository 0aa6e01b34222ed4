import { formatAmount } from '../../shared/money.ts';
import { updateCustomer } from '../../customers/customer.service.ts';
import { createOrder, type Order } from '../../orders/order.service.ts';
import { rejectOrder, releaseOrder, submitOrder } from '../../credit/credit.service.ts';
import { categoryFactor } from '../company.ts';
import { priceIn } from '../currencies.ts';
import { type CustomerState, type Simulation, type Task } from '../state.ts';

/** Orders: entered and credit-checked, and the credit desk deciding the holds. */

export function trackFulfilment(ctx: Simulation, order: Order, customer: CustomerState, day: number) {
  const { counts, fulfil } = ctx;
  const lines = order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, shipped: l.shippedQty, reserved: l.reservedQty }));
  if (lines.some((l) => l.reserved + l.shipped < l.quantity)) counts.backorderedOrders++;
  fulfil.set(order.id, { orderId: order.id, customer, lines, readyDay: day + 1, sinceDay: day, shippedAny: false });
}

export async function placeOrder(ctx: Simulation, c: CustomerState, day: number, date: string) {
  const { core, actor, counts, schedule, businessDay, call, products, productsByCategory } = ctx;
  const r = c.rng;
  const month = Number(date.slice(5, 7));
  const years = day / 365;
  const n = Math.min(6, 1 + r.poisson(1.2));
  const chosen = new Set<string>();
  for (let k = 0; k < n * 3 && chosen.size < n; k++) {
    const cat = r.weighted(c.plan.categories.map(([cp, w]) => [cp, w * categoryFactor(cp, month, years)] as const));
    const skus = productsByCategory.get(cat.name);
    if (!skus?.length) continue;
    chosen.add(r.weighted(skus.map((s) => [s, products.get(s)!.weight] as const)));
  }
  if (chosen.size === 0) return;
  const discount = c.plan.segment === 'wholesale' ? r.pick(['5', '7.5', '10']) : null;
  const lines = [...chosen].map((sku) => {
    const p = products.get(sku)!;
    const quantity = Math.max(1, Math.round(p.lotSize * c.plan.size * r.logNormal(1, 0.4)));
    p.soldThisWeek += quantity;
    // Outside EUR the line carries the price list's price in the customer's currency.
    const currency = c.plan.currency;
    return currency === 'EUR' ? { sku, quantity, discountPercent: discount } : { sku, quantity, discountPercent: discount, unitPrice: formatAmount(priceIn(p.priceMinor, currency), currency) };
  });
  const draft = await call('createOrder', () => createOrder(core, { customerId: c.id, lines, idempotencyKey: `demo-${c.plan.key}-${day}` }, actor));
  counts.orders++;
  counts.orderLines += lines.length;
  const submitted = await call('submitOrder', () => submitOrder(core, draft.id, actor));
  if (submitted.status === 'approved') {
    trackFulfilment(ctx, submitted, c, day);
  } else {
    counts.creditHolds++;
    const limitHeld = submitted.credit.rules.some((x) => x.rule === 'within_limit' && !x.passed);
    schedule(businessDay(day + r.int(1, 3)), { kind: 'decide', orderId: draft.id, customer: c, limitHeld });
  }
}

export async function decide(ctx: Simulation, t: Extract<Task, { kind: 'decide' }>, day: number) {
  const { core, actor, counts, call } = ctx;
  const c = t.customer;
  const h = c.plan.habit;
  const progress = c.plan.profile.turnDay !== null && day > c.plan.profile.turnDay ? 1 : 0;
  const pRelease = c.blocked || c.stopped ? 0 : { prompt: 0.97, steady_late: 0.85, seasonal: 0.9, dispute_prone: 0.8, erratic: 0.6, deteriorating: 0.75 - 0.4 * progress, stops_paying: 0.6 }[h];
  if (c.rng.chance(pRelease)) {
    const reason = t.limitHeld ? 'reliable customer; limit raised' : 'payment promised by phone; releasing';
    const released = await call('releaseOrder', () => releaseOrder(core, t.orderId, reason, `${actor}:credit`));
    counts.holdsReleased++;
    trackFulfilment(ctx, released, c, day);
    if (t.limitHeld && ['prompt', 'steady_late', 'seasonal', 'dispute_prone'].includes(h)) {
      c.plan.creditLimitMinor = Math.round((c.plan.creditLimitMinor * 1.3) / 100_000) * 100_000;
      await call('updateCustomer', () => updateCustomer(core, c.id, { creditLimit: formatAmount(c.plan.creditLimitMinor, c.plan.currency) }, `${actor}:credit`));
      counts.creditLimitRaises++;
    }
  } else {
    const reason = c.blocked ? 'customer blocked: account with collections agency' : 'too much overdue; pay the open invoices first';
    await call('rejectOrder', () => rejectOrder(core, t.orderId, reason, `${actor}:credit`));
    counts.holdsRejected++;
  }
}
