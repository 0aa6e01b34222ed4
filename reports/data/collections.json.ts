import { emit, mainScope, withSnapshot } from './snapshot.ts';

/**
 * Collections: open invoices ranked by amount at risk — the open balance times the
 * probability of paying late, as the forecast step published it
 * (`forecast.invoice_payment.amount_at_risk_cents`; an overdue invoice issued after the
 * forecast has its whole balance at risk). Without forecasts the fallback ranking is days
 * overdue × open amount, and no amount at risk is shown.
 */

emit(
  await withSnapshot(async (q, has) => {
    const scope = await mainScope(q);
    const forecasts = (await has('forecast.invoice_payment')) && (await q(`select count(*) as n from forecast.invoice_payment`))[0]!.n !== 0;
    const scores = await has('forecast.customer_scores');
    const items = await q(`
      select o.invoice_key, coalesce(i.invoice_number, o.invoice_key) as invoice, o.customer_key as customer_id, coalesce(c.customer_name, o.customer_key) as customer,
             o.due_date::varchar as due_date, o.days_past_due, minor_to_units(o.open_cents, o.currency) as open_amount,
             coalesce(s.risk_class, c.risk_class) as risk_class,
             ${forecasts ? `f.predicted_date::varchar as predicted_date, f.p10_date::varchar as p10_date, f.p90_date::varchar as p90_date, f.prob_late,
             minor_to_units(coalesce(f.amount_at_risk_cents, case when f.invoice_key is null and o.days_past_due > 0 then o.open_cents end), o.currency)` : `null as predicted_date, null as p10_date, null as p90_date, null as prob_late,
             null::double`} as amount_at_risk
      from metrics.ar_open_items o
      left join marts.fct_invoices i using (invoice_key)
      left join marts.dim_customer c on c.customer_key = o.customer_key
      ${scores ? `left join (select customer_key, risk_class from forecast.customer_scores where as_of = (select max(as_of) from forecast.customer_scores)) s on s.customer_key = o.customer_key` : `left join (select null as customer_key, null as risk_class) s on false`}
      ${forecasts ? `left join (select * from forecast.invoice_payment where as_of = (select max(as_of) from forecast.invoice_payment)) f on f.invoice_key = o.invoice_key` : ''}
      where o.source = '${scope.source}' and o.currency = '${scope.currency}' and o.as_of = '${scope.asOf}'
      order by ${forecasts ? 'amount_at_risk desc nulls last, o.days_past_due desc' : 'greatest(o.days_past_due, 0) * o.open_cents desc'}, o.open_cents desc limit 200`);
    // The page shows the first 200 of the worklist; it says how many invoices are open in all.
    const open = await q(`select count(*) as n, minor_to_units(sum(open_cents), '${scope.currency}') as amount from metrics.ar_open_items
                          where source = '${scope.source}' and currency = '${scope.currency}' and as_of = '${scope.asOf}'`);
    // Dunning effectiveness, once reminders are old enough for their windows to have ended.
    const effectiveness = (await has('metrics.dunning_effectiveness'))
      ? await q(`select policy, level, level_name, window_days, notices::int as notices, settled::int as settled, share_settled, share_collected
                 from metrics.dunning_effectiveness where source = '${scope.source}' order by policy, level, window_days`)
      : [];
    return { ...scope, openCount: Number(open[0]?.n ?? 0), openAmount: Number(open[0]?.amount ?? 0), effectiveness, ranking: forecasts ? 'open amount × probability of paying late' : 'days overdue × open amount (no forecast yet)', items };
  }),
);
