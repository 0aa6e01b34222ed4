import fs from 'node:fs';
import path from 'node:path';
import type { Core } from '../core.ts';
import type { ManualClock } from '../shared/clock.ts';
import { conflict, invalid } from '../shared/errors.ts';
import { addDays, daysBetween, isBusinessDate } from '../shared/dates.ts';
import { currencyExponent, formatAmount, parseAmount } from '../shared/money.ts';
import { createCustomer, setCustomerStatus, updateCustomer } from '../customers/customer.service.ts';
import { createProduct, listProducts } from '../catalog/product.service.ts';
import { receiveStock } from '../catalog/inventory.service.ts';
import { cancelOrder, createOrder, getOrder, type Order } from '../orders/order.service.ts';
import { rejectOrder, releaseOrder, submitOrder } from '../credit/credit.service.ts';
import { createShipment, deliverShipment, updateShipmentStatus } from '../shipping/shipment.service.ts';
import { createCreditNote, writeOffInvoice } from '../invoicing/invoice.service.ts';
import { invoiceBalances, unappliedPayments } from '../invoicing/invoice.repository.ts';
import { applyPaymentToInvoice, recordPayment, reversePayment } from '../payments/payment.service.ts';
import { runReminders } from '../collections/reminder.service.ts';
import { openDispute, resolveDispute } from '../collections/dispute.service.ts';
import { recordPromise, resolvePromises } from '../collections/promise.service.ts';
import { assignCustomer, getPolicy, savePolicy } from '../collections/policy.service.ts';
import { policyToJson } from '../collections/policy.ts';
import { getSettings } from '../settings/settings.service.ts';
import { Random } from './random.ts';
import { categoryFactor, planCompany, type CustomerPlan, type ProductPlan } from './company.ts';
import { daysLate } from './habits.ts';
import { DEFAULT_CURRENCIES, parseCurrencyMix, formatCurrencyMix, priceIn, type CurrencyMix } from './currencies.ts';
import { buildManifest, MANIFEST_FILE, type DemoCounts, type DemoManifest } from './manifest.ts';

/**
 * The demo company generator: draws a company (company.ts), then walks the clock day by day
 * from `start` for `months` months and lets the company live through the core's own
 * services — customers and products created, orders entered and credit-checked, holds
 * released or rejected, stock bought, shipped, delivered (invoiced at delivery), paid late
 * or early, bounced, disputed, credited, written off. Nothing is written to a table except
 * through a service, so every document and event is what the core would have recorded.
 *
 * The database must be empty: the generator refuses otherwise (see README: mixing a demo
 * history into real data would corrupt both).
 */
export interface DemoOptions {
  seed: number;
  customers: number;
  months: number;
  /** First day of the history, `YYYY-MM-DD`. */
  start: string;
  /** Where to write `demo-manifest.json`; no manifest when absent. */
  dataDir?: string;
  actor?: string;
  /** Customers' currencies and their shares (default: everyone in EUR); see currencies.ts. */
  currencies?: CurrencyMix;
  /** Called once per simulated day. */
  onProgress?: (day: number, totalDays: number, orders: number) => void;
}

export interface DemoResult {
  manifest: DemoManifest;
  /** Wall-clock seconds and where they went (per service), for docs/demo.md. */
  seconds: number;
  ordersPerSecond: number;
  profile: { call: string; count: number; totalMs: number; meanMs: number }[];
}

const TOLERANCE_SAFETY = 0; // write-offs stay strictly within the core's tolerance setting

interface CustomerState {
  plan: CustomerPlan;
  id: number;
  rng: Random;
  stopped: boolean;
  blocked: boolean;
}

interface LineState {
  sku: string;
  quantity: number;
  shipped: number;
  reserved: number;
}

interface FulfilState {
  orderId: number;
  customer: CustomerState;
  lines: LineState[];
  readyDay: number;
  sinceDay: number;
  shippedAny: boolean;
}

interface InvoiceState {
  id: number;
  number: string;
  customer: CustomerState;
  totalMinor: number;
  dueDate: string;
  day: number;
}

