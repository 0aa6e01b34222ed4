import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import { conflict, invalid, notFound, badTransition } from '../shared/errors.ts';
import { ROLES, type Role } from '../shared/roles.ts';
import { oneOf, requireId, requireText } from '../shared/validate.ts';
import { decoyHash, hashPassword, verifyPassword } from './password.ts';
import * as repo from './user.repository.ts';

/**
 * User accounts: the people who sign in to the workspace with a name and a password. The
 * name is who they are in the business too — "assigned to me" on the worklist (collector)
 * and "my customers" on the sales page (sales rep) match it — and the role is one of the
 * permission matrix's. Passwords are kept as scrypt hashes (password.ts), never in an event.
 *
 * Disabling a user ends their open sessions at once, and a session is checked against its
 * user on every request; resetting a password ends them too (whoever knew the old one is out).
 */
export interface User {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  passwordChangedAt: string;
  disabledAt: string | null;
  /** Where the daily digest of their notifications goes (none without one). */
  email: string | null;
}

/** Passwords: long enough to resist guessing, short enough to hash in bounded time. No composition rules (NIST SP 800-63B). */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 200;

const toUser = (r: repo.UserRow): User => ({ id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at, passwordChangedAt: r.password_changed_at, disabledAt: r.disabled_at, email: r.email });
const visible = (r: repo.UserRow) => {
  const { password_hash: _hash, ...rest } = r;
  return rest;
};

function checkPassword(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw invalid('password is required', { field: 'password', rule: 'required' });
  if (value.length < PASSWORD_MIN) throw invalid(`password must be at least ${PASSWORD_MIN} characters, got ${value.length}`, { field: 'password', rule: 'min_length' });
  if (value.length > PASSWORD_MAX) throw invalid(`password must be at most ${PASSWORD_MAX} characters, got ${value.length}`, { field: 'password', rule: 'max_length' });
  if (value.trim().toLowerCase() === name.toLowerCase()) throw invalid('password must not be the user name', { field: 'password', rule: 'not_the_name' });
  return value;
}

const userName = (value: unknown) => requireText(value, 'name', 100);

/** An e-mail address: one `@` between a local part and a domain with a dot, no spaces, at most 254 characters (RFC 5321). Empty clears it. */
export function checkEmail(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalid('email must be text', { field: 'email', value, rule: 'type' });
  const email = value.trim();
  if (email.length > 254) throw invalid(`email must be at most 254 characters, got ${email.length}`, { field: 'email', value: email, rule: 'max_length' });
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalid(`email must look like name@example.com, got ${email}`, { field: 'email', value: email, rule: 'email' });
  return email;
}

async function findUser(core: Core, ref: number | string): Promise<repo.UserRow> {
  const db = core.db.kysely;
  const row = typeof ref === 'number' || /^\d+$/.test(ref) ? await repo.userById(db, requireId(ref, 'user')) : await repo.userByName(db, userName(ref));
  if (!row) throw notFound('user', ref);
  return row;
}

export async function createUser(core: Core, input: { name: unknown; role: unknown; password: unknown; email?: unknown }, actor: string): Promise<User> {
  const name = userName(input.name);
  const email = checkEmail(input.email);
  if (/^\d+$/.test(name)) throw invalid(`name must not be a number (numbers name users by id), got ${name}`, { field: 'name', value: name, rule: 'not_a_number' });
  const role = oneOf(input.role, 'role', ROLES);
  const passwordHash = await hashPassword(checkPassword(input.password, name));
  return runChange(core, actor, async ({ trx, at }) => {
    if (await repo.userByName(trx, name)) throw conflict(`a user named ${name} exists already`, { entity: 'user', field: 'name', value: name, rule: 'unique' });
    const row = await repo.insertUser(trx, { name, role, password_hash: passwordHash, created_at: at, password_changed_at: at, disabled_at: null, email });
    return { result: toUser(row), events: [{ type: 'user.created', aggregate: 'user', id: row.id, after: { users: [visible(row)] } }] };
  });
}

