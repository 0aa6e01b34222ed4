import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DomainError, invalid } from '../../src/shared/errors.ts';
import { MAX_AMOUNT_MINOR, MAX_QUANTITY } from '../../src/shared/bounds.ts';
import { blankMeansCatchAll, CATCH_ALL_CUSTOMER, EXTRACT_KEYS, FREE_TEXT_COLUMNS, NAMES_A_CUSTOMER, textMax, UNLISTED_CUSTOMER_NAME, warehouseColumns, type ExtractEntity } from '../../src/extract/contract.ts';
import { canonicalHeader, canonicalMapping, decimalSeparatorOf, readExtractMapping, type ExtractFile, type ExtractMapping } from '../../src/extract/mapping.ts';
import { detectDelimiter } from '../../src/extract/source.ts';
import { exponentOf, sqlBoolean, sqlDate, sqlDecimal } from '../../src/extract/values.ts';
import { faultPoint, ident, inTransaction, lit, rowsJson, scalarNumber } from '../../src/warehouse/warehouse.ts';

export interface IngestExtractResult {
  source: string;
  rowsRead: number;
  rowsWritten: number;
  files: { file: string; entity: string; rows: number }[];
  /** Customer ids that rows name but the customers file does not list: each got a stand-in customer row. */
  unlistedCustomers: number;
}

/** Reads the extract's mapping: the given file, else the canonical layout of the folder. */
export function extractMappingOf(dir: string, mappingFile: string | undefined): ExtractMapping {
  return mappingFile ? readExtractMapping(mappingFile, dir) : canonicalMapping(dir);
}

/** Most problems listed per rule and column in the error; the count says how many more. */
const LISTED = 20;

/**
 * Lands an extract folder in `raw.extract_<entity>`. An extract is a snapshot of the other
 * ERP, so a load replaces that source's rows; the delete, the inserts and the load record
 * commit in one transaction. DuckDB reads the files itself (read_csv / read_parquet), all
 * columns as text; the shared extract contract (src/extract) renames, fills constants and
 * rewrites dates, decimals and booleans to the canonical spelling with the same patterns
 * onboarding uses, and every row is checked by the same rules before anything commits. A
 * row breaking one is named (file, row, field, value, rule) and nothing is loaded.
 */
export async function ingestExtract(conn: DuckDBConnection, dir: string, mappingFile: string | undefined, options: { runId: string }): Promise<IngestExtractResult> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw invalid(`extract folder ${dir} does not exist`, { entity: 'extract', id: dir, field: 'extract', value: dir, rule: 'folder_exists' });
  const mapping = extractMappingOf(dir, mappingFile);
  return inTransaction(conn, async () => {
    const entities = [...new Set(mapping.files.map((f) => f.entity))];
    for (const entity of new Set<ExtractEntity>([...entities, 'customers'])) await conn.run(`delete from raw.extract_${entity} where source = $1`, [mapping.source]);
    const files: IngestExtractResult['files'] = [];
    let rowsRead = 0;
    for (const entry of mapping.files) {
      const rows = await landFile(conn, dir, mapping.source, entry);
      files.push({ file: entry.file, entity: entry.entity, rows });
      rowsRead += rows;
    }
    const problems: Problem[] = [];
    for (const entity of entities) problems.push(...(await checkEntity(conn, mapping.source, entity, entities)));
    if (problems.length) {
      const first = problems[0]!;
      throw new DomainError(
        'invalid',
        `extract ${mapping.source}: ${problems.filter((p) => p.row !== null).length} row problem(s), nothing was loaded; first: ${first.message}`,
        { entity: 'extract', id: mapping.source, field: first.field, value: first.value, rule: first.rule },
        problems.map((p) => ({ entity: 'extract', id: p.row === null ? p.file : `${p.file} row ${p.row}`, field: p.field, value: p.value, rule: p.rule, message: p.message })),
      );
    }
    const unlistedCustomers = await addStandInCustomers(conn, mapping.source, entities);
    faultPoint('extract:before-commit');
    await conn.run('insert into ops.extract_loads values ($1, $2, now(), $3, $4)', [options.runId, mapping.source, JSON.stringify(files), BigInt(rowsRead)]);
    return { source: mapping.source, rowsRead, rowsWritten: rowsRead, files, unlistedCustomers };
  });
}

