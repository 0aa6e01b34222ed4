import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { invalid } from '../../shared/errors.ts';
import { parseCurrency } from '../../shared/money.ts';
import { loadRates, parseRatesCsv, ratesSummary } from '../../rates/rates.service.ts';
import { cliActor, withCore } from '../context.ts';
import { emit, table } from '../output.ts';

/** `cashloop rates`: the daily reference rates the warehouse converts currencies with. */
export function registerRates(program: Command): void {
  const rates = program.command('rates').description('exchange rates: load a central bank reference-rate CSV (Date,USD,JPY,…), list what is loaded');
  rates
    .command('load')
    .description('load daily reference rates (e.g. the ECB eurofxref-hist.csv: 1 base = rate units of each currency); a file loaded again updates changed rates')
    .argument('<file>', 'the CSV file, e.g. data/samples/rates-eur.csv')
    .option('--base <code>', 'the currency one unit of which each rate buys', 'EUR')
    .option('--json')
    .action(async (file: string, o: { base: string; json?: boolean }) => {
      const base = parseCurrency(o.base.toUpperCase(), 'base');
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw invalid(`rates file ${file} does not exist`, { field: 'file', value: file, rule: 'file_exists' });
      const rows = parseRatesCsv(fs.readFileSync(file, 'utf8'), base, path.basename(file));
      await withCore(async (core) => {
        const r = await loadRates(core, rows, path.basename(file), cliActor());
        emit(r, o, () =>
          [
            `rates loaded from ${file}: ${r.rates} rates of ${r.currencies.length} currencies per 1 ${r.base}, ${r.dates} days (${r.firstDate} … ${r.lastDate})`,
            `  ${r.inserted} new, ${r.updated} changed, ${r.unchanged} already there`,
            'the next `cashloop pipeline run` converts KPIs and aging into the reporting currency (setting reporting.currency)',
          ].join('\n'),
        );
      });
    });
  rates
    .command('list')
    .description('the rates loaded: per currency, the days covered and the latest rate')
    .option('--json')
    .action(async (o: { json?: boolean }) =>
      withCore(async (core) => {
        const rows = await ratesSummary(core.db.kysely);
        emit(rows, o, () => (rows.length ? table(rows) : 'no exchange rates loaded: cashloop rates load FILE'));
      }),
    );
}
