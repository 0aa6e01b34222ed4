import { emit, mainScope, withSnapshot } from './snapshot.ts';

/** Cash forecast: the next 13 weeks with intervals in the main currency, every currency's total and all converted into the reporting currency, and forecast against actual for past weeks (the main currency's replays). */
emit(
  await withSnapshot(async (q, has) => {
    const scope = await mainScope(q);
    const actual = await q(`select date_trunc('week', payment_date)::date::varchar as week_start, minor_to_units(sum(amount_cents), '${scope.currency}') as received
                            from marts.fct_payments where currency = '${scope.currency}' and not coalesce(is_reversed, false)
                              and payment_date > date '${scope.asOf}' - interval 26 week and payment_date <= date '${scope.asOf}'
                            group by all order by week_start`);
    let forecast: unknown[] = [];
    let past: unknown[] = [];
    if (await has('forecast.cash_weekly')) {
      // Week 1 is what it holds: the days from the one after the as-of date to the end of the first
      // full week (7 to 13 days), so its period and length are given beside every week's.
      forecast = await q(`select row_number() over (order by week_start)::int as week, week_start::varchar as week_start,
                                 (case when week_start = min(week_start) over () then as_of + 1 else week_start end)::varchar as period_start,
                                 (week_start + 6)::varchar as period_end,
                                 (week_start + 7 - case when week_start = min(week_start) over () then as_of + 1 else week_start end)::int as days,
                                 minor_to_units(expected_cents, '${scope.currency}') as expected, minor_to_units(low_cents, '${scope.currency}') as low, minor_to_units(high_cents, '${scope.currency}') as high
                          from forecast.cash_weekly where as_of = (select max(as_of) from forecast.cash_weekly) and coalesce(currency, '${scope.currency}') = '${scope.currency}' order by week_start`);
    }
    // Every currency's 13 weeks side by side, and all of them converted into the reporting currency with the rates used.
    let currencies: unknown[] = [];
    let converted: unknown[] = [];
    if (await has('forecast.cash_weekly')) {
      // Summed first, turned into units after: the unit macro is not applied inside the aggregate.
      currencies = await q(`select currency, minor_to_units(e4, currency) as expected_4w, minor_to_units(e13, currency) as expected_13w
                            from (select currency, sum(expected_cents) filter (where week <= 4) as e4, sum(expected_cents) as e13
                                  from (select currency, expected_cents, row_number() over (partition by currency order by week_start) as week
                                        from forecast.cash_weekly where as_of = (select max(as_of) from forecast.cash_weekly) and currency is not null)
                                  group by currency)
                            order by currency`);
    }
    if (await has('forecast.cash_weekly_converted')) {
      converted = await q(`select week_start::varchar as week_start, reporting_currency, currencies, rates_used, as_of::varchar as converted_at,
                                  minor_to_units(expected_cents, reporting_currency) as expected, minor_to_units(low_cents, reporting_currency) as low, minor_to_units(high_cents, reporting_currency) as high
                           from forecast.cash_weekly_converted where as_of = (select max(as_of) from forecast.cash_weekly) order by week_start`);
    }
    // The forecast replayed at past month-ends with what was known then, against the cash
    // received — each currency replayed on its own; the page shows the main currency's.
    let accuracy: unknown[] = [];
    let words: string[] = [];
    let weights = '';
    const model = `cash-in/13-week@2 ${scope.currency}`;
    if (await has('forecast.cash_backtest')) {
      past = await q(`select as_of::varchar as as_of, week_start::varchar as week_start, minor_to_units(expected_cents, '${scope.currency}') as expected, minor_to_units(low_cents, '${scope.currency}') as low, minor_to_units(high_cents, '${scope.currency}') as high,
                             minor_to_units(actual_cents, '${scope.currency}') as actual, minor_to_units(due_date_baseline_cents, '${scope.currency}') as due_date_baseline, minor_to_units(run_rate_baseline_cents, '${scope.currency}') as run_rate_baseline
                      from forecast.cash_backtest
                      where run_as_of = (select max(run_as_of) from forecast.cash_backtest) and currency = '${scope.currency}'
                        -- The chart shows the latest six replays (the accuracy table counts them all).
                        and as_of in (select distinct as_of from forecast.cash_backtest where run_as_of = (select max(run_as_of) from forecast.cash_backtest) and currency = '${scope.currency}' order by as_of desc limit 6)
                      order by as_of, week_start`);
      // The published combination and each of its parts, beside the run rate and the due dates.
      accuracy = await q(`select split_part(model, ' ', 1) as model, metric, baseline, value, baseline_value, invoices as weeks, months as origins from forecast.model_evaluations
                          where model like 'cash-in/% ${scope.currency}' and metric not in ('weeks_within_band', 'replays_beating_run_rate') order by model = '${model}' desc, model, metric, baseline`);
      // How far to trust it, in words, from the counts the forecast step wrote.
      const counts = await q(`select metric, value::int as k, baseline_value::int as n from forecast.model_evaluations
                              where model = '${model}' and metric in ('weeks_within_band', 'replays_beating_run_rate') and baseline_value > 0 order by metric desc`);
      words = counts.map((c) => (c.metric === 'weeks_within_band' ? `In ${c.k} of the last ${c.n} weeks the cash received was within the forecast's 80 % band.` : `The forecast beat the run rate in ${c.k} of ${c.n} replays.`));
    }
    // The weights the published forecast was combined with, as the forecast step recorded them.
    if (await has('forecast.model_runs')) {
      const note = String((await q(`select reason from forecast.model_runs where model = 'cash-in/13-week@2' and status = 'written' order by as_of desc limit 1`))[0]?.reason ?? '');
      weights = note.split('; ').find((x) => x.startsWith(`${scope.currency}: `))?.slice(scope.currency.length + 2) ?? '';
    }
    return { ...scope, actual, forecast, past, accuracy, words, weights, currencies, converted };
  }),
);
