import { describe, expect, it } from 'vitest';
import { backtestOrigins, dueDateBaseline, metricsOf, perOriginOf, weekOf, weeklyActuals, type BacktestWeek } from '../../models/cash-in/backtest.ts';

describe('cash-in backtest', () => {
  it('replays at the month-ends with at least four full weeks behind the as-of date', () => {
    // 2026-10-31 is a Saturday. 09-30 (Wed): first Monday 10-05, 10-05 + 27 = 11-01 > 10-31 → too young.
    expect(backtestOrigins('2026-10-31', 3)).toEqual(['2026-06-30', '2026-07-31', '2026-08-31']);
    // By default the latest 18, enough for a year of origins calibrated on the weeks before them.
    expect(backtestOrigins('2026-10-31')).toHaveLength(18);
    expect(backtestOrigins('2026-10-31')[0]).toBe('2025-03-31');
    expect(backtestOrigins('2026-11-02', 2)).toEqual(['2026-08-31', '2026-09-30']);
  });

  it('puts a day into the week the forecast counts it in: before the first Monday in week 0', () => {
    const origin = '2026-09-30'; // Wednesday; first Monday 2026-10-05
    expect(weekOf(origin, '2026-09-30')).toBe(-1);
    expect(weekOf(origin, '2026-10-01')).toBe(0);
    expect(weekOf(origin, '2026-10-11')).toBe(0);
    expect(weekOf(origin, '2026-10-12')).toBe(1);
    expect(weekOf(origin, '2026-12-28')).toBe(12);
    expect(weekOf(origin, '2027-01-04')).toBe(-1);
    const actual = weeklyActuals(origin, new Map([['2026-09-30', 1], ['2026-10-02', 100], ['2026-10-05', 50], ['2026-10-13', 7]]), 3);
    expect(actual).toEqual([150, 7, 0]);
  });

  it('the due-date baseline: open amounts on their due dates, overdue ones in the first week', () => {
    expect(dueDateBaseline('2026-09-30', [{ openCents: 10, dueDate: '2026-09-01' }, { openCents: 20, dueDate: '2026-10-12' }, { openCents: 40, dueDate: '2027-03-01' }], 3)).toEqual([10, 20, 0]);
  });

  it('computes WAPE, bias and coverage by hand', () => {
    const w = (expected: number, low: number, high: number, actual: number, due: number, run: number, modelLow = expected, modelHigh = expected): BacktestWeek => ({ currency: 'EUR', origin: 'o', weekStart: 'w', expectedCents: expected, bottomUpCents: expected, topDownCents: expected, lowCents: low, highCents: high, intervalMethod: 'calibrated', modelLowCents: modelLow, modelHighCents: modelHigh, actualCents: actual, dueDateCents: due, runRateCents: run });
    const m = metricsOf([w(100, 80, 120, 110, 0, 90, 95, 111), w(50, 40, 60, 70, 200, 90)]);
    // actual 180; model |−10| + |−20| = 30 → 1/6; run rate 20 + 20 = 40 → 2/9; due date 110 + 130 = 240 → 4/3.
    expect(m.find((x) => x.metric === 'wape' && x.baseline === 'run_rate')).toMatchObject({ value: 30 / 180, baselineValue: 40 / 180 });
    expect(m.find((x) => x.metric === 'wape' && x.baseline === 'due_date')).toMatchObject({ value: 30 / 180, baselineValue: 240 / 180 });
    expect(m.find((x) => x.metric === 'bias' && x.baseline === 'due_date')).toMatchObject({ value: -30 / 180, baselineValue: 20 / 180 });
    expect(m.find((x) => x.metric === 'interval_80_coverage' && x.baseline === 'nominal')).toMatchObject({ value: 0.5, baselineValue: 0.8 });
    // The model's own interval on the same weeks: 110 in 95…111, 70 outside 50…50.
    expect(m.find((x) => x.metric === 'interval_80_coverage' && x.baseline === 'model_interval')).toMatchObject({ value: 0.5, baselineValue: 0.5 });
  });
});

