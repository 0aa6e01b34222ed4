import type { Core } from '../core.ts';
import type { ManualClock } from '../shared/clock.ts';
import { addDays } from '../shared/dates.ts';
import type { Settings } from '../settings/settings.service.ts';
import { Random } from './random.ts';
import { type CompanyPlan, type CustomerPlan, type ProductPlan } from './company.ts';
import type { DemoCounts } from './manifest.ts';

/**
 * The state of a simulation and what every task shares: the core and its clock, the
 * agenda of future tasks, the random streams, the company's customers, products, open
 * orders and shipments, and the counts the manifest reports. Tasks (catalog.ts,
 * customers.ts, orders.ts, shipping.ts, payments.ts, collections.ts under tasks/) take it
 * as their first argument; the day loop (simulation.ts) runs them in the order of a day.
 */
export const TOLERANCE_SAFETY = 0; // write-offs stay strictly within the core's tolerance setting

export interface CustomerState {
  plan: CustomerPlan;
  id: number;
  rng: Random;
  stopped: boolean;
  blocked: boolean;
}

export interface LineState {
  sku: string;
  quantity: number;
  shipped: number;
  reserved: number;
}

export interface FulfilState {
  orderId: number;
  customer: CustomerState;
  lines: LineState[];
  readyDay: number;
  sinceDay: number;
  shippedAny: boolean;
}

export interface InvoiceState {
  id: number;
  number: string;
  customer: CustomerState;
  totalMinor: number;
  dueDate: string;
  day: number;
}

export type PayMode = 'full' | 'part' | 'short' | 'over';

export type Task =
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

export const SIGNERS = ['M. Weber', 'A. Janssen', 'C. Dubois', 'L. Rossi', 'K. Nowak', 'P. García', 'S. Keller', 'R. Peeters', 'goods receipt', 'front desk'];
export const DISPUTE_REASONS = ['damaged goods on arrival', 'price differs from the agreed quote', 'short delivery claimed', 'quality complaint', 'late delivery penalty'];
export const CARRIERS = ['DHL', 'DPD', 'UPS', 'GLS', 'DB Schenker'];

export const isWeekend = (date: string) => {
  const wd = new Date(`${date}T00:00:00Z`).getUTCDay();
  return wd === 0 || wd === 6;
};

export type ProductState = ProductPlan & { launched: boolean; weeklyDemand: number; onOrder: number; soldThisWeek: number };

export interface SimulationOptions {
  start: string;
}

export interface Simulation {
  core: Core;
  clock: ManualClock;
  options: SimulationOptions;
  actor: string;
  totalDays: number;
  /** The root stream (customers' life streams are forked from it as they join), the simulation's own, the collections desk's. */
  rng: Random;
  sim: Random;
  desk: Random;
  settings: Settings;
  tolerance: number;
  counts: DemoCounts;
  agenda: Map<number, Task[]>;
  schedule(day: number, task: Task): void;
  /** The same day, or the next business day when it falls on a weekend. */
  businessDay(day: number): number;
  /** Calls a core service: the clock moves one second, and the call's time is profiled. */
  call<T>(name: string, fn: () => Promise<T>): Promise<T>;
  profile: Map<string, { count: number; ms: number }>;
  customers: CustomerState[];
  products: Map<string, ProductState>;
  productsByCategory: Map<string, string[]>;
  fulfil: Map<number, FulfilState>;
  shipmentOrder: Map<number, FulfilState>;
  /** Expected weekly units per product at the start, from the customers' plans. */
  expected: Map<string, number>;
  /** Dunning policies made for currencies without cents. */
  policies: Set<string>;
}

export function newSimulation(core: Core, clock: ManualClock, init: { start: string; actor: string; totalDays: number; rng: Random; sim: Random; desk: Random; settings: Settings; plan: CompanyPlan }): Simulation {
  const { start, totalDays, plan } = init;
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
  const businessDay = (day: number) => {
    let d = day;
    while (isWeekend(addDays(start, d))) d++;
    return d;
  };

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

  return {
    core, clock, options: { start }, actor: init.actor, totalDays, rng: init.rng, sim: init.sim, desk: init.desk, settings: init.settings,
    tolerance: init.settings['payments.write_off_tolerance_minor'] - TOLERANCE_SAFETY, counts, agenda, schedule, businessDay, call, profile,
    customers: [], products: new Map(), productsByCategory: new Map(), fulfil: new Map(), shipmentOrder: new Map(), expected, policies: new Set(),
  };
}
