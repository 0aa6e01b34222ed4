import { emit, mainScope, withSnapshot } from './snapshot.ts';

/** Cash forecast: the next 13 weeks with intervals, and forecast against actual for past weeks. */
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
      forecast = await q(`select week_start::varchar as week_start, minor_to_units(expected_cents, '${scope.currency}') as expected, minor_to_units(low_cents, '${scope.currency}') as low, minor_to_units(high_cents, '${scope.currency}') as high
                          from forecast.cash_weekly where as_of = (select max(as_of) from forecast.cash_weekly) order by week_start`);
    }
    // The forecast replayed at past month-ends with what was known then, against the cash received.
    let accuracy: unknown[] = [];
    if (await has('forecast.cash_backtest')) {
      past = await q(`select as_of::varchar as as_of, week_start::varchar as week_start, minor_to_units(expected_cents, '${scope.currency}') as expected, minor_to_units(low_cents, '${scope.currency}') as low, minor_to_units(high_cents, '${scope.currency}') as high,
                             minor_to_units(actual_cents, '${scope.currency}') as actual, minor_to_units(due_date_baseline_cents, '${scope.currency}') as due_date_baseline, minor_to_units(run_rate_baseline_cents, '${scope.currency}') as run_rate_baseline
                      from forecast.cash_backtest
                      where run_as_of = (select max(run_as_of) from forecast.cash_backtest)
                        -- The chart shows the latest six replays (the accuracy table counts them all).
                        and as_of in (select distinct as_of from forecast.cash_backtest where run_as_of = (select max(run_as_of) from forecast.cash_backtest) order by as_of desc limit 6)
                      order by as_of, week_start`);
      accuracy = await q(`select metric, baseline, value, baseline_value, invoices as weeks, months as origins from forecast.model_evaluations where model like 'cash-in/%' order by metric, baseline`);
    }
    return { ...scope, actual, forecast, past, accuracy };
  }),
);
