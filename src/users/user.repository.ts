import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { Database, UsersTable } from '../db/schema.ts';

/** The SQL of user accounts; the rules are in user.service.ts. Works on a database or a transaction. */
type Q = Kysely<Database>;
export type UserRow = Selectable<UsersTable>;

export const userByName = (db: Q, name: string): Promise<UserRow | undefined> => db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();

export const userById = (db: Q, id: number): Promise<UserRow | undefined> => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();

export const insertUser = (db: Q, values: Insertable<UsersTable>): Promise<UserRow> => db.insertInto('users').values(values).returningAll().executeTakeFirstOrThrow();

export const allUsers = (db: Q): Promise<UserRow[]> => db.selectFrom('users').selectAll().orderBy('id').execute();

/** Changes a user; with `onlyIfEnabled`, only while the user is not disabled (answers undefined otherwise). */
export const updateUser = (db: Q, id: number, set: Updateable<UsersTable>, onlyIfEnabled = false): Promise<UserRow | undefined> => {
  let q = db.updateTable('users').set(set).where('id', '=', id);
  if (onlyIfEnabled) q = q.where('disabled_at', 'is', null);
  return q.returningAll().executeTakeFirst();
};

/** Ends every open session of a user; answers how many ended. */
export async function endSessionsOfUser(db: Q, userId: number, at: string, reason: string): Promise<number> {
  const ended = await db.updateTable('sessions').set({ ended_at: at, end_reason: reason }).where('user_id', '=', userId).where('ended_at', 'is', null).returning('id').execute();
  return ended.length;
}
