import { sql, type Kysely } from 'kysely';

/**
 * Products imported from another system keep the code they had there (`BANK CHARGES`, `post`,
 * `C2`) as their external code, beside the SKU cashloop gives them; a re-import finds a
 * product by that code. Products made in cashloop have none. Two products never share one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('alter table products add column external_code text').execute(db);
  await sql.raw('create unique index products_external_code on products (external_code)').execute(db);
}
