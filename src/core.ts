import { sql, type Transaction } from 'kysely';
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
  /**
   * The change found its work already done (a retry with the same external id) and wrote
   * nothing: it has no event, and `runChange` rolls its transaction back.
   */
  unchanged?: boolean;
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

/** A change that can run alone (`runChange`) or share a transaction with others. */
export type Change<T> = (scope: ChangeScope) => Promise<ChangeOutcome<T>>;

/** How often a change is tried again after a transient conflict, and how long it waits. */
export const RETRY = { attempts: 6, baseMs: 5, maxMs: 200 };

/**
 * PostgreSQL's transient failures: a deadlock (40P01) or a serialization failure (40001)
 * means "run the same transaction again", not "your request was wrong". SQLite answers
 * SQLITE_BUSY when another process held the file past busy_timeout.
 */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001' || code === 'SQLITE_BUSY';
}

/** Carries an unchanged outcome's result out of the transaction it rolls back. */
class Unchanged extends Error {
  constructor(readonly result: unknown) {
    super('unchanged');
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one change: the new state and its event rows commit together or not at all.
 * Everything a service writes goes through here, so "every change is one transaction with
 * its event row" holds by construction. A transient conflict (deadlock, serialization
 * failure) rolls the transaction back and runs the whole change again, up to
 * `RETRY.attempts` times with a jittered, growing pause, so a user never sees one.
 * Several changes share one transaction by calling their `Change` forms inside one `fn`.
 */
export async function runChange<T>(core: Core, actor: string, fn: Change<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const now = core.clock.now();
    const at = now.toISOString();
    try {
      return await core.db.kysely.transaction().execute(async (trx) => {
        const outcome = await fn({ trx, at, today: at.slice(0, 10), actor, dialect: core.db.dialect });
        if (outcome.unchanged) {
          if (outcome.events.length > 0) throw new Error('an unchanged outcome records no event');
          throw new Unchanged(outcome.result);
        }
        if (outcome.events.length === 0) throw new Error('a change must record at least one event');
        await appendEvents(trx, core.db.dialect, outcome.events, actor, at);
        return outcome.result;
      });
    } catch (error) {
      // Rolled back: an unchanged outcome keeps "no event, no write" true by construction.
      if (error instanceof Unchanged) return error.result as T;
      if (!isTransient(error) || attempt >= RETRY.attempts) throw error;
      const ceiling = Math.min(RETRY.maxMs, RETRY.baseMs * 2 ** attempt);
      await pause(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }
}

/**
 * Runs `fn` with a core whose every read and change goes through one database transaction:
 * the changes `fn` makes through the services commit together at the end, or none of them
 * does. Each change keeps its own all-or-nothing inside it (`runChange` runs it in a
 * savepoint, rolled back on failure or on an unchanged outcome), with its event rows as
 * always. For a single writer that makes many changes in a row — the demo generator living
 * through a day — where one commit per change is what costs. The transaction holds SQLite's
 * write lock (and, on PostgreSQL, the locks the changes take) until it ends, so keep it to a
 * batch, not to a whole run; on PostgreSQL its reads see its own writes at read committed
 * (a service's read-only snapshot, which asks for repeatable read, runs inside it as it is).
 */
export async function inOneTransaction<T>(core: Core, fn: (unit: Core) => Promise<T>): Promise<T> {
  return core.db.kysely.transaction().execute(async (trx) => fn({ ...core, db: { ...core.db, kysely: nestable(trx) } }));
}

/**
 * The transaction `inOneTransaction` hands out: everything Kysely does, except that a
 * transaction started on it (`.transaction().execute(cb)`, as `runChange` does) is a
 * savepoint of it. Kysely keeps its state in private fields, so this is a proxy that calls
 * the real transaction's methods on it, not a subclass.
 */
function nestable(trx: Tx): Tx {
  let depth = 0;
  const proxy: Tx = new Proxy(trx, {
    get(target, prop) {
      if (prop === 'transaction') return () => builder;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const builder = {
    // Isolation and access modes belong to the outer transaction; a savepoint has none of its own.
    setIsolationLevel: () => builder,
    setAccessMode: () => builder,
    async execute<R>(cb: (t: Tx) => Promise<R>): Promise<R> {
      const name = `cashloop_change_${++depth}`;
      await sql.raw(`savepoint ${name}`).execute(trx);
      try {
        const result = await cb(proxy);
        await sql.raw(`release savepoint ${name}`).execute(trx);
        return result;
      } catch (error) {
        await sql.raw(`rollback to savepoint ${name}`).execute(trx);
        await sql.raw(`release savepoint ${name}`).execute(trx);
        throw error;
      } finally {
        depth--;
      }
    },
  };
  return proxy;
}

// Namespace of the per-customer advisory locks (the first key of the two-key form).
const CUSTOMER_LOCK = 7_272_743;

/**
 * Serialises every change that moves a customer's money or uses their credit: recording,
 * applying, reversing and writing off cash, invoicing (which picks up unapplied cash) and
 * the credit check. On PostgreSQL a transaction-scoped advisory lock on the customer, held
 * to commit; take it first in the transaction, before any row lock and before the event
 * feed's lock, so lock order is the same everywhere. SQLite has one writer already.
 * Balances and unapplied cash are derived from rows only these changes write, so this lock
 * alone keeps them from being spent twice. Taking it again in the same transaction returns
 * at once: the shared writers (credit notes, invoicing) take it too, so no caller can skip it.
 */
export async function lockCustomer(scope: Pick<ChangeScope, 'trx' | 'dialect'>, customerId: number): Promise<void> {
  if (scope.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${CUSTOMER_LOCK}, ${customerId})`.execute(scope.trx);
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