type PayMode = 'full' | 'part' | 'short' | 'over';

type Task =
  | { kind: 'decide'; orderId: number; customer: CustomerState; limitHeld: boolean }
  | { kind: 'receive'; sku: string; quantity: number; reference: string }
  | { kind: 'transit'; shipmentId: number; note: string }
  | { kind: 'deliver'; shipmentId: number; failFirst: boolean; signedBy: string }
  | { kind: 'pay'; invoice: InvoiceState; mode: PayMode; fraction?: number }
  | { kind: 'bounce'; paymentId: number; customer: CustomerState; invoices: InvoiceState[] }
  | { kind: 'writeoff'; invoices: InvoiceState[] }
  | { kind: 'dispute'; invoice: InvoiceState; amountMinor: number; concede: boolean; disputeId?: number }
  | { kind: 'open_dispute'; invoice: InvoiceState; amountMinor: number; settle: Extract<Task, { kind: 'dispute' }> }
  | { kind: 'promise'; invoice: InvoiceState; date: string }
  | { kind: 'block'; customer: CustomerState }
  | { kind: 'bad_debt'; customer: CustomerState };

/** Adds calendar months to a date, clamped to the month's last day. */
export function addMonths(date: string, months: number): string {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7)) - 1 + months;
  const d = Number(date.slice(8, 10));
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m, Math.min(d, last))).toISOString().slice(0, 10);
}

const isWeekend = (date: string) => {
  const wd = new Date(`${date}T00:00:00Z`).getUTCDay();
  return wd === 0 || wd === 6;
};

const SIGNERS = ['M. Weber', 'A. Janssen', 'C. Dubois', 'L. Rossi', 'K. Nowak', 'P. García', 'S. Keller', 'R. Peeters', 'goods receipt', 'front desk'];
const DISPUTE_REASONS = ['damaged goods on arrival', 'price differs from the agreed quote', 'short delivery claimed', 'quality complaint', 'late delivery penalty'];
const CARRIERS = ['DHL', 'DPD', 'UPS', 'GLS', 'DB Schenker'];

export function validateOptions(o: Pick<DemoOptions, 'seed' | 'customers' | 'months' | 'start' | 'currencies'>): void {
  if (o.currencies !== undefined) parseCurrencyMix(formatCurrencyMix(o.currencies));
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw invalid(`seed must be a whole number ≥ 0, got ${o.seed}`, { field: 'seed', value: o.seed, rule: 'integer' });
  if (!Number.isInteger(o.customers) || o.customers < 1 || o.customers > 100_000) {
    throw invalid(`customers must be a whole number from 1 to 100000, got ${o.customers}`, { field: 'customers', value: o.customers, rule: 'range' });
  }
  if (!Number.isInteger(o.months) || o.months < 1 || o.months > 120) throw invalid(`months must be a whole number from 1 to 120, got ${o.months}`, { field: 'months', value: o.months, rule: 'range' });
  if (!isBusinessDate(o.start)) throw invalid(`start must be a date written YYYY-MM-DD, got ${JSON.stringify(o.start)}`, { field: 'start', value: o.start, rule: 'date_format' });
}

/** Refuses to run on a database that already holds business documents. */
export async function assertEmpty(core: Core): Promise<void> {
  const db = core.db.kysely;
  for (const table of ['customers', 'products', 'orders', 'invoices', 'payments'] as const) {
    const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const n = Number(row.n);
    if (n > 0) {
      throw conflict(`the database at ${core.db.location} is not empty (${n} ${table}); the demo company is generated into an empty database only — point CASHLOOP_DATA_DIR or DATABASE_URL at a new one`, {
        entity: 'database', id: core.db.location, field: table, value: n, rule: 'empty_database',
      });
    }
  }
}

/**
 * Generates the demo company into `core`, whose clock must be a ManualClock (the generator
 * moves it). Returns the manifest (also written to `dataDir`) and timing figures.
 */