async function landFile(conn: DuckDBConnection, dir: string, source: string, entry: ExtractFile): Promise<number> {
  const file = path.resolve(dir, entry.file);
  if (!fs.existsSync(file)) throw invalid(`extract file ${file} does not exist`, { entity: 'extract', id: entry.file, field: 'file', value: entry.file, rule: 'file_exists' });
  const parquet = file.endsWith('.parquet');
  const m = entry.mapping;
  const reader = parquet
    ? `read_parquet(${lit(file)})`
    : `read_csv(${lit(file)}, header = true, all_varchar = true, delim = ${lit(m.delimiter ?? sniffDelimiter(file))}, quote = '"')`;
  const described = await rowsJson(conn, `describe select * from ${reader}`);
  const header = described.map((r) => String(r.column_name));
  const canonical = canonicalHeader(header, m);
  // Parquet carries typed values: its decimals are written with a dot whatever the mapping says.
  const separator = parquet ? '.' : decimalSeparatorOf({ ...m, delimiter: m.delimiter ?? undefined });
  const selects: string[] = [];
  for (const col of warehouseColumns(entry.entity)) {
    const constant = m.constants?.[col.name];
    const picked = m.pick?.[col.name];
    const position = canonical.indexOf(col.name);
    const from = picked ?? (position >= 0 ? header[position] : undefined);
    if (picked !== undefined && !header.includes(picked)) {
      throw invalid(`extract file ${entry.file} has no column ${picked} (mapped to ${entry.entity}.${col.name}; header: ${header.join(', ')})`, {
        entity: 'extract', id: entry.file, field: col.name, value: picked, rule: 'column_required',
      });
    }
    const cell = from === undefined ? 'null' : `nullif(trim(cast(${ident(from)} as varchar)), '')`;
    const given = constant === undefined ? cell : from === undefined ? lit(constant) : `coalesce(${cell}, ${lit(constant)})`;
    // A blank customer id is the catch-all customer's, as onboarding reads it (src/extract/contract.ts).
    const text = blankMeansCatchAll(entry.entity, col.name) && given !== 'null' ? `coalesce(${given}, ${lit(CATCH_ALL_CUSTOMER.id)})` : given;
    if (text === 'null' && col.required) {
      throw invalid(`extract file ${entry.file} gives no ${entry.entity}.${col.name}, a required column (header: ${header.join(', ')})`, {
        entity: 'extract', id: entry.file, field: col.name, value: header.join(','), rule: 'column_required',
      });
    }
    let expr = text;
    const bad = (clean: string) => `case when ${text} is null then null else coalesce(${clean}, 'invalid:' || ${text}) end`;
    if (col.kind === 'date') expr = bad(sqlDate(text, m.dateFormat));
    else if (col.kind === 'boolean') expr = bad(sqlBoolean(text, m));
    else if (col.kind === 'money') expr = bad(sqlDecimal(text, separator));
    else if (col.kind === 'currency') expr = `upper(${text})`;
    selects.push(`${expr} as ${col.name}`);
  }
  const names = warehouseColumns(entry.entity).map((c) => c.name);
  const result = await conn.run(
    `insert into raw.extract_${entry.entity} (source, file, row_no, ${names.join(', ')})
     select ${lit(source)}, ${lit(entry.file)}, row_number() over (), ${selects.join(', ')} from ${reader}`,
  );
  return Number(result.rowsChanged);
}

/** The delimiter of a CSV's header line, as onboarding detects it: the most frequent of `,` `;` and tab outside quotes. */
function sniffDelimiter(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return detectDelimiter(buf.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '');
  } finally {
    fs.closeSync(fd);
  }
}

