import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { generateDemo } from '../../src/demo/generator.ts';
import { parseCurrencyMix } from '../../src/demo/currencies.ts';
import { invoiceBalances } from '../../src/invoicing/invoice.repository.ts';
import { loadRates, parseRatesCsv } from '../../src/rates/rates.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { currencyExponent } from '../../src/shared/money.ts';
import { readWarehouse, tempDir } from './ledger.ts';

const SAMPLE = path.resolve(import.meta.dirname, '../../data/samples/rates-eur.csv');

/** The sample's rates, read here without the loader: date → currency → rate text (per 1 EUR). */
function sampleRates(): Map<string, Map<string, string>> {
  const lines = fs.readFileSync(SAMPLE, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const out = new Map<string, Map<string, string>>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    out.set(cells[0]!, new Map(header.slice(1).map((c, i) => [c, cells[i + 1]!] as [string, string]).filter(([c, v]) => c !== '' && v !== '')));
  }
  return out;
}

/** The rate of `currency` per EUR on `date` or the latest date before it, as an exact fraction. */
function rateAt(rates: Map<string, Map<string, string>>, currency: string, date: string): { num: bigint; den: bigint; date: string } {
  if (currency === 'EUR') return { num: 1n, den: 1n, date };
  const dates = [...rates.keys()].filter((d) => d <= date && rates.get(d)!.has(currency)).sort();
  const d = dates.at(-1);
  if (!d) throw new Error(`no ${currency} rate on or before ${date}`);
  const text = rates.get(d)!.get(currency)!;
  const [whole, frac = ''] = text.split('.');
  return { num: BigInt(whole! + frac), den: 10n ** BigInt(frac.length), date: d };
}

/**
 * Σ minor_c × (R per EUR) / (c per EUR) × 10^(expR − expC), as an exact fraction, rounded half
 * up once to the reporting currency's minor unit.
 */
function convertExactly(amounts: Map<string, bigint>, reporting: string, date: string, rates: Map<string, Map<string, string>>): bigint {
  const { num, den } = convertFraction(amounts, reporting, date, rates);
  const sign = num < 0n ? -1n : 1n;
  const abs = num < 0n ? -num : num;
  return sign * ((abs * 2n + den) / (2n * den));
}

/** An exact fraction: num / den, den > 0. */
type Fraction = { num: bigint; den: bigint };

/** Σ minor_c × (R per EUR) / (c per EUR) × 10^(expR − expC) in minor units of R, as an exact fraction, not rounded. */
function convertFraction(amounts: Map<string, bigint>, reporting: string, date: string, rates: Map<string, Map<string, string>>): Fraction {
  let num = 0n;
  let den = 1n;
  const r = rateAt(rates, reporting, date);
  for (const [currency, minor] of amounts) {
    const c = rateAt(rates, currency, date);
    // minor × (r.num / r.den) / (c.num / c.den) × 10^expR / 10^expC
    const tn = minor * r.num * c.den * 10n ** BigInt(currencyExponent(reporting));
    const td = r.den * c.num * 10n ** BigInt(currencyExponent(currency));
    num = num * td + tn * den;
    den = den * td;
  }
  return { num, den };
}

const sub = (a: Fraction, b: Fraction): Fraction => ({ num: a.num * b.den - b.num * a.den, den: a.den * b.den });
const add = (a: Fraction, b: Fraction): Fraction => ({ num: a.num * b.den + b.num * a.den, den: a.den * b.den });
const sign = (a: Fraction): number => (a.num > 0n ? 1 : a.num < 0n ? -1 : 0);
/** a / b as a number, to about 15 significant digits (b ≠ 0). */
function ratio(a: Fraction, b: Fraction): number {
  let num = a.num * b.den;
  let den = a.den * b.num;
  if (den < 0n) [num, den] = [-num, -den];
  const scale = 10n ** 15n;
  return Number((num * scale) / den) / 1e15;
}

/**
 * The countback DSO and CEI of one row, recomputed from the per-currency KPIs as DESIGN.md
 * defines them, every amount converted exactly at `date`'s rates (the walk's earlier months
 * and the previous month-end's AR too), nothing rounded.
 */
