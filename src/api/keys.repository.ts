import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, Database, PortalTokensTable } from '../db/schema.ts';

/** The SQL of API keys and portal tokens; rules live in keys.service.ts. Works on a database or a transaction. */
type Q = Kysely<Database>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type PortalTokenRow = Selectable<PortalTokensTable>;

export const apiKeyByHash = (db: Q, hash: string): Promise<ApiKeyRow | undefined> => db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();

export const apiKeyById = (db: Q, id: number): Promise<ApiKeyRow | undefined> => db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();

export const insertApiKey = (db: Q, values: Insertable<ApiKeysTable>): Promise<ApiKeyRow> => db.insertInto('api_keys').values(values).returningAll().executeTakeFirstOrThrow();

export const allApiKeys = (db: Q): Promise<ApiKeyRow[]> => db.selectFrom('api_keys').selectAll().orderBy('id').execute();

export async function setApiKeyRevoked(db: Q, id: number, at: string): Promise<void> {
  await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).execute();
}

export const portalTokenByHash = (db: Q, hash: string): Promise<PortalTokenRow | undefined> => db.selectFrom('portal_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();

export const insertPortalToken = (db: Q, values: Insertable<PortalTokensTable>): Promise<PortalTokenRow> => db.insertInto('portal_tokens').values(values).returningAll().executeTakeFirstOrThrow();

export const portalTokensOf = (db: Q, customerId: number): Promise<PortalTokenRow[]> => db.selectFrom('portal_tokens').selectAll().where('customer_id', '=', customerId).orderBy('id').execute();

export async function setPortalTokensRevoked(db: Q, ids: number[], at: string): Promise<void> {
  if (ids.length > 0) await db.updateTable('portal_tokens').set({ revoked_at: at }).where('id', 'in', ids).execute();
}

export async function customerExists(db: Q, id: number): Promise<boolean> {
  return (await db.selectFrom('customers').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}
