import { addDays, monthEnd } from '../shared/dates.ts';

/**
 * Monthly net invoiced sales per currency, level (total, category, segment, product) and
 * month, as SQL over the marts: the series the sales forecast is fitted on
 * (models/sales/series.ts) and the history the Sales report shows (reports/data/sales.json.ts).
 * It lives here, below both, so the model and the report read one definition. The measure
 * itself is described in models/sales/series.ts.
 *
 * Columns: currency, level, key, month (`YYYY-MM-DD`, first day), net_cents, gross_cents
 * (integer cents, rounded per month; gross only for the total and segment levels).
 */
export const SERIES_SQL = (asOf: string) => `
  with invoices as (
    select invoice_key, customer_key, order_key, currency, invoice_date, amount_cents
    from marts.fct_invoices
    where not coalesce(is_cancelled, false) and invoice_date <= date '${asOf}'
  ),
  order_totals as (
    select order_key, sum(total_cents) as order_total_cents, sum(net_cents) as order_net_cents
    from marts.fct_order_lines
    group by order_key
  ),
  invoice_net as (
    select i.*, case when o.order_total_cents > 0 then i.amount_cents * o.order_net_cents / o.order_total_cents else i.amount_cents end as net_cents
    from invoices i left join order_totals o using (order_key)
  ),
  line_net as (
    select i.invoice_date, i.currency, l.product_key, coalesce(nullif(p.category, ''), 'uncategorised') as category,
           i.amount_cents * l.net_cents / o.order_total_cents as net_cents
    from invoices i
    join order_totals o using (order_key)
    join marts.fct_order_lines l using (order_key)
    left join marts.dim_product p on p.product_key = l.product_key
    where o.order_total_cents > 0
  ),
  by_level as (
    select currency, 'total' as level, 'total' as key, date_trunc('month', invoice_date)::date as month, sum(net_cents) as net_cents, sum(amount_cents) as gross_cents from invoice_net group by all
    union all
    select i.currency, 'segment', coalesce(nullif(c.segment, ''), 'unknown'), date_trunc('month', i.invoice_date)::date, sum(i.net_cents), sum(i.amount_cents)
    from invoice_net i left join marts.dim_customer c using (customer_key) group by all
    union all
    select currency, 'category', category, date_trunc('month', invoice_date)::date, sum(net_cents), null from line_net group by all
    union all
    select currency, 'product', product_key, date_trunc('month', invoice_date)::date, sum(net_cents), null from line_net group by all
  ),
  final as (
    select currency, level, key, month::varchar as month, round(net_cents)::bigint as net_cents, round(gross_cents)::bigint as gross_cents
    from by_level
    where month <= date '${asOf}'
  )
  select * from final order by currency, level, key, month`;

/** First day of the month after the last month that ended on or before `asOf`. */
export function firstForecastMonth(asOf: string): string {
  return monthEnd(asOf) === asOf ? addDays(asOf, 1) : `${asOf.slice(0, 7)}-01`;
}

