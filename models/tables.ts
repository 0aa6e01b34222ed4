import fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The forecast tables: each model owns its tables' definitions as commented SQL beside its
 * code (`<model>/tables.sql`, like the transform's files in pipelines/sql), and every row is
 * written through the DuckDB appender — no figure ever reaches SQL as text.
 *
 * A definition file holds, per table, `-- table schema.name: what a row is`, one
 * `-- column name: meaning` line per column, then its `create table if not exists …;`. A
 * warehouse made by an older version gains the columns it lacks (`add column if not exists`),
 * and every table and column gets its comment from the file.
 */
export interface TableDefinition {
  table: string;
  comment: string;
  columns: { name: string; type: string; comment: string }[];
}

/** Parses a definition file (see above). Throws naming the file when a column lacks its comment or a comment names no column. */
export function parseTables(sqlText: string, file = 'tables.sql'): TableDefinition[] {
  const out: TableDefinition[] = [];
  const blocks = sqlText.split(/^-- table /m).slice(1);
  for (const block of blocks) {
    const head = /^([a-z_]+\.[a-z_]+):\s*(.+)$/m.exec(block);
    if (!head) throw new Error(`${file}: a "-- table" line must read "-- table schema.name: comment"`);
    const table = head[1]!;
    const comments = new Map<string, string>();
    for (const m of block.matchAll(/^-- column ([a-z_0-9]+):\s*(.+)$/gm)) comments.set(m[1]!, m[2]!.trim());
    const create = new RegExp(`create table if not exists ${table.replace('.', '\\.')} \\(([\\s\\S]*?)\\);`).exec(block);
    if (!create) throw new Error(`${file}: ${table} has no "create table if not exists ${table} (…);"`);
    const columns = create[1]!
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean)
      .map((c) => {
        const [name, ...type] = c.split(/\s+/);
        const comment = comments.get(name!);
        if (comment === undefined) throw new Error(`${file}: ${table}.${name} has no "-- column ${name}:" comment`);
        return { name: name!, type: type.join(' '), comment };
      });
    for (const name of comments.keys()) if (!columns.some((c) => c.name === name)) throw new Error(`${file}: "-- column ${name}" names no column of ${table}`);
    out.push({ table, comment: head[2]!.trim(), columns });
  }
  return out;
}

/** Reads a model's definition file (a path relative to this folder, e.g. `cash-in/tables.sql`). */
export function readTables(relative: string): TableDefinition[] {
  const file = new URL(relative, import.meta.url);
  return parseTables(fs.readFileSync(file, 'utf8'), relative);
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Creates the tables (and their schema), adds the columns an older warehouse lacks, and sets every comment. */
export async function ensureTables(conn: DuckDBConnection, definitions: TableDefinition[]): Promise<void> {
  for (const d of definitions) {
    const schema = d.table.split('.')[0]!;
    await conn.run(`create schema if not exists ${schema}`);
    await conn.run(`create table if not exists ${d.table} (${d.columns.map((c) => `${c.name} ${c.type}`).join(', ')})`);
    for (const c of d.columns) await conn.run(`alter table ${d.table} add column if not exists ${c.name} ${c.type}`);
    await conn.run(`comment on table ${d.table} is ${quote(d.comment)}`);
    for (const c of d.columns) await conn.run(`comment on column ${d.table}.${c.name} is ${quote(c.comment)}`);
  }
}

/** A cell: text and dates as strings, whole numbers as number or bigint, measures as number; null for none. */
export type Cell = string | number | bigint | null;

/**
 * Appends `rows` (objects keyed by column name) to `table` through the DuckDB appender, via a
 * scratch table of plain types so the target's column order and any columns it has beyond
 * these do not matter. Whole-number columns (bigint, integer) take whole numbers only — a
 * fraction is a bug and throws naming the table, column and value. A measure (double) that is
 * NaN or infinite is stored as NULL, and when `reasonColumn` is given the row's reason says
 * which figure was left out and why (`value: not a finite number (Infinity)`), beside any
 * reason the row already carries.
 */
export async function appendRows(conn: DuckDBConnection, table: string, rows: Record<string, Cell>[], options: { reasonColumn?: string } = {}): Promise<number> {
  if (rows.length === 0) return 0;
  const [schema, name] = table.split('.') as [string, string];
  const info = (await conn.runAndReadAll(
    `select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`,
    [schema, name],
  )).getRowObjectsJS() as { column_name: string; data_type: string }[];
  const types = new Map(info.map((c) => [c.column_name, c.data_type.toUpperCase()]));
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (options.reasonColumn && !names.includes(options.reasonColumn)) names.push(options.reasonColumn);
  for (const n of names) if (!types.has(n)) throw new Error(`${table} has no column ${n}`);
  const kind = (n: string): 'int' | 'double' | 'text' => {
    const t = types.get(n)!;
    if (/^(BIGINT|INTEGER|HUGEINT|SMALLINT|TINYINT)$/.test(t)) return 'int';
    if (/^(DOUBLE|FLOAT|REAL|DECIMAL)/.test(t)) return 'double';
    return 'text';
  };
  const scratch = `_append_${name}`;
  const scratchType = { int: 'hugeint', double: 'double', text: 'varchar' } as const;
  await conn.run(`create or replace temp table ${scratch} (${names.map((n) => `${n} ${scratchType[kind(n)]}`).join(', ')})`);
  const appender = await conn.createAppender(scratch, 'main', 'temp');
  try {
    for (const row of rows) {
      const reasons: string[] = [];
      for (const n of names) {
        if (n === options.reasonColumn) continue;
        const v = row[n] ?? null;
        const k = kind(n);
        if (v === null) appender.appendNull();
        else if (k === 'int') {
          if (typeof v === 'bigint') appender.appendHugeInt(v);
          else if (typeof v === 'number' && Number.isSafeInteger(v)) appender.appendHugeInt(BigInt(v));
          else if (typeof v === 'number' && !Number.isFinite(v)) {
            appender.appendNull();
            reasons.push(`${n}: not a finite number (${v})`);
          } else throw new Error(`${table}.${n} takes whole numbers, got ${String(v)}`);
        } else if (k === 'double') {
          const x = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
          if (typeof v === 'string') throw new Error(`${table}.${n} takes a number, got text ${JSON.stringify(v)}`);
          if (Number.isFinite(x)) appender.appendDouble(x);
          else {
            appender.appendNull();
            reasons.push(`${n}: not a finite number (${x})`);
          }
        } else appender.appendVarchar(String(v));
      }
      if (options.reasonColumn) {
        const given = row[options.reasonColumn];
        const all = [...(given === null || given === undefined ? [] : [String(given)]), ...reasons];
        if (all.length > 0) appender.appendVarchar(all.join('; '));
        else appender.appendNull();
      } else if (reasons.length > 0) throw new Error(`${table}: ${reasons.join('; ')}, and the table has no column for the reason`);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  await conn.run(`insert into ${table} (${names.join(', ')}) select ${names.join(', ')} from temp.${scratch}`);
  await conn.run(`drop table temp.${scratch}`);
  return rows.length;
}
