import { sql, type Kysely } from 'kysely';
import type { Db } from './connection.ts';
import * as core from './migrations/0001_core.ts';
import * as bank from './migrations/0003_bank.ts';
import * as fkIndexes from './migrations/0005_fk_indexes.ts';
import * as api from './migrations/0006_api.ts';
import * as writeOffKind from './migrations/0007_write_off_kind.ts';
import * as collections from './migrations/0008_collections.ts';
import * as idempotency from './migrations/0009_idempotency.ts';
import * as outboxClaim from './migrations/0010_outbox_claim.ts';
import * as access from './migrations/0011_access.ts';
import * as users from './migrations/0012_users.ts';
import * as notifications from './migrations/0012_notifications.ts';
import * as invoiceForecasts from './migrations/0013_invoice_forecasts.ts';
import * as exchangeRates from './migrations/0014_exchange_rates.ts';
import * as moneyLists from './migrations/0015_money_lists.ts';
import * as productExternalCode from './migrations/0016_product_external_code.ts';
import * as userEmail from './migrations/0017_user_email.ts';
import * as scoreHistory from './migrations/0018_score_history.ts';
import * as customerExposure from './migrations/0019_customer_exposure.ts';
import * as dunningNoticesInvoice from './migrations/0020_dunning_notices_invoice.ts';

/**
 * Versioned migrations, applied in order, each in its own transaction, recorded in
 * `schema_migrations`. A migration is `up(db, isPg)`: one source for both databases.
 */
interface Migration {
  version: string;
  up(db: Kysely<unknown>, isPg: boolean): Promise<void>;
}

export const migrations: Migration[] = [
  { version: '0001_core', up: core.up },
  { version: '0003_bank', up: bank.up },
  { version: '0005_fk_indexes', up: fkIndexes.up },
  { version: '0006_api', up: api.up },
  { version: '0007_write_off_kind', up: writeOffKind.up },
  { version: '0008_collections', up: collections.up },
  { version: '0009_idempotency', up: idempotency.up },
  { version: '0010_outbox_claim', up: outboxClaim.up },
  { version: '0011_access', up: access.up },
  { version: '0012_users', up: users.up },
  { version: '0012_notifications', up: notifications.up },
  { version: '0013_invoice_forecasts', up: invoiceForecasts.up },
  { version: '0014_exchange_rates', up: exchangeRates.up },
  { version: '0015_money_lists', up: moneyLists.up },
  { version: '0016_product_external_code', up: productExternalCode.up },
  { version: '0017_user_email', up: userEmail.up },
  { version: '0018_score_history', up: scoreHistory.up },
  { version: '0019_customer_exposure', up: customerExposure.up },
  { version: '0020_dunning_notices_invoice', up: dunningNoticesInvoice.up },
];

export interface MigrateResult {
  applied: string[];
  current: string | null;
}

export async function migrate(db: Db): Promise<MigrateResult> {
  const k = db.kysely as unknown as Kysely<unknown>;
  const isPg = db.dialect === 'postgres';
  await sql`create table if not exists schema_migrations (version text primary key, applied_at text not null)`.execute(k);
  const applied: string[] = [];
  for (const m of migrations) {
    await k.transaction().execute(async (trx) => {
      // Two processes may start at once: on PostgreSQL the first takes this lock and the
      // second waits, then sees the version recorded and skips it.
      if (isPg) await sql`select pg_advisory_xact_lock(727274)`.execute(trx);
      const done = await sql<{ n: number }>`select count(*) as n from schema_migrations where version = ${m.version}`.execute(trx);
      if (Number(done.rows[0]?.n) > 0) return;
      await m.up(trx, isPg);
      await sql`insert into schema_migrations (version, applied_at) values (${m.version}, ${new Date().toISOString()})`.execute(trx);
      applied.push(m.version);
    });
  }
  return { applied, current: migrations.at(-1)?.version ?? null };
}
