import type { Insertable, Kysely } from 'kysely';
import type { BankEntriesTable, BankEntryRow, Database } from '../db/schema.ts';

/** All SQL the booking of statement entries runs inside its changes. */
export function findEntryByKey(db: Kysely<Database>, key: string): Promise<BankEntryRow | undefined> {
  return db.selectFrom('bank_entries').selectAll().where('entry_key', '=', key).executeTakeFirst();
}

/** Inserts an entry unless its key is booked already (then undefined; see `insertPayment`). */
export function insertEntry(db: Kysely<Database>, row: Insertable<BankEntriesTable>): Promise<BankEntryRow | undefined> {
  return db.insertInto('bank_entries').values(row).onConflict((oc) => oc.column('entry_key').doNothing()).returningAll().executeTakeFirst();
}

export function markEntryReversed(db: Kysely<Database>, id: number, at: string): Promise<BankEntryRow> {
  return db.updateTable('bank_entries').set({ status: 'reversed', updated_at: at }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Matches an entry that is still unmatched; undefined when someone else matched it first. */
export function markEntryMatched(db: Kysely<Database>, id: number, fields: Pick<BankEntryRow, 'customer_id' | 'invoice_id' | 'payment_id'>, at: string): Promise<BankEntryRow | undefined> {
  return db.updateTable('bank_entries').set({ status: 'matched', match_rule: 'manual', ...fields, updated_at: at }).where('id', '=', id).where('status', '=', 'unmatched').returningAll().executeTakeFirst();
}
