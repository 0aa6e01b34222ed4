import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { CompiledQuery, sql, type KyselyPlugin, type Transaction } from 'kysely';
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
 * Work a caller asks to be done inside the transaction of the next change it runs, once:
 * the HTTP API claims a request's Idempotency-Key there, so the key and the work it guards
 * commit together (src/api/idempotency.hook.ts). If `claim` throws, the change fails with
 * that error and writes nothing. It is taken by the first change that commits; a change that
 * fails leaves it for the next one.
 */
export interface FirstChangeClaim {
  claim?: (trx: Tx) => Promise<void>;
}
export const firstChange = new AsyncLocalStorage<FirstChangeClaim>();

/** Takes the pending claim of the caller's context, if any, and the way to give it back. */
function takeClaim(): { run?: (trx: Tx) => Promise<void>; giveBack(): void } {
  const store = firstChange.getStore();
  const run = store?.claim;
  if (store) store.claim = undefined;
  return { run, giveBack: () => { if (store && run && store.claim === undefined) store.claim = run; } };
}

/**
 * Upkeep a change's helpers put off to the end of the change: derived figures that several
 * steps of one change would otherwise bring up to date once each (the maintained exposure,
 * which moving an order, issuing an invoice and settling it each touch). `runChange` keeps
 * one list per change, keyed by the transaction the change runs on, and runs it once the
 * change's own work is done and before its event rows are written; a change that fails or
 * is unchanged drops it with its savepoint. A change nested in another (the same
 * transaction) shares the outer one's list.
 */
interface ChangeEnd {
  depth: number;
  work: Map<string, () => Promise<void>>;
}
const changeEnds = new WeakMap<object, ChangeEnd>();

/**
 * Puts `work` off to the end of the change running on `trx`, once per `key` however often it
 * is asked: 'added' the first time in this change, 'already' after. False when `trx` is no
 * change's transaction (a script's own transaction, a plain connection): the caller then
 * does the work at once.
 */
export function atChangeEnd(trx: object, key: string, work: () => Promise<void>): 'added' | 'already' | false {
  const end = changeEnds.get(trx);
  if (!end) return false;
  if (end.work.has(key)) return 'already';
  end.work.set(key, work);
  return 'added';
}

/** Runs `fn` as a change on `trx`, then the upkeep it put off (unless it failed or is unchanged). */
async function withChangeEnd<T>(trx: object, fn: () => Promise<ChangeOutcome<T>>): Promise<ChangeOutcome<T>> {
  let end = changeEnds.get(trx);
  if (end) {
    // Nested in a change on the same transaction: the outer change runs the upkeep.
    end.depth++;
    try {
      return await fn();
    } finally {
      end.depth--;
    }
  }
  end = { depth: 1, work: new Map() };
  changeEnds.set(trx, end);
  try {
    const outcome = await fn();
    if (!outcome.unchanged) {
      // Work may put off more work (a flush that touches another kind of row): run until none is left.
      while (end.work.size > 0) {
        const [key, work] = end.work.entries().next().value!;
        end.work.delete(key);
        await work();
      }
    }
    return outcome;
  } finally {
    changeEnds.delete(trx);
  }
}

/**
 * Runs one change: the new state and its event rows commit together or not at all.
 * Everything a service writes goes through here, so "every change is one transaction with
 * its event row" holds by construction. A transient conflict (deadlock, serialization
 * failure) rolls the transaction back and runs the whole change again, up to
 * `RETRY.attempts` times with a jittered, growing pause, so a user never sees one.
 * Several changes share one transaction by calling their `Change` forms inside one `fn`.
 */
