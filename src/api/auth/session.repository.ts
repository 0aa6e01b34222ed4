import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, SessionsTable } from '../../db/schema.ts';
import type { ApiKeyRow, PortalTokenRow } from '../keys.repository.ts';
import type { UserRow } from '../../users/user.repository.ts';

/** The SQL of browser sessions; the rules are in session.service.ts. */
type Q = Kysely<Database>;
export type SessionRow = Selectable<SessionsTable>;

/** A session with the API key or portal token it was opened with, in one read. */
export interface SessionWithCredential {
  session: SessionRow;
  apiKey: ApiKeyRow | null;
  portalToken: PortalTokenRow | null;
  user: UserRow | null;
}

export async function sessionByHash(db: Q, hash: string): Promise<SessionWithCredential | null> {
  const row = await db
    .selectFrom('sessions as s')
    .leftJoin('api_keys as k', 'k.id', 's.api_key_id')
    .leftJoin('portal_tokens as t', 't.id', 's.portal_token_id')
    .leftJoin('users as u', 'u.id', 's.user_id')
    .selectAll('s')
    .select([
      'k.name as k_name',
      'k.role as k_role',
      'k.key_hash as k_key_hash',
      'k.created_at as k_created_at',
      'k.revoked_at as k_revoked_at',
      'k.expires_at as k_expires_at',
      't.customer_id as t_customer_id',
      't.token_hash as t_token_hash',
      't.created_at as t_created_at',
      't.revoked_at as t_revoked_at',
      't.expires_at as t_expires_at',
      'u.name as u_name',
      'u.role as u_role',
      'u.password_hash as u_password_hash',
      'u.created_at as u_created_at',
      'u.password_changed_at as u_password_changed_at',
      'u.disabled_at as u_disabled_at',
      'u.email as u_email',
    ])
    .where('s.secret_hash', '=', hash)
    .executeTakeFirst();
  if (!row) return null;
  const { k_name, k_role, k_key_hash, k_created_at, k_revoked_at, k_expires_at, t_customer_id, t_token_hash, t_created_at, t_revoked_at, t_expires_at, u_name, u_role, u_password_hash, u_created_at, u_password_changed_at, u_disabled_at, u_email, ...session } = row;
  return {
    session,
    apiKey: session.api_key_id !== null && k_name !== null ? { id: session.api_key_id, name: k_name, role: k_role!, key_hash: k_key_hash!, created_at: k_created_at!, revoked_at: k_revoked_at, expires_at: k_expires_at } : null,
    portalToken:
      session.portal_token_id !== null && t_customer_id !== null
        ? { id: session.portal_token_id, customer_id: t_customer_id, token_hash: t_token_hash!, created_at: t_created_at!, revoked_at: t_revoked_at, expires_at: t_expires_at }
        : null,
    user:
      session.user_id !== null && u_name !== null
        ? { id: session.user_id, name: u_name, role: u_role!, password_hash: u_password_hash!, created_at: u_created_at!, password_changed_at: u_password_changed_at!, disabled_at: u_disabled_at, email: u_email }
        : null,
  };
}

export const insertSession = (db: Q, values: Insertable<SessionsTable>): Promise<SessionRow> => db.insertInto('sessions').values(values).returningAll().executeTakeFirstOrThrow();

export async function touchSession(db: Q, id: number, at: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).where('ended_at', 'is', null).execute();
}

/** Ends a session still open; answers the row as ended, or undefined when it had ended already. */
export const endSessionRow = (db: Q, id: number, at: string, reason: string): Promise<SessionRow | undefined> =>
  db.updateTable('sessions').set({ ended_at: at, end_reason: reason }).where('id', '=', id).where('ended_at', 'is', null).returningAll().executeTakeFirst();
