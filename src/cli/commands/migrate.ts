import type { Command } from 'commander';
import { connect } from '../../db/connection.ts';
import { migrate } from '../../db/migrate.ts';
import { emit } from '../output.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('bring the database schema up to date (SQLite file in the data directory, or DATABASE_URL)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const db = connect();
      try {
        const result = await migrate(db);
        emit({ ...result, database: db.location }, opts, (r) =>
          r.applied.length ? `applied ${r.applied.join(', ')} to ${r.database}` : `schema is current (${r.current}) at ${r.database}`,
        );
      } finally {
        await db.close();
      }
    });
}