function convertedCountbackAndCei(
  perCurrency: Record<string, unknown>[], at: string, reporting: string, rates: Map<string, Map<string, string>>,
): { dsoCountback: number; cei: number | null } {
  const convert = (rows: Record<string, unknown>[], column: string) =>
    convertFraction(new Map(rows.map((r) => [String(r.currency), BigInt(String(r[column]))])), reporting, at, rates);
  const here = perCurrency.filter((p) => p.month_end === at);
  const ar = convert(here, 'ar_total_cents');
  // Walk back from M's month: each month's credit sales of all currencies at M's rate.
  const months = [...new Set(perCurrency.map((p) => String(p.month_end)).filter((m) => m <= at))].sort().reverse();
  let remaining = ar;
  let dso = 0;
  for (const m of months) {
    const sales = convert(perCurrency.filter((p) => p.month_end === m), 'credit_sales_cents');
    const days = Number(m.slice(8, 10)); // a period runs from the 1st of its month to its end
    if (sign(sales) <= 0 || sign(remaining) <= 0) break;
    if (sign(sub(remaining, sales)) >= 0) {
      remaining = sub(remaining, sales);
      dso += days;
    } else {
      dso += days * ratio(remaining, sales);
      break;
    }
  }
  const opening = add(convert(here, 'ar_previous_cents'), convert(here, 'credit_sales_cents'));
  const divisor = sub(opening, convert(here, 'ar_current_cents'));
  const cei = sign(divisor) === 0 ? null : 100 * ratio(sub(opening, ar), divisor);
  return { dsoCountback: dso, cei };
}

/** Runs a report data loader the way the site build does, against the data directory's published snapshot. */
function load(dataDir: string, loader: string): unknown {
  const tsx = path.resolve('node_modules/.bin/tsx');
  return JSON.parse(execFileSync(tsx, [path.resolve('reports/data', loader)], { env: { ...process.env, CASHLOOP_DATA_DIR: dataDir }, encoding: 'utf8' }));
}