interface Problem {
  file: string;
  row: number | null;
  field: string;
  value: string | null;
  rule: string;
  message: string;
}

/** Integer columns and the values they allow, as onboarding reads them. */
const INTEGER_RANGES: Record<string, [number, number]> = { line_no: [1, 100_000], quantity: [1, MAX_QUANTITY], payment_terms_days: [0, 365] };

/**
 * Checks the landed rows of one file: required values present; dates, decimals, booleans
 * and whole numbers well formed; amounts within their currency's decimals, not negative
 * (payments above zero), not beyond the largest amount; a row whose key repeats with
 * other values. A row repeated exactly is the same row twice and counts once.
 */
async function checkEntity(conn: DuckDBConnection, source: string, entity: ExtractEntity, loaded: ExtractEntity[]): Promise<Problem[]> {
  const table = `raw.extract_${entity}`;
  // The currency each row's amounts are in: its own, else its customer's in the customers file.
  const currencies = await rowsJson(
    conn,
    `select distinct coalesce(x.currency, ${NAMES_A_CUSTOMER.includes(entity) ? 'c.currency' : 'null'}) as currency from ${table} x
     ${NAMES_A_CUSTOMER.includes(entity) ? `left join (select customer_id, any_value(currency) as currency from raw.extract_customers where source = $1 group by 1) c on c.customer_id = x.customer_id` : ''}
     where x.source = $1`,
    [source],
  );
  const known = currencies.map((r) => r.currency).filter((c): c is string => typeof c === 'string' && /^[A-Z]{3}$/.test(c));
  // Decimals each currency allows, and 10 to that power, as SQL over the row's currency (2 for any other).
  const byCurrency = (f: (exponent: number) => string, otherwise: string) =>
    known.length ? `(case _currency ${known.map((c) => `when ${lit(c)} then ${f(exponentOf(c))}`).join(' ')} else ${otherwise} end)` : otherwise;
  const exponent = byCurrency(String, '2');
  const scale = byCurrency((e) => `${10 ** e}`, '100');
  const withCurrency = NAMES_A_CUSTOMER.includes(entity)
    ? `(select x.*, coalesce(x.currency, c.currency) as _currency, coalesce(c.currency, s.currency) as _currency_of_customer from ${table} x
        left join (select customer_id, any_value(currency) as currency from raw.extract_customers where source = $1 group by 1) c on c.customer_id = x.customer_id
        left join ${firstRowCurrency(loaded)} s on s.customer_id = x.customer_id
        where x.source = $1)`
    : `(select *, currency as _currency from ${table} where source = $1)`;
  const checks: { column: string; where: string; rule: string; reason: string }[] = [];
  for (const col of warehouseColumns(entity)) {
    const c = col.name;
    if (col.required) checks.push({ column: c, where: `${c} is null`, rule: 'required', reason: 'is required' });
    if (col.kind === 'text') {
      // As onboarding reads text: within the column's length, no control characters (a name may hold tabs and line breaks).
      const control = FREE_TEXT_COLUMNS.includes(c) ? '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]' : '[\\x00-\\x1f\\x7f]';
      checks.push({ column: c, where: `length(${c}) > ${textMax(entity, c)}`, rule: 'max_length', reason: `is longer than ${textMax(entity, c)} characters` });
      checks.push({ column: c, where: `length(${c}) <= ${textMax(entity, c)} and regexp_matches(${c}, '${control}')`, rule: 'control_character', reason: 'holds a control character' });
    }
    if (col.kind === 'date') checks.push({ column: c, where: `${c} like 'invalid:%'`, rule: 'date_format', reason: 'is not a date in the file\'s date format' });
    if (col.kind === 'boolean') checks.push({ column: c, where: `${c} like 'invalid:%'`, rule: 'boolean', reason: 'is not one of the words for true or false' });
    if (col.kind === 'currency' && NAMES_A_CUSTOMER.includes(entity)) {
      checks.push({ column: c, where: `${c} is not null and _currency_of_customer is not null and ${c} <> _currency_of_customer`, rule: 'currency_match', reason: "differs from its customer's currency (in the customers file, else that of the first row naming a customer the file does not list)" });
    }
    if (col.kind === 'currency') checks.push({ column: c, where: `${c} is not null and not regexp_full_match(${c}, '[A-Z]{3}')`, rule: 'currency_code', reason: 'is not a three-letter ISO 4217 code' });
    if (col.kind === 'integer') {
      const [min, max] = INTEGER_RANGES[c] ?? [0, Number.MAX_SAFE_INTEGER];
      checks.push({ column: c, where: `${c} is not null and (not regexp_full_match(${c}, '-?\\d{1,15}') or cast(${c} as bigint) not between ${min} and ${max})`, rule: 'integer_range', reason: `must be a whole number from ${min} to ${max}` });
    }
    if (col.kind === 'money') {
      const fraction = `length(coalesce(regexp_extract(${c}, '\\.(\\d+)$', 1), ''))`;
      checks.push({ column: c, where: `${c} like 'invalid:%'`, rule: 'amount_format', reason: 'is not a decimal amount' });
      checks.push({ column: c, where: `${c} not like 'invalid:%' and ${fraction} > ${exponent}`, rule: 'amount_precision', reason: 'has more decimals than its currency allows' });
      checks.push({ column: c, where: `${c} not like 'invalid:%' and ${c} like '-%'`, rule: 'amount_not_negative', reason: 'is negative' });
      checks.push({
        column: c,
        where: `${c} not like 'invalid:%' and ${c} not like '-%' and length(split_part(${c}, '.', 1)) < 20 and try_cast(${c} as decimal(38, 3)) * ${scale} > ${MAX_AMOUNT_MINOR}`,
        rule: 'amount_max',
        reason: 'is above the largest amount cashloop holds',
      });
      if (entity === 'payments' && c === 'amount') checks.push({ column: c, where: `${c} not like 'invalid:%' and try_cast(${c} as decimal(38, 3)) = 0`, rule: 'amount_positive', reason: 'must be above zero' });
    }
  }
  const problems: Problem[] = [];
  // One scan finds every row breaking a rule (usually none); the rules are then read from those rows only.
  const flagged = 'extract_rows_breaking_a_rule';
  const flag = (where: string) => `coalesce((${where}), false)`;
  await conn.run(
    `create or replace temp table ${flagged} as select file, row_no, ${warehouseColumns(entity).map((c) => c.name).join(', ')}, ${checks.map((c, i) => `${flag(c.where)} as c${i}`).join(', ')}
     from ${withCurrency} where ${checks.map((c) => flag(c.where)).join(' or ') || 'false'}`,
    [source],
  );
  for (const [i, check] of checks.entries()) {
    const bad = await rowsJson(conn, `select file, row_no, ${check.column} as v from ${flagged} where c${i} order by file, row_no limit ${LISTED}`);
    if (bad.length === 0) continue;
    const count = await scalarNumber(conn, `select count(*) from ${flagged} where c${i}`);
    for (const b of bad) {
      const value = typeof b.v === 'string' ? b.v.replace(/^invalid:/, '') : null;
      problems.push({ file: String(b.file), row: Number(b.row_no), field: `${entity}.${check.column}`, value, rule: check.rule, message: `${b.file} row ${b.row_no}: ${entity}.${check.column} ${JSON.stringify(value ?? '')} ${check.reason} [${check.rule}]` });
    }
    if (count > bad.length) problems.push({ file: String(bad[0]!.file), row: null, field: `${entity}.${check.column}`, value: null, rule: check.rule, message: `… and ${count - bad.length} more rows where ${entity}.${check.column} ${check.reason} [${check.rule}]` });
  }
  await conn.run(`drop table ${flagged}`);
  // A key written twice with other values: which one is right cannot be told, so the row is refused.
  const keys = EXTRACT_KEYS[entity];
  const values = warehouseColumns(entity).map((c) => c.name).filter((c) => !keys.includes(c));
  // The first row of a key stands; a later row with other values is the one named, as onboarding names it.
  const content = `hash(${values.join(', ')})`;
  const conflicting = `(select file, row_no, ${keys.join(', ')} from ${table} where source = $1
     qualify ${content} <> first(${content} order by file, row_no) over (partition by ${keys.join(', ')}))`;
  const dupes = await rowsJson(conn, `select * from ${conflicting} order by file, row_no limit ${LISTED}`, [source]);
  if (dupes.length) {
    const count = await scalarNumber(conn, `select count(*) from ${conflicting}`, [source]);
    for (const d of dupes) {
      const key = keys.map((k) => String(d[k])).join(' line ');
      problems.push({ file: String(d.file), row: Number(d.row_no), field: `${entity}.${keys[0]}`, value: key, rule: 'duplicate_id', message: `${d.file} row ${d.row_no}: ${entity}.${keys.join('+')} ${key} appears more than once with other values [duplicate_id]` });
    }
    if (count > dupes.length) problems.push({ file: String(dupes[0]!.file), row: null, field: `${entity}.${keys[0]}`, value: null, rule: 'duplicate_id', message: `… and ${count - dupes.length} more rows whose ${keys.join('+')} repeats with other values [duplicate_id]` });
  }
  return problems;
}

