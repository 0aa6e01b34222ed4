import { emitArrowZip, type Kind } from './arrow-files.ts';
import { mainScope, withSnapshot, type Row } from './snapshot.ts';

/**
 * The open invoices behind the cash forecast's weeks: each open invoice of the page's
 * currency whose predicted payment date falls in the 13 weeks, with the week it falls in
 * (week 1 runs from the day after the as-of date to the first Sunday after it, as on the
 * page), its open amount, its 80 % interval and its chance of paying late. Loaded when a week
 * is picked, one Arrow file per week (`week-N.arrows`, N = 1 … 13). The week's expected figure spreads every invoice over the weeks by its whole
 * payment-date distribution and adds sales not yet invoiced, so it is not the sum of these rows.
 */
/** The weeks of the cash forecast (the page names one file per week). */
const WEEKS = 13;
const rows = await withSnapshot(async (q, has): Promise<Row[]> => {
  const scope = await mainScope(q);
  if (!(await has('forecast.invoice_payment')) || !(await has('forecast.cash_weekly'))) return [];
  return await q(`
    with weeks as (
      select week_start, row_number() over (order by week_start)::int as week,
             case when week_start = min(week_start) over () then as_of + 1 else week_start end as period_start, week_start + 6 as period_end
      from forecast.cash_weekly where as_of = (select max(as_of) from forecast.cash_weekly) and coalesce(currency, '${scope.currency}') = '${scope.currency}'
    )
    select w.week, w.week_start::varchar as week_start, coalesce(i.invoice_number, f.invoice_key) as invoice, f.customer_key as customer_id, coalesce(c.customer_name, f.customer_key) as customer,
           f.due_date::varchar as due_date, f.predicted_date::varchar as predicted_date, f.p10_date::varchar as p10_date, f.p90_date::varchar as p90_date, f.prob_late,
           minor_to_units(f.open_cents, i.currency) as open_amount
    from forecast.invoice_payment f
    join marts.fct_invoices i using (invoice_key)
    join weeks w on f.predicted_date between w.period_start and w.period_end
    left join marts.dim_customer c on c.customer_key = f.customer_key
    where f.as_of = (select max(as_of) from forecast.invoice_payment) and i.currency = '${scope.currency}'
    order by w.week, f.open_cents desc`);
});
const columns: Record<string, Kind> = {
  week: 'int', week_start: 'words', invoice: 'text', customer_id: 'words', customer: 'words', due_date: 'words', predicted_date: 'words', p10_date: 'words', p90_date: 'words', prob_late: 'number', open_amount: 'number',
};
const files = new Map<string, { rows: Row[]; columns: Record<string, Kind> }>();
for (let week = 1; week <= WEEKS; week++) files.set(`week-${week}.arrows`, { rows: [], columns });
for (const r of rows) files.get(`week-${Number(r.week)}.arrows`)?.rows.push(r);
await emitArrowZip(files);
