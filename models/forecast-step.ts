import type { DuckDBConnection } from '@duckdb/node-api';
import { addDays, daysBetween } from '../src/shared/dates.ts';
import { issueTimeFeatures, openItemFeatures, type FeatureRow } from './payment-date/features.ts';
import { fitPaymentDate, predictDays, predictPaymentDate } from './payment-date/model.ts';
import { walkForward } from './payment-date/evaluate.ts';
import { cashWeekly, firstWeekStart, type OpenInvoiceOutlook } from './cash-in/cash-weekly.ts';
import { agingBucket, collectionByAge, collectionCurve, newSalesReceipts, type CollectionCurve, type ExpectedInvoicing } from './cash-in/new-sales.ts';
import { customerScores } from './credit-score/customer-scores.ts';
import { writePaymentCycle } from './payment-cycle/cycle.ts';
import { computeSalesForecast, salesForecast, SALES_TABLES, writeSalesForecast, type SalesForecast } from './sales/forecast.ts';
import { salesHistory } from './sales/series.ts';
import { cashBacktest } from './cash-in/backtest.ts';
import { calibrated, calibrationAt } from './cash-in/calibration.ts';
import { Z80 } from './sales/backtest.ts';

const TABLES = `
create schema if not exists forecast;
create table if not exists forecast.invoice_payment (as_of date, invoice_key varchar, customer_key varchar, open_cents bigint, due_date date, predicted_date date, p10_date date, p90_date date, prob_late double, model varchar);
create table if not exists forecast.cash_weekly (as_of date, week_start date, expected_cents bigint, low_cents bigint, high_cents bigint);
create table if not exists forecast.model_evaluations (model varchar, as_of date, metric varchar, value double, baseline varchar, baseline_value double, invoices integer, months integer);
comment on table forecast.invoice_payment is 'One row per invoice open on as_of: predicted payment date with its 80 % interval and the probability of paying after the due date (models/payment-date).';
comment on column forecast.invoice_payment.as_of is 'Date the forecast was made for (features use only what was known then).';
comment on column forecast.invoice_payment.invoice_key is 'Invoice (marts.fct_invoices.invoice_key).';
comment on column forecast.invoice_payment.customer_key is 'Customer (marts.dim_customer.customer_key).';
comment on column forecast.invoice_payment.open_cents is 'Open balance on as_of, integer cents.';
comment on column forecast.invoice_payment.due_date is 'Due date of the invoice.';
comment on column forecast.invoice_payment.predicted_date is 'Median predicted payment date, after as_of.';
comment on column forecast.invoice_payment.p10_date is 'Lower end of the 80 % interval of the payment date.';
comment on column forecast.invoice_payment.p90_date is 'Upper end of the 80 % interval of the payment date.';
comment on column forecast.invoice_payment.prob_late is 'Probability that the invoice is paid after its due date (0–1).';
comment on column forecast.invoice_payment.model is 'Model and version that made the forecast.';
alter table forecast.cash_weekly add column if not exists new_sales_cents bigint;
comment on table forecast.cash_weekly is 'One row per week of the 13 after as_of: expected receipts from open invoices and from invoices not yet issued (the sales forecast through the collection curve), with an 80 % interval (models/cash-in).';
comment on column forecast.cash_weekly.as_of is 'Date the forecast was made for.';
comment on column forecast.cash_weekly.week_start is 'Monday the week starts (receipts before the first Monday count in the first week).';
comment on column forecast.cash_weekly.expected_cents is 'Expected receipts in the week, open invoices and new sales, integer cents.';
comment on column forecast.cash_weekly.new_sales_cents is 'Part of expected_cents from invoices issued after as_of (sales forecast through the collection curve), integer cents.';
comment on column forecast.cash_weekly.low_cents is 'Lower end of the 80 % interval (see interval_method), integer cents, never above expected_cents nor below 0.';
comment on column forecast.cash_weekly.high_cents is 'Upper end of the 80 % interval (see interval_method), integer cents, never below expected_cents.';
alter table forecast.cash_weekly add column if not exists interval_method varchar;
comment on column forecast.cash_weekly.interval_method is 'How the 80 % interval was made: calibrated (expected × the 10 % and 90 % points of the relative errors (actual − expected) / expected of the forecast replayed at past month-ends, weeks ended by as_of only, a week''s weight halving every 91 days; forecast.cash_backtest) or model (fewer than 20 such weeks: the normal approximation treating each invoice as paying independently, too narrow in practice).';
create table if not exists forecast.customer_scores (as_of date, customer_key varchar, customer_id varchar, source varchar, score integer, risk_class varchar, suggested_limit_cents bigint, reasons varchar);
comment on table forecast.customer_scores is 'One row per customer: explainable credit score (100 minus the points of its reasons), risk class A–E and a suggested credit limit (models/credit-score).';
comment on column forecast.customer_scores.as_of is 'Date the score was computed for.';
comment on column forecast.customer_scores.customer_key is 'Customer (marts.dim_customer.customer_key).';
comment on column forecast.customer_scores.customer_id is 'The source system''s customer id (the core''s id for source core).';
comment on column forecast.customer_scores.source is 'Source of the customer (core or an extract).';
comment on column forecast.customer_scores.score is 'Points, 0–100: 100 plus the (negative) points of the reasons.';
comment on column forecast.customer_scores.risk_class is 'A (score ≥ 85), B (≥ 70), C (≥ 55), D (≥ 40), E (below).';
comment on column forecast.customer_scores.suggested_limit_cents is 'Suggested credit limit: the larger of the last two quarters'' invoicing × 1.5 (A) … 0 (E), integer cents.';
comment on column forecast.customer_scores.reasons is 'JSON array of {factor, points, text}, largest deduction first.';
create table if not exists forecast.customer_payment_cycle (as_of date, customer_key varchar, invoices_paid bigint, p10_days double, median_days double, p90_days double, mean_days double, trend_days_per_quarter double, reliability double, next_expected_payment_date date, open_cents hugeint);
comment on table forecast.customer_payment_cycle is 'One row per customer with settled invoices: distribution, trend and reliability of its days to pay, and when its next payment is expected (models/payment-cycle).';
comment on column forecast.customer_payment_cycle.as_of is 'Date the cycle was measured for (invoices settled by then).';
comment on column forecast.customer_payment_cycle.customer_key is 'Customer (marts.dim_customer.customer_key).';
comment on column forecast.customer_payment_cycle.invoices_paid is 'Invoices settled by as_of.';
comment on column forecast.customer_payment_cycle.p10_days is '10th percentile of days to pay.';
comment on column forecast.customer_payment_cycle.median_days is 'Median days to pay.';
comment on column forecast.customer_payment_cycle.p90_days is '90th percentile of days to pay.';
comment on column forecast.customer_payment_cycle.mean_days is 'Mean days to pay (the baseline).';
comment on column forecast.customer_payment_cycle.trend_days_per_quarter is 'Least-squares slope of days to pay against invoice date, days per quarter (positive: paying later).';
comment on column forecast.customer_payment_cycle.reliability is 'Share of payments within 7 days of the customer''s median (0–1).';
comment on column forecast.customer_payment_cycle.next_expected_payment_date is 'Earliest predicted payment date of its open invoices (forecast.invoice_payment).';
comment on column forecast.customer_payment_cycle.open_cents is 'Open balance on as_of, integer cents.';
create table if not exists forecast.cash_backtest (run_as_of date, as_of date, week_start date, expected_cents bigint, low_cents bigint, high_cents bigint, actual_cents bigint, due_date_baseline_cents bigint, run_rate_baseline_cents bigint);
comment on table forecast.cash_backtest is 'The 13-week cash-in forecast replayed at past month-ends (as_of) with what was known then, against the cash received: one row per origin and week that had ended by run_as_of (models/cash-in/backtest.ts).';
comment on column forecast.cash_backtest.run_as_of is 'As-of date of the run that made the replay.';
comment on column forecast.cash_backtest.as_of is 'Origin: the past month-end the forecast is replayed at.';
comment on column forecast.cash_backtest.week_start is 'Monday the week starts (receipts between the origin and the first Monday count in the first week).';
comment on column forecast.cash_backtest.expected_cents is 'Expected receipts in the week as forecast at the origin, integer cents.';
comment on column forecast.cash_backtest.low_cents is 'Lower end of the 80 % interval as it would have been published at the origin (see interval_method), integer cents.';
comment on column forecast.cash_backtest.high_cents is 'Upper end of the 80 % interval as it would have been published at the origin (see interval_method), integer cents.';
alter table forecast.cash_backtest add column if not exists interval_method varchar;
alter table forecast.cash_backtest add column if not exists model_low_cents bigint;
alter table forecast.cash_backtest add column if not exists model_high_cents bigint;
comment on column forecast.cash_backtest.interval_method is 'calibrated: interval from the relative errors of the replayed weeks that had ended by the origin (as_of), never a later week; model: fewer than 20 such weeks, the model''s own interval. The accuracy in forecast.model_evaluations is over the calibrated origins.';
comment on column forecast.cash_backtest.model_low_cents is 'Lower end of the model''s own 80 % interval (invoices paying independently), integer cents.';
comment on column forecast.cash_backtest.model_high_cents is 'Upper end of the model''s own 80 % interval (invoices paying independently), integer cents.';
comment on column forecast.cash_backtest.actual_cents is 'Cash received in the week (payments not reversed), integer cents.';
comment on column forecast.cash_backtest.due_date_baseline_cents is 'Baseline: invoices open at the origin paid on their due dates (overdue ones in the first week), no new sales.';
comment on column forecast.cash_backtest.run_rate_baseline_cents is 'Baseline: average weekly receipts of the 13 weeks before the origin.';
comment on table forecast.model_evaluations is 'Walk-forward accuracy of each model beside its baselines, on past dates with features from those dates only.';
comment on column forecast.model_evaluations.model is 'Model evaluated (sales/<level> for the sales forecast of a level).';
comment on column forecast.model_evaluations.as_of is 'Last month-end of the walk-forward evaluation (sales: of the history backtested).';
comment on column forecast.model_evaluations.metric is 'mae_days, rmse_days, late_accuracy, interval_80_coverage; for sales: mase (selection replayed in time order, mean over the level''s series), mase_best_in_backtest, interval_80_coverage; for cash-in: wape, bias (share of actual receipts), interval_80_coverage over the replayed weeks of the origins whose interval was calibrated.';
comment on column forecast.model_evaluations.value is 'The model''s value of the metric.';
comment on column forecast.model_evaluations.baseline is 'Baseline compared against: due_date, customer_mean, global_mean; for sales seasonal_naive (naive under 12 months) and the other candidates holt_winters, regression, combination; for cash-in run_rate (average weekly receipts of the 13 weeks before) and due_date (open invoices on their due dates); for coverage nominal (0.8) and model_interval (the model''s own interval on the same weeks).';
comment on column forecast.model_evaluations.baseline_value is 'The baseline''s value of the metric.';
comment on column forecast.model_evaluations.invoices is 'Invoices predicted in the walk (sales: invoices in the history; cash-in: weeks compared).';
comment on column forecast.model_evaluations.months is 'Months walked (sales: months of history of the level''s longest series; cash-in: origins compared).';
`;