describe('cash-in backtest month by month', () => {
  it('averages each month-end\'s WAPE and counts the month-ends won, by hand', () => {
    const w = (origin: string, parts: [number, number, number], actual: number, run: number, due: number): BacktestWeek => ({
      currency: 'EUR', origin, weekStart: origin, expectedCents: parts[0], bottomUpCents: parts[1], topDownCents: parts[2], lowCents: 0, highCents: 0, intervalMethod: 'calibrated',
      modelLowCents: 0, modelHighCents: 0, actualCents: actual, dueDateCents: due, runRateCents: run,
    });
    // Origin a: combination 10 off of 100 (0.1), run rate 30 off (0.3). Origin b: combination 40 off of 100 (0.4), run rate 20 off (0.2).
    // Origin c has no cash: no WAPE, left out.
    const { perOrigin, metrics } = perOriginOf([w('a', [110, 120, 100], 100, 70, 0), w('b', [60, 100, 80], 100, 120, 100), w('c', [5, 5, 5], 0, 5, 5)]);
    expect(perOrigin.map((o) => o.origin)).toEqual(['a', 'b']);
    const get = (model: string, metric: string, baseline: string) => metrics.find((m) => m.model === model && m.metric === metric && m.baseline === baseline);
    expect(get('combination', 'wape_mean_over_origins', 'run_rate')).toMatchObject({ value: 0.25, baselineValue: 0.25 });
    expect(get('combination', 'origins_won', 'run_rate')).toMatchObject({ value: 1, baselineValue: 2 });
    // Due dates: a 1.0, b 0.0; top-down: a 0.0, b 0.2.
    expect(get('top_down', 'wape_mean_over_origins', 'due_date')).toMatchObject({ value: 0.1, baselineValue: 0.5 });
    expect(get('top_down', 'origins_won', 'due_date')).toMatchObject({ value: 1, baselineValue: 2 });
    // Bottom-up: a 0.2 against 0.3, b 0.0 against 0.2: both won.
    expect(get('bottom_up', 'origins_won', 'run_rate')).toMatchObject({ value: 2, baselineValue: 2 });
  });
});

