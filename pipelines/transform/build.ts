import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ident, lit, rowsJson, scalarNumber } from '../../src/warehouse/warehouse.ts';
import { body, bodyOverDelta, deltaTable, incrementalBody, partExpression, qualified, type Model } from './models.ts';

/** Tables rebuilt whole up to this size get a content fingerprint per part, so an unchanged one is not republished. */
export const FINGERPRINT_MAX_ROWS = 250_000;

/** What building a model did: its rows, and what its readers may rely on. */
export interface BuildOutcome {
  mode: 'view' | 'full' | 'incremental' | 'unchanged';
  /** Rows in the table after the build (0 for a view). */
  rows: number;
  /** Rows removed or added by an incremental update (the size of its delta); all rows for a full build. */
  rowsWritten: number;
  /** True when the table's content may differ from before the run. */
  changed: boolean;
  /** True when `delta_<schema>_<table>` holds exactly the rows that changed (empty when none did). */
  delta: boolean;
}

function describe(model: Model): string {
  return `model ${qualified(model)} (${path.relative(process.cwd(), model.file)})`;
}

async function run(conn: DuckDBConnection, model: Model, sql: string): Promise<void> {
  try {
    await conn.run(sql);
  } catch (error) {
    throw new Error(`${describe(model)} failed: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Makes the model's relation from its SELECT — a view or a table — dropping one of the other
 * kind first (a model that moved between staging and the marts), and writes its comments.
 */
async function replaceRelation(conn: DuckDBConnection, model: Model, kind: 'view' | 'table'): Promise<void> {
  const name = qualified(model);
  const existing = await rowsJson(conn, `select table_type from information_schema.tables where table_schema = $1 and table_name = $2`, [model.layer, model.name]);
  if (kind === 'view' && existing[0]?.table_type === 'BASE TABLE') await conn.run(`drop table ${name}`);
  if (kind === 'table' && existing[0]?.table_type === 'VIEW') await conn.run(`drop view ${name}`);
  await run(conn, model, `create or replace ${kind} ${name} as\n${body(model)}`);
  await writeComments(conn, model, kind);
}

/** (Re)creates a staging view and its comments. Staging models only rename, cast and union, and are read once or twice per run. */
export async function buildView(conn: DuckDBConnection, model: Model): Promise<void> {
  await replaceRelation(conn, model, 'view');
}

/**
 * Builds a mart or metric whole and writes its comments. Marts and metrics are public, so
 * every one of their columns must be documented in the file: a missing comment fails the run.
 *
 * With `refill` (the table was built from this same file before, and nothing it reads was
 * redefined since, so its columns and their types are those the SELECT gives), the table is
 * emptied and filled again instead: it keeps its comments, which saves the catalog work of
 * writing them (most of the cost of a small model rebuilt on every run).
 */
export async function buildFull(conn: DuckDBConnection, model: Model, options: { refill?: boolean } = {}): Promise<number> {
  const name = qualified(model);
  if (options.refill) return scalar(conn, model, `delete from ${name};\ninsert into ${name} by name\n${body(model)};\nselect count(*) from ${name}`);
  await replaceRelation(conn, model, 'table');
  return scalarNumber(conn, `select count(*) from ${name}`);
}

async function writeComments(conn: DuckDBConnection, model: Model, kind: 'view' | 'table'): Promise<void> {
  const name = qualified(model);
  const comment = [model.description, model.grain ? `Grain: ${model.grain}.` : ''].filter(Boolean).join(' ');
  const cols = await rowsJson(conn, `select column_name from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`, [model.layer, model.name]);
  const missing: string[] = [];
  // Every comment in one call: a statement sent on its own costs a round trip through the catalog.
  const statements = comment ? [`comment on ${kind} ${name} is ${lit(comment)}`] : [];
  for (const c of cols) {
    const column = String(c.column_name);
    const text = model.columns.get(column);
    if (text) statements.push(`comment on column ${name}.${ident(column)} is ${lit(text)}`);
    else if (model.layer !== 'staging') missing.push(column);
  }
  if (missing.length) throw new Error(`model ${name}: column(s) ${missing.join(', ')} have no "-- column <name>: …" comment in ${model.file}`);
  if (statements.length) await conn.run(statements.join(';\n'));
}

/**
 * `a.k = b.k and …` over the model's key columns. Plain equality lets DuckDB prune the scan
 * of the large side by the range of the keys; key columns are never null (checked on every
 * full build).
 */
function keyMatch(model: Model, a: string, b: string): string {
  return model.incrementalKey.map((k) => `${a}.${ident(k)} = ${b}.${ident(k)}`).join(' and ');
}

/** Fails the build when a key column of an incremental model holds a null: such rows could never be replaced. */
export async function checkKeys(conn: DuckDBConnection, model: Model): Promise<void> {
  if (model.incrementalKey.length === 0) return;
  const nulls = await scalarNumber(conn, `select count(*) from ${qualified(model)} where ${model.incrementalKey.map((k) => `${ident(k)} is null`).join(' or ')}`);
  if (nulls > 0) throw new Error(`${describe(model)}: ${nulls} row(s) have a null in the incremental key (${model.incrementalKey.join(', ')})`);
}

/** What an update in place did: the keys recomputed, the rows of its delta, and the published parts they fall in. */
export interface IncrementalOutcome {
  keys: number;
  deltaRows: number;
  parts: string[];
}

/**
 * Updates a model in place: the keys its changed-keys query names are recomputed with the
 * model's own SELECT (restricted to them), compared with the rows they have now, and only
 * the keys whose rows differ are deleted and inserted. The difference is left in
 * `delta_<schema>_<table>` (column `_change` = 'old' or 'new') for the models downstream.
 *
 * Each step is a statement, and at a million invoices a statement that does almost nothing
 * still costs about a millisecond: the steps that need no answer in between are sent together.
 */
export async function buildIncremental(
  conn: DuckDBConnection,
  model: Model,
  options: { columns?: Column[]; tableRows?: number } = {},
): Promise<IncrementalOutcome> {
  if (model.sums.length > 0) return buildSums(conn, model, options.columns ?? (await tableColumns(conn, [qualified(model)])).get(qualified(model)) ?? []);
  const name = qualified(model);
  const delta = deltaTable(name);
  const keys = model.incrementalKey.map(ident).join(', ');
  const keyCount = await scalar(
    conn,
    model,
    `create or replace temp table incremental_keys as select distinct ${keys} from (\n${model.changedKeys}\n) as changed where ${model.incrementalKey.map((k) => `${ident(k)} is not null`).join(' and ')};
    ${coreIdRange(model)}
    select count(*) from incremental_keys`,
  );
  if (keyCount === 0) {
    await emptyDelta(conn, name);
    return { keys: 0, deltaRows: 0, parts: [] };
  }
  // When the keys are most of the table (every customer touched, in a run whose new invoices
  // reach them all), the markers' filter keeps nearly every row and costs more than it saves
  // (a join over the whole input): the SELECT runs as a full build does, and the keys' rows
  // are taken from it.
  const mostKeys = options.tableRows !== undefined && 2 * keyCount > options.tableRows;
  // The keys' rows as they are and as the model's SELECT gives them now, then whether a side
  // repeats a row (or shares its hash with another), which decides how they are compared.
  const repeated = await scalar(
    conn,
    model,
    `create or replace temp table _model_old as select t.* from ${name} as t semi join incremental_keys as k on ${keyMatch(model, 't', 'k')};
    create or replace temp table _model_new as select b.* from (\n${mostKeys ? body(model) : incrementalBody(model)}\n) as b semi join incremental_keys as k on ${keyMatch(model, 'b', 'k')};
    select (select count(*) - count(distinct hash(t)) from _model_old as t) + (select count(*) - count(distinct hash(t)) from _model_new as t)`,
  );
  // Only rows that really differ: downstream work (and publishing) follows the true change.
  // When no row repeats on either side (nor shares its hash with another), the difference is
  // an anti join on the row hash confirmed by comparing whole rows, several times faster than
  // EXCEPT ALL, which keeps count of repeated rows and is used otherwise.
  const [changed] = await rowsJson(
    conn,
    `${
      repeated === 0
        ? `create or replace temp table ${delta} as
    with o as (select t as _row, hash(t) as _hash from _model_old as t), n as (select t as _row, hash(t) as _hash from _model_new as t)
    select 'old' as _change, unnest(o._row) from o anti join n on n._hash = o._hash and n._row is not distinct from o._row
    union all
    select 'new' as _change, unnest(n._row) from n anti join o on o._hash = n._hash and o._row is not distinct from n._row`
        : `create or replace temp table ${delta} as
    select 'old' as _change, * from (select * from _model_old except all select * from _model_new)
    union all
    select 'new' as _change, * from (select * from _model_new except all select * from _model_old)`
    };
    ${deltaSummary(model)}`,
  ).catch((error: unknown) => {
    throw new Error(`${describe(model)} failed: ${(error as Error).message}`, { cause: error });
  });
  const deltaRows = Number(changed!.n);
  const write =
    deltaRows > 0
      ? [
          `create or replace temp table _model_keys as select distinct ${keys} from ${delta}`,
          `delete from ${name} as t using _model_keys as k where ${keyMatch(model, 't', 'k')}`,
          `insert into ${name} select n.* from _model_new as n semi join _model_keys as k on ${keyMatch(model, 'n', 'k')}`,
        ]
      : [];
  await run(conn, model, [...write, 'drop table if exists incremental_keys', 'drop table if exists _model_new', 'drop table if exists _model_old', 'drop table if exists _model_keys'].join(';\n'));
  return { keys: keyCount, deltaRows, parts: partsOf(changed!) };
}

/** A table's columns in order, with their SQL types. */
export interface Column {
  name: string;
  type: string;
}

/** The columns of the given tables (qualified names), in one look at the catalog. */
export async function tableColumns(conn: DuckDBConnection, tables: string[]): Promise<Map<string, Column[]>> {
  const out = new Map<string, Column[]>(tables.map((t) => [t, []]));
  if (tables.length === 0) return out;
  const rows = await rowsJson(
    conn,
    `select table_schema || '.' || table_name as t, column_name as c, data_type as ty from information_schema.columns
     where table_catalog = current_database() and table_schema || '.' || table_name in (${tables.map(lit).join(', ')}) order by t, ordinal_position`,
  );
  for (const r of rows) out.get(String(r.t))?.push({ name: String(r.c), type: String(r.ty) });
  return out;
}

/** The rows of a model's delta (`n`) and the published parts they fall in (`parts`, as text), in one statement. */
function deltaSummary(model: Model, more?: string): string {
  return `select count(*) as n, string_agg(distinct ${partExpression(model)}, '\n') as parts${more ? `, ${more}` : ''} from ${deltaTable(qualified(model))}`;
}

function partsOf(row: Record<string, unknown>): string[] {
  return row.parts === null || row.parts === undefined ? [] : String(row.parts).split('\n');
}

/** Runs statements whose last one is a count, and returns that count. */
async function scalar(conn: DuckDBConnection, model: Model, sql: string): Promise<number> {
  try {
    return await scalarNumber(conn, sql);
  } catch (error) {
    throw new Error(`${describe(model)} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** The variables a marker may name to bound the core ids of the keys being recomputed (see `coreIdRange`). */
export const CORE_ID_MIN = 'incremental_core_id_min';
export const CORE_ID_MAX = 'incremental_core_id_max';

/**
 * For a model whose markers name them, the statements setting `getvariable('incremental_core_id_min')` and
 * `…_max` to the lowest and highest core id among its `core:<id>` keys (null when there is
 * none). A filter `core_id between` them is a constant range DuckDB applies while scanning,
 * skipping the row groups outside it by their min/max; `core_id in (select … from
 * incremental_keys)` alone is a join, applied only after every row of the table has been read
 * and renamed by its staging view. New rows have the highest ids, so a run's keys are mostly
 * a narrow range. The range adds nothing to the `in` filter it stands beside: same rows.
 */
function coreIdRange(model: Model): string {
  if (!model.sql.includes(CORE_ID_MIN) && !model.sql.includes(CORE_ID_MAX)) return '';
  if (model.incrementalKey.length !== 1) throw new Error(`${describe(model)}: the core id range needs a single incremental key column`);
  const k = ident(model.incrementalKey[0]!);
  const ids = `(select try_cast(substr(${k}, 6) as bigint) as id from incremental_keys where ${k} like 'core:%')`;
  return `set variable ${CORE_ID_MIN} = (select min(id) from ${ids}); set variable ${CORE_ID_MAX} = (select max(id) from ${ids});`;
}

/**
 * Updates a sums model in place by adding its input's change: the model's SELECT over the
 * input's new rows minus the same over its replaced rows, added up per row of the table (its
 * columns other than the sums), is the change of each row; rows whose change is zero in every
 * sum stay as they are. Only the rows that change are read, and they are the delta: their
 * old image, and their new one (the old sums plus the change) unless its row count falls to
 * zero, when the row goes. Exactly what computing the keys again would give, reading only the
 * input's delta instead of all its rows of them, and no comparison of old and new rows.
 */
async function buildSums(conn: DuckDBConnection, model: Model, columns: Column[]): Promise<IncrementalOutcome> {
  const name = qualified(model);
  const delta = deltaTable(name);
  const sums = new Set(model.sums);
  const missing = model.sums.filter((c) => !columns.some((x) => x.name === c));
  if (missing.length) throw new Error(`${describe(model)}: incremental sums ${missing.join(', ')} are not columns of the table`);
  const list = columns.map((c) => ident(c.name)).join(', ');
  const negated = columns.map((c) => (sums.has(c.name) ? `-${ident(c.name)} as ${ident(c.name)}` : ident(c.name))).join(', ');
  const summed = (cast: boolean) => columns.map((c) => (sums.has(c.name) ? `${cast ? `cast(sum(${ident(c.name)}) as ${c.type})` : `sum(${ident(c.name)})`} as ${ident(c.name)}` : ident(c.name))).join(', ');
  const groups = columns.filter((c) => !sums.has(c.name)).map((c) => ident(c.name));
  // A row of the table is its group (key columns by equality, which prunes the scan; the other
  // columns of the group may be null) and its sums.
  const keyColumns = new Set(model.incrementalKey);
  const sameRow = (a: string, b: string) =>
    [keyMatch(model, a, b), ...columns.filter((c) => !sums.has(c.name) && !keyColumns.has(c.name)).map((c) => `${a}.${ident(c.name)} is not distinct from ${b}.${ident(c.name)}`)].join(' and ');
  const count = ident(model.rowCount!);
  const changes = await scalar(
    conn,
    model,
    `create or replace temp table _model_change as
     select * from (
       select ${summed(false)} from (
         select ${list} from (\n${bodyOverDelta(model, 'new')}\n)
         union all select ${negated} from (\n${bodyOverDelta(model, 'old')}\n)
       ) group by ${groups.join(', ')}
     ) where ${model.sums.map((c) => `${ident(c)} is distinct from 0`).join(' or ')};
     select count(*) from _model_change`,
  );
  if (changes === 0) {
    await run(conn, model, `drop table _model_change; create or replace temp table ${delta} as select 'old' as _change, * from ${name} limit 0`);
    return { keys: 0, deltaRows: 0, parts: [] };
  }
  const [checked] = await rowsJson(
    conn,
    `create or replace temp table ${delta} as
     with old as materialized (select t.* from ${name} as t semi join _model_change as c on ${sameRow('t', 'c')})
     select 'old' as _change, * from old
     union all
     select 'new' as _change, * from (
       select ${summed(true)} from (select ${list} from old union all select ${list} from _model_change) group by ${groups.join(', ')}
     ) where ${count} <> 0;
     ${deltaSummary(model, `count(*) filter (where _change = 'new' and ${count} < 0) as negative`)}`,
  ).catch((error: unknown) => {
    throw new Error(`${describe(model)} failed: ${(error as Error).message}`, { cause: error });
  });
  const negative = Number(checked!.negative);
  if (negative > 0) throw new Error(`${describe(model)}: ${negative} row(s) would count fewer than no ${model.rowCount} after adding the changes; the table does not match its input`);
  await run(
    conn,
    model,
    `delete from ${name} as t using _model_change as c where ${sameRow('t', 'c')};
     insert into ${name} select * exclude (_change) from ${delta} where _change = 'new';
     drop table _model_change`,
  );
  return { keys: changes, deltaRows: Number(checked!.n), parts: partsOf(checked!) };
}

/** An empty delta: the table did not change this run. */
export async function emptyDelta(conn: DuckDBConnection, table: string): Promise<void> {
  await conn.run(`create or replace temp table ${deltaTable(table)} as select 'old' as _change, * from ${table} limit 0`);
}

/**
 * Records the parts a full build produced. Small tables get a fingerprint per part (row
 * count and the sum of row hashes); a part whose fingerprint is unchanged keeps its version,
 * so publishing skips it. Returns true when any part changed.
 */
export async function recordFullParts(conn: DuckDBConnection, model: Model, runId: string, rows: number): Promise<boolean> {
  const name = qualified(model);
  const fingerprint = rows <= FINGERPRINT_MAX_ROWS;
  // The parts as recorded and as they are now, in one statement.
  const parts = await rowsJson(
    conn,
    `select 'before' as side, part, version, cast(row_count as varchar) as row_count, cast(fingerprint as varchar) as fp from ops.table_parts where table_name = ${lit(name)}
     union all
     select 'after', part, null, cast(row_count as varchar), fp from (${
       fingerprint
         ? `select ${partExpression(model)} as part, count(*) as row_count, cast(sum(hash(t)::hugeint) as varchar) as fp from ${name} as t group by all`
         : `select part, row_count, null as fp from (${partCounts(model, name, 'true')})`
     })`,
  );
  const before = new Map(
    parts.filter((r) => r.side === 'before').map((r) => [String(r.part), { version: String(r.version), rows: String(r.row_count), fp: r.fp === null ? null : String(r.fp) }]),
  );
  const after = parts.filter((r) => r.side === 'after');
  const unchanged = (r: Record<string, unknown>) => {
    const b = before.get(String(r.part));
    return fingerprint && b !== undefined && b.fp !== null && b.fp === r.fp && b.rows === String(r.row_count);
  };
  if (before.size === after.length && after.every(unchanged)) return false;
  // Every part in one statement, after the old records in the same call: a small model rebuilt
  // whole has a part per month, each once a statement of its own.
  const values = after.map((r) => {
    const version = unchanged(r) ? before.get(String(r.part))!.version : runId;
    return `(${lit(name)}, ${lit(String(r.part))}, ${lit(version)}, ${BigInt(String(r.row_count))}, ${r.fp === null ? 'null' : `${lit(String(r.fp))}::hugeint`})`;
  });
  await conn.run([`delete from ops.table_parts where table_name = ${lit(name)}`, ...(values.length > 0 ? [`insert into ops.table_parts values ${values.join(', ')}`] : [])].join(';\n'));
  return true;
}

/**
 * Rows per published part (`part`, `row_count`) of the rows of `table` matching `where`,
 * counted per month first, so that a part's name is formatted once per month, not per row.
 */
function partCounts(model: Model, table: string, where: string): string {
  if (model.partitionColumn === null) return `select 'all' as part, count(*) as row_count from ${table} where ${where} having count(*) > 0`;
  const month = `date_trunc('month', ${ident(model.partitionColumn)})`;
  return `select ${partExpression({ partitionColumn: 'part_month' })} as part, sum(n) as row_count
    from (select ${month} as part_month, count(*) as n from ${table} where ${where} group by all) group by all`;
}

/**
 * Records the parts an incremental update touched (those of its delta's old and new rows, as
 * the update found them): each gets this run as its version and its new row count — the
 * recorded one plus the delta's new rows less its old ones, so no part of the table is read
 * again —; a part left empty is dropped.
 */
export async function recordDeltaParts(conn: DuckDBConnection, model: Model, runId: string, touched: string[]): Promise<void> {
  const name = qualified(model);
  if (touched.length === 0) return;
  await conn.run(
    `create or replace temp table _model_parts as
     select d.part, coalesce(b.row_count, 0) + d.change as row_count
     from (select ${partExpression(model)} as part, count(*) filter (where _change = 'new') - count(*) filter (where _change = 'old') as change from ${deltaTable(name)} group by all) as d
     left join ops.table_parts as b on b.table_name = ${lit(name)} and b.part = d.part;
     delete from ops.table_parts where table_name = ${lit(name)} and part in (select part from _model_parts);
     insert into ops.table_parts select ${lit(name)}, part, ${lit(runId)}, row_count, null from _model_parts where row_count > 0;
     drop table _model_parts`,
  );
}