/** Minor units of a currency as exact decimal text of its units (trailing zeros dropped): 123456 JPY → "123456", 123450 EUR → "1234.5". */
function unitsOf(minor: bigint, currency: string): string {
  const e = currencyExponent(currency);
  const sign = minor < 0n ? '-' : '';
  const digits = (minor < 0n ? -minor : minor).toString().padStart(e + 1, '0');
  return units(e === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -e)}.${digits.slice(-e)}`);
}

/** A loader's amount (number or decimal text) as decimal text without trailing zeros after the currency's digits. */
const units = (v: unknown): string => {
  const text = String(v);
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
};

describe(`a demo company in EUR, USD and JPY through the warehouse (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  let file: string;
  let end: string;
  const q = (sql: string) => readWarehouse(file, sql);
  const rates = sampleRates();

  beforeAll(async () => {
    t = await createTestCore('2025-01-01T07:00:00Z');
    const r = await generateDemo(t.core, t.clock, { seed: 9, customers: 14, months: 3, start: '2025-01-01', currencies: parseCurrencyMix('EUR:50,USD:25,JPY:25') });
    end = r.manifest.end;
    const loaded = await loadRates(t.core, parseRatesCsv(fs.readFileSync(SAMPLE, 'utf8'), 'EUR', 'rates-eur.csv'), 'rates-eur.csv', 'test');
    expect(loaded.inserted).toBeGreaterThan(1000);
    dir = tempDir();
    file = warehousePaths(dir).warehouse;
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: end, steps: ['ingest', 'transform', 'reconcile'], quiet: true });
  }, 300_000);
  afterAll(async () => {
    await t?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps yen amounts equal to the core’s, to the unit', async () => {
    const core = await t.core.db.kysely.selectFrom('invoices').select(['number', 'total_minor']).where('currency', '=', 'JPY').orderBy('number').execute();
    expect(core.length).toBeGreaterThan(0);
    const wh = await q(`select invoice_number, amount_cents, amount from marts.fct_invoices where currency = 'JPY' order by invoice_number`).catch(async () =>
      q(`select invoice_number, amount_cents, minor_to_units(amount_cents, currency) as amount from marts.fct_invoices where currency = 'JPY' order by invoice_number`),
    );
    expect(wh.map((r) => [r.invoice_number, Number(r.amount_cents)])).toEqual(core.map((c) => [c.number, c.total_minor]));
    // In currency units a yen is a yen: 123456 minor units are 123456 yen, not 1234.56.
    for (const [i, r] of wh.entries()) expect(String(r.amount)).toBe(`${core[i]!.total_minor}.000`);
    const open = (await invoiceBalances(t.core.db.kysely)).filter((b) => b.currency === 'JPY' && b.balance_minor > 0).reduce((s, b) => s + b.balance_minor, 0);
    const [kpi] = await q(`select ar_total_cents, ar_total from metrics.ar_kpis_monthly where currency = 'JPY' and month_end = '${end}'`);
    expect(Number(kpi!.ar_total_cents)).toBe(open);
    expect(kpi!.ar_total).toBe(`${open}.000`);
  });

  it('ties the KPIs of each currency out with the core: open receivables and the month’s credit sales', async () => {
    const balances = await invoiceBalances(t.core.db.kysely);
    const db = t.core.db.kysely;
    const monthStart = `${end.slice(0, 7)}-01`;
    for (const currency of ['EUR', 'USD', 'JPY']) {
      const open = balances.filter((b) => b.currency === currency && b.balance_minor > 0).reduce((s, b) => s + b.balance_minor, 0);
      const invoiced = balances.filter((b) => b.currency === currency && b.invoice_date >= monthStart && b.invoice_date <= end && b.status !== 'cancelled').reduce((s, b) => s + b.total_minor, 0);
      const credited = (await db.selectFrom('credit_notes').select('amount_minor').where('currency', '=', currency).where('credit_date', '>=', monthStart).where('credit_date', '<=', end).execute()).reduce((s, c) => s + c.amount_minor, 0);
      const [kpi] = await q(`select ar_total_cents, credit_sales_cents from metrics.ar_kpis_monthly where currency = '${currency}' and month_end = '${end}'`);
      expect(Number(kpi!.ar_total_cents), currency).toBe(open);
      expect(Number(kpi!.credit_sales_cents), currency).toBe(invoiced - credited);
    }
    const checks = await q(`select check_name, ok from ops.reconciliation`);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.filter((c) => c.ok !== true)).toEqual([]);
  });

  it('converts into EUR: every month-end total equals the sum of each currency times its rate, rounded once', async () => {
    const converted = await q(`select cast(month_end as varchar) as month_end, reporting_currency, currencies, rates_used, ar_total_cents, credit_sales_cents from metrics.ar_kpis_converted where source = 'core' order by month_end`);
    expect(converted.length).toBeGreaterThanOrEqual(3);
    const perCurrency = await q(`select cast(month_end as varchar) as month_end, currency, ar_total_cents, credit_sales_cents from metrics.ar_kpis_monthly where source = 'core'`);
    for (const row of converted) {
      const m = String(row.month_end);
      const mine = perCurrency.filter((p) => p.month_end === m);
      expect(row.reporting_currency).toBe('EUR');
      expect(row.currencies).toBe(mine.map((p) => p.currency).sort().join(', '));
      const ar = new Map(mine.map((p) => [String(p.currency), BigInt(String(p.ar_total_cents))]));
      const sales = new Map(mine.map((p) => [String(p.currency), BigInt(String(p.credit_sales_cents))]));
      expect(BigInt(String(row.ar_total_cents)), `AR at ${m}`).toBe(convertExactly(ar, 'EUR', m, rates));
      expect(BigInt(String(row.credit_sales_cents)), `credit sales at ${m}`).toBe(convertExactly(sales, 'EUR', m, rates));
      // It says which rate it used: the month-end's, or the latest before it (a weekend month-end).
      for (const currency of ['JPY', 'USD'].filter((c) => ar.has(c))) {
        const used = rateAt(rates, currency, m);
        expect(String(row.rates_used)).toContain(`${currency} ${rates.get(used.date)!.get(currency)} (${used.date})`);
      }
    }
    const aging = await q(`select sum(amount_cents) as total from metrics.ar_aging_converted where as_of = '${end}'`);
    const open = new Map<string, bigint>();
    for (const b of await invoiceBalances(t.core.db.kysely)) if (b.balance_minor > 0) open.set(b.currency, (open.get(b.currency) ?? 0n) + BigInt(b.balance_minor));
    // Each bucket is rounded once: the buckets add up to the converted total within a unit per bucket.
    const exact = convertExactly(open, 'EUR', end, rates);
    expect(Math.abs(Number(BigInt(String(aging[0]!.total)) - exact))).toBeLessThanOrEqual(6);
  });

  it('converts countback DSO and CEI: every input at the month-end’s rate, recomputed here from each currency’s figures', async () => {
    const converted = await q(`select cast(month_end as varchar) as month_end, dso_countback, cei, add_days, dso_standard, bpdso, ar_previous_cents from metrics.ar_kpis_converted where source = 'core' order by month_end`);
    const perCurrency = await q(`select cast(month_end as varchar) as month_end, currency, ar_total_cents, ar_current_cents, ar_previous_cents, credit_sales_cents, credit_sales_3m_cents, days_3m from metrics.ar_kpis_monthly where source = 'core'`);
    expect(converted.length).toBeGreaterThanOrEqual(3);
    for (const row of converted) {
      const m = String(row.month_end);
      const mine = perCurrency.filter((p) => p.month_end === m);
      const expected = convertedCountbackAndCei(perCurrency, m, 'EUR', rates);
      expect(Number(row.dso_countback), `countback DSO at ${m}`).toBeCloseTo(expected.dsoCountback, 6);
      if (expected.cei === null) expect(row.cei, `CEI at ${m}`).toBeNull();
      else expect(Number(row.cei), `CEI at ${m}`).toBeCloseTo(expected.cei, 6);
      // The previous month-end's AR is taken at M's rate, not its own.
      const previous = new Map(mine.map((p) => [String(p.currency), BigInt(String(p.ar_previous_cents))]));
      expect(BigInt(String(row.ar_previous_cents)), `previous AR at ${m}`).toBe(convertExactly(previous, 'EUR', m, rates));
      // ADD = DSO standard − best possible DSO: the converted overdue AR over the converted 3 months' sales.
      const overdue = convertFraction(new Map(mine.map((p) => [String(p.currency), BigInt(String(p.ar_total_cents)) - BigInt(String(p.ar_current_cents))])), 'EUR', m, rates);
      const sales3m = convertFraction(new Map(mine.map((p) => [String(p.currency), BigInt(String(p.credit_sales_3m_cents))])), 'EUR', m, rates);
      const days3m = Math.max(...mine.map((p) => Number(p.days_3m)));
      if (sign(sales3m) > 0) {
        expect(Number(row.add_days), `ADD at ${m}`).toBeCloseTo(ratio(overdue, sales3m) * days3m, 6);
        expect(Number(row.add_days), `ADD at ${m}`).toBeCloseTo(Number(row.dso_standard) - Number(row.bpdso), 9);
      }
    }
    expect(perCurrency.filter((p) => p.month_end === converted.at(-1)!.month_end).map((p) => p.currency).sort()).toEqual(['EUR', 'JPY', 'USD']);
    // The demo's months are not trivial: receivables span more than the month-end's own month.
    expect(converted.some((r) => Number(r.dso_countback) > 0)).toBe(true);
    // (The first month can have nothing overdue and nothing collected yet: CEI has no divisor.)
    expect(converted.filter((r) => r.cei !== null).length).toBeGreaterThanOrEqual(converted.length - 1);
  });

  it('forecasts the 13 weeks of cash-in per currency, and converted into EUR at the as-of date’s rate', async () => {
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: end, steps: ['forecast', 'reconcile', 'publish'], quiet: true });
    const weeks = await q(`select cast(week_start as varchar) as week_start, currency, expected_cents, low_cents, high_cents, new_sales_cents, bottom_up_cents, top_down_cents, run_rate_cents from forecast.cash_weekly where as_of = '${end}' order by week_start, currency`);
    // Each currency's open receivables in the core, and the forecast's invoices of each currency.
    const open = new Map<string, bigint>();
    for (const b of await invoiceBalances(t.core.db.kysely)) if (b.balance_minor > 0) open.set(b.currency, (open.get(b.currency) ?? 0n) + BigInt(b.balance_minor));
    const invoices = await q(`select i.currency, sum(p.open_cents) as open_cents from forecast.invoice_payment as p join marts.fct_invoices as i using (invoice_key) where p.as_of = '${end}' group by all`);
    expect(new Map(invoices.map((r) => [String(r.currency), BigInt(String(r.open_cents))]))).toEqual(open);
    expect([...new Set(weeks.map((w) => String(w.currency)))].sort()).toEqual(['EUR', 'JPY', 'USD']);
    for (const currency of ['EUR', 'USD', 'JPY']) {
      const mine = weeks.filter((w) => w.currency === currency);
      expect(mine.length, currency).toBe(13);
      // The bottom-up receipts from open invoices of a currency come from that currency's
      // invoices only: never more than they hold, and most of it within 13 weeks (a yen
      // forecast read as hundredths, or EUR added into it, breaks one side or the other).
      const fromOpen = mine.reduce((s, w) => s + BigInt(String(w.bottom_up_cents)) - BigInt(String(w.new_sales_cents)), 0n);
      expect(fromOpen, currency).toBeLessThanOrEqual(open.get(currency)!);
      expect(fromOpen * 2n, currency).toBeGreaterThan(open.get(currency)!);
      // The published week is a weighted mean of its three parts (weights summing to 1), in whole units.
      for (const w of mine) {
        const parts = [w.bottom_up_cents, w.top_down_cents, w.run_rate_cents].map((x) => Number(x));
        expect(Number(w.expected_cents), `${currency} ${w.week_start}`).toBeGreaterThanOrEqual(Math.min(...parts) - 1);
        expect(Number(w.expected_cents), `${currency} ${w.week_start}`).toBeLessThanOrEqual(Math.max(...parts) + 1);
      }
    }
    const converted = await q(`select cast(week_start as varchar) as week_start, reporting_currency, currencies, rates_used, expected_cents, low_cents, high_cents, new_sales_cents from forecast.cash_weekly_converted where as_of = '${end}' order by week_start`);
    expect(converted.map((c) => c.week_start)).toEqual([...new Set(weeks.map((w) => w.week_start))]);
    for (const c of converted) {
      const mine = weeks.filter((w) => w.week_start === c.week_start);
      expect(c.reporting_currency).toBe('EUR');
      expect(c.currencies).toBe('EUR, JPY, USD');
      for (const column of ['expected_cents', 'low_cents', 'high_cents', 'new_sales_cents']) {
        const amounts = new Map(mine.map((w) => [String(w.currency), BigInt(String(w[column]))]));
        expect(BigInt(String(c[column])), `${column} of ${c.week_start}`).toBe(convertExactly(amounts, 'EUR', end, rates));
      }
      for (const currency of ['JPY', 'USD']) {
        const used = rateAt(rates, currency, end);
        expect(String(c.rates_used)).toContain(`${currency} ${rates.get(used.date)!.get(currency)} (${used.date})`);
      }
    }
    // The cash page and the overview: each currency's 13 weeks in its own units (a yen is a
    // yen), and the converted weeks in euros beside the rates and the date they were taken at.
    const cash = load(dir, 'cash.json.ts') as { currency: string; currencies: { currency: string; expected_13w: unknown }[]; converted: { week_start: string; expected: unknown; rates_used: string; converted_at: string }[]; forecast: { expected: unknown }[] };
    for (const currency of ['EUR', 'USD', 'JPY']) {
      const minor = weeks.filter((w) => w.currency === currency).reduce((s, w) => s + BigInt(String(w.expected_cents)), 0n);
      const row = cash.currencies.find((r) => r.currency === currency)!;
      expect(units(row.expected_13w), currency).toBe(unitsOf(minor, currency));
    }
    expect(cash.forecast.map((f) => units(f.expected))).toEqual(weeks.filter((w) => w.currency === cash.currency).map((w) => unitsOf(BigInt(String(w.expected_cents)), cash.currency)));
    expect(cash.converted.map((c) => units(c.expected))).toEqual(converted.map((c) => unitsOf(BigInt(String(c.expected_cents)), 'EUR')));
    expect(cash.converted.every((c) => c.converted_at === end && c.rates_used === converted[0]!.rates_used)).toBe(true);
    // The replays are per currency, none mixed; the page shows the main currency's (the latest six month-ends).
    const replays = cash as unknown as { past: unknown[]; accuracy: { model: string }[] };
    const replayed = await q(`select currency, as_of::varchar as origin from forecast.cash_backtest where run_as_of = '${end}'`);
    expect(replayed.filter((r) => r.currency === null)).toEqual([]);
    const mainOrigins = [...new Set(replayed.filter((r) => r.currency === cash.currency).map((r) => String(r.origin)))].sort().slice(-6);
    expect(replays.past.length).toBe(replayed.filter((r) => r.currency === cash.currency && mainOrigins.includes(String(r.origin))).length);
    expect(replays.accuracy.every((a) => a.model.startsWith('cash-in/'))).toBe(true);
    const overview = load(dir, 'overview.json.ts') as {
      monthEnd: string; cashConverted: { expected: unknown }[];
      byCurrency: { currency: string; month_end: string; dso_countback: number; cei: number }[];
      converted: { month_end: string; reporting_currency: string; rates_used: string; dso_countback: number; cei: number; add_days: number }[];
    };
    expect(overview.cashConverted.map((c) => units(c.expected))).toEqual(converted.map((c) => unitsOf(BigInt(String(c.expected_cents)), 'EUR')));
    // The overview's KPIs: each currency's at the last closed month-end, beside all of them converted.
    const kpis = await q(`select currency, cast(month_end as varchar) as month_end, dso_countback, cei from metrics.ar_kpis_monthly where source = 'core' and month_end = '${overview.monthEnd}' order by currency`);
    expect(overview.byCurrency.map((r) => [r.currency, r.month_end, r.dso_countback, r.cei])).toEqual(kpis.map((k) => [k.currency, k.month_end, Number(k.dso_countback), k.cei === null ? null : Number(k.cei)]));
    const allKpis = await q(`select cast(month_end as varchar) as month_end, rates_used, dso_countback, cei, add_days from metrics.ar_kpis_converted where source = 'core' order by month_end`);
    expect(overview.converted.map((r) => [r.month_end, r.reporting_currency, r.rates_used, r.dso_countback, r.cei, r.add_days]))
      .toEqual(allKpis.map((k) => [k.month_end, 'EUR', k.rates_used, Number(k.dso_countback), k.cei === null ? null : Number(k.cei), Number(k.add_days)]));
    // The month-end pack adds the closed months' KPIs of all currencies in EUR.
    const wb = new ExcelJS.Workbook();
    const pack = execFileSync(path.resolve('node_modules/.bin/tsx'), [path.resolve('reports/data/month-end-pack.xlsx.ts')], { env: { ...process.env, CASHLOOP_DATA_DIR: dir } });
    await wb.xlsx.load(pack as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name).at(-1)).toBe('KPIs in EUR');
    const sheet = wb.getWorksheet('KPIs in EUR')!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    const col = (name: string) => header.indexOf(name) + 1;
    const closed = await q(`select cast(month_end as varchar) as month_end, ar_total_cents, dso_countback, cei, rates_used from metrics.ar_kpis_converted where source = 'core' and is_month_end order by month_end`);
    expect(sheet.rowCount - 1).toBe(closed.length);
    for (const [i, k] of closed.entries()) {
      const row = sheet.getRow(i + 2);
      expect((row.getCell(col('Month-end')).value as Date).toISOString().slice(0, 10)).toBe(k.month_end);
      expect(row.getCell(col('Receivables (EUR)')).value).toBe(Number(unitsOf(BigInt(String(k.ar_total_cents)), 'EUR')));
      expect(row.getCell(col('DSO countback (days)')).value).toBe(Number(k.dso_countback));
      expect(row.getCell(col('CEI (%)')).value).toBe(k.cei === null ? null : Number(k.cei));
      expect(row.getCell(col('Rates used (each at the month-end or the latest day before it)')).value).toBe(k.rates_used);
    }
  }, 300_000);

  it('converts into USD when the reporting currency is set so, through the rates’ base', async () => {
    await setSetting(t.core, 'reporting.currency', 'USD', 'test');
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: end, steps: ['ingest', 'transform'], quiet: true });
    const converted = await q(`select cast(month_end as varchar) as month_end, reporting_currency, ar_total_cents, ar_total from metrics.ar_kpis_converted where source = 'core' order by month_end`);
    const perCurrency = await q(`select cast(month_end as varchar) as month_end, currency, ar_total_cents from metrics.ar_kpis_monthly where source = 'core'`);
    expect(converted.length).toBeGreaterThanOrEqual(3);
    for (const row of converted) {
      const m = String(row.month_end);
      const ar = new Map(perCurrency.filter((p) => p.month_end === m).map((p) => [String(p.currency), BigInt(String(p.ar_total_cents))]));
      expect(row.reporting_currency).toBe('USD');
      expect(BigInt(String(row.ar_total_cents)), `AR in USD at ${m}`).toBe(convertExactly(ar, 'USD', m, rates));
    }
    await setSetting(t.core, 'reporting.currency', 'EUR', 'test');
  });
});

