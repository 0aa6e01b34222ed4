import type { Kysely } from 'kysely';

/**
 * An index on `dunning_notices (invoice_id, level)`: every reminder run asks, for each open
 * invoice, the highest dunning level already announced (src/collections
 * `sentLevels`). Without it each run scanned every notice ever written, so the Monday run
 * got slower with each year of reminders (found by the demo generator's profile; see
 * docs/demo.md). The level is in the index so the question is answered from it alone.
 * The same statement on SQLite and PostgreSQL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('dunning_notices_invoice').ifNotExists().on('dunning_notices').columns(['invoice_id', 'level']).execute();
}
