import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { mainScope, output, withSnapshot } from './snapshot.ts';

/**
 * Every customer, for the customer page's search: id, name, segment, risk class and
 * balance (the rest of a customer's figures are in its part of customer-detail.zip) as an Arrow stream (.arrows: Framework leaves the extension alone, so nothing asks a CDN for apache-arrow; the page imports it from node_modules) (a few bytes a customer, so it stays small at thousands of them).
 */
const table = await withSnapshot(async (q, has) => {
  const scope = await mainScope(q);
  const scores = await has('forecast.customer_scores');
  const rows = await q(`
    select c.customer_key as customer_id, coalesce(c.customer_name, c.customer_key) as customer, coalesce(c.segment, '') as segment,
           ${scores ? 'coalesce(sc.risk_class, c.risk_class)' : 'c.risk_class'} as risk_class,
           minor_to_units(coalesce(o.open_cents, 0), '${scope.currency}') as open_amount
    from marts.dim_customer c
    left join (select customer_key, sum(open_cents) as open_cents
               from metrics.ar_open_items where source = '${scope.source}' and currency = '${scope.currency}' and as_of = '${scope.asOf}' group by all) o on o.customer_key = c.customer_key
    ${scores ? `left join (select * from forecast.customer_scores where as_of = (select max(as_of) from forecast.customer_scores)) sc on sc.customer_key = c.customer_key` : ''}
    order by customer`);
  const t = tableFromArrays({
    customer_id: rows.map((r) => String(r.customer_id)),
    customer: rows.map((r) => String(r.customer)),
    segment: rows.map((r) => String(r.segment ?? '')),
    risk_class: rows.map((r) => (r.risk_class == null ? '' : String(r.risk_class))),
    open_amount: Float64Array.from(rows.map((r) => Number(r.open_amount))),
  });
  // The as-of date and the currency once, in the schema's metadata.
  t.schema.metadata.set('as_of', scope.asOf);
  t.schema.metadata.set('currency', scope.currency);
  return t;
});
output(tableToIPC(table, 'stream'));
