import type { Command } from 'commander';
import { dataDir } from '../../db/connection.ts';
import { toCsv } from '../../shared/csv.ts';
import { invalid } from '../../shared/errors.ts';
import { table } from '../output.ts';

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('run read-only SQL on the published warehouse snapshot (marts.*, metrics.*, ops.*)')
    .argument('<sql>', 'the query, e.g. "select * from metrics.ar_kpis_monthly"')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--json', 'same as --format json')
    .action(async (sqlText: string, opts: { format: string; json?: boolean }) => {
      const format = opts.json ? 'json' : opts.format;
      if (!['table', 'csv', 'json'].includes(format)) throw invalid(`format ${format} is not one of table, csv, json`, { field: 'format', value: format, rule: 'known_format' });
      const { queryPublished } = await import('../../../pipelines/query.ts');
      const r = await queryPublished(dataDir(), sqlText);
      if (format === 'json') process.stdout.write(`${JSON.stringify(r.rows, null, 2)}\n`);
      else if (format === 'csv') process.stdout.write(toCsv(r.columns, r.rows));
      else process.stdout.write(`${table(r.rows, r.columns)}\n`);
    });
}
