import { emit, mainScope, withSnapshot } from './snapshot.ts';

/** Receivables & aging: buckets over month-ends, by customer on the as-of date, largest overdue items. */
emit(
  await withSnapshot(async (q, has) => {
    const scope = await mainScope(q);
    const where = `source = '${scope.source}' and currency = '${scope.currency}'`;
    const buckets = await q(`select as_of::varchar as as_of, bucket, min(bucket_order) as bucket_order, minor_to_units(sum(amount_cents), '${scope.currency}') as amount, sum(invoice_count) as invoices
                             from metrics.ar_aging where ${where} group by all order by as_of, bucket_order`);
    if (buckets.length === 0) throw new Error('metrics.ar_aging is empty');
    // One row per customer with its buckets side by side: the 200 largest balances (the page
    // says how many there are), so the page stays light at thousands of customers.
    const byCustomer = await q(`select a.customer_id, coalesce(c.customer_name, a.customer_id) as customer, minor_to_units(sum(a.amount_cents), '${scope.currency}') as total,
                                       ${['current', '1-30', '31-60', '61-90', '91-120', '120+'].map((b) => `minor_to_units(sum(a.amount_cents) filter (where a.bucket = '${b}'), '${scope.currency}') as "${b}"`).join(', ')}
                                from metrics.ar_aging a left join marts.dim_customer c on c.customer_key = a.customer_id
                                where a.source = '${scope.source}' and a.currency = '${scope.currency}' and a.as_of = '${scope.asOf}'
                                group by all having sum(a.amount_cents) <> 0 order by total desc limit 200`);
    const customers = await q(`select count(distinct customer_id) as n from metrics.ar_aging
                               where source = '${scope.source}' and currency = '${scope.currency}' and as_of = '${scope.asOf}' and amount_cents <> 0`);
    const overdue = await q(`select o.invoice_key, coalesce(i.invoice_number, o.invoice_key) as invoice, o.customer_key as customer_id, coalesce(c.customer_name, o.customer_key) as customer, o.due_date::varchar as due_date,
                                    o.days_past_due, o.bucket, minor_to_units(o.open_cents, o.currency) as open_amount
                             from metrics.ar_open_items o left join marts.fct_invoices i using (invoice_key) left join marts.dim_customer c on c.customer_key = o.customer_key
                             where o.source = '${scope.source}' and o.currency = '${scope.currency}' and o.as_of = '${scope.asOf}' and o.days_past_due > 0
                             order by o.open_cents desc limit 25`);
    // The buckets of every currency together, converted into the reporting currency at the as-of date.
    const converted = (await has('metrics.ar_aging_converted'))
      ? await q(`select reporting_currency, currencies, bucket, bucket_order, amount, invoice_count as invoices
                 from metrics.ar_aging_converted where source = '${scope.source}' and as_of = '${scope.asOf}' order by bucket_order`)
      : [];
    return { ...scope, buckets, byCustomer, customersWithBalance: Number(customers[0]?.n ?? 0), overdue, converted };
  }),
);
