import path from 'node:path';
import type { Command } from 'commander';
import { dataDir } from '../../db/connection.ts';
import { replaceInvoiceForecasts } from '../../forecasts/forecast.service.ts';
import { cliActor, withCore } from '../context.ts';
import type { PipelineRunResult } from '../../../pipelines/run.ts';
import type { RebuildResult } from '../../../pipelines/rebuild.ts';
import { emit } from '../output.ts';
import { parseBusinessDate } from '../../shared/dates.ts';

type RunWithHandBack = PipelineRunResult & { invoiceForecasts?: { asOf: string | null; written: number; leftOut: number } };

/**
 * After a run that published forecasts, the invoice forecasts go back to the core (the
 * collectors' worklist ranks by them), through the core's own service.
 */
async function handBackForecasts(result: PipelineRunResult): Promise<RunWithHandBack> {
  if (!result.published || !result.steps.some((s) => s.name === 'forecast')) return result;
  const { writeBackForecasts } = await import('../../../models/payment-date/write-back.ts');
  const actor = cliActor();
  const invoiceForecasts = await withCore((core) => writeBackForecasts((rows) => replaceInvoiceForecasts(core, rows, actor), path.join(dataDir(), 'published', 'warehouse.duckdb')));
  return { ...result, invoiceForecasts };
}

function render(r: RunWithHandBack): string {
  const lines = [`run ${r.runId} succeeded in ${(r.ms / 1000).toFixed(1)} s${r.asOf ? `, as of ${r.asOf}` : ''}`];
  for (const s of r.steps) lines.push(`  ${s.name.padEnd(10)} ${String(s.rowsRead).padStart(10)} read ${String(s.rowsWritten).padStart(10)} written  ${(s.ms / 1000).toFixed(2)} s`);
  if (r.reconciliation) lines.push(`  reconciliation: ${r.reconciliation.status}${r.reconciliation.note ? ` (${r.reconciliation.note})` : ''}`);
  // Rows of an extract with a blank customer id went to its catch-all customer: say how many and how much.
  for (const c of r.reconciliation?.checks.filter((c) => c.check.includes('catch-all')) ?? []) lines.push(`    ${c.source} ${c.check}: ${c.actual}${c.ok ? '' : ` (extract: ${c.expected})`}`);
  if (r.published) lines.push(`  published: ${r.published.snapshot}`, `             ${r.published.parquet}/`);
  if (r.invoiceForecasts) lines.push(`  invoice forecasts handed back to the core: ${r.invoiceForecasts.written}${r.invoiceForecasts.asOf ? ` (as of ${r.invoiceForecasts.asOf})` : ''}${r.invoiceForecasts.leftOut ? `, ${r.invoiceForecasts.leftOut} without a figure left out` : ''}`);
  return lines.join('\n');
}

function renderRebuild(r: RebuildResult): string {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const lines = [`previous warehouse: ${r.previous}`];
  for (const x of r.removed) lines.push(`  removed ${x.path} (${mb(x.bytes)})`);
  return [...lines, render(r.run)].join('\n');
}

export function registerPipeline(program: Command): void {
  const pipeline = program.command('pipeline').description('the warehouse pipelines: load the core feed and extracts into DuckDB, build marts and metrics, publish');
  pipeline
    .command('run')
    .description('run pipeline steps (ingest, transform, reconcile, publish, or all = every registered step then publish)')
    .argument('[steps...]', 'steps to run', ['all'])
    .option('--extract <dir>', 'also load this extract folder (canonical layout, or any layout with --mapping; see docs/extract.md)')
    .option('--mapping <file>', 'JSON column mapping for the extract')
    .option('--as-of <date>', 'compute everything as known on this date (YYYY-MM-DD)')
    .option('--quiet', 'no progress bars or log lines')
    .option('--no-site', 'do not rebuild the reports site after publishing')
    .option('--json', 'print JSON')
    .action(async (steps: string[], opts: { extract?: string; mapping?: string; asOf?: string; quiet?: boolean; json?: boolean; site: boolean }) => {
      // The date is checked before a step runs: a wrong one must not ingest first.
      if (opts.asOf !== undefined) parseBusinessDate(opts.asOf, 'as-of');
      // Loaded when the command runs, so DuckDB is not loaded at every CLI start.
      const { runPipeline } = await import('../../../pipelines/run.ts');
      const result = await runPipeline({
        dataDir: dataDir(),
        steps,
        extract: opts.extract,
        mapping: opts.mapping,
        asOf: opts.asOf,
        quiet: opts.quiet || opts.json,
        job: 'cli',
        site: opts.site,
      });
      emit(await handBackForecasts(result), opts, render);
    });
  pipeline
    .command('rebuild')
    .description('delete the warehouse (working file, run state, published snapshot and Parquet) and build it again from the core and the extract given: the way back from a damaged warehouse file')
    .option('--extract <dir>', 'load this extract folder again (canonical layout, or any layout with --mapping; see docs/extract.md)')
    .option('--mapping <file>', 'JSON column mapping for the extract')
    .option('--without-extracts', 'rebuild from the core alone even though the old warehouse holds extract data')
    .option('--as-of <date>', 'compute everything as known on this date (YYYY-MM-DD)')
    .option('--quiet', 'no progress bars or log lines')
    .option('--no-site', 'do not rebuild the reports site after publishing')
    .option('--json', 'print JSON')
    .action(async (opts: { extract?: string; mapping?: string; withoutExtracts?: boolean; asOf?: string; quiet?: boolean; json?: boolean; site: boolean }) => {
      if (opts.asOf !== undefined) parseBusinessDate(opts.asOf, 'as-of');
      const { rebuildWarehouse } = await import('../../../pipelines/rebuild.ts');
      const result = await rebuildWarehouse({
        dataDir: dataDir(),
        extract: opts.extract,
        mapping: opts.mapping,
        withoutExtracts: opts.withoutExtracts,
        asOf: opts.asOf,
        quiet: opts.quiet || opts.json,
        job: 'cli-rebuild',
        site: opts.site,
      });
      emit(result, opts, renderRebuild);
    });
}
