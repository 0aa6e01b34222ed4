import { emit, mainScope, withSnapshot } from './snapshot.ts';

/** Cash forecast: the next 13 weeks with intervals, and forecast against actual for past weeks. */
emit(
  await withSnapshot(async (q, has) => {
    const scope = await mainScope(q);
    const actual = await q(`select date_trunc('week', payment_date)::date::varchar as week_start, sum(amount_cents) / 100.0 as received
                            from marts.fct_payments where currency = '${scope.currency}' and not coalesce(is_reversed, false)
                              and payment_date > date '${scope.asOf}' - interval 26 week and payment_date <= date '${scope.asOf}'
                            group by all order by week_start`);
    let forecast: unknown[] = [];
    let past: unknown[] = [];
    if (await has('forecast.cash_weekly')) {
      forecast = await q(`select week_start::varchar as week_start, expected_cents / 100.0 as expected, low_cents / 100.0 as low, high_cents / 100.0 as high
                          from forecast.cash_weekly where as_of = (select max(as_of) from forecast.cash_weekly) order by week_start`);
      // Forecasts made at earlier as-of dates, for the weeks that have happened since.
      past = await q(`select as_of::varchar as as_of, week_start::varchar as week_start, expected_cents / 100.0 as expected, low_cents / 100.0 as low, high_cents / 100.0 as high
                      from forecast.cash_weekly where as_of < (select max(as_of) from forecast.cash_weekly) and week_start <= date '${scope.asOf}' order by as_of, week_start`);
    }
    return { ...scope, actual, forecast, past };
  }),
);
