import type { Transaction } from 'kysely';
import type { Clock } from './shared/clock.ts';
import { clockFromEnv } from './shared/clock.ts';
import { connect, type ConnectOptions, type Db } from './db/connection.ts';
import { migrate } from './db/migrate.ts';
import type { Database } from './db/schema.ts';
import { appendEvents, type EventInput } from './events/event.repository.ts';

/** Everything a service needs: the database, the clock, and who is acting. */
export interface Core {
  db: Db;
  clock: Clock;
}

export type Tx = Transaction<Database>;

/** What a change hands back: its result and the event(s) that record it. */
export interface ChangeOutcome<T> {
  result: T;
  events: EventInput[];
}

export interface ChangeScope {
  trx: Tx;
  /** ISO timestamp of this change, from the core's clock. */
  at: string;
  /** Business date of this change (`YYYY-MM-DD`). */
  today: string;
  actor: string;
  dialect: Db['dialect'];
}

/**
 * Runs one change: the new state and its event rows commit together or not at all.
 * Everything a service writes goes through here, so "every change is one transaction with
 * its event row" holds by construction.
 */
export async function runChange<T>(core: Core, actor: string, fn: (scope: ChangeScope) => Promise<ChangeOutcome<T>>): Promise<T> {
  const now = core.clock.now();
  const at = now.toISOString();
  return core.db.kysely.transaction().execute(async (trx) => {
    const outcome = await fn({ trx, at, today: at.slice(0, 10), actor, dialect: core.db.dialect });
    if (outcome.events.length === 0) throw new Error('a change must record at least one event');
    await appendEvents(trx, core.db.dialect, outcome.events, actor, at);
    return outcome.result;
  });
}

/**
 * Adds `FOR UPDATE` on PostgreSQL, where concurrent transactions must queue on the rows
 * they are about to change; SQLite has a single writer and no such clause.
 */
export function forUpdate<QB extends { forUpdate(): QB }>(qb: QB, dialect: Db['dialect']): QB {
  return dialect === 'postgres' ? qb.forUpdate() : qb;
}

/** Opens the database, brings its schema up to date, and pairs it with the clock. */
export async function openCore(options: ConnectOptions & { clock?: Clock; migrate?: boolean } = {}): Promise<Core> {
  const db = connect(options);
  if (options.migrate !== false) await migrate(db);
  return { db, clock: options.clock ?? clockFromEnv() };
}

export async function closeCore(core: Core): Promise<void> {
  await core.db.close();
}
