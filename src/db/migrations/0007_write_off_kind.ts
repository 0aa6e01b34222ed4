import { sql, type Kysely } from 'kysely';

/** Write-offs say what they are: a small remainder within the tolerance, or a bad debt. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table write_offs add column kind text not null default 'small_balance'`.execute(db);
}
