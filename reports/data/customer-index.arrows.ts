import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { mainScope, withSnapshot } from './snapshot.ts';

/**
 * Every customer, for the customer page's search: id, name, segment, score, risk class and
 * balance as an Arrow stream (.arrows: Framework leaves the extension alone, so nothing asks a CDN for apache-arrow; the page imports it from node_modules) (a few bytes a customer, so it stays small at thousands of them).
 */
const table = await withSnapshot(async (q, has) => {
  const scope = await mainScope(q);
  const scores = await has('forecast.customer_scores');
  const rows = await q(`
    select c.customer_key as customer_id, coalesce(c.customer_name, c.customer_key) as customer, coalesce(c.segment, '') as segment,
           ${scores ? 'sc.score, coalesce(sc.risk_class, c.risk_class)' : 'null as score, c.risk_class'} as risk_class,
           coalesce(o.open_cents, 0) / 100.0 as open_amount, coalesce(o.overdue_cents, 0) / 100.0 as overdue_amount, coalesce(o.items, 0) as open_items,
           b.invoices_paid, b.median_days_to_pay, b.share_paid_late
    from marts.dim_customer c
    left join (select customer_key, sum(open_cents) as open_cents, sum(open_cents) filter (where days_past_due > 0) as overdue_cents, count(*) as items
               from metrics.ar_open_items where source = '${scope.source}' and currency = '${scope.currency}' and as_of = '${scope.asOf}' group by all) o on o.customer_key = c.customer_key
    left join metrics.customer_payment_behaviour b on b.customer_id = c.customer_key and b.source = '${scope.source}' and b.currency = '${scope.currency}'
    ${scores ? `left join (select * from forecast.customer_scores where as_of = (select max(as_of) from forecast.customer_scores)) sc on sc.customer_key = c.customer_key` : ''}
    order by customer`);
  const col = (k: string) => rows.map((r) => (r[k] == null ? null : r[k]));
  const nums = (k: string) => Float64Array.from(rows.map((r) => (r[k] == null ? NaN : Number(r[k]))));
  return tableFromArrays({
    customer_id: col('customer_id') as string[],
    customer: col('customer') as string[],
    segment: col('segment') as string[],
    risk_class: rows.map((r) => (r.risk_class == null ? '' : String(r.risk_class))),
    score: nums('score'),
    open_amount: nums('open_amount'),
    overdue_amount: nums('overdue_amount'),
    open_items: nums('open_items'),
    invoices_paid: nums('invoices_paid'),
    median_days_to_pay: nums('median_days_to_pay'),
    share_paid_late: nums('share_paid_late'),
    // The as-of date and currency in every row, dictionary-encoded: one value stored once.
    as_of: rows.map(() => scope.asOf),
    currency: rows.map(() => scope.currency),
  });
});
process.stdout.write(tableToIPC(table, 'stream'));
