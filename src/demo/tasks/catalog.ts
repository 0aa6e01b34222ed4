import { addDays } from '../../shared/dates.ts';
import { formatAmount } from '../../shared/money.ts';
import { createProduct, listProducts } from '../../catalog/product.service.ts';
import { receiveStock } from '../../catalog/inventory.service.ts';
import { type ProductPlan } from '../company.ts';
import { type Simulation } from '../state.ts';

/** Products: launched with opening stock, and the Monday purchasing run that reorders what runs low. */

export async function launchProduct(ctx: Simulation, p: ProductPlan, day: number) {
  const { core, options, actor, counts, call, products, productsByCategory, expected } = ctx;
  await call('createProduct', () =>
    createProduct(core, { sku: p.sku, name: p.name, category: p.category.name, price: formatAmount(p.priceMinor, 'EUR'), unitCost: formatAmount(p.costMinor, 'EUR'), taxRate: String(p.category.taxPercent), currency: 'EUR' }, actor),
  );
  counts.products++;
  const weekly = Math.max(1, expected.get(p.sku) ?? p.lotSize * 2);
  const state = { ...p, launched: true, weeklyDemand: weekly, onOrder: 0, soldThisWeek: 0 };
  products.set(p.sku, state);
  const list = productsByCategory.get(p.category.name) ?? [];
  list.push(p.sku);
  productsByCategory.set(p.category.name, list);
  const initial = Math.ceil(weekly * (p.leadDays / 7 + p.safetyWeeks + 2));
  await call('receiveStock', () => receiveStock(core, { sku: p.sku, quantity: initial, reference: `opening stock ${addDays(options.start, day)}` }, actor));
}

export async function purchase(ctx: Simulation, day: number, date: string) {
  const { core, counts, schedule, businessDay, call, sim, products, fulfil } = ctx;
  const stock = new Map((await call('listProducts', () => listProducts(core, { limit: 100_000 }))).map((p) => [p.sku, p]));
  const backlog = new Map<string, number>();
  for (const f of fulfil.values()) for (const l of f.lines) backlog.set(l.sku, (backlog.get(l.sku) ?? 0) + Math.max(0, l.quantity - l.shipped - l.reserved));
  for (const p of products.values()) {
    p.weeklyDemand = 0.75 * p.weeklyDemand + 0.25 * p.soldThisWeek;
    p.soldThisWeek = 0;
    const s = stock.get(p.sku);
    if (!s) continue;
    const position = s.available + p.onOrder - (backlog.get(p.sku) ?? 0);
    const reorderPoint = p.weeklyDemand * (p.leadDays / 7 + p.safetyWeeks);
    if (position >= reorderPoint) continue;
    const quantity = Math.ceil(p.weeklyDemand * (p.leadDays / 7 + p.safetyWeeks + 3) - position);
    if (quantity <= 0) continue;
    counts.purchaseOrders++;
    p.onOrder += quantity;
    let arrival = day + p.leadDays;
    if (sim.chance(0.1)) {
      counts.supplierDelays++;
      arrival += sim.int(7, 25);
    }
    schedule(businessDay(arrival), { kind: 'receive', sku: p.sku, quantity, reference: `PO-${date.replaceAll('-', '')}-${p.sku}` });
  }
}
