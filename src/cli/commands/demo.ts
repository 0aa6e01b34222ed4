import path from 'node:path';
import type { Command } from 'commander';
import { openCore, closeCore } from '../../core.ts';
import { dataDir } from '../../db/connection.ts';
import { ManualClock } from '../../shared/clock.ts';
import { invalid } from '../../shared/errors.ts';
import { amount as formatAmount } from '../format.ts';
import { generateDemo, validateOptions, type DemoResult } from '../../demo/generator.ts';
import { exportCanonical } from '../../demo/export.ts';
import { HABITS } from '../../demo/habits.ts';
import { DEFAULT_CURRENCIES, parseCurrencyMix, type CurrencyMix } from '../../demo/currencies.ts';
import { MANIFEST_FILE } from '../../demo/manifest.ts';
import { withCore } from '../context.ts';
import { emit, table } from '../output.ts';
import { progressBar } from '../progress.ts';

function wholeNumber(name: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value.trim())) throw invalid(`--${name} must be a whole number, got ${JSON.stringify(value)}`, { field: name, value, rule: 'integer' });
    return Number(value);
  };
}

/**
 * Progress of the simulation: the bar on a terminal; piped or in CI, a plain line to stderr
 * every 30 simulated days (and the last), so a log shows the run is alive and how far it is.
 */
export function demoProgress(terminal = process.stderr.isTTY === true, write = (line: string) => process.stderr.write(`${line}\n`)): { update(day: number, total: number, orders: number): void; stop(): void } {
  if (terminal) {
    const bar = progressBar(true);
    return { update: (day, total) => bar.update('simulating days', day, total), stop: () => bar.stop() };
  }
  const started = performance.now();
  return {
    update(day, total, orders) {
      if (day % 30 !== 0 && day !== total) return;
      const seconds = (performance.now() - started) / 1000;
      write(`simulating days: ${day}/${total} (${Math.floor((day / total) * 100)} %), ${orders} orders, ${seconds.toFixed(0)} s`);
    },
    stop() {},
  };
}

/** The summary a new user reads at the end: size, what happened, the books, the habits. */
export function summaryText(r: DemoResult, location: string, manifestPath: string): string {
  const m = r.manifest;
  const c = m.counts;
  const t = m.totals;
  const lines = [
    `demo company generated: seed ${m.seed}, ${m.customers} customers, ${m.months} months (${m.start} … ${m.end})`,
    `database: ${location}`,
    `time: ${r.seconds.toFixed(1)} s, ${c.orders} orders, ${r.ordersPerSecond.toFixed(0)} orders/s, ${m.database.events} events`,
    '',
    'what it contains:',
    `  customers        ${c.customers} (${c.customersJoinedLater} joined during the period), ${c.customersStopped} stopped paying, ${c.customersBlocked} blocked, ${c.badDebtWriteOffs} invoices written off as bad debt`,
    `  products         ${c.products} in 6 categories with trend and seasonality; ${c.purchaseOrders} purchase orders (${c.supplierDelays} late from the supplier)`,
    `  orders           ${c.orders} with ${c.orderLines} lines; ${c.backorderedOrders} backordered, ${c.cancelledOrders} cancelled after waiting`,
    `  credit           ${c.creditHolds} holds: ${c.holdsReleased} released, ${c.holdsRejected} rejected; ${c.creditLimitRaises} limits raised`,
    `  shipping         ${c.shipments} shipments, ${c.partialShipments} partial; ${c.delayedDeliveries} delayed, ${c.failedDeliveries} failed first attempts`,
    `  invoices         ${m.database.invoices} (at delivery); ${c.disputes} disputed → ${c.disputeCreditNotes} dispute credit notes, ${c.disputesConceded} paid after all`,
    `  collections      ${c.reminders} reminders (Monday runs), ${c.promises} promises to pay, ${c.disputesOpened} disputes raised with the desk`,
    `  payments         ${m.database.payments}: ${c.partialPayments} partial, ${c.shortPayments} short (→ ${c.writeOffs} small write-offs), ${c.overpayments} overpayments, ${c.reversedPayments} bounced and reversed`,
    '',
    ...Object.entries(m.byCurrency ?? { EUR: { customers: m.customers, totals: t, books: m.books } }).flatMap(([currency, b]) => {
      const money = (minor: number) => `${formatAmount(minor, currency)} ${currency}`;
      return [
        `the books (${currency}, ${b.customers} customer${b.customers === 1 ? '' : 's'}):`,
        `  invoiced ${money(b.totals.invoicedMinor)} − credit notes ${money(b.totals.creditNotesMinor)} − paid ${money(b.totals.allocatedMinor)} − written off ${money(b.totals.writtenOffMinor)}`,
        `  = open receivables ${money(b.totals.openArMinor)}  ${b.books.balanced ? '(balanced)' : `(DOES NOT BALANCE by ${money(b.books.differenceMinor)})`}`,
        `  unapplied cash ${money(b.totals.unappliedMinor)}`,
      ];
    }),
    '',
    'payment habits (the ground truth for credit scores and payment-date forecasts):',
    table(
      HABITS.map((h) => ({
        habit: h,
        customers: m.byHabit[h].customers,
        'paid invoices': m.byHabit[h].paidInvoices,
        'mean days after due': m.byHabit[h].meanDaysLate ?? '-',
        'open AR (EUR)': formatAmount(m.byHabit[h].openArMinor, 'EUR'),
      })),
    ),
    '',
    `manifest (parameters, every customer's habit, counts): ${manifestPath}`,
    'next: cashloop invoice list --open · cashloop credit holds · cashloop demo export DIR',
  ];
  return lines.join('\n');
}

