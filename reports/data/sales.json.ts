import { emit, mainScope, withSnapshot } from './snapshot.ts';

/** Sales: monthly history by total, category and segment, the 12-month forecast, backtest accuracy. */
emit(
  await withSnapshot(async (q, has) => {
    const scope = await mainScope(q);
    const history = await q(`
      with lines as (
        select date_trunc('month', l.order_date)::date as month, l.net_cents, coalesce(p.category, 'uncategorised') as category, coalesce(c.segment, 'unknown') as segment
        from marts.fct_order_lines l left join marts.dim_product p on p.product_key = l.product_key left join marts.dim_customer c on c.customer_key = l.customer_key
        where l.order_date <= date '${scope.asOf}' and l.currency = '${scope.currency}'
      )
      select 'total' as level, 'total' as key, month::varchar as month, sum(net_cents) / 100.0 as amount from lines group by all
      union all select 'category', category, month::varchar, sum(net_cents) / 100.0 from lines group by all
      union all select 'segment', segment, month::varchar, sum(net_cents) / 100.0 from lines group by all
      order by level, key, month`);
    let forecast: unknown[] = [];
    let accuracy: unknown[] = [];
    if (await has('forecast.sales_monthly')) {
      forecast = await q(`select level, key, month::varchar as month, expected, low, high, method from forecast.sales_monthly
                          where as_of = (select max(as_of) from forecast.sales_monthly) and level in ('total', 'category', 'segment') order by level, key, month`);
    }
    if (await has('forecast.model_evaluations')) {
      accuracy = await q(`select model, as_of::varchar as as_of, metric, value, baseline, baseline_value from forecast.model_evaluations where model like 'sales%' order by model, metric`);
    }
    return { ...scope, history, forecast, accuracy };
  }),
);