export const PAYMENT_DATE_MODEL = 'payment-date/linear-history@1';
export const CASH_MODEL = 'cash-in/13-week@1';

/**
 * The `forecast` step of the pipeline: fits the payment-date model on everything settled by
 * `asOf`, forecasts every invoice open on `asOf`, forecasts monthly sales per total,
 * category, segment and product, spreads the open invoices and the expected new sales into
 * the 13-week cash-in forecast, and records each model's backtest. Rows of that as_of are
 * replaced in one transaction.
 */
export async function runForecastStep(conn: DuckDBConnection, options: { asOf: string; quiet?: boolean }): Promise<{ tables: Record<string, number> }> {
  const asOf = options.asOf;
  await conn.run(TABLES);
  await conn.run(SALES_TABLES);
  const history = (await issueTimeFeatures(conn)).filter((r) => r.invoice_date <= asOf);
  const tables: Record<string, number> = { 'forecast.invoice_payment': 0, 'forecast.cash_weekly': 0, 'forecast.customer_payment_cycle': 0, 'forecast.customer_scores': 0, 'forecast.model_evaluations': 0 };
  const scores = await customerScores(conn, asOf);
  const sales = await computeSalesForecast(conn, asOf);
  // The cash-in forecast replayed at past month-ends, each with only what was known then.
  const backtest = await cashBacktest(conn, asOf, async (origin) => {
    const hist = await salesHistory(conn, origin);
    const past = salesForecast({ ...hist, series: hist.series.filter((x) => x.level === 'total') }, origin);
    const o = await cashOutlook(conn, origin, history, past, { maxTrainingRows: 100_000, predictions: false });
    return o && { weeks: o.weeks, open: o.open.map((r) => ({ openCents: r.open_cents, dueDate: r.due_date })) };
  });
  await conn.run('begin transaction');
  try {
    for (const t of ['invoice_payment', 'cash_weekly', 'customer_scores']) await conn.run(`delete from forecast.${t} where as_of = $1::date`, [asOf]);
    const q = (v: string) => `'${v.replaceAll("'", "''")}'`;
    for (let i = 0; i < scores.length; i += 500) {
      await conn.run(`insert into forecast.customer_scores values ${scores.slice(i, i + 500).map((c) => `('${asOf}', ${q(c.customerKey)}, ${q(c.customerId)}, ${q(c.source)}, ${c.score}, '${c.riskClass}', ${c.suggestedLimitCents}, ${q(JSON.stringify(c.reasons))})`).join(',')}`);
    }
    tables['forecast.customer_scores'] = scores.length;
    const written = await writeSalesForecast(conn, sales);
    tables['forecast.sales_monthly'] = written.monthly;
    tables['forecast.sales_backtest'] = written.backtest;
    tables['forecast.model_evaluations'] = written.evaluations;
    const outlook = await cashOutlook(conn, asOf, history, sales);
    if (outlook) {
      const rows = outlook.predictions.map(
        ({ r, p, date }) =>
          `('${asOf}', '${r.invoice_key.replaceAll("'", "''")}', '${r.customer_key.replaceAll("'", "''")}', ${r.open_cents}, '${r.due_date}', '${date(p.days)}', '${date(p.p10)}', '${date(p.p90)}', ${p.probLate}, '${PAYMENT_DATE_MODEL}')`,
      );
      for (let i = 0; i < rows.length; i += 500) await conn.run(`insert into forecast.invoice_payment values ${rows.slice(i, i + 500).join(',')}`);
      tables['forecast.invoice_payment'] = rows.length;
      // The interval from the replayed weeks that had ended by the as-of date, when there are enough.
      const weeks = calibrated(outlook.weeks, calibrationAt(backtest?.weeks ?? [], asOf));
      await conn.run(`insert into forecast.cash_weekly (as_of, week_start, expected_cents, low_cents, high_cents, new_sales_cents, interval_method) values ${weeks.map((w) => `('${asOf}', '${w.weekStart}', ${w.expectedCents}, ${w.lowCents}, ${w.highCents}, ${w.newSalesCents}, '${w.intervalMethod}')`).join(',')}`);
      tables['forecast.cash_weekly'] = weeks.length;
    }
    if (backtest) {
      await conn.run(`delete from forecast.cash_backtest where run_as_of = date '${asOf}'`);
      await conn.run(
        `insert into forecast.cash_backtest (run_as_of, as_of, week_start, expected_cents, low_cents, high_cents, actual_cents, due_date_baseline_cents, run_rate_baseline_cents, interval_method, model_low_cents, model_high_cents)
         values ${backtest.weeks.map((w) => `(date '${asOf}', date '${w.origin}', date '${w.weekStart}', ${w.expectedCents}, ${w.lowCents}, ${w.highCents}, ${w.actualCents}, ${w.dueDateCents}, ${w.runRateCents}, '${w.intervalMethod}', ${w.modelLowCents}, ${w.modelHighCents})`).join(',')}`,
      );
      await conn.run(`delete from forecast.model_evaluations where model = '${CASH_MODEL}'`);
      const compared = backtest.weeks.filter((w) => backtest.evaluated.includes(w.origin)).length;
      await conn.run(`insert into forecast.model_evaluations values ${backtest.metrics.map((m) => `('${CASH_MODEL}', '${asOf}', '${m.metric}', ${m.value}, '${m.baseline}', ${m.baselineValue}, ${compared}, ${backtest.evaluated.length})`).join(',')}`);
      tables['forecast.cash_backtest'] = backtest.weeks.length;
      tables['forecast.model_evaluations'] = (tables['forecast.model_evaluations'] ?? 0) + backtest.metrics.length;
    }
    tables['forecast.customer_payment_cycle'] = await writePaymentCycle(conn, asOf);
    const evaluable = history.filter((r) => r.settled_date === null || r.settled_date <= asOf).map((r) => (r.settled_date && r.settled_date <= asOf ? r : { ...r, settled_date: null, days_to_pay: null }));
    if (evaluable.filter((r) => r.days_to_pay !== null).length >= 40) {
      const ev = walkForward(evaluable);
      if (ev.invoices > 0) {
        await conn.run(`delete from forecast.model_evaluations where model = $1`, [PAYMENT_DATE_MODEL]);
        await conn.run(`insert into forecast.model_evaluations values ${ev.metrics.map((m) => `('${PAYMENT_DATE_MODEL}', '${ev.asOf}', '${m.metric}', ${m.value}, '${m.baseline}', ${m.baselineValue}, ${ev.invoices}, ${ev.months})`).join(',')}`);
        tables['forecast.model_evaluations'] = (tables['forecast.model_evaluations'] ?? 0) + ev.metrics.length;
      }
    }
    await conn.run('commit');
  } catch (error) {
    await conn.run('rollback');
    throw error;
  }
  return { tables };
}

