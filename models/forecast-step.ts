import { Worker } from 'node:worker_threads';
import type { DuckDBConnection } from '@duckdb/node-api';
import { issueTimeFeatures, type FeatureRow } from './payment-date/features.ts';
import { walkForward } from './payment-date/evaluate.ts';
import { customerScores } from './credit-score/customer-scores.ts';
import { writePaymentCycle } from './payment-cycle/cycle.ts';
import { computeSalesForecast, salesForecast, SALES_TABLES, writeSalesForecast } from './sales/forecast.ts';
import { salesHistory } from './sales/series.ts';
import { cashBacktest } from './cash-in/backtest.ts';
import { cashOutlook, MIN_SETTLED } from './cash-in/outlook.ts';
import { convertCashWeekly } from './cash-in/converted.ts';
import { appendRows, ensureTables, readTables } from './tables.ts';
import { plainWords } from './cash-in/plain-words.ts';
import { CASH_MODELS, publishedCashWeeks } from './cash-in/published.ts';
import { fitHazard, predictHazard, type HazardModel } from './payment-date/hazard.ts';
import { chooseLate, chooseModel, HAZARD_MODEL, LINEAR_MODEL, reliabilityTable, replayMetrics, replayPaymentDates, type Replay } from './payment-date/replay.ts';

/** The payment-date forecast: the hazard model and the linear one, each output from the candidate that won the replay. */
export const PAYMENT_DATE_MODEL = 'payment-date@2';
export const CASH_MODEL = CASH_MODELS.combination;
export const CREDIT_SCORE_MODEL = 'credit-score@1';
export const PAYMENT_CYCLE_MODEL = 'payment-cycle@1';

/** Every table the step writes, from the models' own definition files. */
export const FORECAST_TABLES = [
  ...readTables('tables.sql'),
  ...readTables('payment-date/tables.sql'),
  ...readTables('cash-in/tables.sql'),
  ...readTables('credit-score/tables.sql'),
  ...readTables('payment-cycle/tables.sql'),
];

/** Whole basis points of a probability (0–10000), null when it is not a number. */
export const basisPoints = (p: number): number | null => (Number.isFinite(p) ? Math.min(10_000, Math.max(0, Math.round(p * 10_000))) : null);

/**
 * Amount at risk: the open balance times the probability of paying late, both exact —
 * `openMinor × bp / 10000` in integers, rounded half up — so no money passes through floating
 * point. The forecast step computes it once; the worklist and the Collections report read it.
 */
export function amountAtRisk(openMinor: number, bp: number): number {
  const product = BigInt(openMinor) * BigInt(bp);
  const sign = product < 0n ? -1n : 1n;
  return Number((sign * (sign * product + 5_000n)) / 10_000n);
}

