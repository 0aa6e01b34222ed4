import { addDays } from '../shared/dates.ts';
import { inOneTransaction } from '../core.ts';
import { setCustomerStatus } from '../customers/customer.service.ts';
import { receiveStock } from '../catalog/inventory.service.ts';
import { updateShipmentStatus } from '../shipping/shipment.service.ts';
import { writeOffInvoice } from '../invoicing/invoice.service.ts';
import { invoiceBalances } from '../invoicing/invoice.repository.ts';
import { categoryFactor, type CompanyPlan, type CustomerPlan, type ProductPlan } from './company.ts';
import { isWeekend, type Simulation, type Task } from './state.ts';
import { launchProduct, purchase } from './tasks/catalog.ts';
import { collectionsRun, promise, raiseDispute, settleDispute } from './tasks/collections.ts';
import { addCustomer } from './tasks/customers.ts';
import { decide, placeOrder } from './tasks/orders.ts';
import { bounce, payDay, writeOff } from './tasks/payments.ts';
import { deliver, refreshWaiting, ship } from './tasks/shipping.ts';

/**
 * One simulated day after another, from the first to the last: products launched and
 * customers joining; goods in, the credit desk and the carriers; orders and shipments on
 * business days, purchasing and the collections desk on Mondays; the bank last. Each task
 * lives in tasks/ by its business word.
 */
export async function liveThrough(ctx: Simulation, plan: CompanyPlan, onProgress?: (day: number, totalDays: number, orders: number) => void, commit: 'day' | 'call' = 'day'): Promise<void> {
  const { clock, options, counts, totalDays } = ctx;
  const base = ctx.core;
  const joiners = new Map<number, CustomerPlan[]>();
  for (const c of plan.customers) joiners.set(c.joinDay, [...(joiners.get(c.joinDay) ?? []), c]);
  const launches = new Map<number, ProductPlan[]>();
  for (const p of plan.products) launches.set(p.launchDay, [...(launches.get(p.launchDay) ?? []), p]);

  for (let day = 0; day < totalDays; day++) {
    const date = addDays(options.start, day);
    clock.set(`${date}T07:00:00.000Z`);
    // A day's changes commit together: one commit a day instead of one per service call.
    // Every change still runs through its service, all-or-nothing inside the day's
    // transaction (core.ts, inOneTransaction), with its events as always.
    if (commit === 'call') await liveDay(ctx, day, date, joiners, launches);
    else
      await inOneTransaction(base, async (unit) => {
        ctx.core = unit;
        try {
          await liveDay(ctx, day, date, joiners, launches);
        } finally {
          ctx.core = base;
        }
      });
    onProgress?.(day + 1, totalDays, counts.orders);
  }
}

/** One simulated day, in the order of the day (README: "One simulated day"). */
async function liveDay(ctx: Simulation, day: number, date: string, joiners: Map<number, CustomerPlan[]>, launches: Map<number, ProductPlan[]>): Promise<void> {
  const { core, actor, counts, schedule, businessDay, call, customers, products, agenda } = ctx;
  for (const p of launches.get(day) ?? []) await launchProduct(ctx, p, day);
  for (const c of joiners.get(day) ?? []) await addCustomer(ctx, c, day);
  for (const c of customers) {
    const turn = c.plan.profile.turnDay;
    if (c.plan.habit === 'stops_paying' && turn !== null && day >= turn && !c.stopped) {
      c.stopped = true;
      counts.customersStopped++;
      schedule(businessDay(day + c.rng.int(60, 90)), { kind: 'block', customer: c });
    }
  }
  const tasks = agenda.get(day) ?? [];
  agenda.delete(day);
  // Morning: goods in, credit desk, carriers; then orders; then the warehouse; the bank last.
  const received = new Set<string>();
  for (const t of tasks) {
    if (t.kind !== 'receive') continue;
    await call('receiveStock', () => receiveStock(core, { sku: t.sku, quantity: t.quantity, reference: t.reference }, `${actor}:warehouse`));
    const p = products.get(t.sku)!;
    p.onOrder = Math.max(0, p.onOrder - t.quantity);
    received.add(t.sku);
  }
  for (const sku of received) await refreshWaiting(ctx, sku);
  for (const t of tasks) {
    if (t.kind === 'open_dispute') await raiseDispute(ctx, t);
    else if (t.kind === 'promise') await promise(ctx, t);
  }
  for (const t of tasks) {
    if (t.kind === 'decide') await decide(ctx, t, day);
    else if (t.kind === 'transit') await call('updateShipmentStatus', () => updateShipmentStatus(core, t.shipmentId, 'in_transit', t.note, `${actor}:carrier`));
    else if (t.kind === 'deliver') await deliver(ctx, t, day);
    else if (t.kind === 'block') {
      await call('setCustomerStatus', () => setCustomerStatus(core, t.customer.id, 'blocked', 'stopped paying: account handed to a collections agency', `${actor}:credit`));
      t.customer.blocked = true;
      counts.customersBlocked++;
      // The collections agency gives up after a quarter: what is left is a bad debt.
      schedule(businessDay(day + t.customer.rng.int(80, 110)), { kind: 'bad_debt', customer: t.customer });
    } else if (t.kind === 'bad_debt') {
      const open = await invoiceBalances(core.db.kysely, { customerId: t.customer.id, openOnly: true });
      for (const inv of open.filter((i) => i.balance_minor > 0)) {
        await call('writeOffInvoice', () => writeOffInvoice(core, inv.number, 'bad debt: collections agency closed the file', `${actor}:ar`, undefined, { badDebt: true }));
        counts.badDebtWriteOffs++;
      }
    }
  }
  if (!isWeekend(date)) {
    const month = Number(date.slice(5, 7));
    const growth = 1.12 ** (day / 365);
    for (const c of customers) {
      const turn = c.plan.profile.turnDay;
      if (c.blocked || (c.plan.habit === 'stops_paying' && turn !== null && day > turn + 45)) continue;
      const season = c.plan.categories.reduce((s, [cp, w]) => s + w * categoryFactor(cp, month, 0), 0) / c.plan.categories.reduce((s, [, w]) => s + w, 0);
      const rate = (c.plan.ordersPerMonth * growth * season) / 21.7;
      if (c.rng.chance(1 - Math.exp(-rate))) await placeOrder(ctx, c, day, date);
    }
    await ship(ctx, day, date);
    if (new Date(`${date}T00:00:00Z`).getUTCDay() === 1 || day === 0) await purchase(ctx, day, date);
    if (new Date(`${date}T00:00:00Z`).getUTCDay() === 1) await collectionsRun(ctx, date);
  }
  for (const t of tasks) {
    if (t.kind === 'bounce') await bounce(ctx, t, day);
    else if (t.kind === 'writeoff') await writeOff(ctx, t);
    else if (t.kind === 'dispute') await settleDispute(ctx, t, day);
  }
  // Dispute concessions scheduled for today land in the agenda again: take them too.
  const late = agenda.get(day) ?? [];
  agenda.delete(day);
  await payDay(ctx, [...tasks, ...late].filter((t): t is Extract<Task, { kind: 'pay' }> => t.kind === 'pay'), day);
}
