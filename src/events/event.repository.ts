import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { DialectName } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';

/** What a change records about itself: one row of the audit trail and change feed. */
export interface EventInput {
  type: string;
  aggregate: string;
  id: string | number;
  /** After-image of the aggregate (or the facts of the action), stored as JSON. */
  after: unknown;
}

export interface EventRecord {
  seq: number;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: unknown;
  actor: string;
  occurred_at: string;
}

// Any constant works; it only has to be the same in every writer.
const EVENT_FEED_LOCK = 7_272_742;

const feedLock = CompiledQuery.raw(`select pg_advisory_xact_lock(${EVENT_FEED_LOCK})`);
// Most changes record one event: that statement is built once (src/db/prepared.ts).
const insertOne = prepared((db, _d, type: string, aggregate: string, id: string, payload: string, actor: string, at: string) =>
  db.insertInto('events').values({ event_type: type, aggregate_type: aggregate, aggregate_id: id, payload, actor, occurred_at: at }).returning('seq'),
);

/**
 * Appends events as the last statements of a change's transaction.
 *
 * On PostgreSQL a sequence number is handed out when asked, not when the transaction
 * commits, so a feed reader could see seq 11 committed while seq 10 is still in flight and
 * skip it forever. Each writer therefore takes a transaction-scoped advisory lock before it
 * draws its numbers: the lock is held until commit, so numbers are drawn in commit order and
 * every number a reader sees is preceded only by numbers already committed. The lock is
 * taken last, after the change's own row locks, so the serialized part is short.
 * SQLite serializes writers already.
 */
export async function appendEvents(
  trx: Transaction<Database>,
  dialect: DialectName,
  events: EventInput[],
  actor: string,
  at: string,
): Promise<number[]> {
  if (events.length === 0) return [];
  if (dialect === 'postgres') await trx.executeQuery(feedLock);
  if (events.length === 1) {
    const e = events[0]!;
    const row = await insertOne.one(trx, e.type, e.aggregate, String(e.id), JSON.stringify(e.after), actor, at);
    return [Number(row.seq)];
  }
  const rows = await trx
    .insertInto('events')
    .values(
      events.map((e) => ({
        event_type: e.type,
        aggregate_type: e.aggregate,
        aggregate_id: String(e.id),
        payload: JSON.stringify(e.after),
        actor,
        occurred_at: at,
      })),
    )
    .returning('seq')
    .execute();
  return rows.map((r) => Number(r.seq));
}

/** Reads the feed after `afterSeq`, in sequence order: what the pipelines load. */
export async function readEvents(db: Kysely<Database>, afterSeq: number, limit = 10_000): Promise<EventRecord[]> {
  const rows = await db.selectFrom('events').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq), payload: JSON.parse(r.payload) as unknown }));
}

export async function lastEventSeq(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
  return Number(row?.seq ?? 0);
}