export async function listUsers(core: Core): Promise<User[]> {
  return (await repo.allUsers(core.db.kysely)).map(toUser);
}

export async function getUser(core: Core, ref: number | string): Promise<User> {
  return toUser(await findUser(core, ref));
}

/** Sets (or, with an empty value, clears) the address a user's daily digest of notifications goes to. */
export async function setUserEmail(core: Core, ref: number | string, email: unknown, actor: string): Promise<User> {
  const found = await findUser(core, ref);
  const address = checkEmail(email);
  return runChange(core, actor, async ({ trx }) => {
    const row = (await repo.updateUser(trx, found.id, { email: address }))!;
    if (found.email === address) return { result: toUser(row), events: [], unchanged: true };
    return { result: toUser(row), events: [{ type: 'user.email_set', aggregate: 'user', id: row.id, after: { users: [visible(row)] } }] };
  });
}

/** Disables a user (by id or name): they cannot sign in, and their sessions end now. */
export async function disableUser(core: Core, ref: number | string, actor: string): Promise<User & { sessionsEnded: number }> {
  const found = await findUser(core, ref);
  return runChange(core, actor, async ({ trx, at }) => {
    const row = await repo.updateUser(trx, found.id, { disabled_at: at }, true);
    if (!row) throw badTransition('user', found.name, 'disabled', 'disabled', 'the user is disabled already');
    const sessionsEnded = await repo.endSessionsOfUser(trx, row.id, at, 'user_disabled');
    return { result: { ...toUser(row), sessionsEnded }, events: [{ type: 'user.disabled', aggregate: 'user', id: row.id, after: { users: [visible(row)] } }] };
  });
}

/** Gives a user a new password; their sessions end, so whoever knew the old one is signed out. A disabled user stays disabled. */
export async function resetPassword(core: Core, ref: number | string, password: unknown, actor: string): Promise<User & { sessionsEnded: number }> {
  const found = await findUser(core, ref);
  const passwordHash = await hashPassword(checkPassword(password, found.name));
  return runChange(core, actor, async ({ trx, at }) => {
    const row = (await repo.updateUser(trx, found.id, { password_hash: passwordHash, password_changed_at: at }))!;
    const sessionsEnded = await repo.endSessionsOfUser(trx, row.id, at, 'password_reset');
    return { result: { ...toUser(row), sessionsEnded }, events: [{ type: 'user.password_reset', aggregate: 'user', id: row.id, after: { users: [visible(row)] } }] };
  });
}

export type SignInVerdict = { ok: true; user: User } | { ok: false; rule: string; detail: string };

/**
 * Checks a name and password. An unknown name, a wrong password and a disabled user all take
 * one scrypt hash, so timing does not tell which names exist; the answer says only what the
 * person signing in needs (a disabled account says so once the password was right).
 */
export async function checkCredentials(core: Core, name: string, password: string): Promise<SignInVerdict> {
  const wrong = { ok: false as const, rule: 'credentials', detail: 'that name and password do not match' };
  if (password.length > PASSWORD_MAX || name.length > 100) return wrong;
  const row = await repo.userByName(core.db.kysely, name.trim());
  const matches = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
  if (!row || !matches) return wrong;
  if (row.disabled_at) return { ok: false, rule: 'user_disabled', detail: `the user ${row.name} was disabled at ${row.disabled_at}` };
  return { ok: true, user: toUser(row) };
}

/** The user behind a session, or why they no longer sign in (read on each request of a user's session). */
export function userVerdict(row: repo.UserRow | undefined): SignInVerdict {
  if (!row) return { ok: false, rule: 'session', detail: 'the user of this session no longer exists: sign in again' };
  if (row.disabled_at) return { ok: false, rule: 'user_disabled', detail: `the user ${row.name} was disabled at ${row.disabled_at}` };
  return { ok: true, user: toUser(row) };
}
