import { parse } from 'csv-parse/sync';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, ExchangeRatesTable } from '../db/schema.ts';
import { invalid } from '../shared/errors.ts';
import { isBusinessDate } from '../shared/dates.ts';
import { parseCurrency } from '../shared/money.ts';

/**
 * Exchange rates: daily reference rates in the layout central banks publish them — the
 * ECB's `eurofxref-hist.csv` is the model: a `Date` column, then one column per currency,
 * each cell the units of that currency one unit of the base buys on that day (`N/A` or
 * empty where there is no rate). The warehouse converts every currency's receivables into
 * the reporting currency (setting `reporting.currency`) with them.
 *
 * Rates are kept as the decimal text the bank published (up to RATE_DECIMALS decimals),
 * never as floats.
 */

/** Most decimals a rate may have: the warehouse computes with rates scaled by 10^8, exactly. */
export const RATE_DECIMALS = 8;

export interface RateRow {
  rateDate: string;
  base: string;
  currency: string;
  rate: string;
}

export interface LoadRatesResult {
  file: string;
  base: string;
  /** Rows read from the file (dates × currencies with a rate). */
  rates: number;
  inserted: number;
  updated: number;
  unchanged: number;
  dates: number;
  firstDate: string | null;
  lastDate: string | null;
  currencies: string[];
}

// Namespace of the advisory lock that serialises rate loads (PostgreSQL; SQLite has one writer).
const RATES_LOCK = 7_272_760;

const RATE_RE = new RegExp(`^(?:0|[1-9]\\d{0,11})(?:\\.\\d{1,${RATE_DECIMALS}})?$`);

/**
 * Reads a reference-rate CSV. Every problem is collected (row, column, value, rule) and all
 * are reported together; nothing is returned then, so nothing is written.
 */