describe(`a company in one currency, converted (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  let file: string;
  const q = (sql: string) => readWarehouse(file, sql);
  const measures = ['dso_standard', 'dso_countback', 'bpdso', 'add_days', 'cei'] as const;
  const amounts = ['ar_total_cents', 'ar_current_cents', 'ar_overdue_cents', 'credit_sales_cents', 'credit_sales_3m_cents', 'ar_previous_cents'] as const;
  const both = async () => {
    const own = await q(`select cast(month_end as varchar) as month_end, ${[...measures, ...amounts].join(', ')} from metrics.ar_kpis_monthly where source = 'core' order by month_end`);
    const converted = await q(`select cast(month_end as varchar) as month_end, reporting_currency, ${[...measures, ...amounts].join(', ')} from metrics.ar_kpis_converted where source = 'core' order by month_end`);
    expect(converted.map((c) => c.month_end)).toEqual(own.map((o) => o.month_end));
    expect(own.length).toBeGreaterThanOrEqual(4);
    expect(own.filter((o) => o.cei !== null && Number(o.dso_countback) > 0).length).toBeGreaterThanOrEqual(3);
    return { own, converted };
  };

  beforeAll(async () => {
    t = await createTestCore('2025-01-01T07:00:00Z');
    const r = await generateDemo(t.core, t.clock, { seed: 5, customers: 8, months: 4, start: '2025-01-01', currencies: parseCurrencyMix('USD') });
    await loadRates(t.core, parseRatesCsv(fs.readFileSync(SAMPLE, 'utf8'), 'EUR', 'rates-eur.csv'), 'rates-eur.csv', 'test');
    dir = tempDir();
    file = warehousePaths(dir).warehouse;
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: r.manifest.end, steps: ['ingest', 'transform'], quiet: true });
  }, 300_000);
  afterAll(async () => {
    await t?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its DSO, best possible DSO, ADD and CEI when converted into another currency (every input at one rate)', async () => {
    const { own, converted } = await both();
    for (const [i, c] of converted.entries()) {
      expect(c.reporting_currency).toBe('EUR');
      for (const measure of measures) {
        if (own[i]![measure] === null) expect(c[measure], `${measure} at ${c.month_end}`).toBeNull();
        else expect(Number(c[measure]), `${measure} at ${c.month_end}`).toBeCloseTo(Number(own[i]![measure]), 9);
      }
    }
  });

  it('equals its own figures, amounts to the cent, when it reports in its own currency', async () => {
    await setSetting(t.core, 'reporting.currency', 'USD', 'test');
    await runPipeline({ dataDir: dir, coreUrl: t.url, steps: ['ingest', 'transform'], asOf: (await q(`select cast(max(month_end) as varchar) as d from metrics.ar_kpis_monthly`))[0]!.d as string, quiet: true });
    const { own, converted } = await both();
    for (const [i, c] of converted.entries()) {
      expect(c.reporting_currency).toBe('USD');
      for (const amount of amounts) expect(String(c[amount]), `${amount} at ${c.month_end}`).toBe(String(own[i]![amount]));
      for (const measure of measures) {
        if (own[i]![measure] === null) expect(c[measure], `${measure} at ${c.month_end}`).toBeNull();
        else expect(Number(c[measure]), `${measure} at ${c.month_end}`).toBeCloseTo(Number(own[i]![measure]), 9);
      }
    }
  });
});

describe(`a missing exchange rate (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  beforeAll(async () => {
    // The history starts before the sample's first rate (2022-01-03).
    t = await createTestCore('2021-11-01T07:00:00Z');
    await generateDemo(t.core, t.clock, { seed: 3, customers: 8, months: 2, start: '2021-11-01', currencies: parseCurrencyMix('EUR:50,USD:50') });
    await loadRates(t.core, parseRatesCsv(fs.readFileSync(SAMPLE, 'utf8'), 'EUR', 'rates-eur.csv'), 'rates-eur.csv', 'test');
    dir = tempDir();
  }, 300_000);
  afterAll(async () => {
    await t?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails the run naming the currency and the date', async () => {
    await expect(runPipeline({ dataDir: dir, coreUrl: t.url, asOf: '2021-12-31', steps: ['ingest', 'transform'], quiet: true })).rejects.toThrow(/no exchange rate for USD per EUR on or before 2021-11-30/);
  });
});