// The payment-date models' share of the step, computed in a worker thread (see paymentDateModels).
const PAYMENT_DATE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  try {
    (await import(workerData.tsx)).register();
    const { replayPaymentDates } = await import(workerData.replay);
    const { fitHazard } = await import(workerData.hazard);
    const replay = replayPaymentDates(workerData.history, workerData.asOf, workerData.options);
    const hazard = fitHazard(workerData.history, workerData.asOf);
    parentPort.postMessage({ replay, hazard });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.stack) || error) });
  }
})();
`;

/** The payment-date candidates' replay and the hazard model, and the thread that computed them. */
export interface PaymentDateFits {
  replay: Replay;
  hazard: HazardModel;
  thread: 'worker' | 'main';
}

/**
 * Both payment-date candidates replayed at the last six month-ends, and the hazard model fitted
 * on everything known by `asOf`: plain computation over the history rows, without the warehouse,
 * and most of the step's processor time. It runs in a worker thread, started before the step
 * asks DuckDB for the scores, the sales and the cash-in forecasts, so on a machine with two
 * cores both go on at once. The same functions on the same rows give the same figures. Where a
 * worker cannot load the models (a test runner that compiles TypeScript its own way), they run
 * on this thread when asked for.
 */
export function paymentDateModels(history: FeatureRow[], asOf: string, options: { origins: number; minSettled: number }): { result(): Promise<PaymentDateFits>; stop(): void } {
  const here = (): PaymentDateFits => ({ replay: replayPaymentDates(history, asOf, options), hazard: fitHazard(history, asOf), thread: 'main' });
  let inWorker: Promise<PaymentDateFits | null>;
  let worker: Worker | undefined;
  try {
    const w = new Worker(PAYMENT_DATE_WORKER, {
      eval: true,
      workerData: {
        // tsx's ESM entry, which registers its loader in the worker (the CLI starts without one).
        tsx: import.meta.resolve('tsx/esm/api'),
        replay: new URL('./payment-date/replay.ts', import.meta.url).href,
        hazard: new URL('./payment-date/hazard.ts', import.meta.url).href,
        history, asOf, options,
      },
    });
    worker = w;
    inWorker = new Promise((resolve) => {
      w.once('message', (m: { replay?: Replay; hazard?: HazardModel; error?: string }) => {
        resolve(m.replay && m.hazard ? { replay: m.replay, hazard: m.hazard, thread: 'worker' } : null);
        void w.terminate();
      });
      w.once('error', () => resolve(null));
      w.once('exit', () => resolve(null));
    });
  } catch {
    inWorker = Promise.resolve(null);
  }
  return {
    result: async () => (await inWorker) ?? here(),
    // Not needed (too little history, or the step failed): the worker ends, its work unused.
    stop: () => void worker?.terminate(),
  };
}

/**
 * The `forecast` step of the pipeline: fits the payment-date model on everything settled by
 * `asOf`, forecasts every invoice open on `asOf`, forecasts monthly sales per total,
 * category, segment and product, spreads the open invoices and the expected new sales into
 * the 13-week cash-in forecast, and records each model's backtest. Rows of that as_of are
 * replaced in one transaction, written through the DuckDB appender. A model without enough
 * history is skipped, and `forecast.model_runs` says why.
 */
export async function runForecastStep(conn: DuckDBConnection, options: { asOf: string; quiet?: boolean }): Promise<{ tables: Record<string, number> }> {
  const asOf = options.asOf;
  await ensureTables(conn, FORECAST_TABLES);
  await conn.run(SALES_TABLES);
  const history = (await issueTimeFeatures(conn)).filter((r) => r.invoice_date <= asOf);
  const settledByAsOf = history.filter((r) => r.settled_date !== null && r.settled_date <= asOf).length;
  // Started now, used once the cash-in outlook says whether there are payment dates to forecast.
  const payDateModels = paymentDateModels(history, asOf, { origins: 6, minSettled: MIN_SETTLED });
  const tables: Record<string, number> = { 'forecast.invoice_payment': 0, 'forecast.cash_weekly': 0, 'forecast.customer_payment_cycle': 0, 'forecast.customer_scores': 0, 'forecast.model_evaluations': 0 };
  const runs: { model: string; status: 'written' | 'skipped'; rows: number; reason: string | null }[] = [];
  const written = (model: string, rows: number) => runs.push({ model, status: 'written', rows, reason: null });
  const skipped = (model: string, reason: string) => runs.push({ model, status: 'skipped', rows: 0, reason });
  // The warehouse's share, while the worker fits the payment-date models (stopped if this fails).
  const { scores, sales, backtest, outlook } = await (async () => {
    const scores = await customerScores(conn, asOf);
    const sales = await computeSalesForecast(conn, asOf);
    // The cash-in forecast replayed at past month-ends, each with only what was known then.
    const backtest = await cashBacktest(conn, asOf, async (origin) => {
      const hist = await salesHistory(conn, origin);
      const past = salesForecast({ ...hist, series: hist.series.filter((x) => x.level === 'total') }, origin);
      const o = await cashOutlook(conn, origin, history, past, { maxTrainingRows: 100_000, predictions: false, byCurrency: true });
      return o && o.byCurrency.map(({ currency, weeks }) => ({ currency, weeks, open: o.open.filter((r) => r.currency === currency).map((r) => ({ openCents: r.open_cents, dueDate: r.due_date })) }));
    });
    const outlook = await cashOutlook(conn, asOf, history, sales, { minSettled: MIN_SETTLED, byCurrency: true });
    return { scores, sales, backtest, outlook };
  })().catch((error: unknown) => {
    payDateModels.stop();
    throw error;
  });
  // Both payment-date candidates replayed on the invoices open at the last six month-ends; each
  // published figure comes from the one that did better there (dates by MAE, late by Brier).
  const fitted = outlook ? await payDateModels.result() : null;
  payDateModels.stop();
  const replay = fitted ? fitted.replay : null;
  const datesBy = replay ? chooseModel(replay) : 'hazard';
  const lateBy = replay ? chooseLate(replay) : 'hazard';
  const hazard = fitted ? fitted.hazard : null;
  const modelName = (k: 'hazard' | 'linear') => (k === 'hazard' ? HAZARD_MODEL : LINEAR_MODEL);
  const published = datesBy === lateBy ? modelName(datesBy) : `dates ${modelName(datesBy)}, late ${modelName(lateBy)}`;
  await conn.run('begin transaction');
  try {
    for (const t of ['invoice_payment', 'cash_weekly', 'cash_weekly_converted', 'customer_scores', 'model_runs']) await conn.run(`delete from forecast.${t} where as_of = $1::date`, [asOf]);
    tables['forecast.customer_scores'] = await appendRows(
      conn,
      'forecast.customer_scores',
      scores.map((c) => ({ as_of: asOf, customer_key: c.customerKey, customer_id: c.customerId, source: c.source, score: c.score, risk_class: c.riskClass, suggested_limit_cents: c.suggestedLimitCents, reasons: JSON.stringify(c.reasons) })),
    );
    written(CREDIT_SCORE_MODEL, scores.length);
    const sold = await writeSalesForecast(conn, sales);
    tables['forecast.sales_monthly'] = sold.monthly;
    tables['forecast.sales_backtest'] = sold.backtest;
    tables['forecast.model_evaluations'] = sold.evaluations;
    if (outlook) {
      const rows = outlook.predictions.map(({ r, p: linear, date }) => {
        const h = predictHazard(hazard!, r, asOf);
        const p = { days: datesBy === 'hazard' ? h.days : linear.days, p10: datesBy === 'hazard' ? h.p10 : linear.p10, p90: datesBy === 'hazard' ? h.p90 : linear.p90, probLate: lateBy === 'hazard' ? h.probLate : linear.probLate };
        const bp = basisPoints(p.probLate);
        const dated = [p.days, p.p10, p.p90].every(Number.isFinite);
        return {
          as_of: asOf, invoice_key: r.invoice_key, customer_key: r.customer_key, open_cents: r.open_cents, due_date: r.due_date,
          predicted_date: dated ? date(p.days) : null, p10_date: dated ? date(p.p10) : null, p90_date: dated ? date(p.p90) : null,
          prob_late: bp === null ? null : bp / 10_000, model: published, amount_at_risk_cents: bp === null ? null : amountAtRisk(r.open_cents, bp),
          note: [dated ? null : 'dates: the model gave no finite payment day', bp === null ? 'prob_late: the model gave no finite probability' : null].filter(Boolean).join('; ') || null,
        };
      });
      tables['forecast.invoice_payment'] = await appendRows(conn, 'forecast.invoice_payment', rows, { reasonColumn: 'note' });
      runs.push({ model: PAYMENT_DATE_MODEL, status: 'written', rows: rows.length, reason: `published: ${published}${replay && replay.dates.length > 0 ? ` (replayed at ${replay.origins.length} month-ends: ${replay.dates.length} payments, ${replay.late.length} late outcomes)` : ' (no replay yet: the hazard model)'}` });
      // Each currency: bottom-up, top-down and run rate combined with the weights its replays
      // taught, the interval calibrated on the combination's replayed errors.
      const cash = await publishedCashWeeks(conn, asOf, outlook.byCurrency, backtest?.weeks ?? []);
      const weeks = cash.flatMap((p) => p.weeks);
      tables['forecast.cash_weekly'] = await appendRows(
        conn,
        'forecast.cash_weekly',
        weeks.map((w) => ({
          as_of: asOf, week_start: w.weekStart, currency: w.currency, expected_cents: w.expectedCents, low_cents: w.lowCents, high_cents: w.highCents, new_sales_cents: w.newSalesCents, interval_method: w.intervalMethod,
          bottom_up_cents: w.bottomUpCents, top_down_cents: w.topDownCents, run_rate_cents: w.runRateCents,
        })),
      );
      runs.push({ model: CASH_MODEL, status: 'written', rows: weeks.length, reason: cash.map((p) => p.note).join('; ') || null });
      const converted = await convertCashWeekly(conn, asOf);
      if (typeof converted === 'number') {
        tables['forecast.cash_weekly_converted'] = converted;
        written(`${CASH_MODEL} converted`, converted);
      } else skipped(`${CASH_MODEL} converted`, converted.reason);
    } else {
      const reason = `${settledByAsOf} invoices settled by ${asOf}; the payment-date model needs ${MIN_SETTLED}`;
      skipped(PAYMENT_DATE_MODEL, reason);
      skipped(CASH_MODEL, `no payment-date forecast to spread: ${reason}`);
    }
    if (backtest) {
      await conn.run(`delete from forecast.cash_backtest where run_as_of = $1::date`, [asOf]);
      tables['forecast.cash_backtest'] = await appendRows(
        conn,
        'forecast.cash_backtest',
        backtest.weeks.map((w) => ({
          run_as_of: asOf, as_of: w.origin, week_start: w.weekStart, currency: w.currency, expected_cents: w.expectedCents, bottom_up_cents: w.bottomUpCents, top_down_cents: w.topDownCents, low_cents: w.lowCents, high_cents: w.highCents, actual_cents: w.actualCents,
          due_date_baseline_cents: w.dueDateCents, run_rate_baseline_cents: w.runRateCents, interval_method: w.intervalMethod, model_low_cents: w.modelLowCents, model_high_cents: w.modelHighCents,
        })),
      );
      await conn.run(`delete from forecast.model_evaluations where model like 'cash-in/%'`);
      // One set of rows per currency and model (the combination and each part), the currency after the model's name.
      const rows = backtest.currencies.flatMap((c) => {
        const words = plainWords(backtest.weeks.filter((w) => w.currency === c.currency), asOf);
        const combination = `${CASH_MODELS.combination} ${c.currency}`;
        return [
          ...c.metrics.map((m) => ({ model: `${CASH_MODELS[m.model]} ${c.currency}`, as_of: asOf, metric: m.metric, value: m.value, baseline: m.baseline, baseline_value: m.baselineValue, invoices: c.compared, months: c.evaluated.length })),
          // In words on the cash page: weeks within the band, replays beating the run rate.
          { model: combination, as_of: asOf, metric: 'weeks_within_band', value: words.weeksWithin, baseline: 'weeks_counted', baseline_value: words.weeksCounted, invoices: words.weeksCounted, months: words.replaysCounted },
          { model: combination, as_of: asOf, metric: 'replays_beating_run_rate', value: words.replaysBeating, baseline: 'replays_counted', baseline_value: words.replaysCounted, invoices: words.weeksCounted, months: words.replaysCounted },
        ];
      });
      tables['forecast.model_evaluations'] = (tables['forecast.model_evaluations'] ?? 0) + await appendRows(conn, 'forecast.model_evaluations', rows, { reasonColumn: 'note' });
    } else if (outlook) skipped(`${CASH_MODEL} replay`, `no past month-end with four weeks behind ${asOf} had a forecast and cash received`);
    tables['forecast.customer_payment_cycle'] = await writePaymentCycle(conn, asOf);
    written(PAYMENT_CYCLE_MODEL, tables['forecast.customer_payment_cycle']);
    const evaluable = history.filter((r) => r.settled_date === null || r.settled_date <= asOf).map((r) => (r.settled_date && r.settled_date <= asOf ? r : { ...r, settled_date: null, days_to_pay: null }));
    // Every payment-date candidate's rows go, earlier versions' too (a renamed candidate would otherwise linger).
    await conn.run(`delete from forecast.model_evaluations where model in ($1, $2, $3) or model like 'payment-date/%'`, [PAYMENT_DATE_MODEL, HAZARD_MODEL, LINEAR_MODEL]);
    if (replay && replay.dates.length > 0) {
      const evalAsOf = replay.origins.at(-1)!;
      const rows = (['hazard', 'linear'] as const).flatMap((k) =>
        replayMetrics(replay, k).map((m) => ({ model: modelName(k), as_of: evalAsOf, metric: m.metric, value: m.value, baseline: m.baseline, baseline_value: m.baselineValue, invoices: m.n, months: replay.origins.length })),
      );
      for (const k of ['hazard', 'linear'] as const) {
        for (const b of reliabilityTable(replay, k)) rows.push({ model: modelName(k), as_of: evalAsOf, metric: `reliability_${b.band}`, value: b.observed, baseline: 'mean_predicted', baseline_value: b.predicted, invoices: b.n, months: replay.origins.length });
      }
      tables['forecast.model_evaluations'] = (tables['forecast.model_evaluations'] ?? 0) + await appendRows(conn, 'forecast.model_evaluations', rows, { reasonColumn: 'note' });
    }
    const ev = evaluable.filter((r) => r.days_to_pay !== null).length >= 40 ? walkForward(evaluable) : null;
    if (ev && ev.invoices > 0) {
      tables['forecast.model_evaluations'] = (tables['forecast.model_evaluations'] ?? 0) + await appendRows(
        conn,
        'forecast.model_evaluations',
        ev.metrics.map((m) => ({ model: LINEAR_MODEL, as_of: ev.asOf, metric: m.metric, value: m.value, baseline: m.baseline, baseline_value: m.baselineValue, invoices: ev.invoices, months: ev.months })),
        { reasonColumn: 'note' },
      );
    } else skipped(`${LINEAR_MODEL} evaluation`, `${settledByAsOf} invoices settled by ${asOf}: too few to replay month by month (40 settled and a month after the sixth needed)`);
    tables['forecast.model_runs'] = await appendRows(conn, 'forecast.model_runs', runs.map((r) => ({ as_of: asOf, model: r.model, status: r.status, rows_written: r.rows, reason: r.reason })));
    await conn.run('commit');
  } catch (error) {
    await conn.run('rollback');
    throw error;
  }
  return { tables };
}
