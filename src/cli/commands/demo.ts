import path from 'node:path';
import type { Command } from 'commander';
import { openCore, closeCore } from '../../core.ts';
import { dataDir } from '../../db/connection.ts';
import { ManualClock } from '../../shared/clock.ts';
import { invalid } from '../../shared/errors.ts';
import { formatAmount } from '../../shared/money.ts';
import { generateDemo, validateOptions, type DemoResult } from '../../demo/generator.ts';
import { exportCanonical } from '../../demo/export.ts';
import { HABITS } from '../../demo/habits.ts';
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

const eur = (minor: number) => `${formatAmount(minor, 'EUR')} EUR`;

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
    `  payments         ${m.database.payments}: ${c.partialPayments} partial, ${c.shortPayments} short (→ ${c.writeOffs} small write-offs), ${c.overpayments} overpayments, ${c.reversedPayments} bounced and reversed`,
    '',
    'the books (EUR):',
    `  invoiced ${eur(t.invoicedMinor)} − credit notes ${eur(t.creditNotesMinor)} − paid ${eur(t.allocatedMinor)} − written off ${eur(t.writtenOffMinor)}`,
    `  = open receivables ${eur(t.openArMinor)}  ${m.books.balanced ? '(balanced)' : `(DOES NOT BALANCE by ${eur(m.books.differenceMinor)})`}`,
    `  unapplied cash ${eur(t.unappliedMinor)}`,
    '',
    'payment habits (the ground truth for credit scores and payment-date forecasts):',
    table(
      HABITS.map((h) => ({
        habit: h,
        customers: m.byHabit[h].customers,
        'paid invoices': m.byHabit[h].paidInvoices,
        'mean days after due': m.byHabit[h].meanDaysLate ?? '-',
        'open AR': formatAmount(m.byHabit[h].openArMinor, 'EUR'),
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
    .option('--profile', 'also print where the time went, per core service')
    .option('--json')
    .action(async (o: { seed: number; customers: number; months: number; start: string; profile?: boolean; json?: boolean }) => {
      validateOptions(o);
      const clock = new ManualClock(`${o.start}T07:00:00Z`);
      const core = await openCore({ clock });
      const dir = dataDir();
      const bar = progressBar(!o.json && process.stderr.isTTY === true);
      try {
        const result = await generateDemo(core, clock, {
          seed: o.seed, customers: o.customers, months: o.months, start: o.start, dataDir: dir,
          actor: 'demo',
          onProgress: (day, total) => bar.update('simulating days', day, total),
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