export function parseRatesCsv(text: string, base: string, file = 'rates file'): RateRow[] {
  parseCurrency(base, 'base');
  let records: string[][];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (error) {
    throw invalid(`${file} is not a readable CSV file: ${(error as Error).message}`, { field: 'file', value: file, rule: 'csv' });
  }
  const header = records[0];
  if (!header || header[0]?.toLowerCase() !== 'date') {
    throw invalid(`${file}: the first column must be Date (the central bank reference-rate layout: Date,USD,JPY,…), got ${JSON.stringify(header?.[0] ?? '')}`, { field: 'header', value: header?.[0] ?? '', rule: 'rates_layout' });
  }
  const problems: string[] = [];
  const columns: (string | null)[] = header.map((h, i) => {
    if (i === 0 || h === '') return null; // the ECB's file ends every line with a comma
    if (!/^[A-Z]{3}$/.test(h)) {
      problems.push(`header column ${i + 1}: ${JSON.stringify(h)} is not a three-letter ISO 4217 code`);
      return null;
    }
    if (h === base) {
      problems.push(`header column ${i + 1}: ${h} is the base currency itself`);
      return null;
    }
    return h;
  });
  const seen = new Set<string>();
  const rows: RateRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const record = records[r]!;
    const line = r + 1;
    const date = record[0] ?? '';
    if (!isBusinessDate(date)) {
      problems.push(`row ${line}: Date ${JSON.stringify(date)} is not a date written YYYY-MM-DD`);
      continue;
    }
    if (seen.has(date)) {
      problems.push(`row ${line}: Date ${date} appears twice`);
      continue;
    }
    seen.add(date);
    for (let c = 1; c < record.length; c++) {
      const currency = columns[c];
      const value = record[c] ?? '';
      if (!currency || value === '' || value === 'N/A') continue;
      if (!RATE_RE.test(value) || /^0(\.0*)?$/.test(value)) {
        problems.push(`row ${line}, ${currency}: ${JSON.stringify(value)} must be a positive decimal with a dot and at most ${RATE_DECIMALS} decimals`);
        continue;
      }
      rows.push({ rateDate: date, base, currency, rate: value });
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).join('; ');
    throw invalid(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing loaded: ${shown}${problems.length > 20 ? '; …' : ''}`, { field: 'file', value: file, rule: 'rates_file' });
  }
  if (rows.length === 0) throw invalid(`${file} holds no rates`, { field: 'file', value: file, rule: 'rates_present' });
  return rows;
}

/**
 * Loads rates into `exchange_rates` in one change: new (date, base, currency) rows are
 * added, changed rates updated, equal ones left alone. One event per date carries that
 * date's written rows, so the warehouse stages them from the feed.
 */
export async function loadRates(core: Core, rows: RateRow[], source: string, actor: string): Promise<LoadRatesResult> {
  const base = rows[0]?.base ?? 'EUR';
  return runChange(core, actor, async ({ trx, at, dialect }) => {
    // Loads queue behind each other: "one base for all rates" and "add, or update what
    // changed" are read-then-write, which two loads at once would both pass.
    if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${RATES_LOCK})`.execute(trx);
    // One base for all rates: the warehouse converts through it.
    const other = await trx.selectFrom('exchange_rates').select('base').where('base', '<>', base).limit(1).executeTakeFirst();
    if (other) throw invalid(`rates per 1 ${other.base} are loaded already; rates per 1 ${base} cannot be mixed with them (one base for all rates)`, { field: 'base', value: base, rule: 'one_base' });
    const existing = new Map<string, { id: number; rate: string }>();
    const dates = [...new Set(rows.map((r) => r.rateDate))].sort();
    // Read what is there for the file's dates, a chunk of dates at a time.
    for (let i = 0; i < dates.length; i += 500) {
      const chunk = dates.slice(i, i + 500);
      const found = await trx.selectFrom('exchange_rates').select(['id', 'rate_date', 'currency', 'rate']).where('base', '=', base).where('rate_date', 'in', chunk).execute();
      for (const f of found) existing.set(`${f.rate_date}|${f.currency}`, { id: f.id, rate: f.rate });
    }
    let inserted = 0;
    let updated = 0;
    let unchanged = 0;
    const written = new Map<string, Selectable<ExchangeRatesTable>[]>();
    const toInsert: { rate_date: string; base: string; currency: string; rate: string; source: string; created_at: string; updated_at: string }[] = [];
    for (const r of rows) {
      const prior = existing.get(`${r.rateDate}|${r.currency}`);
      if (prior && prior.rate === r.rate) {
        unchanged++;
        continue;
      }
      if (prior) {
        const row = await trx.updateTable('exchange_rates').set({ rate: r.rate, source, updated_at: at }).where('id', '=', prior.id).returningAll().executeTakeFirstOrThrow();
        written.set(r.rateDate, [...(written.get(r.rateDate) ?? []), row]);
        updated++;
      } else {
        toInsert.push({ rate_date: r.rateDate, base, currency: r.currency, rate: r.rate, source, created_at: at, updated_at: at });
      }
    }
    for (let i = 0; i < toInsert.length; i += 500) {
      const inserted_ = await trx.insertInto('exchange_rates').values(toInsert.slice(i, i + 500)).returningAll().execute();
      for (const row of inserted_) written.set(row.rate_date, [...(written.get(row.rate_date) ?? []), row]);
      inserted += inserted_.length;
    }
    const currencies = [...new Set(rows.map((r) => r.currency))].sort();
    const result: LoadRatesResult = {
      file: source, base, rates: rows.length, inserted, updated, unchanged, dates: dates.length,
      firstDate: dates[0] ?? null, lastDate: dates.at(-1) ?? null, currencies,
    };
    const events = [...written.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([date, list]) => ({
      type: 'exchange_rates.published', aggregate: 'exchange_rates', id: `${base}:${date}`, after: { exchange_rates: list },
    }));
    return events.length > 0 ? { result, events } : { result, events: [], unchanged: true };
  });
}

/**
 * The rate of `currency` per one `base` on `date`, or on the latest date before it that has
 * one: `{ rate, rateDate }`, or null when there is none on or before `date`.
 */
export async function rateOn(db: Kysely<Database>, base: string, currency: string, date: string): Promise<{ rate: string; rateDate: string } | null> {
  if (currency === base) return { rate: '1', rateDate: date };
  const row = await db
    .selectFrom('exchange_rates')
    .select(['rate', 'rate_date'])
    .where('base', '=', base)
    .where('currency', '=', currency)
    .where('rate_date', '<=', date)
    .orderBy('rate_date', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { rate: row.rate, rateDate: row.rate_date } : null;
}

/** What is loaded: per currency, the first and last date and the latest rate. */
export async function ratesSummary(db: Kysely<Database>): Promise<{ base: string; currency: string; days: number; firstDate: string; lastDate: string; latestRate: string }[]> {
  const rows = await db
    .selectFrom('exchange_rates')
    .select((eb) => ['base', 'currency', eb.fn.countAll<number>().as('days'), eb.fn.min('rate_date').as('first_date'), eb.fn.max('rate_date').as('last_date')])
    .groupBy(['base', 'currency'])
    .orderBy('base')
    .orderBy('currency')
    .execute();
  const out = [];
  for (const r of rows) {
    const latest = await rateOn(db, r.base, r.currency, String(r.last_date));
    out.push({ base: r.base, currency: r.currency, days: Number(r.days), firstDate: String(r.first_date), lastDate: String(r.last_date), latestRate: latest?.rate ?? '' });
  }
  return out;
}
