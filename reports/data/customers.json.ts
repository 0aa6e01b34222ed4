import { emit, mainScope, withSnapshot } from './snapshot.ts';

/**
 * Customers: payment cycle (distribution and trend), risk class with reasons, credit
 * utilisation, and sales of the last 12 months against payment speed (the quadrant).
 */
emit(
  await withSnapshot(async (q, has) => {
    const scope = await mainScope(q);
    const scores = await has('forecast.customer_scores');
    const customers = await q(`
      with sales as (
        select customer_key, minor_to_units(sum(amount_cents), '${scope.currency}') as sales_12m from marts.fct_invoices
        where invoice_date > date '${scope.asOf}' - interval 12 month and invoice_date <= date '${scope.asOf}' and currency = '${scope.currency}'
        group by all
      )
      select b.customer_id, coalesce(c.customer_name, b.customer_id) as customer, c.segment, c.country,
             b.invoices_paid, b.mean_days_to_pay, b.median_days_to_pay, b.p90_days_to_pay, b.share_paid_late, b.mean_days_late, b.trend_days_per_quarter,
             minor_to_units(b.open_cents, '${scope.currency}') as open_amount, minor_to_units(b.overdue_cents, '${scope.currency}') as overdue_amount,
             minor_to_units(c.credit_limit_cents, '${scope.currency}') as credit_limit,
             case when c.credit_limit_cents > 0 then b.open_cents / c.credit_limit_cents end as utilisation,
             coalesce(s.sales_12m, 0) as sales_12m,
             ${scores ? 'sc.score, sc.risk_class, sc.reasons' : 'null as score, c.risk_class, null as reasons'}
      from metrics.customer_payment_behaviour b
      left join marts.dim_customer c on c.customer_key = b.customer_id
      left join sales s on s.customer_key = b.customer_id
      ${scores ? `left join (select * from forecast.customer_scores where as_of = (select max(as_of) from forecast.customer_scores)) sc on sc.customer_key = b.customer_id` : ''}
      where b.source = '${scope.source}' and b.currency = '${scope.currency}'
      order by sales_12m desc, b.customer_id limit 200`);
    // How many customers there are in all: the page shows the 200 with the largest sales; any
    // customer opens on the customer page.
    const all = await q(`select count(*) as n from metrics.customer_payment_behaviour where source = '${scope.source}' and currency = '${scope.currency}'`);
    if (customers.length === 0) throw new Error('metrics.customer_payment_behaviour is empty');
    for (const c of customers) {
      if (typeof c.reasons === 'string') c.reasons = (JSON.parse(c.reasons) as { text: string; points: number }[]).map((r) => `${readable(r.text)} (${r.points > 0 ? '+' : ''}${r.points})`);
    }
    // Days to pay of the 20 largest customers only (the box plot), not of every invoice ever paid.
    const top = customers.slice(0, 20).map((c) => `'${String(c.customer_id).replaceAll("'", "''")}'`).join(', ') || "''";
    const daysToPay = await q(`select customer_key, days_to_pay from marts.fct_invoices
                               where days_to_pay is not null and currency = '${scope.currency}' and settled_date <= date '${scope.asOf}' and customer_key in (${top})`);
    return { ...scope, customerCount: Number(all[0]?.n ?? 0), customers, daysToPay };
  }),
);

/** Amounts in a reason's text with thousands separators: "(29922.92)" reads "(29,922.92)". */
function readable(text: string): string {
  return text.replace(/\d{4,}(?=\.\d+\b)/g, (whole) => whole.replace(/\B(?=(\d{3})+$)/g, ','));
}