export async function runChange<T>(core: Core, actor: string, fn: Change<T>): Promise<T> {
  const claim = takeClaim();
  if (core.db.dialect === 'sqlite') {
    try {
      const done = await commitInGroup(core, actor, fn, claim.run);
      // An unchanged outcome rolled its savepoint back, the claim with it.
      if (done.unchanged) claim.giveBack();
      return done.result;
    } catch (error) {
      claim.giveBack();
      throw error;
    }
  }
  for (let attempt = 1; ; attempt++) {
    const now = core.clock.now();
    const at = now.toISOString();
    try {
      return await core.db.kysely.transaction().execute(async (trx) => {
        if (claim.run) await claim.run(trx);
        const outcome = await withChangeEnd(trx, () => fn({ trx, at, today: at.slice(0, 10), actor, dialect: core.db.dialect }));
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
      if (error instanceof Unchanged) {
        claim.giveBack();
        return error.result as T;
      }
      if (!isTransient(error) || attempt >= RETRY.attempts) {
        claim.giveBack();
        throw error;
      }
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

/**
 * Group commit on SQLite. With `synchronous=FULL` every commit waits for its sync to disk
 * (about 4 ms here), and SQLite has one writer, so one change per commit caps a server at a
 * few hundred changes a second whatever it does besides, and makes concurrent requests queue
 * behind each other's syncs. Changes that arrive while the process is busy are run one after
 * the other in ONE transaction, each inside its own savepoint, and committed together with one
 * sync; each caller gets its answer only after that commit, so every answered change is on
 * disk exactly as before (the durability setting is untouched). A change that fails rolls
 * back to its savepoint and fails alone; an unchanged outcome rolls back to its savepoint too;
 * when the commit itself fails, every change of the group fails (none of them was written).
 * The changes of a group run strictly in turn, as separate transactions would on SQLite's one
 * writer. `npm run bench:api` measures the effect.
 */
interface Pending {
  fn: Change<unknown>;
  claim?: (trx: Tx) => Promise<void>;
  /** Bookkeeping that records no event (`writeInGroup`). */
  plain?: boolean;
  actor: string;
  attempt: number;
  /** When the change joined the queue (monotonic ms), for the group's maximum wait. */
  queuedAt: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}
interface Group {
  queue: Pending[];
  running: boolean;
  scheduled: boolean;
  /** Commits made and changes they carried (committed or failed alone), for measurement and tests. */
  commits: number;
  changes: number;
  /** Bookkeeping writes (`writeInGroup`) the commits carried besides the changes. */
  writes: number;
}
/** At most this many changes share a commit, so one sync never waits for an unbounded group. */
export const GROUP_COMMIT_MAX = 64;
/**
 * The longest a queued change waits for its group to start when the event loop does not come
 * round. A group is started from the event loop (after the turn's I/O), but SQLite's driver
 * answers reads in the same turn: code that reads in a loop without ever yielding to the event
 * loop (a report, a script, a test) would hold every commit off for as long as it reads. Once
 * the oldest queued change has waited this long, the next query this process makes (or the
 * next change queued) starts the group at once.
 */
export const GROUP_COMMIT_MAX_WAIT_MS = 20;
const groups = new WeakMap<Db, Group>();
// The timer functions as they are when the core loads, so a test's fake timers cannot stall commits.
const later = setImmediate;

function commitInGroup<T>(core: Core, actor: string, fn: Change<T>, claim?: (trx: Tx) => Promise<void>, plain = false): Promise<{ result: T; unchanged: boolean }> {
  let group = groups.get(core.db);
  if (!group) groups.set(core.db, (group = { queue: [], running: false, scheduled: false, commits: 0, changes: 0, writes: 0 }));
  const g = group;
  return new Promise<{ result: T; unchanged: boolean }>((resolve, reject) => {
    g.queue.push({ fn: fn as Change<unknown>, claim, plain, actor, attempt: 1, queuedAt: performance.now(), resolve: resolve as (value: unknown) => void, reject });
    if (!runOverdueGroup(core, g)) scheduleGroup(core, g);
  });
}

function scheduleGroup(core: Core, g: Group): void {
  if (g.running || g.scheduled || g.queue.length === 0) return;
  g.scheduled = true;
  // After the I/O of this turn: the requests that arrived together join one group.
  later(() => {
    g.scheduled = false;
    if (!g.running) void runGroup(core, g);
  });
}

/**
 * Starts the group now if its oldest change has waited `GROUP_COMMIT_MAX_WAIT_MS` without the
 * event loop coming round; true when it did. The pending `setImmediate` then finds it running
 * and leaves it be.
 */
function runOverdueGroup(core: Core, g: Group): boolean {
  if (g.running || g.queue.length === 0) return false;
  if (performance.now() - g.queue[0]!.queuedAt < GROUP_COMMIT_MAX_WAIT_MS) return false;
  void runGroup(core, g);
  return true;
}

/**
 * Checks the group's maximum wait after every query the core's database answers (one clock
 * read when changes are queued, nothing otherwise), so reads that never yield to the event
 * loop still let the queued changes commit. The group's own queries pass it by: it is running.
 */
function groupAgeGuard(core: Core): KyselyPlugin {
  return {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      const g = groups.get(core.db);
      if (g && g.queue.length > 0) runOverdueGroup(core, g);
      return args.result;
    },
  };
}

// The group's own statements, compiled once.
const SAVEPOINT = CompiledQuery.raw('savepoint change');
const ROLLBACK_TO = CompiledQuery.raw('rollback to change');
const RELEASE = CompiledQuery.raw('release change');

async function runGroup(core: Core, g: Group): Promise<void> {
  g.running = true;
  const batch = g.queue.splice(0, GROUP_COMMIT_MAX);
  const settled: Array<{ item: Pending; ok: boolean; value: unknown }> = [];
  try {
    await core.db.kysely.transaction().execute(async (trx) => {
      for (const item of batch) {
        const at = core.clock.now().toISOString();
        await trx.executeQuery(SAVEPOINT);
        try {
          if (item.claim) await item.claim(trx);
          const outcome = await withChangeEnd(trx, () => item.fn({ trx, at, today: at.slice(0, 10), actor: item.actor, dialect: 'sqlite' }));
          if (outcome.unchanged) {
            if (outcome.events.length > 0) throw new Error('an unchanged outcome records no event');
            await trx.executeQuery(ROLLBACK_TO);
          } else if (!item.plain) {
            if (outcome.events.length === 0) throw new Error('a change must record at least one event');
            await appendEvents(trx, 'sqlite', outcome.events, item.actor, at);
          }
          await trx.executeQuery(RELEASE);
          settled.push({ item, ok: true, value: { result: outcome.result, unchanged: outcome.unchanged === true } });
        } catch (error) {
          await trx.executeQuery(ROLLBACK_TO);
          await trx.executeQuery(RELEASE);
          settled.push({ item, ok: false, value: error });
        }
      }
    });
    g.commits++;
    const writes = batch.filter((item) => item.plain).length;
    g.writes += writes;
    g.changes += batch.length - writes;
  } catch (error) {
    // The commit (or the transaction's start) failed: nothing of the group was written.
    settled.length = 0;
    for (const item of batch) settled.push({ item, ok: false, value: error });
  }
  g.running = false;
  for (const { item, ok, value } of settled) {
    if (ok) item.resolve(value);
    else if (isTransient(value) && item.attempt < RETRY.attempts) {
      // Another process held the file past busy_timeout: the change runs again in a later group.
      const ceiling = Math.min(RETRY.maxMs, RETRY.baseMs * 2 ** item.attempt);
      item.attempt++;
      setTimeout(() => {
        item.queuedAt = performance.now();
        g.queue.push(item);
        scheduleGroup(core, g);
      }, ceiling / 2 + Math.random() * (ceiling / 2));
    } else item.reject(value);
  }
  scheduleGroup(core, g);
}

/**
 * Writes bookkeeping that records no business event — an Idempotency-Key's stored answer —
 * durably, without a synced commit of its own on SQLite: there it joins the group commit in
 * its own savepoint (a failure takes back only its own writes) and answers once that commit
 * is on disk, as a change does. On PostgreSQL it runs as it is, each statement committed on
 * its own. Not for changes to the business's state: those go through `runChange`, with their
 * event.
 */
export async function writeInGroup<T>(core: Core, write: (db: Db['kysely']) => Promise<T>): Promise<T> {
  if (core.db.dialect !== 'sqlite') return write(core.db.kysely);
  const done = await commitInGroup(core, 'system', async ({ trx }) => ({ result: await write(trx), events: [] }), undefined, true);
  return done.result;
}

/**
 * How many commits the group commit has made on this SQLite database, how many changes they
 * carried, and how many bookkeeping writes (`writeInGroup`) besides.
 */
export function groupCommitStats(core: Core): { commits: number; changes: number; writes: number } {
  const g = groups.get(core.db);
  return { commits: g?.commits ?? 0, changes: g?.changes ?? 0, writes: g?.writes ?? 0 };
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
  const core: Core = { db, clock: options.clock ?? clockFromEnv() };
  // SQLite's group commit starts groups from the event loop; the guard starts an overdue one from a query.
  if (db.dialect === 'sqlite') db.kysely = db.kysely.withPlugin(groupAgeGuard(core));
  return core;
}

export async function closeCore(core: Core): Promise<void> {
  await core.db.close();
}