describe('cash-in backtest per currency (two-currency demo company, SQLite core)', () => {
  it('replays each currency against its own cash: rows per currency, none mixed', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { openCore, closeCore } = await import('../../src/core.ts');
    const { ManualClock } = await import('../../src/shared/clock.ts');
    const { generateDemo } = await import('../../src/demo/generator.ts');
    const { parseCurrencyMix } = await import('../../src/demo/currencies.ts');
    const { runPipeline } = await import('../../pipelines/run.ts');
    const { readWarehouse } = await import('../pipelines/ledger.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-cash-bt2-'));
    try {
      const url = `sqlite:${path.join(dir, 'cashloop.db')}`;
      const clock = new ManualClock('2025-01-01T07:00:00Z');
      const core = await openCore({ url, clock });
      const demo = await generateDemo(core, clock, { seed: 3, customers: 14, months: 8, start: '2025-01-01', currencies: parseCurrencyMix('EUR:70,USD:30') });
      const payments = await core.db.kysely.selectFrom('payments').select(['payment_date', 'amount_minor', 'currency']).where('status', '=', 'received').execute();
      await closeCore(core);
      const asOf = demo.manifest.end;
      await runPipeline({ dataDir: dir, coreUrl: url, asOf, quiet: true, steps: ['ingest', 'transform', 'forecast'] });
      const file = path.join(dir, 'warehouse.duckdb');
      const rows = await readWarehouse(file, `select as_of::varchar as origin, week_start::varchar as week_start, currency, actual_cents::double as actual, run_rate_baseline_cents::double as run_rate from forecast.cash_backtest order by 1, 2, 3`);
      expect([...new Set(rows.map((r) => r.currency))].sort()).toEqual(['EUR', 'USD']);
      // One row per origin, week and currency.
      expect(new Set(rows.map((r) => `${r.origin} ${r.week_start} ${r.currency}`)).size).toBe(rows.length);
      for (const r of rows) {
        const origin = r.origin as string;
        const mine = payments.filter((p) => p.currency === r.currency);
        // The week's cash and the run rate come from that currency's payments only.
        const actual = mine.filter((p) => p.payment_date > origin && weekOf(origin, p.payment_date) === weekOf(origin, r.week_start as string)).reduce((s, p) => s + Number(p.amount_minor), 0);
        expect(r.actual, `${origin} ${r.week_start} ${r.currency}`).toBe(actual);
        const before = mine.filter((p) => p.payment_date <= origin && p.payment_date > addDaysLocal(origin, -91)).reduce((s, p) => s + Number(p.amount_minor), 0);
        expect(r.run_rate, `${origin} ${r.currency} run rate`).toBe(Math.round(before / 13));
      }
      const models = await readWarehouse(file, `select distinct model from forecast.model_evaluations where model like 'cash-in/%' order by 1`);
      expect(models.map((m) => m.model)).toEqual(['cash-in/13-week@2 EUR', 'cash-in/13-week@2 USD', 'cash-in/bottom-up@1 EUR', 'cash-in/bottom-up@1 USD', 'cash-in/top-down@1 EUR', 'cash-in/top-down@1 USD']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

const addDaysLocal = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 864e5).toISOString().slice(0, 10);

describe('cash-in backtest in the forecast step (demo company, SQLite core)', () => {
  it('replays the forecast at past month-ends and sets it against the cash received, week by week', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { openCore, closeCore } = await import('../../src/core.ts');
    const { ManualClock } = await import('../../src/shared/clock.ts');
    const { generateDemo } = await import('../../src/demo/generator.ts');
    const { runPipeline } = await import('../../pipelines/run.ts');
    const { readWarehouse } = await import('../pipelines/ledger.ts');
    const { addDays } = await import('../../src/shared/dates.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-cash-bt-'));
    try {
      const url = `sqlite:${path.join(dir, 'cashloop.db')}`;
      const clock = new ManualClock('2025-01-01T07:00:00Z');
      const core = await openCore({ url, clock });
      const demo = await generateDemo(core, clock, { seed: 3, customers: 12, months: 7, start: '2025-01-01' });
      // Cash received per day, straight from the core: the actuals the replay must find.
      const payments = await core.db.kysely.selectFrom('payments').select(['payment_date', 'amount_minor']).where('status', '=', 'received').execute();
      await closeCore(core);
      const asOf = demo.manifest.end;
      await runPipeline({ dataDir: dir, coreUrl: url, asOf, quiet: true, steps: ['ingest', 'transform', 'forecast'] });
      const file = path.join(dir, 'warehouse.duckdb');
      const weeks = await readWarehouse(
        file,
        `select as_of::varchar as origin, week_start::varchar as week_start, expected_cents::double as expected, low_cents::double as low, high_cents::double as high, actual_cents::double as actual,
                interval_method, model_low_cents::double as model_low, model_high_cents::double as model_high from forecast.cash_backtest order by 1, 2`,
      );
      const origins = [...new Set(weeks.map((w) => w.origin as string))];
      expect(origins).toEqual(backtestOrigins(asOf).filter((o) => o > '2025-01-31'));
      for (const w of weeks) {
        expect(addDays(w.week_start as string, 6) <= asOf, `${w.origin} ${w.week_start} has ended`).toBe(true);
        expect(w.low as number).toBeLessThanOrEqual(w.expected as number);
        expect(w.high as number).toBeGreaterThanOrEqual(w.expected as number);
        expect(w.low as number).toBeGreaterThanOrEqual(0);
        expect(w.model_low as number).toBeLessThanOrEqual(w.expected as number);
        expect(['model', 'calibrated']).toContain(w.interval_method);
        if (w.interval_method === 'model') expect([w.low, w.high]).toEqual([w.model_low, w.model_high]);
        const hand = payments.filter((p) => weekOf(w.origin as string, p.payment_date) === weekOf(w.origin as string, w.week_start as string) && p.payment_date > (w.origin as string)).reduce((s, p) => s + Number(p.amount_minor), 0);
        expect(w.actual, `${w.origin} ${w.week_start}`).toBe(hand);
      }
      const evals = await readWarehouse(file, `select metric, baseline, value, baseline_value from forecast.model_evaluations where model = 'cash-in/13-week@2 EUR' order by metric, baseline`);
      expect(evals.map((e) => `${e.metric}/${e.baseline}`)).toEqual([
        'bias/due_date', 'bias/run_rate', 'interval_80_coverage/model_interval', 'interval_80_coverage/nominal', 'origins_won/due_date', 'origins_won/run_rate', 'replays_beating_run_rate/replays_counted',
        'wape/due_date', 'wape/run_rate', 'wape_mean_over_origins/due_date', 'wape_mean_over_origins/run_rate', 'weeks_within_band/weeks_counted',
      ]);
      // Each part of the combination is judged beside it on the same weeks.
      const parts = await readWarehouse(file, `select model, count(*)::int as n from forecast.model_evaluations where model in ('cash-in/bottom-up@1 EUR', 'cash-in/top-down@1 EUR') and metric = 'wape' group by 1 order by 1`);
      expect(parts).toEqual([{ model: 'cash-in/bottom-up@1 EUR', n: 2 }, { model: 'cash-in/top-down@1 EUR', n: 2 }]);
      // The published weeks say how their interval was made; the first origins, with few weeks behind them, keep the model's.
      expect(weeks[0]!.interval_method).toBe('model');
      const published = await readWarehouse(file, `select interval_method, low_cents::double as low, expected_cents::double as expected, high_cents::double as high from forecast.cash_weekly where as_of = date '${asOf}'`);
      expect(published).toHaveLength(13);
      const ended = weeks.filter((w) => (w.expected as number) > 0).length;
      for (const w of published) {
        expect(w.interval_method).toBe(ended >= 20 ? 'calibrated' : 'model');
        expect(w.low as number).toBeLessThanOrEqual(w.expected as number);
        expect(w.high as number).toBeGreaterThanOrEqual(w.expected as number);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
