import path from 'node:path';
import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emit, table } from '../output.ts';
import { progressBar } from '../progress.ts';
import { conflict } from '../../shared/errors.ts';
import { formatAmount } from '../../shared/money.ts';
import { amount, money } from '../format.ts';
import { ENTITIES } from '../../onboarding/entity.ts';
import { canonicalMapping } from '../../extract/mapping.ts';
import { CATCH_ALL_CUSTOMER } from '../../extract/contract.ts';
import type { CatchAllReport, ImportReport } from '../../onboarding/import.service.ts';
import type { CustomerTieOut } from '../../onboarding/tieout.ts';

type ImportFlags = { mapping?: string; dryRun?: boolean; acceptValid?: boolean; json?: boolean };

/** The human tie-out: counts, amounts by currency, open receivables per customer. */
export function reportText(r: ImportReport): string {
  const out = [
    `${r.dryRun ? 'checked (dry run, nothing written)' : 'imported'} ${r.entity} from ${r.file} (${r.format})`,
    `rows read ${r.rowsRead}, accepted ${r.accepted}, rejected ${r.rejected}${r.dryRun ? '' : `; created ${r.created}, already there ${r.unchanged}`}`,
  ];
  if (r.ignoredColumns.length) out.push(`columns not used: ${r.ignoredColumns.join(', ')}`);
  if (r.repeated) out.push(`rows repeating an earlier row exactly (counted once): ${r.repeated}`);
  if (r.standInCustomers.length) {
    const shown = r.standInCustomers.slice(0, 20).join(', ');
    out.push(`customers not in the customers file, given a stand-in customer: ${r.standInCustomers.length} (${shown}${r.standInCustomers.length > 20 ? ', …' : ''})`);
  }
  if (r.catchAll) out.push(catchAllText(r.catchAll));
  for (const p of r.problems.slice(0, 50)) out.push(`  rejected ${p.message} [${p.field}: ${p.rule}]`);
  if (r.problems.length > 50) out.push(`  … and ${r.problems.length - 50} more`);
  if (r.rejectedFile) out.push(`rejected rows with their reasons: ${r.rejectedFile}`);
  if (r.amounts.length) {
    out.push('', 'amounts by currency (accepted rows):');
    out.push(table(r.amounts.map((a) => ({ currency: a.currency, rows: a.rows, amount: amount(a.amountMinor, a.currency) }))));
  }
  if (r.tieOut) out.push('', tieOutText('open receivables per customer (as in the extract / as in cashloop):', r.tieOut));
  return out.join('\n');
}

/** Rows with a blank customer id: how many went to the catch-all customer, and their amounts. */
export function catchAllText(c: CatchAllReport): string {
  const amounts = c.amounts.map((a) => money(a.amountMinor, a.currency)).join(', ');
  return `rows with a blank customer id, given to the catch-all customer ${c.customer} (${c.name}): ${c.rows} (${amounts})`;
}

/** The catch-all reports of several files as one: rows and amounts added per currency. */
function sumCatchAll(reports: ImportReport[]): CatchAllReport | null {
  const parts = reports.flatMap((r) => (r.catchAll ? [r.catchAll] : []));
  if (parts.length === 0) return null;
  const byCurrency = new Map<string, { rows: number; amountMinor: number }>();
  for (const a of parts.flatMap((p) => p.amounts)) {
    const s = byCurrency.get(a.currency) ?? { rows: 0, amountMinor: 0 };
    byCurrency.set(a.currency, { rows: s.rows + a.rows, amountMinor: s.amountMinor + a.amountMinor });
  }
  const amounts = [...byCurrency].map(([currency, s]) => ({ currency, ...s })).sort((x, y) => x.currency.localeCompare(y.currency));
  return { customer: parts[0]!.customer, name: parts[0]!.name, rows: parts.reduce((n, p) => n + p.rows, 0), amounts };
}

