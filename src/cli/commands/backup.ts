import type { Command } from 'commander';
import type { BackupResult, DatabaseContents, RestoreResult } from '../../db/backup.ts';
import { emit } from '../output.ts';

const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} kB`);
const count = (n: number) => n.toLocaleString('en-US');

/** The tables a person checks first, then the totals. */
function describe(c: DatabaseContents): string[] {
  const key = ['customers', 'orders', 'invoices', 'payments', 'events'];
  const shown = c.tables.filter((t) => key.includes(t.table)).map((t) => `${t.table} ${count(t.rows)}`);
  return [`  schema ${c.schema ?? '(none)'}, last event seq ${c.lastEventSeq}`, `  ${c.tables.length} tables, ${count(c.rows)} rows (${shown.join(', ')})`];
}

function renderBackup(r: BackupResult): string {
  return [`backup written: ${r.file} (${size(r.bytes)}, ${r.dialect}, mode ${r.mode}) in ${(r.ms / 1000).toFixed(1)} s`, `  from ${r.database}`, ...describe(r)].join('\n');
}

function renderRestore(r: RestoreResult): string {
  const lines = [`restored ${r.database} from ${r.file} (${size(r.bytes)}) in ${(r.ms / 1000).toFixed(1)} s`, ...describe(r)];
  if (r.migrationsApplied.length > 0) lines.push(`  migrations applied after the restore: ${r.migrationsApplied.join(', ')}`);
  if (r.tablesDropped.length > 0) lines.push(`  tables the backup does not have, dropped: ${r.tablesDropped.join(', ')}`);
  if (r.replacedKeptAt) lines.push(`  the database it replaced is kept as ${r.replacedKeptAt} (delete it when you no longer need it)`);
  return lines.join('\n');
}

export function registerBackup(program: Command): void {
  const progress = (opts: { json?: boolean }) => (opts.json ? undefined : (line: string) => process.stderr.write(`${line}\n`));
  program
    .command('backup')
    .description('write a backup of the database to FILE (SQLite: online backup while servers keep running; PostgreSQL: pg_dump custom format); the file is readable by its owner only')
    .argument('<file>', 'backup file to create')
    .option('--overwrite', 'replace FILE if it exists')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { overwrite?: boolean; json?: boolean }) => {
      const { backupDatabase } = await import('../../db/backup.ts');
      const result = await backupDatabase(file, { overwrite: opts.overwrite, progress: progress(opts) });
      emit(result, opts, renderBackup);
    });
  program
    .command('restore')
    .description('replace the database with a backup made by `cashloop backup` (checked first; refused while a server or another command uses the database)')
    .argument('<file>', 'backup file')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { restoreDatabase } = await import('../../db/backup.ts');
      const result = await restoreDatabase(file, { progress: progress(opts) });
      emit(result, opts, renderRestore);
    });
}