/**
 * Receipts of the next 13 weeks from invoices not yet issued: each currency's total sales
 * forecast, tax added back, through the collection curve (currencies are added up, as the
 * open invoices are). Undefined without a curve or a forecast.
 */
async function expectedNewSales(asOf: string, sales: SalesForecast, curve: CollectionCurve | null) {
  const months: ExpectedInvoicing[] = [];
  for (const f of sales.forecasts.filter((x) => x.series.level === 'total')) {
    const ratio = sales.grossRatio[f.series.currency] ?? 1;
    for (const m of f.months) {
      // A series too short for an interval (a replay at an early origin) adds no spread.
      const sd = m.lowCents === null || m.highCents === null || !Number.isFinite(m.highCents - m.lowCents) ? 0 : (m.highCents - m.lowCents) / (2 * Z80);
      if (!Number.isFinite(m.expectedCents)) continue;
      months.push({ month: m.month, expectedCents: m.expectedCents * ratio, sdCents: sd * ratio });
    }
  }
  if (!curve || months.length === 0) return undefined;
  return newSalesReceipts(asOf, firstWeekStart(asOf), 13, months, curve);
}

/**
 * The payment-date forecast of the invoices open on `asOf` and the 13 weeks of cash-in, from
 * what was known on `asOf`: the model fitted on the invoices settled by then (the most recent
 * `maxTrainingRows` of them when given: the backtest's replays), the open items with
 * features as of then, the new sales from `sales`. The per-invoice predictions (sorting every
 * residual for each invoice) are left out with `predictions: false`: the replays need only
 * the weeks. Null before any invoice was settled.
 */