export function registerDemo(program: Command): void {
  const demo = program.command('demo').description('demo company: generate years of history through the core, export it as a canonical extract');
  demo
    .command('generate')
    .description('generate a demo company into an EMPTY database by driving the core services day by day')
    .option('--seed <n>', 'random seed: the same seed gives the same company', wholeNumber('seed'), 42)
    .option('--customers <n>', 'number of customers', wholeNumber('customers'), 200)
    .option('--months <n>', 'months of history', wholeNumber('months'), 24)
    .option('--start <date>', 'first day of the history (YYYY-MM-DD)', '2024-01-01')
    .option('--currencies <mix>', "customers' currencies and shares, e.g. EUR:70,USD:20,JPY:10 (prices by each currency's price list and decimals)", (v: string) => parseCurrencyMix(v), DEFAULT_CURRENCIES)
    .option('--profile', 'also print where the time went, per core service')
    .option('--json')
    .action(async (o: { seed: number; customers: number; months: number; start: string; currencies: CurrencyMix; profile?: boolean; json?: boolean }) => {
      validateOptions(o);
      const clock = new ManualClock(`${o.start}T07:00:00Z`);
      const core = await openCore({ clock });
      const dir = dataDir();
      const bar = o.json ? { update() {}, stop() {} } : demoProgress();
      try {
        const result = await generateDemo(core, clock, {
          seed: o.seed, customers: o.customers, months: o.months, start: o.start, currencies: o.currencies, dataDir: dir,
          actor: 'demo',
          onProgress: (day, total, orders) => bar.update(day, total, orders),
        });
        bar.stop();
        const manifestPath = path.join(dir, MANIFEST_FILE);
        emit({ ...result.manifest, seconds: result.seconds, ordersPerSecond: result.ordersPerSecond, ...(o.profile ? { profile: result.profile } : {}) }, o, () =>
          [summaryText(result, core.db.location, manifestPath), ...(o.profile ? ['', 'time per core service call:', table(result.profile)] : [])].join('\n'),
        );
      } finally {
        bar.stop();
        await closeCore(core);
      }
    });
  demo
    .command('export')
    .description('write customers, products, order lines, invoices and payments as canonical-extract CSV files (docs/extract.md)')
    .argument('<dir>', 'folder to write the CSV files into')
    .option('--json')
    .action(async (dir: string, o: { json?: boolean }) =>
      withCore(async (core) => {
        const summary = await exportCanonical(core, dir);
        emit(summary, o, (s) => [`canonical extract written to ${s.dir}`, table(s.files), `load it into an empty database with: cashloop import folder ${dir}`].join('\n'));
      }),
    );
}
