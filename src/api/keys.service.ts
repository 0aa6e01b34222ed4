import { createHash, randomBytes } from 'node:crypto';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import { notFound, badTransition } from '../shared/errors.ts';
import { oneOf, requireId, requireText } from '../shared/validate.ts';
import { ROLES, type Role } from './permissions.ts';

/** Keys are random 32 bytes, shown once; only their SHA-256 is stored. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export interface ApiKey {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

export async function createApiKey(core: Core, input: { role: string; name: string }, actor: string): Promise<ApiKey & { key: string }> {
  const role = oneOf(input.role, 'role', ROLES);
  const name = requireText(input.name, 'name', 100);
  const key = `clk_${randomBytes(24).toString('base64url')}`;
  return runChange(core, actor, async ({ trx, at }) => {
    const row = await trx.insertInto('api_keys').values({ name, role, key_hash: hashSecret(key), created_at: at, revoked_at: null }).returningAll().executeTakeFirstOrThrow();
    const { key_hash: _hash, ...visible } = row;
    return { result: { id: row.id, name, role, createdAt: at, revokedAt: null, key }, events: [{ type: 'api_key.created', aggregate: 'api_key', id: row.id, after: { api_keys: [visible] } }] };
  });
}

export async function listApiKeys(core: Core): Promise<ApiKey[]> {
  const rows = await core.db.kysely.selectFrom('api_keys').select(['id', 'name', 'role', 'created_at', 'revoked_at']).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at, revokedAt: r.revoked_at }));
}

export async function revokeApiKey(core: Core, id: number | string, actor: string): Promise<ApiKey> {
  const keyId = requireId(id, 'id');
  return runChange(core, actor, async ({ trx, at }) => {
    const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirst();
    if (!row) throw notFound('api key', keyId);
    if (row.revoked_at) throw badTransition('api key', keyId, 'revoked', 'revoked', 'it is already revoked');
    await trx.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', keyId).execute();
    const { key_hash: _hash, ...visible } = { ...row, revoked_at: at };
    return { result: { id: row.id, name: row.name, role: row.role as Role, createdAt: row.created_at, revokedAt: at }, events: [{ type: 'api_key.revoked', aggregate: 'api_key', id: keyId, after: { api_keys: [visible] } }] };
  });
}

/** The key behind a bearer secret, if it exists and is not revoked. */
export async function resolveApiKey(core: Core, secret: string): Promise<ApiKey | null> {
  const row = await core.db.kysely.selectFrom('api_keys').selectAll().where('key_hash', '=', hashSecret(secret)).where('revoked_at', 'is', null).executeTakeFirst();
  return row ? { id: row.id, name: row.name, role: row.role as Role, createdAt: row.created_at, revokedAt: null } : null;
}

/** Issues a portal token: it shows one customer their own orders, invoices, payments and statement. */
export async function createPortalToken(core: Core, customerId: number | string, actor: string): Promise<{ customerId: number; token: string }> {
  const id = requireId(customerId, 'customerId');
  const token = `clp_${randomBytes(24).toString('base64url')}`;
  return runChange(core, actor, async ({ trx, at }) => {
    const customer = await trx.selectFrom('customers').select('id').where('id', '=', id).executeTakeFirst();
    if (!customer) throw notFound('customer', id);
    const row = await trx.insertInto('portal_tokens').values({ customer_id: id, token_hash: hashSecret(token), created_at: at, revoked_at: null }).returningAll().executeTakeFirstOrThrow();
    return { result: { customerId: id, token }, events: [{ type: 'portal_token.issued', aggregate: 'customer', id, after: { portal_tokens: [{ id: row.id, customer_id: id, created_at: at }] } }] };
  });
}

export async function resolvePortalToken(core: Core, token: string): Promise<number | null> {
  const row = await core.db.kysely.selectFrom('portal_tokens').select('customer_id').where('token_hash', '=', hashSecret(token)).where('revoked_at', 'is', null).executeTakeFirst();
  return row?.customer_id ?? null;
}
