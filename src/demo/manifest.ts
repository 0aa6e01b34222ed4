import type { Core } from '../core.ts';
import { addDays, daysBetween } from '../shared/dates.ts';
import { invoiceBalances, unappliedPayments } from '../invoicing/invoice.repository.ts';
import type { CompanyPlan } from './company.ts';
import type { CurrencyMix } from './currencies.ts';
import { HABITS, HABIT_TEXT, type Habit } from './habits.ts';

/** What the simulation did, counted as it went (the generator fills it, the manifest records it). */
export interface DemoCounts {
  customers: number;
  customersJoinedLater: number;
  products: number;
  orders: number;
  orderLines: number;
  creditHolds: number;
  holdsReleased: number;
  holdsRejected: number;
  creditLimitRaises: number;
  backorderedOrders: number;
  cancelledOrders: number;
  purchaseOrders: number;
  supplierDelays: number;
  shipments: number;
  partialShipments: number;
  delayedDeliveries: number;
  failedDeliveries: number;
  invoices: number;
  payments: number;
  partialPayments: number;
  shortPayments: number;
  overpayments: number;
  reversedPayments: number;
  creditAppliedByHand: number;
  disputes: number;
  /** Disputes the customer raised with the collections desk (the rest are settled by credit note only). */
  disputesOpened: number;
  /** Promises to pay customers made for late invoices. */
  promises: number;
  /** Reminder letters the Monday reminder runs wrote to the outbox. */
  reminders: number;
  disputeCreditNotes: number;
  disputesConceded: number;
  writeOffs: number;
  badDebtWriteOffs: number;
  customersStopped: number;
  customersBlocked: number;
}

/** The books of one currency, in its minor units. */
export interface DemoTotals {
  invoicedMinor: number;
  creditNotesMinor: number;
  allocatedMinor: number;
  writtenOffMinor: number;
  receivedMinor: number;
  unappliedMinor: number;
  openArMinor: number;
}

/** File name of the manifest in the data directory. */
export const MANIFEST_FILE = 'demo-manifest.json';

/**
 * What the generator made, for people and for tests: the parameters, every customer's
 * payment habit (the ground truth a credit score or payment-date model is judged against),
 * the counts of every phenomenon, the totals of the books and whether they balance.
 * Deterministic for a seed: it holds no wall-clock time.
 */
export interface DemoManifest {
  generator: 'cashloop demo generate';
  version: 1;
  seed: number;
  customers: number;
  months: number;
  start: string;
  end: string;
  /** The company's currency (the catalogue's prices); `totals` and `books` are in it. */
  currency: 'EUR';
  /** The customers' currencies and their shares, as given to `--currencies`. */
  currencies: Record<string, number>;
  habits: Record<Habit, string>;
  counts: DemoCounts;
  database: Record<'customers' | 'products' | 'orders' | 'shipments' | 'invoices' | 'creditNotes' | 'payments' | 'reversedPayments' | 'writeOffs' | 'events', number>;
  totals: DemoTotals;
  /** invoiced − credit notes − active allocations − write-offs = open AR (from invoice balances). */
  books: { balanced: boolean; differenceMinor: number };
  /** The same totals and books for each currency customers buy in (minor units of that currency). */
  byCurrency: Record<string, { customers: number; totals: DemoTotals; books: { balanced: boolean; differenceMinor: number } }>;
  /** Per habit: customers, paid invoices, mean days paid after the due date, what is still open (EUR invoices only). */
  byHabit: Record<Habit, { customers: number; paidInvoices: number; meanDaysLate: number | null; openArMinor: number }>;
  customerHabits: {
    customerId: string;
    id: number;
    name: string;
    segment: string;
    country: string;
    habit: Habit;
    paymentTermsDays: number;
    /** Deteriorating: when it starts; stops_paying: the last day anything is paid. */
    turnDate: string | null;
    joinDate: string;
  }[];
}

