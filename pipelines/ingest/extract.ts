import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DomainError, invalid } from '../../src/shared/errors.ts';
import { columnsOf, extractColumnKind } from '../schema.ts';
import { faultPoint, ident, inTransaction, lit, rowsJson, scalarNumber } from '../../src/warehouse/warehouse.ts';
import { canonicalMapping, readMapping, type Mapping, type MappingEntry } from './mapping.ts';

export interface IngestExtractResult {
  source: string;
  rowsRead: number;
  rowsWritten: number;
  files: { file: string; entity: string; rows: number }[];
}

const DEFAULT_TRUE = ['true', 'yes', '1', 'y', 't'];
const DEFAULT_FALSE = ['false', 'no', '0', 'n', 'f'];

/**
 * Lands an extract folder in `raw.extract_<entity>`. An extract is a snapshot of the other
 * ERP, so a load replaces that source's rows; the delete, the inserts and the load record
 * commit in one transaction. DuckDB reads the files itself (read_csv / read_parquet), all
 * columns as text; the mapping renames, fills constants and turns dates and booleans into
 * the canonical spelling, and every row is validated before anything commits.
 */
export async function ingestExtract(conn: DuckDBConnection, dir: string, mappingFile: string | undefined, options: { runId: string }): Promise<IngestExtractResult> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw invalid(`extract folder ${dir} does not exist`, { entity: 'extract', id: dir, rule: 'exists' });
  const mapping: Mapping = mappingFile ? readMapping(mappingFile) : canonicalMapping(dir);
  return inTransaction(conn, async () => {
    const entities = new Set(mapping.files.map((f) => f.entity));
    for (const entity of entities) await conn.run(`delete from raw.extract_${entity} where source = $1`, [mapping.source]);
    const files: IngestExtractResult['files'] = [];
    let rowsRead = 0;
    for (const entry of mapping.files) {
      const rows = await landFile(conn, dir, mapping.source, entry);
      files.push({ file: entry.file, entity: entry.entity, rows });
      rowsRead += rows;
    }
    for (const entity of entities) await validateEntity(conn, mapping.source, entity);
    faultPoint('extract:before-commit');
    await conn.run('insert into ops.extract_loads values ($1, $2, now(), $3, $4)', [options.runId, mapping.source, JSON.stringify(files), BigInt(rowsRead)]);
    return { source: mapping.source, rowsRead, rowsWritten: rowsRead, files };
  });
}

async function landFile(conn: DuckDBConnection, dir: string, source: string, entry: MappingEntry): Promise<number> {
  const file = path.resolve(dir, entry.file);
  if (!fs.existsSync(file)) throw invalid(`extract file ${file} does not exist`, { entity: 'extract', id: entry.file, rule: 'exists' });
  const reader = file.endsWith('.parquet')
    ? `read_parquet(${lit(file)})`
    : `read_csv(${lit(file)}, header = true, all_varchar = true, delim = ${lit(entry.delimiter ?? ',')}, quote = '"')`;
  const described = await rowsJson(conn, `describe select * from ${reader}`);
  const sourceColumns = new Set(described.map((r) => String(r.column_name)));
  const trueWords = (entry.true_values ?? DEFAULT_TRUE).map((w) => w.toLowerCase());
  const falseWords = (entry.false_values ?? DEFAULT_FALSE).map((w) => w.toLowerCase());
  const selects: string[] = [];
  for (const col of columnsOf(entry.entity)) {
    const constant = entry.constants?.[col.name];
    const from = entry.columns?.[col.name] ?? (sourceColumns.has(col.name) ? col.name : undefined);
    let expr: string;
    if (constant !== undefined) expr = lit(constant);
    else if (from !== undefined) {
      if (!sourceColumns.has(from)) {
        throw invalid(`extract file ${entry.file} has no column ${from} (mapped to ${entry.entity}.${col.name})`, {
          entity: 'extract',
          id: entry.file,
          field: from,
          rule: 'column_exists',
        });
      }
      expr = `nullif(trim(cast(${ident(from)} as varchar)), '')`;
    } else if (col.required) {
      throw invalid(`extract file ${entry.file} gives no ${entry.entity}.${col.name}, a required column`, {
        entity: 'extract',
        id: entry.file,
        field: col.name,
        rule: 'required_column',
      });
    } else expr = 'null';
    const kind = extractColumnKind(col.name);
    if (kind === 'date' && entry.date_format && constant === undefined) {
      expr = `coalesce(strftime(try_strptime(${expr}, ${lit(entry.date_format)}), '%Y-%m-%d'), 'invalid:' || ${expr})`;
    } else if (kind === 'boolean' && constant === undefined) {
      const inList = (ws: string[]) => ws.map(lit).join(', ');
      expr = `case when ${expr} is null then null when lower(${expr}) in (${inList(trueWords)}) then 'true' when lower(${expr}) in (${inList(falseWords)}) then 'false' else 'invalid:' || ${expr} end`;
    }
    selects.push(`${expr} as ${col.name}`);
  }
  const names = columnsOf(entry.entity).map((c) => c.name);
  const result = await conn.run(
    `insert into raw.extract_${entry.entity} (source, file, row_no, ${names.join(', ')})
     select ${lit(source)}, ${lit(entry.file)}, row_number() over (), ${selects.join(', ')} from ${reader}`,
  );
  return Number(result.rowsChanged);
}

/** Checks the landed rows of one entity: required values present, dates, amounts and booleans well formed. */
async function validateEntity(conn: DuckDBConnection, source: string, entity: string): Promise<void> {
  const problems: { message: string; field: string; value?: unknown; rule: string }[] = [];
  const table = `raw.extract_${entity}`;
  for (const col of columnsOf(entity)) {
    const kind = extractColumnKind(col.name);
    const checks: [string, string, string][] = [];
    if (col.required) checks.push([`${col.name} is null`, 'required', 'is empty']);
    if (kind === 'date') checks.push([`${col.name} is not null and try_cast(${col.name} as date) is null`, 'date', 'is not a date']);
    if (kind === 'money') checks.push([`${col.name} is not null and try_cast(${col.name} as decimal(18,2)) is null`, 'decimal', 'is not a decimal amount']);
    if (kind === 'integer') checks.push([`${col.name} is not null and try_cast(${col.name} as bigint) is null`, 'integer', 'is not an integer']);
    if (kind === 'boolean') checks.push([`${col.name} like 'invalid:%'`, 'boolean', 'is not a known true/false word']);
    for (const [where, rule, reason] of checks) {
      const bad = await rowsJson(conn, `select file, row_no, ${col.name} as v from ${table} where source = $1 and (${where}) order by file, row_no limit 5`, [source]);
      if (bad.length === 0) continue;
      const count = await scalarNumber(conn, `select count(*) from ${table} where source = $1 and (${where})`, [source]);
      for (const b of bad) {
        const value = typeof b.v === 'string' ? b.v.replace(/^invalid:/, '') : b.v;
        problems.push({ field: `${entity}.${col.name}`, value, rule, message: `${b.file} row ${b.row_no}: ${entity}.${col.name} ${JSON.stringify(value)} ${reason}` });
      }
      if (count > bad.length) problems.push({ field: `${entity}.${col.name}`, rule, message: `… and ${count - bad.length} more rows where ${entity}.${col.name} ${reason}` });
    }
  }
  if (problems.length) {
    throw new DomainError('invalid', `extract ${source}: ${problems.length} problem(s) in ${entity}, nothing was loaded; first: ${problems[0]!.message}`, { entity: 'extract', id: source, rule: 'extract_rows_valid' }, problems);
  }
}
