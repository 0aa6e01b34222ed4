import { emit, mainScope, withSnapshot } from './snapshot.ts';

/** Receivables & aging: buckets over month-ends, by customer on the as-of date, largest overdue items. */
emit(
  await withSnapshot(async (q) => {
    const scope = await mainScope(q);
    const where = `source = '${scope.source}' and currency = '${scope.currency}'`;
    const buckets = await q(`select as_of::varchar as as_of, bucket, min(bucket_order) as bucket_order, sum(amount_cents) / 100.0 as amount, sum(invoice_count) as invoices
                             from metrics.ar_aging where ${where} group by all order by as_of, bucket_order`);
    if (buckets.length === 0) throw new Error('metrics.ar_aging is empty');
    // One row per customer with its buckets side by side: the 200 largest balances (the page
    // says how many there are), so the page stays light at thousands of customers.
    const byCustomer = await q(`select a.customer_id, coalesce(c.customer_name, a.customer_id) as customer, sum(a.amount_cents) / 100.0 as total,
                                       ${['current', '1-30', '31-60', '61-90', '91-120', '120+'].map((b) => `sum(a.amount_cents) filter (where a.bucket = '${b}') / 100.0 as "${b}"`).join(', ')}
                                from metrics.ar_aging a left join marts.dim_customer c on c.customer_key = a.customer_id
                                where a.source = '${scope.source}' and a.currency = '${scope.currency}' and a.as_of = '${scope.asOf}'
                                group by all having sum(a.amount_cents) <> 0 order by total desc limit 200`);
    const customers = await q(`select count(distinct customer_id) as n from metrics.ar_aging
                               where source = '${scope.source}' and currency = '${scope.currency}' and as_of = '${scope.asOf}' and amount_cents <> 0`);
    const overdue = await q(`select o.invoice_key, coalesce(i.invoice_number, o.invoice_key) as invoice, o.customer_key as customer_id, coalesce(c.customer_name, o.customer_key) as customer, o.due_date::varchar as due_date,
                                    o.days_past_due, o.bucket, o.open_cents / 100.0 as open_amount
                             from metrics.ar_open_items o left join marts.fct_invoices i using (invoice_key) left join marts.dim_customer c on c.customer_key = o.customer_key
                             where o.source = '${scope.source}' and o.currency = '${scope.currency}' and o.as_of = '${scope.asOf}' and o.days_past_due > 0
                             order by o.open_cents desc limit 25`);
    return { ...scope, buckets, byCustomer, customersWithBalance: Number(customers[0]?.n ?? 0), overdue };
  }),
);