async function count(core: Core, table: 'customers' | 'products' | 'orders' | 'shipments' | 'invoices' | 'credit_notes' | 'payments' | 'write_offs' | 'events', where?: [string, string]): Promise<number> {
  let q = core.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  if (where) q = q.where(where[0] as any, '=', where[1]);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

async function sum(core: Core, table: 'invoices' | 'credit_notes' | 'write_offs' | 'payments' | 'payment_allocations', column: 'total_minor' | 'amount_minor', currency: string, filter?: 'active'): Promise<number> {
  const db = core.db.kysely;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let q = db.selectFrom(table as any).select((eb: any) => eb.fn.coalesce(eb.fn.sum(column), eb.lit(0)).as('s'));
  if (filter === 'active') q = table === 'payments' ? q.where('status', '=', 'received') : q.where('reversed', '=', 0);
  // Allocations and write-offs are in their invoice's currency.
  if (table === 'payment_allocations' || table === 'write_offs') q = q.where('invoice_id', 'in', db.selectFrom('invoices').select('id').where('currency', '=', currency));
  else q = q.where('currency', '=', currency);
  const row = (await q.executeTakeFirstOrThrow()) as { s: number | string };
  return Number(row.s);
}

/** Reads the books back from the database and assembles the manifest. */
export async function buildManifest(
  core: Core,
  params: { seed: number; customers: number; months: number; start: string; end: string },
  plan: CompanyPlan,
  ids: { key: string; id: number }[],
  counts: DemoCounts,
  mix: CurrencyMix,
): Promise<DemoManifest> {
  const idByKey = new Map(ids.map((x) => [x.key, x.id]));
  const habitById = new Map<number, Habit>();
  for (const c of plan.customers) {
    const id = idByKey.get(c.key);
    if (id !== undefined) habitById.set(id, c.habit);
  }
  const balances = await invoiceBalances(core.db.kysely);
  const byHabit = Object.fromEntries(HABITS.map((h) => [h, { customers: 0, paidInvoices: 0, meanDaysLate: null as number | null, openArMinor: 0, lateSum: 0 }]));
  for (const h of habitById.values()) byHabit[h]!.customers++;
  const currencyById = new Map<number, string>();
  for (const c of plan.customers) {
    const id = idByKey.get(c.key);
    if (id !== undefined) currencyById.set(id, c.currency);
  }
  const currencies = [...new Set(['EUR', ...plan.customers.map((c) => c.currency)])].sort();
  const openAr = new Map<string, number>(currencies.map((c) => [c, 0]));
  for (const b of balances) {
    const h = habitById.get(b.customer_id);
    if (b.balance_minor > 0) openAr.set(b.currency, (openAr.get(b.currency) ?? 0) + b.balance_minor);
    if (!h) continue;
    const entry = byHabit[h]!;
    if (b.balance_minor > 0 && b.currency === 'EUR') entry.openArMinor += b.balance_minor;
    if (b.status === 'paid' && b.settled_date && b.paid_minor > 0) {
      entry.paidInvoices++;
      entry.lateSum += daysBetween(b.due_date, b.settled_date);
    }
  }
  const unapplied = new Map<string, number>();
  for (const id of habitById.keys()) {
    for (const p of await unappliedPayments(core.db.kysely, id)) unapplied.set(p.currency, (unapplied.get(p.currency) ?? 0) + p.unapplied_minor);
  }
  const byCurrency: DemoManifest['byCurrency'] = {};
  for (const currency of currencies) {
    const totals: DemoTotals = {
      invoicedMinor: await sum(core, 'invoices', 'total_minor', currency),
      creditNotesMinor: await sum(core, 'credit_notes', 'amount_minor', currency),
      allocatedMinor: await sum(core, 'payment_allocations', 'amount_minor', currency, 'active'),
      writtenOffMinor: await sum(core, 'write_offs', 'amount_minor', currency),
      receivedMinor: await sum(core, 'payments', 'amount_minor', currency, 'active'),
      unappliedMinor: unapplied.get(currency) ?? 0,
      openArMinor: openAr.get(currency) ?? 0,
    };
    const difference = totals.invoicedMinor - totals.creditNotesMinor - totals.allocatedMinor - totals.writtenOffMinor - totals.openArMinor;
    byCurrency[currency] = { customers: [...currencyById.values()].filter((c) => c === currency).length, totals, books: { balanced: difference === 0, differenceMinor: difference } };
  }
  const { totals, books } = byCurrency.EUR!;
  return {
    generator: 'cashloop demo generate',
    version: 1,
    ...params,
    currency: 'EUR',
    currencies: Object.fromEntries(mix),
    habits: HABIT_TEXT,
    counts,
    database: {
      customers: await count(core, 'customers'),
      products: await count(core, 'products'),
      orders: await count(core, 'orders'),
      shipments: await count(core, 'shipments'),
      invoices: await count(core, 'invoices'),
      creditNotes: await count(core, 'credit_notes'),
      payments: await count(core, 'payments'),
      reversedPayments: await count(core, 'payments', ['status', 'reversed']),
      writeOffs: await count(core, 'write_offs'),
      events: await count(core, 'events'),
    },
    totals,
    books: { balanced: Object.values(byCurrency).every((c) => c.books.balanced), differenceMinor: books.differenceMinor },
    byCurrency,
    byHabit: Object.fromEntries(
      HABITS.map((h) => {
        const e = byHabit[h]!;
        return [h, { customers: e.customers, paidInvoices: e.paidInvoices, meanDaysLate: e.paidInvoices ? Math.round((e.lateSum / e.paidInvoices) * 10) / 10 : null, openArMinor: e.openArMinor }];
      }),
    ) as DemoManifest['byHabit'],
    customerHabits: plan.customers
      .filter((c) => idByKey.has(c.key))
      .map((c) => ({
        customerId: c.key,
        id: idByKey.get(c.key)!,
        name: c.name,
        segment: c.segment,
        country: c.country,
        habit: c.habit,
        paymentTermsDays: c.termsDays,
        turnDate: c.profile.turnDay === null ? null : addDays(params.start, c.profile.turnDay),
        joinDate: addDays(params.start, c.joinDay),
      })),
  };
}
