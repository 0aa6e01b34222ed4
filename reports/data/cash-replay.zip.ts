import { emitArrowZip, type Kind } from './arrow-files.ts';
import { mainScope, withSnapshot, type Row } from './snapshot.ts';

/**
 * The payments behind the cash page's forecast-against-actual chart: for every replayed
 * forecast (origin, the past month-end it was made at) and each of its weeks that had ended,
 * the payments counted as that week's cash received — as models/cash-in/backtest.ts counts
 * them: not reversed, every currency, after the origin, the days between the origin and the
 * first Monday in its first week. They add up to the week's `actual`. One Arrow file per
 * calendar week (`back-N.arrows`, N weeks before the Monday of the data date's week, N < WEEKS),
 * opened when a week is picked; a week several replays cover holds its payments once per replay.
 */
/** Weeks of files: the six replays the chart shows start at most about 27 weeks back. */
export const WEEKS = 32;
const columns: Record<string, Kind> = {
  origin: 'words', week_start: 'words', payment: 'text', customer_id: 'words', customer: 'words', payment_date: 'words', method: 'words', currency: 'words', amount: 'number',
};
const files = await withSnapshot(async (q, has) => {
  const scope = await mainScope(q);
  const out = new Map<string, { rows: Row[]; columns: Record<string, Kind> }>();
  for (let n = 0; n < WEEKS; n++) out.set(`back-${n}.arrows`, { rows: [], columns });
  if (!(await has('forecast.cash_backtest'))) return out;
  const rows = await q(`
    with replay as (
      select as_of, week_start, min(week_start) over (partition by as_of) as first_week
      from forecast.cash_backtest
      where run_as_of = (select max(run_as_of) from forecast.cash_backtest)
        and as_of in (select distinct as_of from forecast.cash_backtest where run_as_of = (select max(run_as_of) from forecast.cash_backtest) order by as_of desc limit 6)
    )
    select ((date_trunc('week', date '${scope.asOf}')::date - r.week_start) // 7)::int as back, r.as_of::varchar as origin, r.week_start::varchar as week_start,
           regexp_replace(p.payment_key, '^[^:]*:', '') as payment, p.customer_key as customer_id, coalesce(c.customer_name, p.customer_key) as customer,
           p.payment_date::varchar as payment_date, p.method, p.currency, minor_to_units(p.amount_cents, p.currency) as amount
    from replay r
    join marts.fct_payments p on not coalesce(p.is_reversed, false) and p.payment_date > r.as_of and p.payment_date <= r.week_start + 6
                              and (p.payment_date >= r.week_start or r.week_start = r.first_week)
    left join marts.dim_customer c on c.customer_key = p.customer_key
    order by r.week_start, r.as_of, p.amount_cents desc, p.payment_key`);
  for (const r of rows) out.get(`back-${Number(r.back)}.arrows`)?.rows.push(r);
  return out;
});
await emitArrowZip(files);