/** The tie-out table: disagreeing customers first, totals per currency, the verdict. */
export function tieOutText(title: string, rows: CustomerTieOut[]): string {
  const out = [title];
  const shown = rows.filter((t) => !t.agrees).concat(rows.filter((t) => t.agrees)).slice(0, 100);
  const label = (t: CustomerTieOut) => (t.externalId === CATCH_ALL_CUSTOMER.id ? `${t.externalId} (catch-all)` : (t.externalId ?? t.customerId));
  out.push(table(shown.map((t) => ({ customer: label(t), currency: t.currency, extract: amount(t.expectedMinor, t.currency), cashloop: amount(t.actualMinor, t.currency), agrees: t.agrees ? 'yes' : 'NO' }))));
  if (rows.length > shown.length) out.push(`… ${rows.length - shown.length} more customers, all agreeing`);
  const totals = new Map<string, [number, number]>();
  for (const t of rows) {
    const s = totals.get(t.currency) ?? [0, 0];
    totals.set(t.currency, [s[0] + t.expectedMinor, s[1] + t.actualMinor]);
  }
  for (const [cur, [e, a]] of totals) out.push(`total ${cur}: extract ${amount(e, cur)}, cashloop ${amount(a, cur)}`);
  const differ = rows.filter((t) => !t.agrees).length;
  out.push(differ === 0 ? `tie-out: agrees for all ${rows.length} customers` : `tie-out: DOES NOT AGREE for ${differ} customers`);
  return out.join('\n');
}

/** Files of a canonical folder (docs/extract.md), in the order they depend on each other. */
function folderFiles(dir: string): { entity: string; file: string }[] {
  return canonicalMapping(dir).files.map((f) => ({ entity: f.entity === 'order_lines' ? 'orders' : f.entity, file: path.join(dir, f.file) }));
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(`legacy import of canonical extract files or mapped layouts (the layout and its rules: docs/extract.md): ${ENTITIES.join('|')} FILE, or folder DIR`)
    .argument('<what>', `${ENTITIES.join(', ')}, or "folder" for a folder of <entity>.csv|parquet files`)
    .argument('<file>', 'CSV or Parquet file (or folder)')
    .option('--mapping <file>', 'mapping JSON for a non-canonical layout')
    .option('--dry-run', 'validate and report, write nothing')
    .option('--accept-valid', 'load the valid rows; write the rejected ones to <file>.rejected.csv')
    .option('--json')
    .action(async (what: string, file: string, o: ImportFlags) =>
      withCore(async (core) => {
        // The importer (and DuckDB for Parquet) loads only when an import runs.
        const { dryRunMemory, importFile } = await import('../../onboarding/import.service.ts');
        const { tieOut } = await import('../../onboarding/tieout.ts');
        const jobs = what === 'folder' ? folderFiles(file) : [{ entity: what, file }];
        const reports: ImportReport[] = [];
        // A dry run of a folder checks each file as if the files before it had been loaded.
        const memory = o.dryRun && jobs.length > 1 ? dryRunMemory() : undefined;
        try {
          for (const job of jobs) {
            const bar = progressBar(!o.json && process.stderr.isTTY === true);
            try {
              reports.push(await importFile(core, { entity: job.entity, file: job.file, mapping: o.mapping, mappingOptional: jobs.length > 1, dryRun: o.dryRun, acceptValid: o.acceptValid, actor: cliActor(), onProgress: (phase, done, total) => bar.update(`${job.entity} ${phase}`, done, total), dryRunMemory: memory }));
            } finally {
              bar.stop();
            }
          }
        } finally {
          memory?.close();
        }
        // After a folder, one tie-out over every customer its invoices and payments touched,
        // as things stand at the end (each file's own tie-out is the state after that file).
        const touched = new Set(reports.flatMap((r) => (r.tieOut ?? []).map((t) => t.customerId)));
        const final = what === 'folder' && !o.dryRun && touched.size ? await tieOut(core, touched) : null;
        const catchAll = what === 'folder' ? sumCatchAll(reports) : null;
        const result = what === 'folder' ? { files: reports, catchAll, tieOut: final, tieOutAgrees: final ? final.every((t) => t.agrees) : null } : reports[0]!;
        emit(result, o, () =>
          [
            ...reports.map(reportText),
            ...(catchAll ? [`folder: ${catchAllText(catchAll)}`] : []),
            ...(final ? [tieOutText('folder tie-out — open receivables per customer after all files (as in the extract / as in cashloop):', final)] : []),
          ].join('\n\n'));
        const failing = final ?? reports.flatMap((r) => r.tieOut ?? []);
        const differ = failing.filter((t) => !t.agrees);
        if (differ.length) {
          const first = differ[0]!;
          throw conflict(`tie-out failed: open receivables of ${differ.length} customers differ between the extract and cashloop (first: ${first.externalId}, extract ${amount(first.expectedMinor, first.currency)}, cashloop ${amount(first.actualMinor, first.currency)})`, {
            entity: 'customer', id: first.externalId ?? first.customerId, field: 'open_receivables', value: formatAmount(first.actualMinor, first.currency), rule: 'tie_out',
          });
        }
      }),
    );
}
