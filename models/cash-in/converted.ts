import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The 13-week cash-in of every currency together, in the reporting currency: each currency's
 * week of forecast.cash_weekly (minor units of its currency) converted exactly by the factor
 * metrics.fx_rates_used gives on the as-of date (its rate that day or the latest before it,
 * the rule of metrics.ar_kpis_converted), added up in billionths of the reporting currency's
 * minor unit and rounded half up once. Integers throughout: no amount passes through floating
 * point. Writes forecast.cash_weekly_converted for `asOf` (its rows of that date already
 * deleted by the caller) and returns the rows written, or why nothing could be converted.
 */
export async function convertCashWeekly(conn: DuckDBConnection, asOf: string): Promise<number | { reason: string }> {
  const read = async (sql: string, params: string[] = []) => (await conn.runAndReadAll(sql, params)).getRowObjectsJS();
  const [has] = await read(`select count(*)::int as n from duckdb_tables() where schema_name = 'metrics' and table_name = 'fx_rates_used'`);
  if (Number(has!.n) === 0) return { reason: 'metrics.fx_rates_used is missing: run the transform step first' };
  const missing = await read(
    `select distinct w.currency from forecast.cash_weekly as w
     where w.as_of = $1::date and not exists (select 1 from metrics.fx_rates_used as f where f.currency = w.currency and f.period_end = w.as_of)
     order by 1`,
    [asOf],
  );
  if (missing.length > 0) return { reason: `no conversion of ${missing.map((m) => m.currency).join(', ')} on ${asOf} in metrics.fx_rates_used: run the transform step as of ${asOf}` };
  const [blocked] = await read(
    `select string_agg(distinct f.currency, ', ' order by f.currency) as currencies from metrics.fx_rates_used as f
     where f.period_end = $1::date and not f.convertible and f.currency in (select currency from forecast.cash_weekly where as_of = $1::date)`,
    [asOf],
  );
  if (blocked?.currencies) return { reason: `no exchange rates loaded to convert ${blocked.currencies}: load them with \`cashloop rates load FILE\`` };
  await conn.run(
    `insert into forecast.cash_weekly_converted (as_of, week_start, reporting_currency, currencies, rates_used, expected_cents, low_cents, high_cents, new_sales_cents)
     with factor as (
       select currency, any_value(reporting_currency) as reporting_currency, any_value(rate) as rate, any_value(rate_date) as rate_date,
              any_value(fine_num) as fine_num, any_value(fine_den) as fine_den
       from metrics.fx_rates_used where period_end = $1::date group by currency
     ),
     fine as (
       select w.week_start, w.currency, f.reporting_currency, f.rate, f.rate_date,
              div_round_half_up(cast(w.expected_cents as hugeint) * f.fine_num, f.fine_den) as expected_fine,
              div_round_half_up(cast(w.low_cents as hugeint) * f.fine_num, f.fine_den) as low_fine,
              div_round_half_up(cast(w.high_cents as hugeint) * f.fine_num, f.fine_den) as high_fine,
              div_round_half_up(cast(w.new_sales_cents as hugeint) * f.fine_num, f.fine_den) as new_sales_fine
       from forecast.cash_weekly as w join factor as f on f.currency = w.currency
       where w.as_of = $1::date
     )
     select $1::date, week_start, any_value(reporting_currency),
            string_agg(currency, ', ' order by currency),
            string_agg(case when currency = reporting_currency then currency || ' at par'
                            else currency || ' ' || rate || ' (' || coalesce(cast(rate_date as varchar), 'base') || ')' end, ', ' order by currency),
            cast(div_round_half_up(sum(expected_fine), pow10(9)) as bigint),
            cast(div_round_half_up(sum(low_fine), pow10(9)) as bigint),
            cast(div_round_half_up(sum(high_fine), pow10(9)) as bigint),
            cast(div_round_half_up(sum(new_sales_fine), pow10(9)) as bigint)
     from fine group by week_start order by week_start`,
    [asOf],
  );
  const [n] = await read(`select count(*)::int as n from forecast.cash_weekly_converted where as_of = $1::date`, [asOf]);
  return Number(n!.n);
}