/**
 * The currency of each customer the rows name, as onboarding gives a stand-in (or the
 * catch-all) its currency: that of the first row naming it with one, the files read in
 * onboarding's order (order lines, invoices, payments). Customers of the customers file take
 * theirs from it instead. Read with parameter $1 = the source.
 */
function firstRowCurrency(loaded: ExtractEntity[]): string {
  const naming = NAMES_A_CUSTOMER.filter((e) => loaded.includes(e));
  if (naming.length === 0) return '(select null as customer_id, null as currency where false)';
  const rows = naming.map((e) => `select customer_id, currency, ${NAMES_A_CUSTOMER.indexOf(e)} * 1000000000000 + row_no as ord from raw.extract_${e} where source = $1 and currency is not null`);
  return `(select customer_id, arg_min(currency, ord) as currency from (${rows.join(' union all ')}) group by customer_id)`;
}

/**
 * Rows naming a customer the customers file does not list keep their customer id: the id
 * gets a stand-in customer row (name "<id> (not in the customers file)", the currency of its
 * first row), as onboarding creates one, so orders, invoices and payments stay in the
 * measures and the reconciliation counts the stand-ins. Rows whose customer id was blank
 * name the catch-all customer (`UNKNOWN`), whose row is made the same way with its own name.
 */
async function addStandInCustomers(conn: DuckDBConnection, source: string, entities: ExtractEntity[]): Promise<number> {
  const naming = entities.filter((e) => NAMES_A_CUSTOMER.includes(e));
  if (naming.length === 0) return 0;
  const named = naming.map((e) => `select customer_id from raw.extract_${e} where source = $1`).join(' union all ');
  const result = await conn.run(
    `insert into raw.extract_customers (source, file, row_no, customer_id, name, currency)
     select $1, '(stand-in)', row_number() over (order by n.customer_id), n.customer_id,
       case when n.customer_id = ${lit(CATCH_ALL_CUSTOMER.id)} then ${lit(CATCH_ALL_CUSTOMER.name)} else ${lit(UNLISTED_CUSTOMER_NAME('')).replace(/^'/, "n.customer_id || '")} end,
       any_value(s.currency)
     from (${named}) n
     left join ${firstRowCurrency(entities)} s on s.customer_id = n.customer_id
     where n.customer_id not in (select customer_id from raw.extract_customers where source = $1)
     group by n.customer_id`,
    [source],
  );
  return Number(result.rowsChanged);
}
