import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Tx } from '../core.ts';
import type { Db } from '../db/connection.ts';
import type { Database, OutboxMessagesTable, OutboxStatus } from '../db/schema.ts';

export type OutboxRow = Selectable<OutboxMessagesTable>;

/**
 * A letter's row as its event carries it: every column but the rendered bodies. The letter
 * itself stays in `outbox_messages` (the outbox, the workspace and the portal read it there,
 * by this row's `id`); no reader of the event feed needs the text — the live updates want the
 * customer, the warehouse stages the dunning notices — and the bodies were most of the feed's
 * bytes (a reminder carries the customer's statement: 93 MB of the default demo's 220 MB).
 */
export type OutboxEventRow = Omit<OutboxRow, 'body_text' | 'body_html'>;

export function withoutBodies(message: OutboxRow): OutboxEventRow {
  const { body_text: _text, body_html: _html, ...facts } = message;
  return facts;
}

/**
 * Claims up to `limit` messages in one of `statuses` after id `afterId` that nobody holds (no
 * claim, or a lease that ended at or before `now`), oldest first, for `claimant` until
 * `expiresAt`. One
 * statement, so two senders never claim the same message: on PostgreSQL the inner select
 * locks the rows it picks and skips those another sender is claiming right now (a row
 * claimed and committed meanwhile is re-checked against the lease and left out); SQLite has
 * a single writer, so the statement runs alone.
 */
export async function claimMessages(
  db: Kysely<Database>,
  dialect: Db['dialect'],
  claim: { statuses: OutboxStatus[]; claimant: string; afterId: number; now: string; expiresAt: string; limit: number },
): Promise<OutboxRow[]> {
  const rows = await db
    .updateTable('outbox_messages')
    .set({ claimed_by: claim.claimant, claim_expires_at: claim.expiresAt })
    .where((eb) => {
      let free = eb
        .selectFrom('outbox_messages')
        .select('id')
        .where('status', 'in', claim.statuses)
        .where('id', '>', claim.afterId)
        .where((w) => w.or([w('claim_expires_at', 'is', null), w('claim_expires_at', '<=', claim.now)]))
        .orderBy('id')
        .limit(claim.limit);
      if (dialect === 'postgres') free = free.forUpdate().skipLocked();
      return eb('id', 'in', free);
    })
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.id - b.id);
}

/**
 * Extends `claimant`'s lease on one message to `expiresAt`, just before it is sent. False
 * when the claim is no longer the claimant's: its lease ran out and another sender took it.
 */
export async function renewClaim(db: Kysely<Database>, id: number, claimant: string, expiresAt: string): Promise<boolean> {
  const row = await db.updateTable('outbox_messages').set({ claim_expires_at: expiresAt }).where('id', '=', id).where('claimed_by', '=', claimant).returning('id').executeTakeFirst();
  return row !== undefined;
}

/**
 * Records the outcome of a claimed message (sent, failed, exported) and releases the claim,
 * only while `claimant` still holds it; undefined when it does not (nothing is written).
 */
export async function recordClaimed(
  trx: Tx,
  id: number,
  claimant: string,
  outcome: Pick<Updateable<OutboxMessagesTable>, 'status' | 'error' | 'sent_at' | 'exported_at'>,
  countAttempt: boolean,
): Promise<OutboxRow | undefined> {
  return trx
    .updateTable('outbox_messages')
    .set((eb) => ({ ...outcome, claimed_by: null, claim_expires_at: null, ...(countAttempt ? { attempts: eb('attempts', '+', 1) } : {}) }))
    .where('id', '=', id)
    .where('claimed_by', '=', claimant)
    .returningAll()
    .executeTakeFirst();
}

/** Gives back every claim `claimant` still holds without an outcome (a run that stopped early). */
export async function releaseClaims(db: Kysely<Database>, claimant: string): Promise<void> {
  await db.updateTable('outbox_messages').set({ claimed_by: null, claim_expires_at: null }).where('claimed_by', '=', claimant).execute();
}