export async function generateDemo(core: Core, clock: ManualClock, options: DemoOptions): Promise<DemoResult> {
  validateOptions(options);
  await assertEmpty(core);
  const startedAt = performance.now();
  const actor = options.actor ?? 'demo';
  const rng = new Random(options.seed);
  const end = addMonths(options.start, options.months);
  const totalDays = daysBetween(options.start, end);
  const currencies = options.currencies ?? DEFAULT_CURRENCIES;
  const plan = planCompany(rng.fork('plan'), options.customers, totalDays, currencies);
  const sim = rng.fork('simulation');
  // The collections desk's own stream, seeded apart: reminders, promises and disputes do not
  // shift any other draw, so orders, deliveries and payments are those of the seed as before.
  const desk = new Random(`${options.seed}:collections`);
  const settings = await getSettings(core.db.kysely);
  const tolerance = settings['payments.write_off_tolerance_minor'] - TOLERANCE_SAFETY;

  const profile = new Map<string, { count: number; ms: number }>();
  async function call<T>(name: string, fn: () => Promise<T>): Promise<T> {
    clock.advance(1000);
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const p = profile.get(name) ?? { count: 0, ms: 0 };
      p.count++;
      p.ms += performance.now() - t0;
      profile.set(name, p);
    }
  }

  const counts: DemoCounts = {
    customers: 0, customersJoinedLater: 0, products: 0, orders: 0, orderLines: 0, creditHolds: 0, holdsReleased: 0, holdsRejected: 0, creditLimitRaises: 0,
    backorderedOrders: 0, cancelledOrders: 0, purchaseOrders: 0, supplierDelays: 0, shipments: 0, partialShipments: 0, delayedDeliveries: 0,
    failedDeliveries: 0, invoices: 0, payments: 0, partialPayments: 0, shortPayments: 0, overpayments: 0, reversedPayments: 0, creditAppliedByHand: 0,
    disputes: 0, disputesOpened: 0, promises: 0, reminders: 0, disputeCreditNotes: 0, disputesConceded: 0, writeOffs: 0, badDebtWriteOffs: 0, customersStopped: 0, customersBlocked: 0,
  };

  const agenda = new Map<number, Task[]>();
  const schedule = (day: number, task: Task) => {
    if (day >= totalDays) return; // beyond the end: stays undone, as in any real snapshot
    const list = agenda.get(day);
    if (list) list.push(task);
    else agenda.set(day, [task]);
  };
  /** The same day, or the next business day when it falls on a weekend. */
  const businessDay = (day: number) => {
    let d = day;
    while (isWeekend(addDays(options.start, d))) d++;
    return d;
  };

  const customers: CustomerState[] = [];
  const products = new Map<string, ProductPlan & { launched: boolean; weeklyDemand: number; onOrder: number; soldThisWeek: number }>();
  const productsByCategory = new Map<string, string[]>();
  const fulfil = new Map<number, FulfilState>();
  const shipmentOrder = new Map<number, FulfilState>();

  // Expected weekly units per product at the start, from the customers' plans.
  const expected = new Map<string, number>();
  const catWeight = new Map<string, number>();
  for (const p of plan.products) if (p.launchDay === 0) catWeight.set(p.category.name, (catWeight.get(p.category.name) ?? 0) + p.weight);
  for (const c of plan.customers) {
    if (c.joinDay > 0) continue;
    const linesPerWeek = ((c.ordersPerMonth * 12) / 52) * 2.2;
    const wsum = c.categories.reduce((s, [, w]) => s + w, 0);
    for (const [cat, w] of c.categories) {
      for (const p of plan.products) {
        if (p.category !== cat || p.launchDay > 0) continue;
        const share = (w / wsum) * (p.weight / (catWeight.get(cat.name) ?? 1));
        expected.set(p.sku, (expected.get(p.sku) ?? 0) + linesPerWeek * share * p.lotSize * c.size * 1.08);
      }
    }
  }

  async function launchProduct(p: ProductPlan, day: number) {
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

  async function addCustomer(c: CustomerPlan, day: number) {
    const created = await call('createCustomer', () =>
      createCustomer(
        core,
        {
          name: c.name, country: c.country, segment: c.segment, currency: c.currency, paymentTermsDays: c.termsDays,
          creditLimit: formatAmount(c.creditLimitMinor, c.currency), email: c.email, iban: c.iban, externalId: c.key,
          salesRep: ['Anna', 'Ben', 'Chloé', 'David'][Number(c.key.slice(1)) % 4]!,
        },
        actor,
      ),
    );
    customers.push({ plan: c, id: created.id, rng: rng.fork(`life-${c.key}`), stopped: false, blocked: false });
    if (currencyExponent(c.currency) < 2) await wholeUnitPolicy(created.id, c.currency);
    counts.customers++;
    if (day > 0) counts.customersJoinedLater++;
  }

  /**
   * The standard dunning policy's letter fees (5.00, 10.00) have cents a yen does not: a
   * customer in a currency without them gets the policy with its fees by the price list,
   * in whole units (800 and 1600 yen).
   */
  const policies = new Set<string>();
  async function wholeUnitPolicy(customerId: number, currency: string) {
    const name = `standard-${currency.toLowerCase()}`;
    if (!policies.has(name)) {
      const standard = policyToJson(await getPolicy(core.db.kysely, settings['collections.default_policy']));
      const levels = standard.levels.map((l) => ({ ...l, fee: String(priceIn(parseAmount(String(l.fee), 'EUR'), currency) / 10 ** currencyExponent(currency)) }));
      await call('savePolicy', () => savePolicy(core, { name, levels }, `${actor}:collections`));
      policies.add(name);
    }
    await call('assignCustomer', () => assignCustomer(core, { customerId, policy: name }, `${actor}:collections`));
  }

  function trackFulfilment(order: Order, customer: CustomerState, day: number) {
    const lines = order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, shipped: l.shippedQty, reserved: l.reservedQty }));
    if (lines.some((l) => l.reserved + l.shipped < l.quantity)) counts.backorderedOrders++;
    fulfil.set(order.id, { orderId: order.id, customer, lines, readyDay: day + 1, sinceDay: day, shippedAny: false });
  }

  async function placeOrder(c: CustomerState, day: number, date: string) {
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
      trackFulfilment(submitted, c, day);
    } else {
      counts.creditHolds++;
      const limitHeld = submitted.credit.rules.some((x) => x.rule === 'within_limit' && !x.passed);
      schedule(businessDay(day + r.int(1, 3)), { kind: 'decide', orderId: draft.id, customer: c, limitHeld });
    }
  }

  async function decide(t: Extract<Task, { kind: 'decide' }>, day: number) {
    const c = t.customer;
    const h = c.plan.habit;
    const progress = c.plan.profile.turnDay !== null && day > c.plan.profile.turnDay ? 1 : 0;
    const pRelease = c.blocked || c.stopped ? 0 : { prompt: 0.97, steady_late: 0.85, seasonal: 0.9, dispute_prone: 0.8, erratic: 0.6, deteriorating: 0.75 - 0.4 * progress, stops_paying: 0.6 }[h];
    if (c.rng.chance(pRelease)) {
      const reason = t.limitHeld ? 'reliable customer; limit raised' : 'payment promised by phone; releasing';
      const released = await call('releaseOrder', () => releaseOrder(core, t.orderId, reason, `${actor}:credit`));
      counts.holdsReleased++;
      trackFulfilment(released, c, day);
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

  async function refreshWaiting(sku: string) {
    for (const f of fulfil.values()) {
      if (!f.lines.some((l) => l.sku === sku && l.reserved + l.shipped < l.quantity)) continue;
      const o = await call('getOrder', () => getOrder(core, f.orderId));
      f.lines = o.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, shipped: l.shippedQty, reserved: l.reservedQty }));
    }
  }

  async function ship(day: number, date: string) {
    for (const f of [...fulfil.values()]) {
      if (f.readyDay > day) continue;
      const reserved = f.lines.reduce((s, l) => s + l.reserved, 0);
      if (reserved === 0) {
        if (!f.shippedAny && day - f.sinceDay > 40) {
          await call('cancelOrder', () => cancelOrder(core, f.orderId, 'customer cancelled: backorder waited too long', actor));
          counts.cancelledOrders++;
          fulfil.delete(f.orderId);
        }
        continue;
      }
      const r = f.customer.rng;
      const shipment = await call('createShipment', () => createShipment(core, { orderId: f.orderId, carrier: r.pick(CARRIERS), trackingNumber: `${date.replaceAll('-', '')}${String(f.orderId).padStart(7, '0')}${f.shippedAny ? 'B' : 'A'}` }, `${actor}:warehouse`));
      counts.shipments++;
      for (const l of f.lines) {
        l.shipped += l.reserved;
        l.reserved = 0;
      }
      const complete = f.lines.every((l) => l.shipped >= l.quantity);
      if (!complete || f.shippedAny) counts.partialShipments++;
      f.shippedAny = true;
      if (complete) fulfil.delete(f.orderId);
      shipmentOrder.set(shipment.id, f);
      const normal = day + r.int(1, 3);
      const signedBy = r.pick(SIGNERS);
      if (r.chance(0.07)) {
        counts.delayedDeliveries++;
        schedule(normal, { kind: 'transit', shipmentId: shipment.id, note: r.pick(['delayed at hub', 'weather delay', 'customs hold']) });
        schedule(businessDay(normal + r.int(3, 10)), { kind: 'deliver', shipmentId: shipment.id, failFirst: false, signedBy });
      } else {
        schedule(businessDay(normal), { kind: 'deliver', shipmentId: shipment.id, failFirst: r.chance(0.04), signedBy });
      }
    }
  }

  async function deliver(t: Extract<Task, { kind: 'deliver' }>, day: number) {
    const f = shipmentOrder.get(t.shipmentId)!;
    const r = f.customer.rng;
    if (t.failFirst) {
      await call('updateShipmentStatus', () => updateShipmentStatus(core, t.shipmentId, 'failed', r.pick(['recipient absent', 'address not found', 'refused: wrong delivery window']), `${actor}:carrier`));
      counts.failedDeliveries++;
      schedule(businessDay(day + r.int(1, 3)), { ...t, failFirst: false });
      return;
    }
    const s = await call('deliverShipment', () => deliverShipment(core, t.shipmentId, { signedBy: t.signedBy }, `${actor}:carrier`));
    shipmentOrder.delete(t.shipmentId);
    if (!s.invoiceNumber) return;
    const [inv] = await call('invoiceBalances', () => invoiceBalances(core.db.kysely, { number: s.invoiceNumber! }));
    counts.invoices++;
    planPayment({ id: inv!.id, number: inv!.number, customer: f.customer, totalMinor: inv!.total_minor, dueDate: inv!.due_date, day }, day);
  }

  function planPayment(inv: InvoiceState, day: number) {
    const c = inv.customer;
    const p = c.plan.profile;
    const r = c.rng;
    const dueDay = daysBetween(options.start, inv.dueDate);
    const payDay = businessDay(Math.max(day + 1, dueDay + daysLate(p, r, inv.dueDate, day, totalDays)));
    if (r.chance(p.disputeRate)) {
      counts.disputes++;
      const disputed = Math.max(100, Math.round((inv.totalMinor * r.float(0.1, 0.4)) / 100) * 100);
      const fraction = (inv.totalMinor - disputed) / inv.totalMinor;
      schedule(payDay, { kind: 'pay', invoice: inv, mode: 'part', fraction });
      const settle: Extract<Task, { kind: 'dispute' }> = { kind: 'dispute', invoice: inv, amountMinor: disputed, concede: r.chance(0.15) };
      schedule(businessDay(payDay + r.int(15, 45)), settle);
      // The customer pays what it does not contest, then raises the rest with the collections
      // desk (a payment naming an invoice under dispute is not applied to it).
      schedule(businessDay(payDay + desk.int(1, 5)), { kind: 'open_dispute', invoice: inv, amountMinor: disputed, settle });
      return;
    }
    const mode = r.weighted<PayMode>([['part', p.partialRate], ['short', p.shortRate], ['over', p.overRate], ['full', 1 - p.partialRate - p.shortRate - p.overRate]]);
    schedule(payDay, { kind: 'pay', invoice: inv, mode, fraction: mode === 'part' ? r.float(0.3, 0.7) : undefined });
    // A late payer chased after the due date often promises a date: mostly the day it will
    // really pay, sometimes an earlier one it will not keep.
    if (payDay > dueDay + 7 && desk.chance(0.3)) {
      const promiseDay = businessDay(Math.max(day + 1, dueDay + desk.int(3, 10)));
      if (promiseDay < payDay) {
        const promised = desk.chance(0.75) ? payDay : Math.max(promiseDay + 1, payDay - desk.int(5, 15));
        schedule(promiseDay, { kind: 'promise', invoice: inv, date: addDays(options.start, promised) });
      }
    }
    if (mode === 'part') schedule(businessDay(payDay + r.int(10, 40)), { kind: 'pay', invoice: inv, mode: 'full' });
  }

  /** One receipt: amount, the invoices it names, and what happens to it afterwards. */
  async function receive(c: CustomerState, items: { inv: InvoiceState; amountMinor: number }[], day: number, extraMinor = 0) {
    const amount = items.reduce((s, x) => s + x.amountMinor, 0) + extraMinor;
    if (amount <= 0) return null;
    const payment = await call('recordPayment', () =>
      recordPayment(core, { customerId: c.id, amount: formatAmount(amount, c.plan.currency), reference: items.map((x) => x.inv.number).join(' '), payer: c.plan.name, method: 'bank_transfer' }, `${actor}:bank`),
    );
    counts.payments++;
    if (c.rng.chance(c.plan.profile.bounceRate)) schedule(businessDay(day + c.rng.int(2, 5)), { kind: 'bounce', paymentId: payment.id, customer: c, invoices: items.map((x) => x.inv) });
    return payment;
  }

  async function balances(invoices: InvoiceState[]) {
    const rows = await call('invoiceBalances', () => invoiceBalances(core.db.kysely, { invoiceIds: invoices.map((i) => i.id) }));
    return new Map(rows.map((r) => [r.id, r.balance_minor]));
  }

  async function payDay(tasks: Extract<Task, { kind: 'pay' }>[], day: number) {
    // Group by customer: one transfer settles every invoice a customer pays in full that day.
    const byCustomer = new Map<CustomerState, Extract<Task, { kind: 'pay' }>[]>();
    for (const t of tasks) {
      if (t.invoice.customer.stopped) continue;
      const list = byCustomer.get(t.invoice.customer) ?? [];
      list.push(t);
      byCustomer.set(t.invoice.customer, list);
    }
    for (const [c, list] of byCustomer) {
      const bal = await balances(list.map((t) => t.invoice));
      const full: { inv: InvoiceState; amountMinor: number }[] = [];
      for (const t of list) {
        const open = bal.get(t.invoice.id) ?? 0;
        if (open <= 0) continue;
        if (t.mode === 'full') {
          full.push({ inv: t.invoice, amountMinor: open });
        } else if (t.mode === 'part') {
          const amountMinor = Math.max(1, Math.min(open - 1, Math.round(t.invoice.totalMinor * (t.fraction ?? 0.5))));
          if (amountMinor <= 0 || amountMinor >= open) full.push({ inv: t.invoice, amountMinor: open });
          else if (await receive(c, [{ inv: t.invoice, amountMinor }], day)) counts.partialPayments++;
        } else if (t.mode === 'short') {
          const short = c.rng.int(10, Math.max(10, tolerance - 1));
          if (open <= short + 100) full.push({ inv: t.invoice, amountMinor: open });
          else {
            await receive(c, [{ inv: t.invoice, amountMinor: open - short }], day);
            counts.shortPayments++;
            schedule(businessDay(day + c.rng.int(5, 15)), { kind: 'writeoff', invoices: [t.invoice] });
          }
        } else {
          const extra = c.rng.chance(0.3) ? open : Math.round(c.rng.float(1, 250)) * 100; // paid twice, or rounded up
          await receive(c, [{ inv: t.invoice, amountMinor: open }], day, extra);
          counts.overpayments++;
        }
      }
      if (full.length) await receive(c, full, day);
    }
  }

  async function bounce(t: Extract<Task, { kind: 'bounce' }>, day: number) {
    const c = t.customer;
    await call('reversePayment', () => reversePayment(core, t.paymentId, c.rng.pick(['returned by the bank: insufficient funds', 'direct debit returned (AC04 account closed)', 'cheque bounced']), `${actor}:bank`));
    counts.reversedPayments++;
    // Credit the customer still has (an earlier overpayment) goes onto the re-opened invoices.
    const credit = await call('unappliedPayments', () => unappliedPayments(core.db.kysely, c.id));
    if (credit.length) {
      const bal = await balances(t.invoices);
      for (const inv of t.invoices) {
        for (const p of credit) {
          const open = bal.get(inv.id) ?? 0;
          const amount = Math.min(open, p.unapplied_minor);
          if (amount <= 0) continue;
          await call('applyPaymentToInvoice', () => applyPaymentToInvoice(core, { paymentId: p.id, invoice: inv.number, amount: formatAmount(amount, c.plan.currency) }, `${actor}:ar`));
          counts.creditAppliedByHand++;
          p.unapplied_minor -= amount;
          bal.set(inv.id, open - amount);
        }
      }
    }
    for (const inv of t.invoices) schedule(businessDay(day + c.rng.int(7, 20)), { kind: 'pay', invoice: inv, mode: 'full' });
  }

  async function writeOff(t: Extract<Task, { kind: 'writeoff' }>) {
    const bal = await balances(t.invoices);
    for (const inv of t.invoices) {
      const open = bal.get(inv.id) ?? 0;
      if (open <= 0 || open > tolerance) continue;
      await call('writeOffInvoice', () => writeOffInvoice(core, inv.number, 'bank charges deducted by the customer', `${actor}:ar`));
      counts.writeOffs++;
    }
  }

  async function settleDispute(t: Extract<Task, { kind: 'dispute' }>, day: number) {
    const c = t.invoice.customer;
    if (c.stopped) return;
    const open = (await balances([t.invoice])).get(t.invoice.id) ?? 0;
    if (open <= 0) return;
    if (t.concede) {
      counts.disputesConceded++;
      if (t.disputeId !== undefined) await call('resolveDispute', () => resolveDispute(core, t.disputeId!, { outcome: 'reject', note: 'delivery note signed without remarks: the customer pays in full' }, `${actor}:collections`));
      schedule(day, { kind: 'pay', invoice: t.invoice, mode: 'full' });
      return;
    }
    if (t.disputeId !== undefined) {
      await call('resolveDispute', () => resolveDispute(core, t.disputeId!, { outcome: 'credit', amount: formatAmount(Math.min(open, t.amountMinor), c.plan.currency), note: `settled: ${c.rng.pick(DISPUTE_REASONS)}` }, `${actor}:collections`));
      counts.disputeCreditNotes++;
      if (open > t.amountMinor) schedule(businessDay(day + c.rng.int(3, 15)), { kind: 'pay', invoice: t.invoice, mode: 'full' });
      return;
    }
    await call('createCreditNote', () => createCreditNote(core, { invoice: t.invoice.number, amount: formatAmount(Math.min(open, t.amountMinor), c.plan.currency), reason: `dispute settled: ${c.rng.pick(DISPUTE_REASONS)}`, kind: 'dispute' }, `${actor}:ar`));
    counts.disputeCreditNotes++;
    if (open > t.amountMinor) schedule(businessDay(day + c.rng.int(3, 15)), { kind: 'pay', invoice: t.invoice, mode: 'full' });
  }

  async function raiseDispute(t: Extract<Task, { kind: 'open_dispute' }>) {
    const open = (await balances([t.invoice])).get(t.invoice.id) ?? 0;
    if (open < t.amountMinor) return; // paid meanwhile: the dispute ends in a credit note only
    const d = await call('openDispute', () => openDispute(core, { invoice: t.invoice.number, reason: desk.pick(DISPUTE_REASONS), amount: formatAmount(t.amountMinor, t.invoice.customer.plan.currency) }, `${actor}:collections`));
    t.settle.disputeId = d.id;
    counts.disputesOpened++;
  }

  async function promise(t: Extract<Task, { kind: 'promise' }>) {
    const open = (await balances([t.invoice])).get(t.invoice.id) ?? 0;
    if (open <= 0) return;
    await call('recordPromise', () => recordPromise(core, { customerId: t.invoice.customer.id, invoices: [t.invoice.number], date: t.date, promisedBy: 'accounts payable, by phone' }, `${actor}:collections`));
    counts.promises++;
  }

  /** Monday morning at the collections desk: promises due are judged, then the reminder run. */
  async function collectionsRun(date: string) {
    await call('resolvePromises', () => resolvePromises(core, date, `${actor}:collections`));
    const run = await call('runReminders', () => runReminders(core, `${actor}:collections`, { asOf: date, send: false }));
    counts.reminders += run.messages.length;
  }

  async function purchase(day: number, date: string) {
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

  // --- the days ------------------------------------------------------------------------
  const joiners = new Map<number, CustomerPlan[]>();
  for (const c of plan.customers) joiners.set(c.joinDay, [...(joiners.get(c.joinDay) ?? []), c]);
  const launches = new Map<number, ProductPlan[]>();
  for (const p of plan.products) launches.set(p.launchDay, [...(launches.get(p.launchDay) ?? []), p]);

  for (let day = 0; day < totalDays; day++) {
    const date = addDays(options.start, day);
    clock.set(`${date}T07:00:00.000Z`);
    for (const p of launches.get(day) ?? []) await launchProduct(p, day);
    for (const c of joiners.get(day) ?? []) await addCustomer(c, day);
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
    for (const sku of received) await refreshWaiting(sku);
    for (const t of tasks) {
      if (t.kind === 'open_dispute') await raiseDispute(t);
      else if (t.kind === 'promise') await promise(t);
    }
    for (const t of tasks) {
      if (t.kind === 'decide') await decide(t, day);
      else if (t.kind === 'transit') await call('updateShipmentStatus', () => updateShipmentStatus(core, t.shipmentId, 'in_transit', t.note, `${actor}:carrier`));
      else if (t.kind === 'deliver') await deliver(t, day);
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
        if (c.rng.chance(1 - Math.exp(-rate))) await placeOrder(c, day, date);
      }
      await ship(day, date);
      if (new Date(`${date}T00:00:00Z`).getUTCDay() === 1 || day === 0) await purchase(day, date);
      if (new Date(`${date}T00:00:00Z`).getUTCDay() === 1) await collectionsRun(date);
    }
    for (const t of tasks) {
      if (t.kind === 'bounce') await bounce(t, day);
      else if (t.kind === 'writeoff') await writeOff(t);
      else if (t.kind === 'dispute') await settleDispute(t, day);
    }
    // Dispute concessions scheduled for today land in the agenda again: take them too.
    const late = agenda.get(day) ?? [];
    agenda.delete(day);
    await payDay([...tasks, ...late].filter((t): t is Extract<Task, { kind: 'pay' }> => t.kind === 'pay'), day);
    options.onProgress?.(day + 1, totalDays, counts.orders);
  }

  const seconds = (performance.now() - startedAt) / 1000;
  clock.set(`${addDays(end, -1)}T20:00:00.000Z`);
  const manifest = await buildManifest(core, { seed: options.seed, customers: options.customers, months: options.months, start: options.start, end: addDays(end, -1) }, plan, customers.map((c) => ({ key: c.plan.key, id: c.id })), counts, currencies);
  if (options.dataDir) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    fs.writeFileSync(path.join(options.dataDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return {
    manifest,
    seconds,
    ordersPerSecond: counts.orders / Math.max(seconds, 1e-9),
    profile: [...profile.entries()].map(([call, p]) => ({ call, count: p.count, totalMs: Math.round(p.ms), meanMs: Math.round((p.ms / p.count) * 100) / 100 })).sort((a, b) => b.totalMs - a.totalMs),
  };
}