async function cashOutlook(conn: DuckDBConnection, asOf: string, history: FeatureRow[], sales: SalesForecast, options: { maxTrainingRows?: number; predictions?: boolean } = {}) {
  let settled = history.filter((r) => r.invoice_date <= asOf && r.settled_date !== null && r.settled_date <= asOf);
  if (settled.length === 0) return null;
  if (options.maxTrainingRows !== undefined && settled.length > options.maxTrainingRows) {
    settled = [...settled].sort((a, b) => (a.invoice_date < b.invoice_date ? 1 : a.invoice_date > b.invoice_date ? -1 : 0)).slice(0, options.maxTrainingRows);
  }
  const model = fitPaymentDate(settled);
  const open = await openItemFeatures(conn, asOf);
  const predictions = [];
  const outlooks: OpenInvoiceOutlook[] = [];
  const grid = residualGrid(model.residuals);
  // Outcome dates as days after as-of, each date string made once (a few hundred thousand per replay otherwise).
  const days: string[] = [];
  const dayAfter = (k: number) => (days[k] ??= addDays(asOf, k));
  for (const r of open) {
    const openOnDay = daysBetween(r.invoice_date, asOf);
    if (options.predictions !== false) {
      const p = predictPaymentDate(model, r, openOnDay);
      const date = (d: number) => addDays(r.invoice_date, Math.max(openOnDay + 1, Math.round(d)));
      predictions.push({ r, p, date });
    }
    // The conditional outcomes again, as dates, for the weekly spread.
    outlooks.push({ openCents: r.open_cents, outcomes: spread(model, grid, r, openOnDay).map((d) => dayAfter(d - openOnDay)) });
  }
  // Not every open amount is paid: some is credited or written off, more of it the older it
  // is. Each open invoice's receipts are scaled by the share paid of balances of its age in
  // the past (else by the share of invoiced amounts paid over the last year).
  const curve = await collectionCurve(conn, asOf);
  const byAge = await collectionByAge(conn, asOf);
  open.forEach((r, i) => {
    outlooks[i]!.openCents *= byAge.get(agingBucket(daysBetween(r.due_date, asOf))) ?? curve?.collectedShare ?? 1;
  });
  const weeks = cashWeekly(asOf, outlooks, 13, await expectedNewSales(asOf, sales, curve));
  return { model, open, predictions, weeks };
}

/**
 * The training residuals summarised by `points` evenly spaced quantiles: the same
 * distribution for the weekly spread at a fraction of the cost (a few thousand residuals per
 * open invoice, replayed at six origins, took most of the forecast step).
 */
export function residualGrid(residuals: number[], points = 200): number[] {
  if (residuals.length <= points) return residuals;
  const sorted = [...residuals].sort((a, b) => a - b);
  return Array.from({ length: points }, (_, i) => sorted[Math.min(sorted.length - 1, Math.floor(((i + 0.5) / points) * sorted.length))]!);
}

/** Possible payment days (from the invoice date) of an invoice still open on day `openOnDay`. */
function spread(model: ReturnType<typeof fitPaymentDate>, grid: number[], r: Parameters<typeof predictPaymentDate>[1], openOnDay: number): number[] {
  const days = predictDays(model, r);
  const outcomes = grid.map((e) => Math.round(Math.max(0, days + e))).filter((d) => d > openOnDay);
  return outcomes.length >= 5 ? outcomes : [openOnDay + 1, openOnDay + 7, openOnDay + 14, openOnDay + 21, openOnDay + 30];
}
