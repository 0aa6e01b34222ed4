import { PostgresAdapter, type CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { DialectName } from './connection.ts';
import type { Database } from './schema.ts';

/**
 * Statements built once. Kysely builds a query's tree and compiles its SQL on every call,
 * which cost 20–55 µs of CPU per statement here (a `select … where id = ?` and an
 * `insert … returning *`), about as much as SQLite takes to run it. A prepared query is built
 * and compiled once per dialect with placeholders in place of its arguments; each call then
 * sends the same SQL with the arguments put where the placeholders were, through the
 * caller's Kysely or transaction (so it runs inside that transaction, and the plugins'
 * result hooks still see it).
 *
 * `build` receives the database, its dialect and one placeholder per argument, and must use
 * each argument only as a value of the query (never branch on it, never compute with it):
 * the query is built with placeholders, not with the values. Lists of varying length
 * (`in (…)`) are no fixed shape: build those per call. A plugin's query transform runs once,
 * when the query is first compiled (its result transform on every call): count or rewrite
 * statements at the database, not with a plugin added later.
 */
export interface PreparedQuery<A extends unknown[], R> {
  /** The compiled query with these arguments. */
  compile(db: Kysely<Database>, ...args: A): CompiledQuery<R>;
  execute(db: Kysely<Database>, ...args: A): Promise<R[]>;
  /** The first row, or undefined. */
  first(db: Kysely<Database>, ...args: A): Promise<R | undefined>;
  /** The first row; throws when there is none. */
  one(db: Kysely<Database>, ...args: A): Promise<R>;
  /** The driver's whole answer (rows, affected rows). */
  run(db: Kysely<Database>, ...args: A): Promise<QueryResult<R>>;
}

interface Template {
  compiled: CompiledQuery;
  /** For each parameter of the compiled query: the argument it takes, or -1 for a constant of the query. */
  slots: number[];
}

// Placeholders no real argument equals: a parameter is matched to its argument by identity.
const placeholder = (i: number) => `\u0000cashloop-prepared-argument-${i}\u0000`;

export function dialectOf(db: Kysely<Database>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Builds the query once per dialect; see `PreparedQuery`. The number of arguments is the
 * number `build` names after the dialect, or `arity` for a `build` that takes them as a rest
 * parameter.
 */
export function prepared<A extends unknown[], R>(build: (db: Kysely<Database>, dialect: DialectName, ...args: A) => Compilable<R>, arity = build.length - 2): PreparedQuery<A, R> {
  const templates = new Map<DialectName, Template>();
  const template = (db: Kysely<Database>): Template => {
    const dialect = dialectOf(db);
    let t = templates.get(dialect);
    if (!t) {
      const marks = Array.from({ length: Math.max(0, arity) }, (_, i) => placeholder(i));
      const compiled = build(db, dialect, ...(marks as unknown as A)).compile();
      const slots = compiled.parameters.map((p) => (typeof p === 'string' ? marks.indexOf(p) : -1));
      const missing = marks.findIndex((_, i) => !slots.includes(i));
      if (missing >= 0) throw new Error(`prepared query: argument ${missing + 1} is not a value of the query (${compiled.sql})`);
      t = { compiled, slots };
      templates.set(dialect, t);
    }
    return t;
  };
  const compile = (db: Kysely<Database>, ...args: A): CompiledQuery<R> => {
    const { compiled, slots } = template(db);
    const parameters = compiled.parameters.map((p, i) => (slots[i]! >= 0 ? args[slots[i]!] : p));
    return { ...compiled, parameters } as CompiledQuery<R>;
  };
  const run = (db: Kysely<Database>, ...args: A) => db.executeQuery(compile(db, ...args));
  return {
    compile,
    run,
    execute: async (db, ...args) => (await run(db, ...args)).rows,
    first: async (db, ...args) => (await run(db, ...args)).rows[0],
    one: async (db, ...args) => {
      const row = (await run(db, ...args)).rows[0];
      if (row === undefined) throw new Error(`prepared query found no row (${template(db).compiled.sql})`);
      return row;
    },
  };
}

/** Prepared queries of one family kept by a shape key (the columns an update sets, say). */
export function preparedByShape<K extends string, A extends unknown[], R>(make: (key: K) => PreparedQuery<A, R>): (key: K) => PreparedQuery<A, R> {
  const kept = new Map<K, PreparedQuery<A, R>>();
  return (key) => {
    let q = kept.get(key);
    if (!q) kept.set(key, (q = make(key)));
    return q;
  };
}
