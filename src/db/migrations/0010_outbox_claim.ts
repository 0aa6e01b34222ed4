import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

/**
 * Outbox messages are claimed before they are sent or exported: `claimed_by` names the
 * sender holding the message and `claim_expires_at` ends its lease, so a crashed sender's
 * messages become sendable again. The installation id (a random id written once, here) goes
 * into every Message-ID, so two installations never produce the same one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table outbox_messages add column claimed_by text`.execute(db);
  await sql`alter table outbox_messages add column claim_expires_at text`.execute(db);
  await sql`insert into settings (key, value, updated_at) values ('installation.id', ${randomUUID()}, ${new Date().toISOString()})`.execute(db);
}
