import { sql, type Kysely } from 'kysely';

/**
 * The daily digest of notifications: users get an optional e-mail address, and the outbox
 * carries messages to a user (`user_id`, kind `digest`) beside those to a customer, so its
 * `customer_id` may be empty.
 *
 * SQLite cannot drop a NOT NULL constraint: there the outbox is rebuilt with its rows, and
 * the dunning notices that reference it with it (the child first, so no reference dangles);
 * PostgreSQL drops the constraint.
 */
export async function up(db: Kysely<unknown>, isPg: boolean): Promise<void> {
  const run = (text: string) => sql.raw(text).execute(db);
  await run(`alter table users add column email text`);
  if (isPg) {
    await run(`alter table outbox_messages alter column customer_id drop not null`);
    await run(`alter table outbox_messages add column user_id integer references users(id)`);
  } else {
    const schema = async (name: string) => (await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${name}`.execute(db)).rows[0]!.sql;
    const indexes = async (table: string) => (await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = ${table} and sql is not null`.execute(db)).rows.map((r) => r.sql);
    const outbox = await schema('outbox_messages');
    const notices = await schema('dunning_notices');
    const outboxIndexes = await indexes('outbox_messages');
    const noticeIndexes = await indexes('dunning_notices');
    const nullable = outbox.replace(/customer_id integer not null references customers\s*\(id\)/i, 'customer_id integer references customers(id)');
    if (nullable === outbox) throw new Error('0017: the outbox table does not have the expected customer_id column');
    await run(nullable.replace(/^create table "?outbox_messages"?/i, 'create table outbox_messages_new'));
    await run(`insert into outbox_messages_new select * from outbox_messages`);
    await run(notices.replace(/^create table "?dunning_notices"?/i, 'create table dunning_notices_new').replace(/references "?outbox_messages"?\s*\(id\)/i, 'references outbox_messages_new(id)'));
    await run(`insert into dunning_notices_new select * from dunning_notices`);
    await run(`drop table dunning_notices`);
    await run(`drop table outbox_messages`);
    // Renaming updates dunning_notices_new's reference to the outbox's final name.
    await run(`alter table outbox_messages_new rename to outbox_messages`);
    await run(`alter table dunning_notices_new rename to dunning_notices`);
    for (const index of [...outboxIndexes, ...noticeIndexes]) await run(index);
    await run(`alter table outbox_messages add column user_id integer references users(id)`);
  }
  await run(`create index outbox_messages_user on outbox_messages (user_id)`);
}
