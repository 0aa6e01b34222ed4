import { tableFromArrays, type Table } from 'apache-arrow';
import { mainScope, withSnapshot, type Row } from './snapshot.ts';

/** The customers the customer page opens with (data/customer-index.arrows): the largest balances. */
export const TOP = 200;

/**
 * The customer list of the customer page (id, name, segment, risk class and open balance),
 * largest balance first, then by name; `top` of them, or all. `meta` goes into each file's
 * schema: the as-of date, the currency and the number of customers in all.
 */
export async function customerList(options: { top?: number }): Promise<{ rows: Row[]; meta: Record<string, string> }> {
  return await withSnapshot(async (q, has) => {
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
      order by coalesce(o.open_cents, 0) desc, customer, customer_id
      ${options.top != null ? `limit ${Math.trunc(options.top)}` : ''}`);
    const all = await q(`select count(*) as n from marts.dim_customer`);
    return { rows, meta: { as_of: scope.asOf, currency: scope.currency, customers: String(Number(all[0]?.n ?? 0)) } };
  });
}

/** Rows of the customer list as one Arrow table, with `meta` in its schema. */
export function customerListTable(rows: readonly Row[], meta: Record<string, string>): Table {
  const t = tableFromArrays({
    customer_id: rows.map((r) => String(r.customer_id)),
    customer: rows.map((r) => String(r.customer)),
    segment: rows.map((r) => String(r.segment ?? '')),
    risk_class: rows.map((r) => (r.risk_class == null ? '' : String(r.risk_class))),
    open_amount: Float64Array.from(rows.map((r) => Number(r.open_amount))),
  });
  for (const [k, v] of Object.entries(meta)) t.schema.metadata.set(k, v);
  return t;
}
